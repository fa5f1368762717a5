"""docs/kommunprofil.md, followed as written: its files are written to a temporary folder, its
commands run (kb check, ask, registry import, forums import), and then the bot – unchanged –
answers with the new kommun's routine, names it in the welcome card and /healthz-style data."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.main import main
from common.clock import FixedClock
from dialogs.types import Incoming
from samverkan.services import build_services
from samverkan.settings import Settings
from tests.kommun.conftest import card_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "kommunprofil.md"
BLOCK = re.compile(r"```(\w+)([^\n]*)\n(.*?)```", re.S)


def blocks() -> list[tuple[str, str, str]]:
    return [(m[1], m[2].strip(), m[3]) for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))]


def test_the_doc_has_every_file_of_a_profile() -> None:
    titles = [re.sub(r'^title="(.*)"$', r"\1", info) for lang, info, _ in blocks() if info]
    assert {Path(t).name for t in titles} == {
        "kommun.yaml",
        "routines.yaml",
        "words.yaml",
        "forums.yaml",
        "registry.yaml",
    }


def test_a_profile_from_the_doc_is_used_without_a_code_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    for lang, info, body in blocks():
        if lang == "yaml" and info.startswith("title="):
            path = tmp_path / info.removeprefix('title="').removesuffix('"')
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
    commands = [
        line.strip()
        for lang, _, body in blocks()
        if lang == "bash"
        for line in body.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert commands[0].startswith("samverkan kb check")
    asked = False
    for command in commands:
        words = shlex.split(command)
        if words[0] == "export":
            for pair in words[1:]:
                name, _, value = pair.partition("=")
                monkeypatch.setenv(name, value)
            continue
        assert words[0] == "samverkan", command
        capsys.readouterr()
        assert main(words[1:]) == 0, (command, capsys.readouterr())
        out = capsys.readouterr().out
        if words[1] == "ask":
            data = json.loads(out)
            asked = True
            assert data["kommun"] == "nyby" and data["topic"] == "aterkoppling-lagkrav"
            local = [s for s in data["sources"] if s["kind"] == "local"]
            assert local and all(s["kommun"] == "nyby" for s in local)
            assert any("Rutin vid oro" in s["ref"] for s in local)
    assert asked
    asyncio.run(_the_bot_uses_it())


async def _the_bot_uses_it() -> None:
    settings = Settings()
    assert settings.kommun == "nyby"
    services = await build_services(
        settings, clock=FixedClock(datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
    )
    try:
        turns = services.turns()
        welcome = await turns.welcome(Incoming(user_id="u1", conversation_id="c1"))
        assert "Nyby kommun" in card_text(welcome[0].card)
        replies = await turns.message(
            Incoming(
                user_id="u1",
                conversation_id="c1",
                text="Har jag rätt till återkoppling på min anmälan?",
            )
        )
        text = card_text(replies[-1].card)
        assert "I Nyby:" in text and "Mottagningen ringer den personen" in text
        assert "Nyby kommun: Rutin vid oro för ett barn i förskola och skola" in text
        assert "Östermalm" not in text
        replies = await turns.message(
            Incoming(user_id="u1", conversation_id="c1", text="Vad är Nybysamrådet?")
        )
        text = card_text(replies[-1].card)
        assert "Samråd skola och socialtjänst i Nyby" in text
        # a word with an explanation is a glossary term of this kommun's bot
        replies = await turns.message(
            Incoming(user_id="u1", conversation_id="c1", text="Vad betyder Barnslussen?")
        )
        text = card_text(replies[-1].card)
        assert "Nyby kommuns mottagning för barn och unga" in text
        data = await services.registry.data()
        assert [d.id for d in data.districts] == ["nyby"]
        assert [f.id for f in await services.forums.forums()] == ["nyby-samrad"]
    finally:
        await services.close()
