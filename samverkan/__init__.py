"""Samverkansboten: application core shared by the Teams bot, the terminal chat and the CLI."""

__version__ = "0.1.0"
