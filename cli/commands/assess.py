"""`samverkan assess`: the concern assessment from facts given as JSON (shared/spec/contracts.md).

    samverkan assess --facts '{"neglect": true, "certainty": "suspect"}'
    samverkan assess --batch vignettes.jsonl [--date 2026-03-01]

Output: one JSON object per assessment on stdout, UTF-8, nothing else:
{"outcome": ..., "inform_guardians": ..., "by_phone_today": true|false,
 "reasons": [{"rule", "text", "sources"}]}.

Decisions (documented for administrators and scripts):
- `--date` picks the rules valid that day; default: today in Europe/Stockholm. A day before the
  rule base covers is an error (exit 1, nothing on stdout): there is no assessment for it.
- `--batch FILE` (`-` reads stdin): one JSON object of facts per line. Blank lines are skipped.
  A bad line (not JSON, not an object, unknown fact, wrong value) does not stop the run: its
  error goes to stderr naming the line ("rad 3: ..."), and stdout gets
  `{"line": 3, "error": "..."}` in its place so that output line N still answers input line N.
  The other lines are assessed as usual; the exit code is 1 if any line was bad, else 0.
- `--facts JSON`: one assessment; a bad object is an error on stderr and exit code 1.
- `--kommun ID` (default SAMVERKAN_KOMMUN, else the example profile): the reasons cite that
  kommun's own documents ("003" only for lekeberg) and never another kommun's; law and national
  guidance always. An unknown kommun exits 2.
- Misuse (neither or both of --batch/--facts, a malformed --date) exits 2; an unreadable file or
  a broken rule base exits 1. Facts are never echoed in messages or logs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from cli import texts
from common.clock import Clock, SystemClock, local
from knowledge.kommun import choose_kommun
from knowledge.kommun_model import KommunError
from knowledge.loader import KnowledgeError
from knowledge.rules import DateOutOfRangeError, FactsError, RuleSet, load_rules


def _utf8(stream: TextIO) -> TextIO:
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(encoding="utf-8")
    return stream


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _parse_day(text: str | None, clock: Clock) -> date:
    if text is None:
        return local(clock.now()).date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(texts().text("assess.bad_date", text=text)) from None


def _parse_facts(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FactsError([texts().text("assess.bad_json", position=exc.pos + 1)]) from None


def _assess_text(ruleset: RuleSet, text: str, day: date) -> dict[str, Any]:
    facts = ruleset.check_facts(_parse_facts(text))  # FactsError unless a valid object
    return ruleset.assess(facts, day=day).to_json()


def _kommun(option: str | None) -> str | None:
    from samverkan.settings import Settings

    settings = Settings()
    return choose_kommun(option, settings.kommun, extra_dir=settings.kommun_dir)


def _lines(path: str, stdin: TextIO) -> Iterable[tuple[int, str]]:
    if path == "-":
        yield from enumerate(stdin, start=1)
        return
    with Path(path).open(encoding="utf-8-sig") as fh:
        yield from enumerate(fh, start=1)


def run(
    args: argparse.Namespace,
    *,
    clock: Clock | None = None,
    rules: RuleSet | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out = stdout if stdout is not None else _utf8(sys.stdout)
    err = stderr if stderr is not None else _utf8(sys.stderr)
    inp = stdin if stdin is not None else sys.stdin

    batch: str | None = getattr(args, "batch", None)
    facts: str | None = getattr(args, "facts", None)
    if (batch is None) == (facts is None):
        err.write(texts().text("assess.usage") + "\n")
        return 2
    try:
        day = _parse_day(getattr(args, "date", None), clock or SystemClock())
    except ValueError as exc:
        err.write(texts().text("assess.error", problem=exc) + "\n")
        return 2

    try:
        kommun = _kommun(getattr(args, "kommun", None))
    except KommunError as exc:
        err.write(texts().text("kommuner.broken", problems=exc) + "\n")
        return 2
    if rules is None:
        try:
            rules = load_rules()
        except KnowledgeError as exc:
            err.write(texts().text("assess.bad_rules") + "\n")
            for p in exc.problems:
                err.write(f"  - {p}\n")
            return 1
    rules = rules.for_kommun(kommun)  # never another kommun's documents
    if day < rules.covers_from:
        problem = DateOutOfRangeError(day, rules.covers_from)
        err.write(texts().text("assess.error", problem=problem) + "\n")
        return 1

    if facts is not None:
        try:
            result = _assess_text(rules, facts, day)
        except FactsError as exc:
            err.write(texts().text("assess.error", problem=exc) + "\n")
            return 1
        out.write(_dump(result) + "\n")
        return 0

    assert batch is not None
    bad = 0
    try:
        for number, line in _lines(batch, inp):
            if not line.strip():
                continue
            try:
                result = _assess_text(rules, line, day)
            except FactsError as exc:
                bad += 1
                err.write(texts().text("assess.line", line=number, problem=exc) + "\n")
                out.write(_dump({"line": number, "error": str(exc)}) + "\n")
                continue
            out.write(_dump(result) + "\n")
    except FileNotFoundError:
        err.write(texts().text("assess.no_file", file=batch) + "\n")
        return 1
    except UnicodeDecodeError:
        err.write(texts().text("assess.not_utf8", file=batch) + "\n")
        return 1
    except OSError as exc:
        err.write(texts().text("assess.unreadable", file=batch, problem=exc.strerror) + "\n")
        return 1
    if bad:
        err.write(texts().text("assess.bad_lines", count=bad) + "\n")
        return 1
    return 0
