"""Benchmarks: speed, memory and accuracy, measured on demand (never in unit tests)."""
