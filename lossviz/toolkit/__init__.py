"""Shared maths: each concept that two pages use, exactly once."""
