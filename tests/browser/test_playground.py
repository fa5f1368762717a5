"""The bot in the Microsoft 365 Agents Playground, driven by Playwright in Debian's Chromium.

Needs Node, Chromium and `npm ci` in tests/browser (scripts/browser-deps.sh does all of it).
Skipped when they are missing, unless SAMVERKAN_REQUIRE_BROWSER=1 (the test script sets it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess, free_port

HERE = Path(__file__).resolve().parent
PROFILES = HERE.parents[1] / ".tmp" / "chromium"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node"
    if not Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists():
        return "chromium"
    if not (HERE / "node_modules" / "@microsoft" / "m365agentsplayground").is_dir():
        return "npm packages (run scripts/browser-deps.sh)"
    return None


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    missing = _missing()
    if missing:
        if os.environ.get("SAMVERKAN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser test prerequisites missing: {missing}")
        pytest.skip(f"browser test prerequisites missing: {missing}")
    server = ServerProcess(
        env={"SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}, cwd=tmp_path
    )
    await server.start()
    yield server
    await server.stop()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _playground_port() -> int:
    """The same port for each test process, run after run, so that Chromium's caches in its
    profile (keyed by the page's address) serve the Playground again; any free port when that
    one is taken (another run, another program)."""
    number = int("".join(c for c in _worker() if c.isdigit()) or 0)
    port = 39400 + number % 100
    with socket.socket() as s:
        # As Node listens: connections of the last test still closing do not make it taken.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return free_port()
    return port


async def _run_in_playground(
    bot: ServerProcess, tmp_path: Path, script: str, expected: set[str], *extra: str
) -> None:
    """Start the Agents Playground against the bot and run one Playwright script in it."""
    port = _playground_port()
    playground = subprocess.Popen(
        [
            str(HERE / "node_modules" / ".bin" / "agentsplayground"),
            "-e",
            f"{bot.url}/api/messages",
            "-c",
            "msteams",
            "-p",
            str(port),
            "--dt",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert playground.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(playground.stdout.readline), 60)
        while "Listening on" not in line:
            if not line:
                pytest.fail("the Agents Playground exited")
            line = await asyncio.wait_for(asyncio.to_thread(playground.stdout.readline), 60)
        shots = tmp_path / "screenshots"
        shots.mkdir()
        proc = await asyncio.to_thread(
            subprocess.run,
            ["node", str(HERE / script), f"http://127.0.0.1:{port}/", str(shots), *extra],
            capture_output=True,
            text=True,
            timeout=240,
            # Chromium's profile for this test process, with its caches (playground-common.js).
            env={**os.environ, "PLAYGROUND_PROFILE": str(PROFILES / _worker())},
        )
        keep = os.environ.get("SAMVERKAN_SCREENSHOTS")  # a folder to keep them in, to look at
        if keep:
            await asyncio.to_thread(shutil.copytree, shots, keep, dirs_exist_ok=True)
        assert proc.returncode == 0, (
            f"{proc.stdout}\n{proc.stderr}\nserver log:\n{bot.log()[-3000:]}"
        )
        assert {p.name for p in shots.iterdir()} >= expected
    finally:
        playground.terminate()
        try:
            playground.wait(10)
        except subprocess.TimeoutExpired:
            playground.kill()


async def test_playground_shows_cards_and_walks_a_dialog(
    bot: ServerProcess, tmp_path: Path
) -> None:
    await _run_in_playground(
        bot,
        tmp_path,
        "playground-test.js",
        {"1-welcome.png", "2-answer.png", "3-concern.png", "4-emergency.png"},
    )


async def test_playground_safe_paths_of_issue_12(bot: ServerProcess, tmp_path: Path) -> None:
    """Violence outside the home, "vet inte" on acute danger with a beating at home, harm the
    search cannot place, and natural words: each ends in a safe, clear card."""
    await _run_in_playground(
        bot,
        tmp_path,
        "playground-safety.js",
        {
            "12-1b-outside-home-report.png",
            "12-4-phone-today.png",
            "12-5a-fgm.png",
            "12-5b-english.png",
            "12-6a-disclosure.png",
            "12-6b-worry-starts-dialog.png",
        },
    )


# Issue 17: each example kommun as a new user meets it (welcome card, an answer with the local
# routine, the contact card and the forum list). The kommun's forums are imported first.
KOMMUNER = {
    "stockholm": {
        "name": "Stockholms stad",
        "short": "Stockholm",
        "school": "Engelbrektsskolan",
        "contact": "Lina Exempelsson",
        "forum": "Skolbaserad konsultationsgrupp Engelbrektsskolan",
    },
    "ekero": {
        "name": "Ekerö kommun",
        "short": "Ekerö",
        "school": "Uppgårdsskolan",
        "contact": "Sara Exempelsdotter",
        "forum": "Månadsmöte socialtjänst barn och ungdom och polisen",
    },
    "lekeberg": {
        "name": "Lekebergs kommun",
        "short": "Lekeberg",
        "school": "Lekebergsskolan",
        "contact": "Jonas Prov",
        "forum": "Styrgruppen för samverkan kring barns bästa",
    },
}


@pytest.mark.parametrize("kommun", sorted(KOMMUNER))
async def test_playground_each_example_kommun(kommun: str, tmp_path: Path) -> None:
    import json

    from common.clock import SystemClock
    from forums.repository import ForumService
    from knowledge.kommun import BUILTIN_DIR
    from storage.db import Database

    missing = _missing()
    if missing:
        if os.environ.get("SAMVERKAN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser test prerequisites missing: {missing}")
        pytest.skip(f"browser test prerequisites missing: {missing}")
    db = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    # The kommun's forums, imported as `samverkan forums import` does (tested in tests/forums):
    # in this process, not a CLI process of its own (~1 s of start-up).
    database = Database(db)
    try:
        await database.migrate()
        forums = ForumService(database, SystemClock(), kommun)
        assert (await forums.import_file(BUILTIN_DIR / kommun / "forums.yaml")).total
    finally:
        await database.dispose()
    server = ServerProcess(
        env={"SAMVERKAN_DATABASE_URL": db, "SAMVERKAN_KOMMUN": kommun}, cwd=tmp_path
    )
    await server.start()
    try:
        names = {
            f"{kommun}-{n}.png"
            for n in ("1-welcome", "2-answer-local-routine", "3-contact", "4-forums")
        }
        await _run_in_playground(
            server,
            tmp_path,
            "playground-kommun.js",
            names,
            json.dumps({"id": kommun, **KOMMUNER[kommun]}),
        )
        keep = os.environ.get("SAMVERKAN_KEEP_SCREENSHOTS")  # to look at them afterwards
        if keep:
            await asyncio.to_thread(_keep, tmp_path / "screenshots", Path(keep))
    finally:
        await server.stop()


def _keep(shots: Path, keep: Path) -> None:
    keep.mkdir(parents=True, exist_ok=True)
    for shot in shots.iterdir():
        shutil.copy(shot, keep / shot.name)


async def test_playground_at_phone_width(bot: ServerProcess, tmp_path: Path) -> None:
    """Issue 16: the welcome, an answer, the concern outcome, the draft and the contact card at
    400 px: no sideways scrolling and no card taller than 1,400 px before "Visa mer"."""
    await _run_in_playground(
        bot,
        tmp_path,
        "playground-phone.js",
        {
            "16-1-welcome.png",
            "16-2-answer.png",
            "16-2b-answer-more.png",
            "16-3-concern-outcome.png",
            "16-4-draft.png",
            "16-4a-draft-card.png",
            "16-5-contact.png",
            "16-5b-contact-more.png",
        },
    )
