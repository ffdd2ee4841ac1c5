"""CourseBot's custom actions, found by name (the names in domain.yml).

Modules here import each other relatively (`from .topics import ...`), so the package
works both when our engine loads it from the project directory and when Rasa's action
server imports it as `actions`.
"""
