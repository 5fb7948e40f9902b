"""The inner layer: load, source map, catalog, rules and the engine that plans."""
