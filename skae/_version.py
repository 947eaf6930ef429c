"""The version of skae, in a module of its own so that any module can read it."""

__version__ = "0.3.0.dev0"
