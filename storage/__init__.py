"""Persistence on SQLAlchemy 2.0 async: the engine and its timeouts, Alembic migrations, state
documents with expiry, conversation references and feedback. No business logic, no features."""

import functools
from pathlib import Path

from common.catalogue import Catalogue, load_once

_TEXTS = Path(__file__).resolve().with_name("texts.sv.yaml")


@functools.cache
def texts() -> Catalogue:
    """This package's user-facing texts: storage/texts.sv.yaml (read once)."""
    return load_once(_TEXTS)
