"""The audit verbs: reading the logs from the config source, chain + history checks, break-glass."""
