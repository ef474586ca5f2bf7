"""The `sarah` command: run, chat locally, check the setup, report, and handle dead letters."""
