"""The rule knowledge base: topics, glossary, assessment rules, flows; search and rule engine."""

import functools
from pathlib import Path

from common.catalogue import Catalogue, load_once

_TEXTS = Path(__file__).resolve().with_name("texts.sv.yaml")


@functools.cache
def texts() -> Catalogue:
    """This package's user-facing texts: knowledge/texts.sv.yaml (read once)."""
    return load_once(_TEXTS)
