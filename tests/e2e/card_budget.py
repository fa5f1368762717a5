"""What a busy teacher sees on a phone: the budget every card must keep (issue 16).

- `version` "1.5" (Teams renders Adaptive Cards up to 1.5) and at most 28 KB of JSON;
- every button title at most 40 characters (Teams cuts longer ones off);
- no seed file name ("000_eb25900a9fa30eb9.txt") anywhere: sources have human names;
- at most 150 words visible before "Visa mer" (the first Action.ToggleVisibility; a card without
  one counts whole). Hidden elements (`isVisible: false`) are not visible.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from typing import Any

CARD_VERSION = "1.5"
MAX_CARD_BYTES = 28 * 1024
MAX_BUTTON = 40
MAX_WORDS_BEFORE_MORE = 150
MAX_LEAD_WORDS = 60
FILE_NAME = re.compile(r"_[0-9a-f]{16}\.txt")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_ACTIONS = ("Action.Submit", "Action.ToggleVisibility", "Action.OpenUrl", "Action.ShowCard",
            "Action.Execute")


class _Stop(Exception):
    """Reached "Visa mer"."""


def button_titles(card: dict[str, Any]) -> list[str]:
    """The title of every action anywhere in the card (ShowCard cards included)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in _ACTIONS:
                found.append(str(node.get("title", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def words_before_more(card: dict[str, Any]) -> tuple[int, bool]:
    """Words of the visible texts up to the first "Visa mer" toggle, and whether there is one.
    Link targets do not count, only what is shown."""
    words = 0

    def count(text: str) -> None:
        nonlocal words
        words += len(_MD_LINK.sub(r"\1", text).split())

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict) or node.get("isVisible") is False:
            return
        kind = node.get("type")
        if kind == "TextBlock":
            count(str(node.get("text", "")))
        elif kind == "RichTextBlock":
            for inline in node.get("inlines", []):
                count(str(inline.get("text", "")) if isinstance(inline, dict) else str(inline))
        elif kind == "FactSet":
            for fact in node.get("facts", []):
                count(f"{fact.get('title', '')} {fact.get('value', '')}")
        elif kind == "ActionSet" and any(
            a.get("type") == "Action.ToggleVisibility" for a in node.get("actions", [])
        ):
            raise _Stop
        for key in ("items", "columns"):
            if key in node:
                walk(node[key])

    try:
        walk(card.get("body", []))
    except _Stop:
        return words, True
    return words, False


def problems(card: dict[str, Any], max_words: int = MAX_WORDS_BEFORE_MORE) -> list[str]:
    """Every way the card breaks the budget (empty: it keeps it)."""
    out: list[str] = []
    raw = json.dumps(card, ensure_ascii=False)
    if card.get("version") != CARD_VERSION:
        out.append(f"version {card.get('version')!r}, not {CARD_VERSION}")
    if len(raw.encode("utf-8")) > MAX_CARD_BYTES:
        out.append(f"{len(raw.encode('utf-8'))} bytes of JSON")
    if FILE_NAME.search(raw):
        out.append(f"a file name: {FILE_NAME.search(raw)[0]}")  # type: ignore[index]
    for title in button_titles(card):
        if len(title) > MAX_BUTTON:
            out.append(f"button of {len(title)} characters: {title!r}")
    words, _ = words_before_more(card)
    if words > max_words:
        out.append(f"{words} words before 'Visa mer'")
    return out


@dataclass
class Budget:
    """Cards seen and what was measured on them."""

    words: list[int] = field(default_factory=list)
    long_buttons: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    cards: int = 0

    def add(
        self, card: dict[str, Any], where: str, max_words: int = MAX_WORDS_BEFORE_MORE
    ) -> None:
        self.cards += 1
        self.words.append(words_before_more(card)[0])
        self.long_buttons += [t for t in button_titles(card) if len(t) > MAX_BUTTON]
        self.failures += [f"{where}: {p}" for p in problems(card, max_words)]

    def summary(self) -> str:
        if not self.words:
            return "no cards"
        ws = sorted(self.words)
        p90 = ws[min(len(ws) - 1, round(0.9 * (len(ws) - 1)))]
        return (
            f"{self.cards} cards; words before 'Visa mer': p50 {statistics.median(ws):.0f}, "
            f"p90 {p90}, max {ws[-1]}; buttons over {MAX_BUTTON} characters: "
            f"{len(self.long_buttons)}"
        )
