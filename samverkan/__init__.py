"""Samverkansboten: application core shared by the Teams bot, the terminal chat and the CLI."""

from pathlib import Path

from common.catalogue import Catalogue, load_once

__version__ = "0.1.0"


def texts() -> Catalogue:
    """This package's user-facing texts: samverkan/texts.sv.yaml (read once)."""
    return load_once(Path(__file__).resolve().with_name("texts.sv.yaml"))
