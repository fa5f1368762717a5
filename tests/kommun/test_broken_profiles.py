"""Broken profiles (tests/kommun/fixtures/broken/<code>/, one fault each) give named errors in
`samverkan kb check`, and neither the server nor the services start with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.commands import knowledge as commands
from cli.main import main
from knowledge.kommun_model import KommunError
from knowledge.loader import KnowledgeBase
from samverkan.kommun_check import check_all, load_checked

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BROKEN = sorted(p.name for p in (FIXTURES / "broken").iterdir() if p.is_dir())


@pytest.fixture(autouse=True)
def _only_the_kommun_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """`kb check` here checks the knowledge base and the profiles, not again the national
    rules, flows, situations and labelled questions (each 0.1–0.3 s a run; their own tests and
    the installed-wheel test run them)."""
    monkeypatch.setattr(commands, "CHECKS", ())


def test_there_is_a_fixture_per_error_kind() -> None:
    assert {
        "unknown-topic",
        "bad-date",
        "unknown-forum-kind",
        "broken-source",
        "missing-field",
        "unknown-forum",
        "bad-forums",
        "bad-registry",
        "bad-yaml",
        "id-mismatch",
        "unknown-key",
        "shared-id",
    } <= set(BROKEN)


def test_the_valid_fixture_passes(
    national: KnowledgeBase, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_all(national, FIXTURES / "valid") == []
    assert main(["kb", "check", "--kommun-dir", str(FIXTURES / "valid")]) == 0
    assert "nyby" in capsys.readouterr().out


@pytest.mark.parametrize("code", BROKEN)
def test_kb_check_names_the_error(
    code: str, national: KnowledgeBase, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = FIXTURES / "broken" / code
    problems = check_all(national, folder)
    assert [p.code for p in problems] == [code], problems
    assert problems[0].file.startswith("nyby/")
    assert main(["kb", "check", "--kommun-dir", str(folder)]) == 1
    out = capsys.readouterr().out
    assert f"({code})" in out and "nyby/" in out


@pytest.mark.parametrize("code", ["unknown-topic", "bad-forums", "missing-field"])
def test_the_services_refuse_a_broken_profile(code: str, national: KnowledgeBase) -> None:
    with pytest.raises(KommunError) as exc:
        load_checked(national, extra_dir=FIXTURES / "broken" / code, default="nyby", tenants={})
    assert code in str(exc.value)


@pytest.fixture
def own_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` gets a database of its own (never a file in the working directory)."""
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")


@pytest.mark.parametrize("code", ["unknown-topic", "bad-date"])
@pytest.mark.usefixtures("own_database")
def test_serve_refuses_to_start_with_a_broken_profile(
    code: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAMVERKAN_KOMMUN_DIR", str(FIXTURES / "broken" / code))
    monkeypatch.setenv("SAMVERKAN_KOMMUN", "nyby")
    monkeypatch.setenv("SAMVERKAN_PORT", "1")  # never reached: it must stop before listening
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "Boten startar inte" in err and f"({code})" in err


@pytest.mark.usefixtures("own_database")
def test_an_unknown_kommun_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAMVERKAN_KOMMUN", "atlantis")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "atlantis" in err and "(unknown-kommun)" in err
    monkeypatch.setenv("SAMVERKAN_TENANT_KOMMUNER", '{"tenant-1": "narnia"}')
    monkeypatch.setenv("SAMVERKAN_KOMMUN", "ekero")
    assert main(["serve"]) == 2
    assert "narnia" in capsys.readouterr().err
