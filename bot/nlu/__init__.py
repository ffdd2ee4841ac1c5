"""Natural-language understanding: training data, components, pipeline and training.

Importing this package is cheap; heavy libraries load only when a pipeline is built.
"""

import os

# The sentence encoder's int8 weights make libtorch print a deprecation line each time a
# model loads, from C++, where Python's warning filters cannot reach; it tells students
# nothing. Set TORCH_CPP_LOG_LEVEL=WARNING to see libtorch's warnings again.
os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
