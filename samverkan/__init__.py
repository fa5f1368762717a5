"""The application core shared by the Teams bot, the terminal chat and the CLI: typed settings,
the frozen services built once, one user turn (state and e-tags) and logging without user text."""

import functools
from pathlib import Path

from common.catalogue import Catalogue, load_once

__version__ = "0.1.0"


_TEXTS = Path(__file__).resolve().with_name("texts.sv.yaml")


@functools.cache
def texts() -> Catalogue:
    """This package's user-facing texts: samverkan/texts.sv.yaml (read once)."""
    return load_once(_TEXTS)
