"""The dialog state document: plain JSON in `TurnState.dialog`, so a server restart loses nothing.

Shape (version 1):

    {"v": 1, "id": "3f9a0c1d2e", "flow": "concern", "node": "acute", "status": "active" | "done",
     "facts": {...},            # facts for the assessment (assessment.md)
     "vars": {...},             # answers and results of actions
     "history": [{"node": "acute", "undo": [["facts", "acute_danger", false, null], ...]}],
     "pending": {...} | null,   # an answer held back because it looked like a personnummer
     "started_at": ISO, "updated_at": ISO}

`id` names this run of the dialog: every button the bot shows while it runs carries it (with the
step, the number of answers given), so a press from a finished or other dialog is recognised
(dialogs.ownership). `history` holds, per answered question, how to undo what that answer (and
the actions after it) changed, so "Ändra svar" restores the facts exactly as they were.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dialogs.types import Incoming, TurnState

STATE_VERSION = 1
MAX_HISTORY = 100


@dataclass
class Turn:
    """One turn as the dialogs see it."""

    inc: Incoming
    state: TurnState
    now: datetime
    day: date  # local day in Europe/Stockholm: picks the rules and topic versions
    scratch: dict[str, Any] = field(default_factory=dict)  # objects shared within this turn only


class DialogState:
    """A typed view of `TurnState.dialog` (the dict itself stays plain JSON)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    def new(cls, data: dict[str, Any], flow: str, node: str, now: datetime) -> DialogState:
        data.clear()
        data.update(
            {
                "v": STATE_VERSION,
                "id": secrets.token_hex(5),
                "flow": flow,
                "node": node,
                "status": "active",
                "facts": {},
                "vars": {},
                "history": [],
                "pending": None,
                "started_at": now.isoformat(),
                "updated_at": now.isoformat(),
            }
        )
        return cls(data)

    @staticmethod
    def present(data: dict[str, Any]) -> bool:
        return bool(data) and data.get("v") == STATE_VERSION and isinstance(data.get("flow"), str)

    @property
    def id(self) -> str:
        return str(self.data.get("id") or "")

    @property
    def step(self) -> int:
        """How many answers the dialog holds: the step a card was made at."""
        return len(self.history)

    @property
    def flow(self) -> str:
        return str(self.data["flow"])

    @property
    def node(self) -> str:
        return str(self.data["node"])

    @node.setter
    def node(self, value: str) -> None:
        self.data["node"] = value

    @property
    def status(self) -> str:
        return str(self.data.get("status", "active"))

    @status.setter
    def status(self, value: str) -> None:
        self.data["status"] = value

    @property
    def facts(self) -> dict[str, Any]:
        return self.data.setdefault("facts", {})

    @property
    def vars(self) -> dict[str, Any]:
        return self.data.setdefault("vars", {})

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.data.setdefault("history", [])

    @property
    def pending(self) -> dict[str, Any] | None:
        p = self.data.get("pending")
        return p if isinstance(p, dict) else None

    @pending.setter
    def pending(self, value: dict[str, Any] | None) -> None:
        self.data["pending"] = value

    def updated_at(self) -> datetime | None:
        raw = self.data.get("updated_at")
        try:
            dt = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            return None
        return dt if dt is not None and dt.tzinfo is not None else None

    def touch(self, now: datetime) -> None:
        self.data["updated_at"] = now.isoformat()

    # --- undo ----------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {"facts": copy.deepcopy(self.facts), "vars": copy.deepcopy(self.vars)}

    def record(self, node: str, before: dict[str, dict[str, Any]]) -> None:
        """Remember how to undo everything that changed since `before` (taken at `node`)."""
        undo: list[list[Any]] = []
        for scope in ("facts", "vars"):
            old, new = before[scope], self.data[scope]
            for key in sorted(set(old) | set(new)):
                if old.get(key, _MISSING) != new.get(key, _MISSING):
                    undo.append([scope, key, key in old, copy.deepcopy(old.get(key))])
        self.history.append({"node": node, "undo": undo})
        if len(self.history) > MAX_HISTORY:
            del self.history[: len(self.history) - MAX_HISTORY]

    def undo_last(self) -> str | None:
        """Restore the state before the last answer; returns the node to ask again."""
        if not self.history:
            return None
        entry = self.history.pop()
        for scope, key, existed, value in reversed(entry.get("undo", [])):
            target = self.data[scope]
            if existed:
                target[key] = value
            else:
                target.pop(key, None)
        self.pending = None
        self.status = "active"
        self.node = str(entry["node"])
        return self.node


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
