"""The Bot Framework boundary: the only package that imports the botbuilder SDK."""

import functools
from pathlib import Path

from common.catalogue import Catalogue, load_once

_TEXTS = Path(__file__).resolve().with_name("texts.sv.yaml")


@functools.cache
def texts() -> Catalogue:
    """This package's user-facing texts: bot/texts.sv.yaml (read once)."""
    return load_once(_TEXTS)
