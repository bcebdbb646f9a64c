"""Change windows: calendar rules, business days, window verdicts, next opening, ICS export.

Pure: nothing in here reads the clock, the process time zone or the network. Times are UTC inside.
"""
