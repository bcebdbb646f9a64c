"""promote stage."""
