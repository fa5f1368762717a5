"""Adaptive Cards as readable text with numbered buttons (for the terminal chat and tests)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from samverkan import texts

_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
# **bold** and *bold* (markdown in TextBlocks): shown with `bold`, never as raw asterisks.
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*|(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
# The id of a card's hint on how to answer; the terminal says it its own way.
HINT_ID = "hint"


def no_bold(text: str) -> str:
    return text


def ansi_bold(text: str) -> str:
    return f"\033[1m{text}\033[0m"


@dataclass
class Button:
    title: str
    kind: str  # submit | url | showcard
    data: dict[str, Any] | None = None
    url: str | None = None
    card: dict[str, Any] | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Rendered:
    text: str
    buttons: list[Button]


def plain(text: str, bold: Callable[[str], str] = no_bold) -> str:
    """Markdown of a card or message as terminal text: links as "text <url>", bold via `bold`."""
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} <{m.group(2)}>", text)
    return _MD_BOLD.sub(lambda m: bold(m.group(1) or m.group(2)), text)


def _inputs(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for el in elements or []:
        if not isinstance(el, dict):
            continue
        if str(el.get("type", "")).startswith("Input."):
            found.append(el)
        for key in ("items", "columns", "body"):
            if isinstance(el.get(key), list):
                found += _inputs(el[key])
    return found


def render_card(
    card: dict[str, Any],
    *,
    width: int = 78,
    start: int = 1,
    bold: Callable[[str], str] = no_bold,
) -> Rendered:
    lines: list[str] = []
    buttons: list[Button] = []
    all_inputs = _inputs(card.get("body", []))

    def wrap(text: str, indent: str = "") -> None:
        for para in text.split("\n"):
            lines.extend(
                textwrap.wrap(
                    para,
                    width=width,
                    initial_indent=indent,
                    subsequent_indent=indent,
                    break_on_hyphens=False,
                    break_long_words=False,
                )
                or [""]
            )

    def action(a: dict[str, Any]) -> None:
        kind = a.get("type")
        title = str(a.get("title") or "")
        before = len(buttons)
        if kind == "Action.Submit" or kind == "Action.Execute":
            data = a.get("data") if isinstance(a.get("data"), dict) else {}
            inputs = [] if a.get("associatedInputs") == "none" else all_inputs
            buttons.append(Button(title=title, kind="submit", data=data, inputs=inputs))
        elif kind == "Action.OpenUrl":
            buttons.append(Button(title=title, kind="url", url=a.get("url")))
        elif kind == "Action.ShowCard":
            buttons.append(Button(title=title, kind="showcard", card=a.get("card")))
        if len(buttons) > before:  # numbered where it stands, so it reads with its heading
            b = buttons[-1]
            suffix = f" → {b.url}" if b.kind == "url" and b.url else ""
            lines.append(f"  [{start + len(buttons) - 1}] {b.title}{suffix}")

    def element(el: dict[str, Any], indent: str = "") -> None:
        if not isinstance(el, dict):
            return
        kind = el.get("type")
        if kind == "TextBlock":
            if el.get("id") == HINT_ID:
                wrap(texts().text("cardtext.hint"), indent)
                return
            text = plain(str(el.get("text") or ""), bold)
            if el.get("size") in ("Large", "ExtraLarge"):
                text = bold(text.upper())
            elif el.get("weight") == "Bolder":
                text = bold(text)
            if el.get("separator") or el.get("spacing") in ("Medium", "Large"):
                lines.append("")
            wrap(text, indent)
        elif kind == "RichTextBlock":
            wrap(
                plain(
                    "".join(
                        str(i.get("text", "")) if isinstance(i, dict) else str(i)
                        for i in el.get("inlines", [])
                    ),
                    bold,
                ),
                indent,
            )
        elif kind == "FactSet":
            for f in el.get("facts", []):
                title, value = plain(str(f.get("title", "")), bold), f.get("value", "")
                wrap(f"{bold(title)} {plain(str(value), bold)}", indent + "  ")
        elif kind in ("Container", "Column"):
            for item in el.get("items", []):
                element(item, indent)
        elif kind == "ColumnSet":
            for col in el.get("columns", []):
                element(col, indent)
        elif kind == "Image":
            if el.get("altText"):
                wrap(f"[{el['altText']}]", indent)
        elif kind == "ActionSet":
            for a in el.get("actions", []):
                action(a)
        elif isinstance(kind, str) and kind.startswith("Input."):
            label = el.get("label") or el.get("placeholder") or el.get("id")
            wrap(texts().text("cardtext.input", label=label), indent)
            if el.get("value"):
                wrap(texts().text("cardtext.value", value=el["value"]), indent + "  ")
        if isinstance(el.get("selectAction"), dict):
            action(el["selectAction"])

    for el in card.get("body", []):
        element(el)
    for a in card.get("actions", []):
        action(a)
    return Rendered(text="\n".join(lines).rstrip(), buttons=buttons)
