"""Forum cards (Adaptive Card 1.5, plain JSON): the upcoming meetings and the reminder.

Pure functions over `forums.model` values. Swedish dates come from common.swedish ("tisdag
8 september kl. 13.00"). A reminder shows only the forum, the time, the place and the links:
never anything about a child.

All Swedish text is in the forums catalogue (forums/texts.sv.yaml, sections `card` and
`reminder`); every builder takes that catalogue as `texts=` (default: `forums.texts()`), or one
with some texts replaced (`Catalogue.replaced`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any
from urllib.parse import quote

from common import swedish
from common.adaptive import card, open_url, text_block
from common.catalogue import Catalogue
from forums import texts as package_texts
from forums.model import Forum, Occurrence

MAX_FORUMS = 15  # forums listed on one card
MAX_DATES = 3  # meetings listed per forum

SUBSCRIBE = "forum.subscribe"
UNSUBSCRIBE = "forum.unsubscribe"



def _submit(title: str, action: str, forum_id: str, scope: str) -> dict[str, Any]:
    return {
        "type": "Action.Submit",
        "title": title,
        "data": {"action": action, "forum": forum_id, "scope": scope},
    }


def _toggle(texts: Catalogue, forum_id: str, scope: str, on: bool) -> dict[str, Any]:
    """'Påminn mig' / 'Sluta påminna mig' (or the channel's pair), by the current state."""
    who = "me" if scope == "me" else "channel"
    if on:
        return _submit(texts.text(f"card.unsubscribe_{who}"), UNSUBSCRIBE, forum_id, scope)
    return _submit(texts.text(f"card.subscribe_{who}"), SUBSCRIBE, forum_id, scope)



def calendar_signature(secret: bytes, forum_id: str) -> str:
    """The `sig` of a forum's calendar link: HMAC-SHA256 of the id under the server's link
    secret, 128 bits, base64url. The web server serves the calendar only with it."""
    mac = hmac.new(secret, b"forum-ics\x00" + forum_id.encode("utf-8"), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode("ascii")


def ics_url(public_url: str, forum_id: str, link_secret: bytes | None = None) -> str | None:
    """`<public_url>/forums/<id>.ics?sig=…`, or None when the bot has no public address.

    The bot always passes its `link_secret` (an unsigned link is a 404); without one the link
    has no signature, for callers that sign it themselves.
    """
    base = public_url.strip().rstrip("/")
    if not base.startswith(("https://", "http://")):
        return None
    url = f"{base}/forums/{quote(forum_id, safe='')}.ics"
    if link_secret is not None:
        url += f"?sig={calendar_signature(link_secret, forum_id)}"
    return url



# --- the list of upcoming meetings -------------------------------------------------------------


def upcoming_card(
    occurrences: Sequence[Occurrence],
    *,
    subscribed_me: set[str],
    subscribed_channel: set[str] | None,
    forums: Mapping[str, Forum] | None = None,
    texts: Catalogue | None = None,
) -> dict[str, Any]:
    """Upcoming meetings grouped per forum, with reminder buttons for me (and the channel).

    `subscribed_channel` is None outside a channel: then there are no channel buttons.
    Forum details come from `forums` or from each occurrence's `definition`.
    """
    texts = texts or package_texts()
    grouped: dict[str, list[Occurrence]] = {}
    for occ in sorted(occurrences, key=lambda o: (o.start.astimezone(UTC), o.forum)):
        grouped.setdefault(occ.forum, []).append(occ)
    first_year = min((o.start.year for o in occurrences), default=None)

    body: list[dict[str, Any]] = [
        text_block(texts.text("card.title"), size="Medium", weight="Bolder", style="heading"),
        text_block(texts.text("card.intro"), isSubtle=True, spacing="Small"),
    ]
    shown = list(grouped.items())[:MAX_FORUMS]
    for forum_id, occs in shown:
        forum = (forums or {}).get(forum_id) or occs[0].definition
        name = forum.name if forum is not None else forum_id
        items: list[dict[str, Any]] = [text_block(name, weight="Bolder")]
        dates = [
            "- " + swedish.span(o.start, o.end, with_year=o.start.year != first_year)
            for o in occs[:MAX_DATES]
        ]
        items.append(text_block("\n".join(dates), spacing="Small"))
        if len(occs) > MAX_DATES:
            more = texts.text("card.more_dates", count=len(occs) - MAX_DATES)
            items.append(text_block(more, isSubtle=True, spacing="None"))
        if forum is not None and forum.location:
            place = texts.text("card.place", place=forum.location)
            items.append(text_block(place, isSubtle=True, spacing="Small"))
        me_on = forum_id in subscribed_me
        channel_on = subscribed_channel is not None and forum_id in subscribed_channel
        states = ((me_on, "card.reminded_me"), (channel_on, "card.reminded_channel"))
        for on, key in states:
            if on:
                items.append(text_block(texts.text(key), isSubtle=True, spacing="Small"))
        actions: list[dict[str, Any]] = []
        if forum is not None and forum.join_url:
            actions.append(open_url(texts.text("card.join"), forum.join_url))
        actions.append(_toggle(texts, forum_id, "me", me_on))
        if subscribed_channel is not None:
            actions.append(_toggle(texts, forum_id, "channel", channel_on))
        items.append({"type": "ActionSet", "actions": actions})
        body.append({"type": "Container", "items": items, "separator": True, "spacing": "Medium"})
    if len(grouped) > MAX_FORUMS:
        more = texts.text("card.more_forums", count=len(grouped) - MAX_FORUMS)
        body.append(text_block(more, isSubtle=True))
    return card(body)


# --- the reminder ------------------------------------------------------------------------------


def reminder_card(
    forum: Forum,
    occurrence: Occurrence,
    *,
    scope: str,
    public_url: str = "",
    texts: Catalogue | None = None,
    link_secret: bytes | None = None,
) -> dict[str, Any]:
    """Forum, time, place, join link, 'Lägg till i kalender' and 'Stäng av påminnelser'."""
    if scope not in ("me", "channel"):
        raise ValueError(f"scope must be 'me' or 'channel', not {scope!r}")
    texts = texts or package_texts()
    when = swedish.span(occurrence.start, occurrence.end)
    facts = [{"title": texts.text("reminder.when"), "value": when}]
    if forum.location:
        facts.append({"title": texts.text("reminder.where"), "value": forum.location})
    elif forum.join_url:
        online = texts.text("reminder.online")
        facts.append({"title": texts.text("reminder.where"), "value": online})
    body: list[dict[str, Any]] = [
        text_block(texts.text("reminder.title"), isSubtle=True, weight="Bolder"),
        text_block(forum.name, size="Medium", weight="Bolder", style="heading", spacing="Small"),
        {"type": "FactSet", "facts": facts},
    ]
    if scope == "channel":
        body.append(text_block(texts.text("reminder.channel_note"), isSubtle=True, size="Small"))
    actions: list[dict[str, Any]] = []
    if forum.join_url:
        actions.append(open_url(texts.text("card.join"), forum.join_url))
    calendar = ics_url(public_url, forum.id, link_secret)
    if calendar is not None:
        actions.append(open_url(texts.text("reminder.calendar"), calendar))
    actions.append(_submit(texts.text("reminder.stop"), UNSUBSCRIBE, forum.id, scope))
    return card(body, actions)


def reminder_summary(
    forum: Forum, occurrence: Occurrence, *, texts: Catalogue | None = None
) -> str:
    """The notification text: 'Påminnelse: BUS …, tisdag 8 september kl. 13.00–14.30'."""
    texts = texts or package_texts()
    when = swedish.span(occurrence.start, occurrence.end)
    return texts.text("reminder.summary", name=forum.name, when=when)


def reminder_message(
    forum: Forum,
    occurrence: Occurrence,
    *,
    scope: str,
    public_url: str = "",
    texts: Catalogue | None = None,
    link_secret: bytes | None = None,
) -> tuple[dict[str, Any], str]:
    """(card, summary) for the reminder scheduler (forums.reminders.ReminderScheduler)."""
    card = reminder_card(
        forum, occurrence, scope=scope, public_url=public_url, texts=texts, link_secret=link_secret
    )
    return card, reminder_summary(forum, occurrence, texts=texts)
