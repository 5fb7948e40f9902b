"""Emit: the plan written into the original text, and files written atomically."""
