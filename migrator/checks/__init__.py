"""Checks of a plan and its output: verify, account, validate against schemas."""
