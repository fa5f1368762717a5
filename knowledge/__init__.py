"""The rule knowledge base: topics, glossary, assessment rules, flows; search and rule engine."""

from pathlib import Path

from common.catalogue import Catalogue, load_once


def texts() -> Catalogue:
    """This package's user-facing texts: knowledge/texts.sv.yaml (read once)."""
    return load_once(Path(__file__).resolve().with_name("texts.sv.yaml"))
