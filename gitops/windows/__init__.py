"""windows stage."""
