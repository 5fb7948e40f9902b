"""The speed layer, innermost: what makes the tool fast without changing what it computes.

- `cache.py`: values derived from the package's data files (compiled rules, the catalog,
  schema digests), kept as marshal files keyed by the content of those files.
- `schema_walker.py`: a JSON Schema validator for the subset of keywords our schemas use,
  standing in for jsonschema.

Each has its equivalence tests in the suite (tests/test_speed_equivalence.py): whatever this
layer returns, the slow path returns too.
"""
