"""Proactive messages out to Teams: rate limits, retries and clear outcomes (SDK-free; the Bot
Framework transport plugs in from bot.proactive)."""

import functools
from pathlib import Path

from common.catalogue import Catalogue, load_once

_TEXTS = Path(__file__).resolve().with_name("texts.sv.yaml")


@functools.cache
def texts() -> Catalogue:
    """This package's user-facing texts: outbound/texts.sv.yaml (read once)."""
    return load_once(_TEXTS)
