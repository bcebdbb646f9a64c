"""Command-line interface: one module per verb, each a thin click command in front of a typed function."""
