"""Adaptive Card building blocks (plain JSON, schema version 1.5) and the button vocabulary.

Every button is an `Action.Submit` whose `data` carries an `action` name from the constants
below; the channel layer hands that data back as `Incoming.value`. The terminal chat shows the
same cards as text with numbered buttons.
"""

from __future__ import annotations

from typing import Any

# The primitives every card builder shares, re-exported: dialogs use them as `cards.card(...)`.
from common.adaptive import CARD_VERSION as CARD_VERSION
from common.adaptive import MAX_CARD_BYTES as MAX_CARD_BYTES
from common.adaptive import action_set as action_set
from common.adaptive import card as card
from common.adaptive import card_bytes as card_bytes
from common.adaptive import toggle as toggle

MAX_BUTTONS = 6  # Teams shows at most six buttons in one row of actions

# Button actions (the `action` key of Action.Submit data).
MENU = "menu"
TOPIC = "topic.show"
FEEDBACK = "feedback.vote"
SUGGEST_NONE = "suggest.none"
KB_SUGGEST = "kb.suggest"  # dialogs.learning: the question travels in the data ("q")
FLOW_START = "flow.start"
FLOW_ANSWER = "flow.answer"
FLOW_BACK = "flow.back"
FLOW_CANCEL = "flow.cancel"
FLOW_RESUME = "flow.resume"
FLOW_WHY = "flow.why"
FLOW_PNR = "flow.pnr"

# Menu items (the `item` of a MENU button).
MENU_ITEMS = ("ask", "concern", "contacts", "sharing", "forums", "help")



def text(
    value: str,
    *,
    size: str | None = None,
    weight: str | None = None,
    color: str | None = None,
    subtle: bool = False,
    separator: bool = False,
    spacing: str | None = None,
    style: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": value, "wrap": True}
    if size:
        block["size"] = size
    if weight:
        block["weight"] = weight
    if color:
        block["color"] = color
    if subtle:
        block["isSubtle"] = True
    if separator:
        block["separator"] = True
    if spacing:
        block["spacing"] = spacing
    if style:
        block["style"] = style
    return block


def heading(value: str, *, size: str = "Medium") -> dict[str, Any]:
    return text(value, size=size, weight="Bolder", style="heading")


def bullets(items: list[str], *, numbered: bool = False) -> dict[str, Any]:
    """A list as one TextBlock (Adaptive Cards render markdown lists in TextBlocks)."""
    lines = [f"{i}. {s}" if numbered else f"- {s}" for i, s in enumerate(items, start=1)]
    return text("\n".join(lines))


def submit(
    title: str, data: dict[str, Any], *, style: str | None = None, inputs: bool = True
) -> dict[str, Any]:
    """A button; `inputs=False` sends none of the card's input fields (associatedInputs)."""
    action: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": data}
    if style:
        action["style"] = style
    if not inputs:
        action["associatedInputs"] = "none"
    return action




def action_rows(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Split many buttons into ActionSets of at most MAX_BUTTONS each."""
    return [action_set(actions[i : i + MAX_BUTTONS]) for i in range(0, len(actions), MAX_BUTTONS)]


def container(
    items: list[dict[str, Any]], *, style: str | None = None, **extra: Any
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "Container", "items": items}
    if style:
        block["style"] = style
    block.update(extra)
    return block



def buttons_of(c: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Submit in a card, in display order (body ActionSets, then card actions)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node)
                return
            if node.get("type") == "Action.ShowCard":
                walk(node.get("card"))
                return
            for key in ("body", "items", "columns", "actions", "card"):
                if key in node:
                    walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(c.get("body", []))
    walk(c.get("actions", []))
    return found


def texts_of(c: dict[str, Any]) -> list[str]:
    """All visible texts of a card (TextBlocks, FactSets, input labels): tests, summaries."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "TextBlock":
                found.append(str(node.get("text", "")))
            elif kind == "FactSet":
                for fact in node.get("facts", []):
                    found.append(f"{fact.get('title', '')} {fact.get('value', '')}")
            elif kind in ("Input.Text", "Input.ChoiceSet") and node.get("label"):
                found.append(str(node["label"]))
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(c)
    return found
