"""addons stage."""
