"""Proactive messages out to Teams: rate limits, retries and clear outcomes (SDK-free; the Bot
Framework transport plugs in from bot.proactive)."""
