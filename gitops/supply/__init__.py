"""supply stage."""
