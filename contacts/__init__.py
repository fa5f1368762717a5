"""Who to contact: the registry of districts, schools, contact persons and socialjour (model,
name matching, routing, file formats, database repository) and the contact card."""

import functools
from pathlib import Path

from common.catalogue import Catalogue, load_once

_TEXTS = Path(__file__).resolve().with_name("texts.sv.yaml")


@functools.cache
def texts() -> Catalogue:
    """This package's user-facing texts: contacts/texts.sv.yaml (read once)."""
    return load_once(_TEXTS)
