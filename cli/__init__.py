"""The `samverkan` console script: one subcommand per public contract (administration,
evaluation, the terminal chat and `serve`). The top layer: it may use every other package."""

import functools
from pathlib import Path

from common.catalogue import Catalogue, load_once

_TEXTS = Path(__file__).resolve().with_name("texts.sv.yaml")


@functools.cache
def texts() -> Catalogue:
    """This package's user-facing texts: cli/texts.sv.yaml (read once)."""
    return load_once(_TEXTS)
