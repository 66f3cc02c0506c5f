"""Evaluation protocols as pure functions: (data, samples or features, parameters) -> dict of numbers."""
