"""The real server over HTTP, as Teams talks to it; replies arrive at a fake Bot Connector.

One server for the tests of this module (in each test process), as one server serves many users
in production: each test talks as its own user in its own conversation, and the restart test
restarts it. (A server per test cost ~1.5-5 s of start-up each.) The report-draft test, which
reads the whole database and log, has a server of its own.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import TeamsUser, card_of
from tests.e2e.server import ServerProcess
from tests.fakes.connector import FakeConnector

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cwd = tmp_path_factory.mktemp("teams-over-http")
    url = f"sqlite:///{cwd / 'e2e.sqlite3'}"
    proc = ServerProcess(env={"SAMVERKAN_DATABASE_URL": url}, cwd=cwd)
    asyncio.run(proc.start())
    yield proc
    asyncio.run(proc.stop())

MENU = [
    "Ställ en fråga",
    "Jag är orolig för ett barn",
    "Vem ska jag kontakta?",
    "Återkoppling och sekretess",
    "Samverkansmöten",
    "Hjälp",
]


async def test_install_gives_welcome_card_with_main_menu(
    server: ServerProcess, connector: FakeConnector
) -> None:
    user = TeamsUser(server, connector, "a:personal-1", "user-1")
    replies = await user.install()
    cards = [card_of(a) for a in replies if card_of(a)]
    assert len(cards) == 1, "exactly one welcome, though Teams sends two install events"
    card = cards[0]
    assert card is not None
    assert card["type"] == "AdaptiveCard" and float(card["version"]) <= 1.5
    assert len(str(card).encode()) < 28 * 1024
    assert [b.title for b in user.buttons()] == MENU


async def test_help_and_menu_at_any_time(server: ServerProcess, connector: FakeConnector) -> None:
    user = TeamsUser(server, connector, "a:personal-2", "user-2")
    await user.say("hjälp")
    assert "meny" in user.transcript().lower()
    await user.press("Jag är orolig för ett barn")
    assert "akut fara" in user.transcript()
    await user.say("meny")
    titles = [b.title for b in user.buttons()]
    assert set(MENU) <= set(titles)
    assert titles[0] == "Fortsätt: Jag är orolig för ett barn"  # the dialog is not lost


async def test_channel_mention_is_answered_in_the_channel(
    server: ServerProcess, connector: FakeConnector
) -> None:
    user = TeamsUser(server, connector, "19:channel@thread.tacv2", "user-3", kind="channel")
    replies = await user.say("vad är BUS?")
    assert replies and all(r["conversation"]["id"] == "19:channel@thread.tacv2" for r in replies)
    assert "BUS" in user.transcript()


async def test_state_survives_a_server_restart(
    server: ServerProcess, connector: FakeConnector
) -> None:
    user = TeamsUser(server, connector, "a:personal-4", "user-4")
    await user.install()
    await user.press("Jag är orolig för ett barn")
    await user.press("Nej")  # not in acute danger
    question = user.transcript()
    await server.restart()
    await user.say("fortsätt")
    assert user.transcript().split("\n")[-1] != ""
    # The dialog continues where it was, not from the start.
    assert "akut fara" not in user.transcript()
    asked = [line for line in question.splitlines() if line.endswith("?")]
    assert asked and asked[-1] in user.transcript(), (question, user.transcript())


def _question(user: TeamsUser) -> str:
    """The question asked last: a bold text block that ends with a question mark."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            text = str(node.get("text", ""))
            if node.get("type") == "TextBlock" and node.get("weight") == "Bolder" and (
                text.endswith("?")
            ):
                found.append(text)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for act in user.last:
        walk(card_of(act))
    return found[-1] if found else ""


async def _answer_all(user: TeamsUser, answers: dict[str, str], default: str = "Nej") -> None:
    """Press buttons until the questions with choices end: the first answer whose key occurs in
    the current question is pressed, else `default`."""
    for _ in range(40):
        titles = [b.title for b in user.buttons()]
        if default not in titles and not any(a in titles for a in answers.values()):
            return
        question = _question(user)
        choice = next((a for k, a in answers.items() if k in question and a in titles), default)
        await user.press(choice)
    raise AssertionError("the dialog did not end")


async def _concern(user: TeamsUser, answers: dict[str, str]) -> str:
    await user.install()
    await user.press("Jag är orolig för ett barn")
    await _answer_all(user, answers)
    return user.transcript()


async def _finish_contacts(user: TeamsUser, *, home: str | None) -> str:
    if "Vilken skola" in user.transcript():
        await user.say("Engelbrektsskolan")
    if home is not None and "bor barnet" in user.transcript():
        await user.say(home)
    return user.transcript()


async def test_concern_to_emergency(server: ServerProcess, connector: FakeConnector) -> None:
    user = TeamsUser(server, connector, "a:c-emergency", "user-5")
    await user.install()
    await user.press("Jag är orolig för ett barn")
    await user.press("Ja")
    assert "Ring 112 nu." in user.transcript()
    await user.press("Fortsätt – visa alla kontakter")
    # Acute danger settles the assessment: no more questions, straight to who to call.
    assert "Vad gäller oron?" not in user.transcript()
    text = await _finish_contacts(user, home="Norrmalm")
    assert "ring 112 nu – och sedan socialtjänsten" in text.lower()
    assert "Kontakta inte vårdnadshavarna" in text
    assert "Ring sedan" in text
    titles = [b.title for b in user.buttons()]
    assert "Skriv orosanmälan" in titles and "Varför?" in titles


