"""Who to contact: the registry of districts, schools, contact persons and socialjour (model,
name matching, routing, file formats, database repository) and the contact card."""

from pathlib import Path

from common.catalogue import Catalogue, load_once


def texts() -> Catalogue:
    """This package's user-facing texts: contacts/texts.sv.yaml (read once)."""
    return load_once(Path(__file__).resolve().with_name("texts.sv.yaml"))
