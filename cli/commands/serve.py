"""`samverkan serve`: run the bot's web server (bot.serve)."""

from bot.serve import run

__all__ = ["run"]
