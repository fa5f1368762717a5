"""`samverkan db upgrade`, and what every command answers to a lost database file or settings
that do not validate (a Swedish message and exit 2, never a traceback)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cli.main import main


@pytest.fixture
def db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "bot.sqlite3"
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{path}")
    return path


def test_upgrade_creates_the_schema_and_is_idempotent(
    db_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert "senaste schemat" in out and "0006_forums_kommun" in out
    with sqlite3.connect(db_file) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"alembic_version", "bot_state", "forums"} <= tables
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == out


@pytest.mark.parametrize(
    "argv",
    [
        ["db", "upgrade"],
        ["registry", "export"],
        ["forums", "upcoming", "--from", "2026-12-01", "--to", "2026-12-31"],
    ],
)
def test_a_lost_database_file_is_refused_by_every_command(
    db_file: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    db_file.unlink()
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "saknas, men den har funnits" in err and "Traceback" not in err
    assert not db_file.exists()  # nothing started afresh


def test_settings_that_do_not_validate_are_named(
    db_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAMVERKAN_SEND_RATE", "many")
    assert main(["registry", "export"]) == 2
    err = capsys.readouterr().err
    assert "ogiltiga" in err and "SAMVERKAN_SEND_RATE='many'" in err


def test_an_unusable_database_is_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    assert main(["db", "upgrade"]) == 1
    assert "kunde inte uppgraderas" in capsys.readouterr().err
