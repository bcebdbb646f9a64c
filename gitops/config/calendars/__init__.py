"""Calendar files of the config repository: parsed and cross-checked (what windows/ evaluates)."""
