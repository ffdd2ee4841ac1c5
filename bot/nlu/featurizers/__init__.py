"""Featurizers turn a message's text into numbers that classifiers learn from."""
