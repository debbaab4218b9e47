"""archdsl: neural-network architectures as text, compiled to PyTorch and Keras code.

Importing this package loads neither torch nor tensorflow.
"""

__version__ = "0.1.0"
