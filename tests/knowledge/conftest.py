"""Fixtures for the knowledge-base and search tests: a small test knowledge base (kb-search/)
and the real one (knowledge/data), each loaded and indexed once per test session."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from knowledge.loader import KnowledgeBase, load
from knowledge.search import SearchIndex
from tests.conftest import cached_index

HERE = Path(__file__).resolve().parent
KB_SEARCH = HERE / "kb-search"


@pytest.fixture(scope="session")
def small_kb() -> KnowledgeBase:
    return load(KB_SEARCH)


@pytest.fixture(scope="session")
def small_index(small_kb: KnowledgeBase) -> SearchIndex:
    return cached_index(small_kb)


@pytest.fixture(scope="session")
def real_kb() -> KnowledgeBase:
    return load()


@pytest.fixture(scope="session")
def real_index(real_kb: KnowledgeBase) -> SearchIndex:
    return cached_index(real_kb)


def plain(text: str) -> str:
    """Lower case, without diacritics and punctuation: how a copied phrasing is recognised."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", bare))
