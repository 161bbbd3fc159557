"""tapzone: closed-loop card and wristband system for leisure venues."""

__version__ = "0.1.0"
