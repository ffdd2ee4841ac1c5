"""Natural-language understanding: training data, components, pipeline and training.

Importing this package is cheap; heavy libraries load only when a pipeline is built.
"""
