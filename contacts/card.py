"""The contact card: who to contact, as an Adaptive Card (schema 1.5, plain JSON, ≤ 28 KB).

Pure functions over a `contacts.routing.RouteResult`. The card shows, per contact, the name and
role, the phone number as a `tel:` link (digits only in the URI), the e-mail address as a
`mailto:` link, the kommun's e-tjänst where there is one, a Teams chat deep link for people with a
UPN, and the office hours in Swedish ("måndag–fredag 08.00–16.30"). Outside office hours the
after-hours service (socialjouren) comes FIRST. The routing notes follow, and example data is
labelled as such at the top.

All Swedish text is in `TEXTS` (keys in the message catalogue's dotted style, so that the
dialogs' catalogue can take them over with `Messages.extend(TEXTS)`); `contact_card(texts=...)`
accepts replacements.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from contacts.routing import TEXTS as ROUTING_TEXTS
from contacts.routing import Contact, RouteResult, format_moment

CARD_VERSION = "1.5"
MAX_CARD_BYTES = 28 * 1024
TEAMS_CHAT_URL = "https://teams.microsoft.com/l/chat/0/0?users={upn}"

TEXTS: dict[str, str] = {
    "contacts.card.title": "Vem ska du kontakta?",
    "contacts.card.purpose.report": "Anmälan om oro för ett barn",
    "contacts.card.purpose.consult": "Konsultation (du behöver inte säga barnets namn)",
    "contacts.card.purpose.general": "Allmän fråga om samverkan",
    "contacts.card.district": "Stadsdel/kommun: {district}",
    "contacts.card.example": (
        "Exempeldata: personerna och numren är påhittade. Be administratören läsa in det "
        "riktiga kontaktregistret."
    ),
    "contacts.card.after_hours_first": (
        "Mottagningen har stängt just nu. Är det brådskande: ring socialjouren."
    ),
    "contacts.card.role.intake": "Mottagningen – tar emot orosanmälningar",
    "contacts.card.role.after_hours": "Socialjouren – nås när mottagningen har stängt",
    "contacts.card.role.contact_person": "Skolans kontaktperson på socialtjänsten",
    "contacts.card.role.contact_person_titled": "{title} – skolans kontaktperson",
    "contacts.card.label.primary": "Kontakta i första hand",
    "contacts.card.label.also": "Även",
    "contacts.card.label.urgent": "Om det är brådskande nu",
    "contacts.card.phone": "Telefon: [{phone}]({uri})",
    "contacts.card.email": "E-post: [{email}]({uri})",
    "contacts.card.hours": "Öppet {hours}",
    "contacts.card.closed_now": "Stängt nu – öppnar igen {next_open}",
    "contacts.card.action.call": "Ring {phone}",
    "contacts.card.action.chat": "Chatta i Teams",
    "contacts.card.action.etjanst": "E-tjänst",
    "contacts.card.notes": "Att tänka på",
    "contacts.card.summary": "Kontakta {name}, {phone}",
    "contacts.card.summary_nophone": "Kontakta {name}",
}


def tel_uri(phone: str) -> str:
    """'08-000 101 01' → 'tel:0800010101'; '+46 8 …' → 'tel:08…'; other '+NN' → 'tel:00NN…'.

    Digits only, so every phone client dials it.
    """
    text = phone.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        digits = "0" + digits[2:] if digits.startswith("46") else "00" + digits
    return f"tel:{digits}"


def mailto_uri(email: str) -> str:
    return f"mailto:{quote(email.strip(), safe='@.+-_')}"


def teams_chat_url(upn: str) -> str:
    return TEAMS_CHAT_URL.format(upn=quote(upn.strip(), safe="@.-_"))


def card_bytes(card: Mapping[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode("utf-8"))


def _md_escape(text: str) -> str:
    """Text inside a markdown link label: brackets would break the link."""
    return text.replace("[", "(").replace("]", ")")


def _text(value: str, **extra: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": value, "wrap": True}
    block.update(extra)
    return block


def _open_url(title: str, url: str) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def _ordered(result: RouteResult) -> list[tuple[Contact, bool]]:
    """(contact, is_primary) in display order: outside office hours socialjouren first."""
    assert result.primary is not None
    contacts = [(result.primary, True)] + [(c, False) for c in result.also]
    if result.open_now is False:
        after = [x for x in contacts if x[0].kind == "after_hours"]
        rest = [x for x in contacts if x[0].kind != "after_hours"]
        contacts = after + rest
    return contacts


def _contact_block(
    c: Contact, *, primary: bool, result: RouteResult, t: Mapping[str, str]
) -> dict[str, Any]:
    if c.kind == "contact_person" and c.title:
        role = t["contacts.card.role.contact_person_titled"].format(title=c.title)
    else:
        role = c.title or t[f"contacts.card.role.{c.kind}"]
    if primary:
        label = t["contacts.card.label.primary"]
    elif c.kind == "after_hours" and result.open_now is False:
        # Shown first while the office is closed: "Även" above "Kontakta i första hand" confused.
        label = t["contacts.card.label.urgent"]
    else:
        label = t["contacts.card.label.also"]
    items: list[dict[str, Any]] = [
        _text(label, size="Small", isSubtle=True, spacing="None"),
        _text(c.name, weight="Bolder", size="Medium" if primary else "Default", spacing="None"),
        _text(role, isSubtle=True, spacing="None"),
    ]
    if c.phone:
        items.append(_text(t["contacts.card.phone"].format(
            phone=_md_escape(c.phone), uri=tel_uri(c.phone)
        )))
    if c.email:
        items.append(_text(
            t["contacts.card.email"].format(email=_md_escape(c.email), uri=mailto_uri(c.email)),
            spacing="None",
        ))
    if c.office_hours is not None:
        items.append(_text(
            t["contacts.card.hours"].format(hours=c.office_hours.describe()), spacing="None"
        ))
        if c.kind == "intake" and c.id == result.district and result.open_now is False:
            items.append(_text(
                t["contacts.card.closed_now"].format(next_open=format_moment(result.next_open)),
                color="Attention", spacing="None",
            ))
    actions: list[dict[str, Any]] = []
    if c.phone:
        actions.append(_open_url(
            t["contacts.card.action.call"].format(phone=c.phone), tel_uri(c.phone)
        ))
    if c.teams_upn:
        actions.append(_open_url(t["contacts.card.action.chat"], teams_chat_url(c.teams_upn)))
    if c.url:
        actions.append(_open_url(t["contacts.card.action.etjanst"], c.url))
    if actions:
        items.append({"type": "ActionSet", "actions": actions})
    block: dict[str, Any] = {
        "type": "Container", "items": items, "separator": True, "spacing": "Medium",
    }
    if c.kind == "after_hours" and result.open_now is False:
        block["style"] = "attention"
    elif primary:
        block["style"] = "emphasis"
    return block


def contact_card(
    result: RouteResult, *, texts: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The contact card of a successful route (`result.ok`)."""
    if not result.ok or result.primary is None:
        raise ValueError("contact_card needs a successful RouteResult")
    t: dict[str, str] = {**TEXTS, **(texts or {})}
    body: list[dict[str, Any]] = [
        _text(t["contacts.card.title"], size="Large", weight="Bolder", style="heading"),
        _text(t[f"contacts.card.purpose.{result.purpose}"], spacing="None"),
    ]
    if result.district_name:
        body.append(_text(
            t["contacts.card.district"].format(district=result.district_name),
            isSubtle=True, spacing="None",
        ))
    if result.example:
        body.append({
            "type": "Container", "style": "warning",
            "items": [_text(t["contacts.card.example"], weight="Bolder")],
        })
    ordered = _ordered(result)
    if result.open_now is False and ordered[0][0].kind == "after_hours":
        body.append(_text(t["contacts.card.after_hours_first"], color="Attention"))
    for contact, is_primary in ordered:
        body.append(_contact_block(contact, primary=is_primary, result=result, t=t))
    notes: list[dict[str, Any]] = []
    # The example-data note is already the banner at the top.
    shown = [n for n in result.notes if n != ROUTING_TEXTS["example"]]
    if shown:
        notes.append(_text(t["contacts.card.notes"], weight="Bolder", separator=True))
        notes.append(_text("\n".join(f"- {n}" for n in shown)))
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body + notes,
    }
    if card_bytes(card) > MAX_CARD_BYTES:
        # Only conceivable with absurdly long registry texts: the contacts matter most.
        card["body"] = body
        if card_bytes(card) > MAX_CARD_BYTES:
            raise ValueError("the contact card is larger than Teams accepts (28 KB)")
    return card


def contact_summary(result: RouteResult, *, texts: Mapping[str, str] | None = None) -> str:
    """One plain line for notifications and channels without cards."""
    if not result.ok or result.primary is None:
        return result.problem.message if result.problem is not None else ""
    t: dict[str, str] = {**TEXTS, **(texts or {})}
    first = _ordered(result)[0][0]
    if first.phone:
        return t["contacts.card.summary"].format(name=first.name, phone=first.phone)
    return t["contacts.card.summary_nophone"].format(name=first.name)
