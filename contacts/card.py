"""The contact card: who to contact, as an Adaptive Card (schema 1.5, plain JSON, ≤ 28 KB).

Pure functions over a `contacts.routing.RouteResult`. The card shows, per contact, the name and
role, the phone number as a `tel:` link (digits only in the URI), the e-mail address as a
`mailto:` link, the kommun's e-tjänst where there is one, a Teams chat deep link for people with a
UPN, and the office hours in Swedish ("måndag–fredag 08.00–16.30"). Outside office hours the
after-hours service (socialjouren) comes FIRST. Example data is labelled as such at the top. To
fit a phone (issue 16), the card shows the first contact (and the one to contact in the first
place, when socialjouren comes before it, and for a report the intake of the child's district),
the first routing note and "ring 112"; the other contacts and notes are behind "Fler kontakter
och råd".

All Swedish text is in the contacts catalogue (contacts/texts.sv.yaml, section `card`);
`contact_card(texts=...)` takes that catalogue, or one with some texts replaced
(`Catalogue.replaced`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from common import swedish
from common.adaptive import MAX_CARD_BYTES, action_set, card_bytes, open_url, text_block, toggle
from common.adaptive import card as adaptive_card
from common.catalogue import Catalogue
from contacts import texts as package_texts
from contacts.routing import Contact, RouteResult, format_moment

TEAMS_CHAT_URL = "https://teams.microsoft.com/l/chat/0/0?users={upn}"


def mailto_uri(email: str) -> str:
    return f"mailto:{quote(email.strip(), safe='@.+-_')}"


def teams_chat_url(upn: str) -> str:
    return TEAMS_CHAT_URL.format(upn=quote(upn.strip(), safe="@.-_"))



def _md_escape(text: str) -> str:
    """Text inside a markdown link label: brackets would break the link."""
    return text.replace("[", "(").replace("]", ")")





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
    c: Contact, *, primary: bool, result: RouteResult, texts: Catalogue
) -> dict[str, Any]:
    if c.kind == "contact_person" and c.title:
        role = texts.text("card.role.contact_person_titled", title=c.title)
    else:
        role = c.title or texts.text(f"card.role.{c.kind}")
    if primary:
        label = texts.text("card.label.primary")
    elif c.kind == "after_hours" and result.open_now is False:
        # Shown first while the office is closed: "Även" above "Kontakta i första hand" confused.
        label = texts.text("card.label.urgent")
    else:
        label = texts.text("card.label.also")
    items: list[dict[str, Any]] = [
        text_block(label, size="Small", isSubtle=True, spacing="None"),
        text_block(
            c.name, weight="Bolder", size="Medium" if primary else "Default", spacing="None"
        ),
        text_block(role, isSubtle=True, spacing="None"),
    ]
    if c.phone:
        items.append(text_block(texts.text(
            "card.phone", phone=_md_escape(c.phone), uri=swedish.phone_uri(c.phone)
        )))
    if c.email:
        items.append(text_block(
            texts.text("card.email", email=_md_escape(c.email), uri=mailto_uri(c.email)),
            spacing="None",
        ))
    if c.office_hours is not None:
        items.append(text_block(
            texts.text("card.hours", hours=c.office_hours.describe()), spacing="None"
        ))
        if c.kind == "intake" and c.id == result.district and result.open_now is False:
            items.append(text_block(
                texts.text("card.closed_now", next_open=format_moment(result.next_open)),
                color="Attention", spacing="None",
            ))
    actions: list[dict[str, Any]] = []
    if c.phone:
        actions.append(open_url(
            texts.text("card.action.call", phone=c.phone), swedish.phone_uri(c.phone)
        ))
    if c.teams_upn:
        actions.append(open_url(texts.text("card.action.chat"), teams_chat_url(c.teams_upn)))
    if c.url:
        actions.append(open_url(texts.text("card.action.etjanst"), c.url))
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
    result: RouteResult, *, texts: Catalogue | None = None
) -> dict[str, Any]:
    """The contact card of a successful route (`result.ok`)."""
    if not result.ok or result.primary is None:
        raise ValueError("contact_card needs a successful RouteResult")
    texts = texts or package_texts()
    body: list[dict[str, Any]] = [
        text_block(texts.text("card.title"), size="Large", weight="Bolder", style="heading"),
        text_block(texts.text(f"card.purpose.{result.purpose}"), spacing="None"),
    ]
    if result.district_name:
        body.append(text_block(
            texts.text("card.district", district=result.district_name),
            isSubtle=True, spacing="None",
        ))
    if result.example:
        body.append({
            "type": "Container", "style": "warning",
            "items": [text_block(texts.text("card.example"), weight="Bolder")],
        })
    ordered = _ordered(result)
    if result.open_now is False and ordered[0][0].kind == "after_hours":
        body.append(text_block(texts.text("card.after_hours_first"), color="Attention"))
    # On a phone: the first contact, the one to contact in the first place and, for a report, the
    # intake of the child's district (where the report goes, also when socialjouren comes first)
    # and "ring 112"; the others and the routing notes behind a button.
    shown = [
        x for n, x in enumerate(ordered)
        if n == 0 or x[1]
        or (result.purpose == "report" and x[0].kind == "intake" and x[0].id == result.district)
    ]
    later = [x for x in ordered if x not in shown]
    for contact, is_primary in shown:
        body.append(_contact_block(contact, primary=is_primary, result=result, texts=texts))
    # The example-data note is already the banner at the top.
    notes = [n for n in result.notes if n != package_texts().text("routing.example")]
    urgent = [n for n in notes if n == package_texts().text("routing.acute")]
    notes = [n for n in notes if n not in urgent]
    if notes:  # why this contact: where a report goes, that a consultation can be anonymous
        body.append(text_block(notes.pop(0), isSubtle=True))
    if urgent:
        body.append(text_block("\n".join(urgent), weight="Bolder", color="Attention"))
    hidden: list[dict[str, Any]] = [
        _contact_block(contact, primary=is_primary, result=result, texts=texts)
        for contact, is_primary in later
    ]
    if notes:
        hidden.append(text_block(texts.text("card.notes"), weight="Bolder", separator=True))
        hidden.append(text_block("\n".join(f"- {n}" for n in notes)))
    more: list[dict[str, Any]] = []
    if hidden:
        targets = ["contacts_more", "contacts_hidden"]
        hidden.append(action_set([toggle(texts.text("card.less"), targets)]))
        more = [
            action_set([toggle(texts.text("card.more"), targets)], id="contacts_more"),
            {"type": "Container", "items": hidden, "id": "contacts_hidden", "isVisible": False},
        ]
    card = adaptive_card(body + more)
    if card_bytes(card) > MAX_CARD_BYTES:
        # Only conceivable with absurdly long registry texts: the contacts matter most.
        card["body"] = body
        if card_bytes(card) > MAX_CARD_BYTES:
            raise ValueError("the contact card is larger than Teams accepts (28 KB)")
    return card


def contact_summary(result: RouteResult, *, texts: Catalogue | None = None) -> str:
    """One plain line for notifications and channels without cards."""
    if not result.ok or result.primary is None:
        return result.problem.message if result.problem is not None else ""
    texts = texts or package_texts()
    first = _ordered(result)[0][0]
    if first.phone:
        return texts.text("card.summary", name=first.name, phone=first.phone)
    return texts.text("card.summary_nophone", name=first.name)
