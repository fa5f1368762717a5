"""Fixtures for the kommun profiles: the national knowledge base, each example profile's view
of it, and its search index (cached per profile, as the server does)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from common.catalogue import Catalogue
from dialogs import MESSAGES
from knowledge.kommun import Kommuner, load_kommuner, with_profile
from knowledge.loader import KnowledgeBase, load
from knowledge.search import SearchIndex
from tests.conftest import cached_index

DAY = date(2026, 3, 3)
EXAMPLES = ("stockholm", "ekero", "lekeberg")


@pytest.fixture(scope="session")
def national() -> KnowledgeBase:
    return load()


@pytest.fixture(scope="session")
def kommuner(national: KnowledgeBase) -> Kommuner:
    return load_kommuner(national)


@pytest.fixture(scope="session")
def messages() -> Catalogue:
    return Catalogue.load(MESSAGES)


_INDEXES: dict[str, tuple[KnowledgeBase, SearchIndex]] = {}


def kommun_kb(
    national: KnowledgeBase, kommuner: Kommuner, kommun_id: str
) -> tuple[KnowledgeBase, SearchIndex]:
    """The knowledge base as `kommun_id` sees it and its search index (built once)."""
    if kommun_id not in _INDEXES:
        profile = kommuner.profiles[kommun_id]
        kb = with_profile(national, profile)
        if "" not in _INDEXES:  # the national index, loaded once: every kommun reads with it
            _INDEXES[""] = (national, cached_index(national))
        _INDEXES[kommun_id] = (kb, SearchIndex.for_kommun(_INDEXES[""][1], kb))
    return _INDEXES[kommun_id]


def card_text(card: Any) -> str:
    """Every text of an Adaptive Card, in order."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title"):
                if isinstance(node.get(key), str):
                    out.append(node[key])
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(out)
