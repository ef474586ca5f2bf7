"""Benchmarks that print figures; run them with scripts/bench (never part of the test suite)."""
