"""Non-production environments as governed changes: create, extend, expire, refresh (all by PR)."""
