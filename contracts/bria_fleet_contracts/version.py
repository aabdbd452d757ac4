"""The contracts' version, published in the AsyncAPI document."""

__version__ = "0.1.0"
