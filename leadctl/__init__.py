"""leadctl: a lead pipeline manager for the terminal."""

__version__ = "0.1.0"
