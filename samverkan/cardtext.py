"""Adaptive Cards as readable text with numbered buttons (for the terminal chat and tests)."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from samverkan import texts

_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


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


def _plain(text: str) -> str:
    return _MD_LINK.sub(lambda m: f"{m.group(1)} <{m.group(2)}>", text)


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


def render_card(card: dict[str, Any], *, width: int = 78, start: int = 1) -> Rendered:
    lines: list[str] = []
    buttons: list[Button] = []
    all_inputs = _inputs(card.get("body", []))

    def wrap(text: str, indent: str = "") -> None:
        for para in _plain(text).split("\n"):
            lines.extend(
                textwrap.wrap(para, width=width, initial_indent=indent, subsequent_indent=indent)
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
            text = str(el.get("text") or "")
            if el.get("weight") == "Bolder" or el.get("size") in ("Large", "ExtraLarge"):
                text = text.upper() if el.get("size") in ("Large", "ExtraLarge") else f"*{text}*"
            wrap(text, indent)
        elif kind == "RichTextBlock":
            wrap(
                "".join(
                    str(i.get("text", "")) if isinstance(i, dict) else str(i)
                    for i in el.get("inlines", [])
                ),
                indent,
            )
        elif kind == "FactSet":
            for f in el.get("facts", []):
                wrap(f"{f.get('title', '')}: {f.get('value', '')}", indent + "  ")
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
        if isinstance(el.get("selectAction"), dict):
            action(el["selectAction"])

    for el in card.get("body", []):
        element(el)
    for a in card.get("actions", []):
        action(a)
    return Rendered(text="\n".join(lines).rstrip(), buttons=buttons)
