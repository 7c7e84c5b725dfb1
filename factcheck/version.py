"""The version of factcheck, apart so the lowest layers can name it."""

__version__ = "0.1.0"
