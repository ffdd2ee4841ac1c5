"""Dialogue management: domain, tracker and events, actions, policies and the manager.

Standard library and PyYAML only: the Lex Lambda bundle runs this package.
"""
