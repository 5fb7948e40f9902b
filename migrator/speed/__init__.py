"""Speed code behind small interfaces, each with its equivalence tests
(tests/test_speed_equivalence.py): the compiled-data cache and the JSON Schema walker that
stands in for jsonschema. The innermost layer: it imports nothing else of migrator."""
