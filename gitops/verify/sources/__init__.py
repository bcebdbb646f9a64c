"""Flux sources: the objects a Flux reconciler reads its artifact from, and what each proves about the
config-repo commit that artifact was made from. One module per kind, listed once in registry.py."""
