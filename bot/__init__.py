"""CourseBot: a conversational assistant for the AWS machine-learning intro course."""

__version__ = "0.1.0"
