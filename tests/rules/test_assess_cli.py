"""`samverkan assess` (shared/spec/contracts.md): --facts, --batch, --date, errors, exit codes."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import knowledge.rules as rules_module
from cli.commands.assess import run
from cli.main import main
from common.clock import FixedClock
from knowledge.rules import load_rules


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(["assess", *argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_facts_gives_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(
        ["--facts", '{"neglect": true, "certainty": "suspect"}', "--date", "2026-03-01"], capsys
    )
    assert (code, err) == (0, "")
    assert len(out) == 1
    result = json.loads(out[0])
    assert list(result) == ["outcome", "inform_guardians", "by_phone_today", "reasons"]
    assert (result["outcome"], result["inform_guardians"]) == ("report", "usually")
    assert result["reasons"][0]["rule"] == "anmalningsplikt"
    assert "SoL (2025:400) 19 kap. 1 § p. 4" in result["reasons"][0]["sources"]
    assert "å" in out[0] or "ä" in out[0]  # UTF-8, not \\u escapes


def test_date_selects_the_rules_of_that_day(capsys: pytest.CaptureFixture[str]) -> None:
    facts = '{"neglect": true, "certainty": "suspect"}'
    _, before, _ = cli(["--facts", facts, "--date", "2025-06-30"], capsys)
    _, after, _ = cli(["--facts", facts, "--date", "2025-07-01"], capsys)
    assert "SoL (2001:453) 14 kap. 1 § 1 st." in json.loads(before[0])["reasons"][0]["sources"]
    assert "SoL (2025:400) 19 kap. 1 §" in json.loads(after[0])["reasons"][0]["sources"]


def test_default_date_is_today_in_stockholm() -> None:
    # 22:30 UTC on 30 June 2025 is already 1 July in Stockholm: the new SoL applies.
    clock = FixedClock(datetime(2025, 6, 30, 22, 30, tzinfo=UTC))
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(batch=None, facts='{"neglect": true, "certainty": "know"}', date=None)
    assert run(args, clock=clock, rules=load_rules(), stdout=out, stderr=err) == 0
    sources = json.loads(out.getvalue())["reasons"][0]["sources"]
    assert "SoL (2025:400) 19 kap. 1 §" in sources

    clock.set(datetime(2025, 6, 30, 21, 30, tzinfo=UTC))  # 23:30 in Stockholm, still June
    out = io.StringIO()
    assert run(args, clock=clock, rules=load_rules(), stdout=out, stderr=err) == 0
    assert "SoL (2001:453) 14 kap. 1 § 1 st." in json.loads(out.getvalue())["reasons"][0]["sources"]


def test_batch_keeps_going_and_names_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text(
        '{"acute_danger": true}\n'
        "\n"
        '{"neglect": "ja"}\n'
        "inte json\n"
        '{"certainty": "unsure"}\n'
        '["neglect"]\n'
        '{"personnummer": "20150101-1234"}\n'
        '{"honor_context": true, "child_disclosed": true}\n',
        encoding="utf-8",
    )
    code, out, err = cli(["--batch", str(path), "--date", "2026-11-22"], capsys)
    assert code == 1
    results = [json.loads(line) for line in out]
    assert len(results) == 7  # one per non-blank line, in order
    assert results[0]["outcome"] == "emergency"
    assert results[1] == {"line": 3, "error": results[1]["error"]}
    assert "'neglect' ska vara true eller false" in results[1]["error"]
    assert results[2]["line"] == 4 and "ogiltig JSON" in results[2]["error"]
    assert results[3]["outcome"] == "consult"
    assert results[4]["line"] == 6 and "JSON-objekt" in results[4]["error"]
    assert results[5]["line"] == 7 and "okänt faktum 'personnummer'" in results[5]["error"]
    assert (results[6]["outcome"], results[6]["inform_guardians"]) == ("report", "consult_first")
    lines = err.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == ["rad 3", "rad 4", "rad 6", "rad 7"]
    assert "4 rad(er) kunde inte bedömas" in lines[-1]
    assert "20150101-1234" not in err + "".join(out)


def test_batch_all_good_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"certainty": "know"}\r\n{}\r\n')  # BOM and CRLF
    code, out, err = cli(["--batch", str(path), "--date", "2026-11-22"], capsys)
    assert (code, err) == (0, "")
    assert [json.loads(line)["outcome"] for line in out] == ["report", "consult"]


def test_batch_from_stdin() -> None:
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(batch="-", facts=None, date="2026-11-22")
    stdin = io.StringIO('{"school_absence": true, "certainty": "suspect"}\n')
    assert run(args, stdin=stdin, stdout=out, stderr=err) == 0
    assert json.loads(out.getvalue())["outcome"] == "report"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        ([], 2, "ange antingen --batch FIL eller --facts JSON"),
        (["--facts", "{}", "--batch", "x"], 2, "ange antingen --batch FIL eller --facts JSON"),
        (["--facts", "{}", "--date", "1/3/2026"], 2, "ogiltigt datum '1/3/2026'"),
        (["--facts", "{}", "--date", "2019-12-31"], 1, "gäller från 2020-01-01"),
        (["--facts", '{"x": 1}', "--date", "2026-03-01"], 1, "okänt faktum 'x'"),
        (["--facts", "{", "--date", "2026-03-01"], 1, "ogiltig JSON"),
        (["--batch", "/nonexistent/facts.jsonl"], 1, "finns inte"),
    ],
)
def test_errors_are_clear_and_swedish(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    got, out, err = cli(argv, capsys)
    assert got == code
    assert out == []
    assert message in err
    assert "Traceback" not in err


def test_file_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"neglect": true}\n{"x": "å"}\n'.encode("latin-1"))
    code, _, err = cli(["--batch", str(path), "--date", "2026-03-01"], capsys)
    assert code == 1 and "inte UTF-8" in err


def test_a_date_before_the_rules_writes_nothing_even_in_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text('{"acute_danger": true}\n', encoding="utf-8")
    code, out, err = cli(["--batch", str(path), "--date", "2015-01-01"], capsys)
    assert (code, out) == (1, [])
    assert "Konsultera socialtjänsten" in err


def test_a_broken_rule_base_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # An empty knowledge directory instead of the bundled one: no rules file at all.
    monkeypatch.setattr(rules_module, "DEFAULT_DIR", tmp_path)
    code, out, err = cli(["--facts", "{}", "--date", "2026-03-01"], capsys)
    assert (code, out) == (1, [])
    assert "regelfilen är felaktig" in err and "rules/assessment.yaml: filen saknas" in err
