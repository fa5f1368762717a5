"""The contact card: Adaptive Card 1.5 JSON with working links, in Swedish."""

from __future__ import annotations

import json
import re
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest

from common.swedish import phone_uri
from contacts import texts as contact_texts
from contacts.card import (
    MAX_CARD_BYTES,
    card_bytes,
    contact_card,
    contact_summary,
    mailto_uri,
    teams_chat_url,
)
from contacts.model import (
    AfterHours,
    District,
    Intake,
    OfficeHours,
    Person,
    RegistrySnapshot,
    School,
)
from contacts.routing import RouteResult, route

from .conftest import snapshot_of

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "knowledge" / "data" / "kommuner" / "stockholm"
    / "registry.yaml"
)


@pytest.fixture(scope="module")
def bundled() -> RegistrySnapshot:
    return snapshot_of(EXAMPLE)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def texts(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            found.append(node["text"])
        for v in node.values():
            found += texts(v)
    elif isinstance(node, list):
        for v in node:
            found += texts(v)
    return found


def urls(node: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        if node.get("type") == "Action.OpenUrl":
            found.append((node["title"], node["url"]))
        for v in node.values():
            found += urls(v)
    elif isinstance(node, list):
        for v in node:
            found += urls(v)
    return found


def _contact_blocks(node: Any, hidden: bool = False) -> list[tuple[str, bool]]:
    """(name, hidden) of every contact block in display order: a container whose second item
    is the name in bold."""
    found: list[tuple[str, bool]] = []
    if isinstance(node, dict):
        hidden = hidden or node.get("isVisible") is False
        items = node.get("items", [])
        if (
            node.get("type") == "Container" and len(items) > 2
            and items[1].get("type") == "TextBlock" and items[1].get("weight") == "Bolder"
        ):
            return [(items[1]["text"], hidden)]
        for key in ("body", "items"):
            found += _contact_blocks(node.get(key, []), hidden)
    elif isinstance(node, list):
        for v in node:
            found += _contact_blocks(v, hidden)
    return found


def contact_names_in_order(card: dict[str, Any]) -> list[str]:
    return [name for name, _hidden in _contact_blocks(card)]


def visible_contact_names(card: dict[str, Any]) -> list[str]:
    return [name for name, hidden in _contact_blocks(card) if not hidden]


def _route(snap: RegistrySnapshot, **kw: Any) -> RouteResult:
    r = route(snap, **kw)
    assert r.ok, r.problem
    return r


def test_card_shape_links_and_hours(bundled: RegistrySnapshot) -> None:
    r = _route(bundled, purpose="consult", school="Vällingbyskolan", home_district=None,
               at=at("2026-11-24T10:00:00+01:00"))
    card = contact_card(r)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card_bytes(card) <= MAX_CARD_BYTES
    json.dumps(card)  # plain JSON
    all_text = "\n".join(texts(card))
    # Name and role of the contact person first (open now), then the intake.
    assert contact_names_in_order(card) == [
        "Omar Testsson", "Mottagningen barn och unga Hässelby-Vällingby"
    ]
    # On a phone only the first contact shows; the intake is behind "Fler kontakter och råd".
    assert visible_contact_names(card) == ["Omar Testsson"]
    assert "Kontaktsocialsekreterare för skolor – skolans kontaktperson" in all_text
    # Phone as a tel: link with digits only in the URI; e-mail as mailto:.
    assert "Telefon: [08-000 301 02](tel:0800030102)" in all_text
    assert "E-post: [omar.testsson@example.se](mailto:omar.testsson@example.se)" in all_text
    assert "Öppet måndag–fredag 08.00–16.00" in all_text
    links = dict(urls(card))
    assert links["Chatta i Teams"] == (
        "https://teams.microsoft.com/l/chat/0/0?users=omar.testsson@example.se"
    )
    assert links["E-tjänst"] == "https://example.se/stockholm/orosanmalan"
    assert links["Ring 08-000 301 02"] == "tel:0800030102"
    for _title, url in urls(card):
        if url.startswith("tel:"):
            assert re.fullmatch(r"tel:\d+", url)
    # Example data says so, at the top.
    assert card["body"][3]["style"] == "warning"
    assert contact_texts().text("card.example") in all_text


def test_after_hours_socialjouren_first(bundled: RegistrySnapshot) -> None:
    r = _route(bundled, purpose="report", school="Engelbrektsskolan", home_district="Östermalm",
               at=at("2026-06-19T10:00:00+02:00"))  # midsommarafton
    card = contact_card(r)
    assert contact_names_in_order(card)[0] == "Socialjouren Stockholm"
    all_text = "\n".join(texts(card))
    assert contact_texts().text("card.after_hours_first") in all_text
    assert "Stängt nu – öppnar igen måndag 22 juni kl. 08.00" in all_text
    assert "midsommarafton" in all_text
    first_call = next(u for t, u in urls(card) if u.startswith("tel:"))
    assert first_call == "tel:0800010000"
    assert contact_summary(r) == "Kontakta Socialjouren Stockholm, 08-000 100 00"


def test_consult_after_hours_also_puts_socialjouren_first() -> None:
    hours = OfficeHours(("mon", "tue", "wed", "thu", "fri"), time(8), time(16))
    snap = RegistrySnapshot(
        after_hours=[AfterHours("jour", "Socialjouren", "08-000 1")],
        districts=[District("a", "Alfa", Intake("Mottagningen Alfa", "08-000 2"), hours, "jour")],
        people=[Person("p", "Pia Exempel", None, "a", "08-000 3", teams_upn="pia@example.se")],
        schools=[School("s", "Alfaskolan", "a", "p")],
    )
    r = _route(snap, purpose="consult", school="Alfaskolan", home_district=None,
               at=at("2026-11-24T19:00:00+01:00"))
    assert r.primary is not None and r.primary.kind == "contact_person"
    assert contact_names_in_order(contact_card(r))[0] == "Socialjouren"


def test_real_data_has_no_example_banner(bundled: RegistrySnapshot) -> None:
    hours = OfficeHours(("mon", "tue", "wed", "thu", "fri"), time(8), time(16))
    snap = RegistrySnapshot(districts=[
        District("a", "Alfa", Intake("Mottagningen Alfa", "+46 8 000 200 00", "m@alfa.se"), hours)
    ])
    r = _route(snap, purpose="report", school=None, home_district="Alfa",
               at=at("2026-11-24T10:00:00+01:00"))
    card = contact_card(r)
    assert all(b.get("style") != "warning" for b in card["body"])
    assert "exempeldata" not in json.dumps(card, ensure_ascii=False).lower()
    assert dict(urls(card))["Ring +46 8 000 200 00"] == "tel:0800020000"


def test_uri_helpers() -> None:
    assert phone_uri("08-000 101 01") == "tel:0800010101"
    assert phone_uri("+46 8 508 000 00") == "tel:0850800000"
    assert phone_uri("+47 22 00 00 00") == "tel:004722000000"
    assert phone_uri("112") == "tel:112"
    assert mailto_uri("a.b@example.se") == "mailto:a.b@example.se"
    assert teams_chat_url("per åsa@x.se") == (
        "https://teams.microsoft.com/l/chat/0/0?users=per%20%C3%A5sa@x.se"
    )


def test_card_stays_under_28_kb_with_long_texts() -> None:
    hours = OfficeHours(("mon", "tue", "wed", "thu", "fri"), time(8), time(16))
    long = "Mottagningen " + "x" * 190
    snap = RegistrySnapshot(
        after_hours=[AfterHours("jour", "J" * 200, "08-000 1", "j@example.se",
                                "https://e.se/" + "a" * 900)],
        districts=[District("a", "A" * 200, Intake(long, "08-000 2", "m@example.se",
                                                   "https://e.se/" + "b" * 900), hours, "jour")],
        people=[Person("p", "P" * 200, "T" * 200, "a", "08-000 3", "p@example.se", "p@example.se")],
        schools=[School("s", "Alfaskolan", "a", "p")],
    )
    r = _route(snap, purpose="report", school="Alfaskolan", home_district=None,
               at=at("2026-11-24T20:00:00+01:00"))
    assert card_bytes(contact_card(r)) <= MAX_CARD_BYTES


def test_texts_can_be_replaced(bundled: RegistrySnapshot) -> None:
    r = _route(bundled, purpose="general", school="Matteusskolan", home_district=None,
               at=at("2026-11-24T10:00:00+01:00"))
    card = contact_card(r, texts=contact_texts().replaced({"card.title": "Vem når jag?"}))
    assert card["body"][0]["text"] == "Vem når jag?"


def test_card_needs_a_successful_route(bundled: RegistrySnapshot) -> None:
    r = route(bundled, purpose="report", school=None, home_district=None,
              at=at("2026-11-24T10:00:00+01:00"))
    with pytest.raises(ValueError):
        contact_card(r)
    assert r.problem is not None
    assert contact_summary(r) == r.problem.message


def test_a_phone_sees_the_urgent_way_and_the_first_contact_before_more(
    bundled: RegistrySnapshot,
) -> None:
    """Child living in another district than the school, at night: socialjouren (urgent) and
    the intake of the child's district (where the report goes) are visible, the school's
    contact person and the notes are behind one toggle, and "ring 112" is visible."""
    r = _route(bundled, purpose="report", school="Engelbrektsskolan", home_district="Norrmalm",
               at=at("2026-11-24T20:00:00+01:00"))
    card = contact_card(r)
    names = visible_contact_names(card)
    assert names == ["Socialjouren Stockholm", "Mottagningen barn och unga Norrmalm"]
    assert len(contact_names_in_order(card)) > len(names)
    toggles = [
        a for block in card["body"] if block.get("type") == "ActionSet"
        for a in block["actions"] if a["type"] == "Action.ToggleVisibility"
    ]
    assert [t["title"] for t in toggles] == [contact_texts().text("card.more")]
    hidden = next(b for b in card["body"] if b.get("isVisible") is False)
    assert hidden["id"] in toggles[0]["targetElements"]
    visible = "\n".join(texts([b for b in card["body"] if b.get("isVisible") is not False]))
    assert contact_texts().text("routing.acute") in visible
    assert "Anmälan går till stadsdelen där barnet bor" in visible
    assert contact_texts().text("card.notes") in "\n".join(texts(hidden))
