"""`samverkan ask` (shared/spec/contracts.md) and `samverkan kb check`, through the CLI."""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cli.commands import knowledge as commands
from cli.main import main
from common.clock import FixedClock
from knowledge.loader import load
from knowledge.search import Constants, Hit, SearchResult

from .conftest import KB_SEARCH


@pytest.fixture(autouse=True)
def small_kb_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMVERKAN_KB_DIR", str(KB_SEARCH))
    # The test knowledge base has topics only; the rule and flow checks are tested with the
    # shipped knowledge base below (and in their own modules).
    monkeypatch.setattr(commands, "CHECKS", ())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_json_is_one_contract_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ask", "--json", "Kan jag vara anonym när jag anmäler?")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == {
        "question", "topic", "score", "alternatives", "concern", "acute", "kommun", "sources"
    }
    assert data["concern"] is False and data["acute"] is False
    # This knowledge base (tests/knowledge/kb-search) has no kommun profiles.
    assert data["kommun"] is None
    kinds = {s["kind"] for s in data["sources"]}
    assert kinds and kinds <= {"law", "guidance", "local"}
    assert data["question"] == "Kan jag vara anonym när jag anmäler?"
    assert data["topic"] == "anmalan-anonym"
    assert 0 < data["score"] <= 1
    assert all(set(a) == {"topic", "score"} for a in data["alternatives"])
    assert all(a["score"] <= data["score"] for a in data["alternatives"])


def test_ask_json_out_of_field_has_null_topic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", "--json", "Vad blir det för lunch i morgon?")
    assert code == 0
    data = json.loads(out)
    assert data["topic"] is None and data["alternatives"] == []


def test_ask_batch_one_object_per_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = tmp_path / "q.txt"
    questions.write_text(
        "\ufeffMåste jag anmäla om jag misstänker att ett barn far illa?\n"
        "\n"
        "can I report anonymously\n"
        "Skriv en dikt om hösten\n"
        "anmälan\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "ask", "--batch", str(questions))
    assert code == 0 and err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in rows] == [
        "Måste jag anmäla om jag misstänker att ett barn far illa?",
        "can I report anonymously",
        "Skriv en dikt om hösten",
        "anmälan",
    ]
    assert [r["topic"] for r in rows][:3] == ["anmalningsplikt", "anmalan-anonym", None]
    # One vague word: the closest topics come with it (a suggestion, or a tentative answer).
    assert len(rows[3]["alternatives"]) >= 2
    assert rows[3]["topic"] is None or rows[3]["score"] < Constants.load().sure_at


