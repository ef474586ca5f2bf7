"""What operators see: metrics, traces, logs, health, alarms, and the support team's numbers."""
