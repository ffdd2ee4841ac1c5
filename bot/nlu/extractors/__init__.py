"""Entity extractors."""
