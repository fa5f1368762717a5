"""Adaptive Card primitives shared by every card builder (dialogs, contacts, forums): plain JSON
in the schema version Teams renders (1.5), within the size Teams accepts (28 KB)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

CARD_VERSION = "1.5"
MAX_CARD_BYTES = 28 * 1024
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "AdaptiveCard", "$schema": SCHEMA, "version": CARD_VERSION, "body": body,
    }
    if actions:
        out["actions"] = actions
    return out


def text_block(value: str, **extra: Any) -> dict[str, Any]:
    """A wrapping TextBlock; `extra` are its other properties (size, weight, isSubtle, …)."""
    return {"type": "TextBlock", "text": value, "wrap": True, **extra}


def open_url(title: str, url: str) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def toggle(title: str, targets: list[str]) -> dict[str, Any]:
    """A button that shows or hides the elements with these ids ("Visa mer"/"Visa mindre");
    Action.ToggleVisibility is Adaptive Cards 1.2, rendered by Teams on desktop and mobile."""
    return {"type": "Action.ToggleVisibility", "title": title, "targetElements": targets}


def action_set(actions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "ActionSet", "actions": actions, **extra}


def card_bytes(c: Mapping[str, Any]) -> int:
    return len(json.dumps(c, ensure_ascii=False).encode("utf-8"))