def test_ask_plain_text_has_answer_sources_and_date(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(
        question="Måste jag anmäla om jag misstänker att ett barn far illa?",
        batch=None,
        json=False,
        dir=None,
    )
    out = io.StringIO()
    clock = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    assert commands.ask(args, clock=clock, out=out) == 0
    text = out.getvalue()
    assert text.startswith("Anmälningsskyldighet – vem och när")
    assert "skyldiga att genast anmäla" in text
    # Only the provision in force that day is "gäller enligt"; the repealed one is listed as old.
    # Sources by human names with the statute's public text, never a file name.
    assert "Gäller enligt Socialtjänstlagen 19 kap. 1 § (kontrollerat 2026-02-01)." in text
    assert "Socialtjänstlagen (2001:453) 14 kap. 1 § (gällde t.o.m. 2025-07-01)" in text
    assert "https://rkrattsbaser.gov.se/sfst?bet=2025:400" in text
    assert "Lekebergs samverkansplan 2020" in text
    assert re.search(r"_[0-9a-f]{16}\.txt", text) is None
    assert "Läs också: Hur gör jag en orosanmälan?" in text


def test_ask_plain_text_without_law_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", "Finns det en blankett för orosanmälan?")
    assert code == 0
    assert "Gäller enligt rutiner och vägledning i källorna nedan (kontrollerat 2026-02-01)." in out


def test_ask_plain_text_suggest_and_decline(capsys: pytest.CaptureFixture[str]) -> None:
    kb = load()
    offered = [Hit("anmalan-hur", 0.24), Hit("anmalningsplikt", 0.15)]
    out = commands.render_answer(
        SearchResult("anmälan", "suggest", None, 0.24, offered), kb, date(2026, 12, 7)
    )
    assert out.startswith("Jag är inte säker på vad du menar. Menade du något av detta?")
    assert "  1. " in out and "  2. " in out
    _, out, _ = run(capsys, "ask", "Skriv en dikt om hösten")
    assert "Det kan jag inte svara säkert på" in out
    assert "konsultera socialtjänsten" in out and "ring 112" in out


def test_ask_in_english_says_the_answer_is_in_swedish(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "ask", "can I report anonymously")
    assert out.startswith("Svaret är på svenska")
    _, out, _ = run(capsys, "ask", "Kan jag anmäla anonymt?")
    assert "Svaret är på svenska" not in out


def test_ask_uses_the_day_from_the_clock() -> None:
    args = argparse.Namespace(
        question="Vad är samverkansprojektet med elevhälsan?", batch=None, json=True, dir=None
    )
    found = {}
    for year in (2026, 2030):
        out = io.StringIO()
        clock = FixedClock(datetime(year, 6, 1, 12, 0, tzinfo=UTC))
        assert commands.ask(args, clock=clock, out=out) == 0
        found[year] = json.loads(out.getvalue())["topic"]
    assert found[2026] != "pilotprojekt-2030"  # not valid yet in 2026
    assert found[2030] == "pilotprojekt-2030"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask"], "Skriv en fråga"),
        (["ask", "   "], "Skriv en fråga"),
        (["ask", "fråga", "--batch", "x.txt"], "inte båda"),
        (["ask", "--batch", "/finns/inte.txt"], "finns inte"),
    ],
)
def test_ask_bad_input_gets_a_swedish_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_ask_batch_that_is_not_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "q.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    code, out, err = run(capsys, "ask", "--batch", str(binary))
    assert code == 2 and out == "" and "UTF-8" in err


def test_ask_with_a_broken_knowledge_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "kb"
    shutil.copytree(KB_SEARCH, broken)
    (broken / "meta.yaml").write_text("version: 1\n", encoding="utf-8")
    monkeypatch.setenv("SAMVERKAN_KB_DIR", str(broken))
    code, out, err = run(capsys, "ask", "--json", "Kan jag vara anonym?")
    assert code == 1 and out == ""
    assert "samverkan kb check" in err


def test_kb_check_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "kb", "check", "--dir", str(KB_SEARCH))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "Kunskapsbasen är giltig: 13 ämnen (14 versioner), 4 ord i ordlistan"
    )


def test_kb_check_uses_the_configured_directory(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "kb", "check")
    assert code == 0 and "13 ämnen" in out


def test_kb_check_missing_directory(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "kb", "check", "--dir", "/finns/inte")
    assert code == 2 and out == "" and "finns inte" in err


def test_kb_check_lists_several_problems_numbered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "kb"
    shutil.copytree(KB_SEARCH, broken)
    text = (broken / "topics" / "anmalan.yaml").read_text(encoding="utf-8")
    text = text.replace('      - seed: "003"', '      - seed: "042"')
    text = text.replace("related: [anmalningsplikt]", "related: [finns-inte]")
    (broken / "topics" / "anmalan.yaml").write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "kb", "check", "--dir", str(broken))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"Kunskapsbasen i {broken} har 2 problem:"
    assert lines[1] == "1. topics/anmalan.yaml [anmalningsplikt]: okänt seed-dokument '042'"
    assert lines[2] == (
        "2. topics/anmalan.yaml [anmalan-hur]: relaterat ämne 'finns-inte' finns inte"
    )


