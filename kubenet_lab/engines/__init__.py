"""The engines: modules that read the model and compute (addresses, routes, packets)."""
