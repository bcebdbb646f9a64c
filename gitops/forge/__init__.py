"""Forges: where promotion PRs live (the protocol, the registry `--forge` chooses from, one module each)."""
