"""Cooperation forums: their schedules (RFC 5545 rules, Swedish holidays), file formats, .ics,
database repository, the reminder scheduler and the forum cards."""

import functools
from pathlib import Path

from common.catalogue import Catalogue, load_once

_TEXTS = Path(__file__).resolve().with_name("texts.sv.yaml")


@functools.cache
def texts() -> Catalogue:
    """This package's user-facing texts: forums/texts.sv.yaml (read once)."""
    return load_once(_TEXTS)