async def test_concern_to_report_with_contact_and_why(
    server: ServerProcess, connector: FakeConnector
) -> None:
    user = TeamsUser(server, connector, "a:c-report", "user-6")
    # not acute; neglect; nothing in the home; the child has not told; suspects
    await _concern(
        user, {"gäller oron": "Omsorgsbrist: mat, kläder, tillsyn", "säker": "Jag misstänker det"}
    )
    text = await _finish_contacts(user, home="Norrmalm")
    assert "gör en orosanmälan i dag" in text.lower()
    assert "Norrmalm" in text  # the report goes to the child's home district
    await user.press("Varför?")
    why = user.transcript()
    # Human names with the statute's public text, never a file name (issue 16).
    assert "Socialtjänstlagen 19 kap. 1 §" in why and "riksdagen.se" in why
    assert ".txt" not in why


async def test_concern_to_consult(server: ServerProcess, connector: FakeConnector) -> None:
    user = TeamsUser(server, connector, "a:c-consult", "user-7")
    # not acute; something else or don't know; nothing in the home; not told; a diffuse worry;
    # not reported before
    text = await _concern(
        user, {"gäller oron": "Något annat eller vet inte", "säker": "Osäker – en diffus oro"}
    )
    text = await _finish_contacts(user, home=None)
    assert "onsult" in text  # "Konsultera socialtjänsten …"
    assert "Skriv orosanmälan" not in [b.title for b in user.buttons()]


async def test_contact_lookup_end_to_end(server: ServerProcess, connector: FakeConnector) -> None:
    user = TeamsUser(server, connector, "a:contacts", "user-8")
    await user.install()
    await user.press("Vem ska jag kontakta?")
    await user.press("En konsultation – jag vill rådfråga")
    await user.say("engelbrekts skola")
    text = user.transcript()
    assert any("tel:" in str(card_of(a)) for a in user.last)
    assert "Lina Exempelsson" in text  # Engelbrektsskolan's kontaktsocialsekreterare
    assert "Exempel" in text or "exempel" in text


async def test_report_draft_leaves_nothing_in_the_database(
    connector: FakeConnector, tmp_path: Path
) -> None:
    """Guided orosanmälan over HTTP: the draft contains what was written; afterwards the
    database holds none of it, and the server's log (at DEBUG) never had it."""
    server = ServerProcess(
        env={
            "SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
            "SAMVERKAN_LOG_LEVEL": "DEBUG",
        },
        cwd=tmp_path,
    )
    await server.start()
    try:
        await _walk_report(server, connector, tmp_path)
    finally:
        await server.stop()


async def _walk_report(server: ServerProcess, connector: FakeConnector, tmp_path: Path) -> None:
    user = TeamsUser(server, connector, "a:draft", "user-9")
    secret = "Zyxwvut sa att pappa slog henne med en sko"
    await user.install()
    await user.say("vad ska stå i en orosanmälan?")
    await user.press("Skriv orosanmälan")
    draft = ""
    for _ in range(30):
        text = user.transcript()
        titles = [b.title for b in user.buttons()]
        if "ditt underlag till orosanmälan är klart" in text.lower():
            draft = text
            break
        if "Vilken skola" in text:
            await user.say("Engelbrektsskolan")
        elif "bor barnet" in text:
            await user.say("Norrmalm")
        elif "Vad har du sett och hört?" in text:
            await user.say(secret)
        elif "Har vårdnadshavarna fått veta" in text:
            await user.press(
                next(t for t in titles if t not in ("Ändra svar", "Avbryt", "Hoppa över"))
            )
        elif "Hoppa över" in titles:
            await user.press("Hoppa över")
        else:
            raise AssertionError(f"unexpected step:\n{text}")
    assert secret in draft, "the draft must contain what the user wrote"
    assert "Norrmalm" in draft  # the recipient: the intake of the child's home district
    db = sqlite3.connect(tmp_path / "e2e.sqlite3")
    try:
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    assert secret not in dump
    log = server.log()
    assert " DEBUG " in log, "the server ran at DEBUG level"
    assert "Zyxwvut" not in log


async def test_a_clear_violence_case_reaches_the_number_in_seven_interactions(
    server: ServerProcess, connector: FakeConnector
) -> None:
    """Over HTTP, as in Teams: from the menu to the outcome card with the number to call now,
    counting every press and every typed answer (issue 16: at most 7)."""
    user = TeamsUser(server, connector, "a:c-count", "user-count")
    await user.install()
    steps = 0

    async def press(title: str) -> None:
        nonlocal steps
        steps += 1
        await user.press(title)

    async def say(text: str) -> None:
        nonlocal steps
        steps += 1
        await user.say(text)

    await press("Jag är orolig för ett barn")
    await press("Nej")
    await press("Våld eller hot från vuxen i hemmet")
    await press("Ja")
    await say("Engelbrektsskolan")
    await say("Norrmalm")
    text = user.transcript()
    assert "RING SOCIALTJÄNSTEN I DAG – INNAN BARNET GÅR HEM" in text
    assert "08-000 206 06" in text or "08-000 100 00" in text  # intake, or socialjouren
    assert steps <= 7, steps
