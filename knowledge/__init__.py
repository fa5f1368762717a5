"""The national knowledge base as data (topics, laws, seeds, flows, dated assessment rules and
their cases), its loader and checks, search, the rule engine and the free-text detector."""

import functools
from pathlib import Path

from common.catalogue import Catalogue, load_once

_TEXTS = Path(__file__).resolve().with_name("texts.sv.yaml")


@functools.cache
def texts() -> Catalogue:
    """This package's user-facing texts: knowledge/texts.sv.yaml (read once)."""
    return load_once(_TEXTS)
