"""The HTTP routes, one module per resource; each is a thin layer over the simulator's services."""