def test_kb_check_runs_every_check(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.loader import Problem

    calls: list[tuple[str, Path]] = []

    def check(name: str, found: list[Problem]):  # type: ignore[no-untyped-def]
        def validate(directory: Path) -> list[Problem]:
            calls.append((name, directory))
            return found

        return validate

    checks = (
        ("rules", check("rules", [Problem("rules/assessment.yaml", "regeln 'r1' nås aldrig")])),
        ("flows", check("flows", [])),
        ("situations", check("situations", [])),
    )
    monkeypatch.setattr(commands, "CHECKS", checks)
    code, out, _ = run(capsys, "kb", "check", "--dir", str(KB_SEARCH))
    assert code == 1
    assert calls == [("rules", KB_SEARCH), ("flows", KB_SEARCH), ("situations", KB_SEARCH)]
    assert out.splitlines()[1] == "1. rules/assessment.yaml: regeln 'r1' nås aldrig"


def test_kb_check_reports_a_crashing_check(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def validate(directory: Path) -> list[object]:
        raise ValueError("trasig regelfil")

    monkeypatch.setattr(commands, "CHECKS", (("rules", validate),))
    code, out, err = run(capsys, "kb", "check", "--dir", str(KB_SEARCH))
    assert code == 1 and "Traceback" not in err
    assert "kontrollen av reglerna avbröts: trasig regelfil" in out


def test_the_shipped_knowledge_base_is_valid(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAMVERKAN_KB_DIR")
    monkeypatch.undo()  # every check, on the shipped knowledge base
    code, out, _ = run(capsys, "kb", "check")
    assert code == 0, out
    assert out.startswith("Kunskapsbasen är giltig")


def test_ask_batch_survives_a_question_that_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Should the search ever fail on one question, that line has topic null and is marked with
    # "error" (an evaluation must not count a crash as a declined question); the rest of the
    # batch is still answered; stderr names the line, not its text.
    from knowledge.search import SearchIndex

    real = SearchIndex.search

    def failing(self: SearchIndex, question: str, **kw: object) -> object:
        if "trasig" in question:
            raise RecursionError("maximum recursion depth exceeded")
        return real(self, question, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(SearchIndex, "search", failing)
    questions = tmp_path / "q.txt"
    questions.write_text(
        "en trasig fråga\nKan jag vara anonym när jag anmäler?\n", encoding="utf-8"
    )
    code, out, err = run(capsys, "ask", "--batch", str(questions))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert rows[0] == {
        "question": "en trasig fråga",
        "topic": None,
        "score": 0.0,
        "alternatives": [],
        "concern": False,
        "acute": False,
        "kommun": None,
        "sources": [],
        "error": "RecursionError",
    }
    assert rows[1]["topic"] == "anmalan-anonym"
    assert "error" not in rows[1]
    assert "Fråga 1" in err and "RecursionError" in err and "trasig" not in err


def test_an_evaluation_counts_a_failed_line_as_an_error_not_a_decline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # benchmarks/questions.py --answers scores `ask --batch` output as an evaluation does: an
    # out-of-field question that crashed must not count as correctly declined.
    from benchmarks.questions import Case, read_answers, score
    from knowledge.search import SearchIndex

    real = SearchIndex.search

    def failing(self: SearchIndex, question: str, **kw: object) -> object:
        if "grupprum" in question:
            raise RecursionError("maximum recursion depth exceeded")
        return real(self, question, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(SearchIndex, "search", failing)
    cases = [
        Case("Hur bokar jag ett grupprum?", None, []),
        Case("Vad blir det för lunch i dag?", None, []),
        Case("Kan jag vara anonym när jag anmäler?", "anmalan-anonym", []),
    ]
    questions = tmp_path / "q.txt"
    questions.write_text("".join(c.q + "\n" for c in cases), encoding="utf-8")
    code, out, _err = run(capsys, "ask", "--batch", str(questions))
    assert code == 0
    answers = tmp_path / "a.jsonl"
    answers.write_text(out, encoding="utf-8")
    stats, misses = score(cases, read_answers(answers, cases), [])
    assert stats["errors"] == 1
    assert stats["out_declined"] == 0.5  # the crash is not a decline
    assert stats["top1"] == 1.0
    assert misses == ["  ERROR 'Hur bokar jag ett grupprum?': want null, got RecursionError"]
