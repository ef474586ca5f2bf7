"""Slack in and out: events become messages, the pipeline's outbox becomes Web API calls."""
