"""The SDK-free vocabulary between the channel layer (bot/, the terminal chat) and the dialogs.

The channel layer turns whatever arrives (a Teams activity, a line typed in the terminal) into an
`Incoming`, loads the `TurnState`, calls the router and turns each `Reply` back into an activity.
Nothing here knows the Bot Framework SDK.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ConversationType = Literal["personal", "channel", "groupChat"]


@dataclass(frozen=True)
class Incoming:
    """One user turn: typed text and/or the data of a pressed card button."""

    user_id: str
    conversation_id: str
    text: str = ""  # the bot's own @mention already removed, whitespace trimmed
    value: dict[str, Any] | None = None  # Action.Submit data of a pressed button
    conversation_type: ConversationType = "personal"
    channel_id: str = "msteams"  # msteams | emulator | webchat | cli | test
    user_name: str | None = None
    tenant_id: str | None = None
    team_id: str | None = None
    truncated: bool = False  # the text was cut because it was very long

    @property
    def in_channel(self) -> bool:
        return self.conversation_type != "personal"


@dataclass
class Reply:
    """What the bot says: plain text, an Adaptive Card (JSON, version ≤ 1.5), or both."""

    text: str | None = None
    card: dict[str, Any] | None = None
    # A short plain-text summary for notifications and channels that cannot show cards.
    summary: str | None = None


@dataclass
class TurnState:
    """State the router may read and change during one turn; the caller persists it.

    `dialog` belongs to one user in one conversation and is the ONLY place where what a user
    says about a child may be kept; it expires when abandoned and is deleted when emptied.
    `user` is the user's profile (preferences such as the chosen school); never child data.
    `effects` are changes outside the state documents (a vote counted): the caller runs them
    once, after the state has been saved and the replies delivered, so a turn that is run
    again after a conflict, or undone because its replies never arrived, does not repeat them.
    """

    now: datetime
    dialog: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)
    effects: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
