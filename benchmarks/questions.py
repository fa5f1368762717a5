"""Question-answering benchmark: how well `SearchIndex` finds the right topic.

    python benchmarks/questions.py [QUESTIONS.yaml ...] [--kb DIR] [--date YYYY-MM-DD]
                                   [--lenient] [--show-misses] [--table] [--kommun ID]
    python benchmarks/questions.py QUESTIONS.yaml --answers ANSWERS.jsonl

Defaults to ../shared/eval/questions.yaml and benchmarks/heldout.yaml (neither is trained on;
the sets under knowledge/data/questions/ are search's training data). Each file holds
`questions: [{q, topic, also?}]` where `topic: null` marks a question outside the bot's field
(a plain string is such a question too).
Reports per file:

- top-1: in-field questions answered with the expected topic (or one of `also`);
- top-3: in-field questions whose expected topic is the answer or among the alternatives
  (for a suggestion: among the offered candidates);
- out-of-field declined: `topic: null` questions not answered (suggest or decline);
- in-field wrongly declined: in-field questions declined outright;
- in-field suggested: in-field questions answered with "Menade du…?" instead;
- in-field not answered: declined or suggested, what `samverkan ask --batch` shows as topic
  null (issue 15's bar: ≤ 3 %; with `--answers` the same as declined);
- errors: questions whose search raised (or, with `--answers`, lines marked "error"): each
  is a miss whether the question is in the field or not, never a decline;
- milliseconds per question (p50, p95, max) after one warm-up pass.

`--answers` scores what `samverkan ask --batch` wrote for the questions of one file (one JSON
line per question, in order) instead of searching in-process, as an evaluation does; a line
with topic null counts as declined (the line does not tell a suggestion from a decline).

`--table` prints one Markdown row per file instead (for the record of a tuning step).

Not part of the test suite: the numbers are measurements, not assertions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.commands.knowledge import MAX_QUESTION_CHARS  # noqa: E402
from knowledge.loader import load  # noqa: E402
from knowledge.search import SearchIndex, SearchResult  # noqa: E402

DEFAULT_FILES = [
    ROOT.parent / "shared" / "eval" / "questions.yaml",
    ROOT / "benchmarks" / "heldout.yaml",
]


@dataclass
class Case:
    q: str
    topic: str | None
    also: list[str]


def read_cases(path: Path) -> list[Case]:
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    # A plain string is a question outside the field (tests/knowledge/out_of_field.yaml).
    return [
        Case(x, None, []) if isinstance(x, str)
        else Case(str(x["q"]), x.get("topic"), list(x.get("also") or []))
        for x in data["questions"]
    ]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass(frozen=True)
class Outcome:
    """What came back for one question: a decision, or the error that took its place."""

    decision: str  # "answer", "suggest", "decline" or "error"
    topic: str | None = None
    offered: tuple[str, ...] = ()  # the answer, then the alternatives
    note: str = ""  # score and alternatives, or the error's type (for --show-misses)


def outcome_of(result: SearchResult) -> Outcome:
    alts = [(h.topic_id, round(h.score, 2)) for h in result.alternatives]
    return Outcome(
        result.decision,
        result.topic,
        tuple(([result.topic] if result.topic else []) + [h.topic_id for h in result.alternatives]),
        f"{result.score:.2f} alts={alts}",
    )


def outcome_of_line(row: dict[str, Any]) -> Outcome:
    """A line of `samverkan ask --batch`: "error" marks a question that failed; otherwise topic
    null is not answered (the line cannot tell a suggestion from a decline: both count as
    declined)."""
    if "error" in row:
        return Outcome("error", note=str(row["error"]))
    topic = row.get("topic")
    alts = [str(a["topic"]) for a in row.get("alternatives") or []]
    return Outcome(
        "answer" if topic else "decline",
        topic,
        tuple(([topic] if topic else []) + alts),
        f"{float(row.get('score') or 0.0):.2f} alts={alts}",
    )


def search_outcome(index: SearchIndex, question: str, day: date) -> Outcome:
    """The search's decision; an exception is an error, never a decline."""
    try:
        return outcome_of(index.search(question, day=day))
    except Exception as exc:  # one question must not cost the rest of the set
        return Outcome("error", note=type(exc).__name__)


def evaluate(index: SearchIndex, cases: list[Case], day: date) -> tuple[dict[str, Any], list[str]]:
    for c in cases:  # warm-up: caches of the analyser
        search_outcome(index, c.q, day)
    times: list[float] = []
    outcomes: list[Outcome] = []
    for c in cases:
        t0 = time.perf_counter()
        outcomes.append(search_outcome(index, c.q, day))
        times.append((time.perf_counter() - t0) * 1000)
    return score(cases, outcomes, times)


def score(
    cases: list[Case], outcomes: list[Outcome], times: list[float]
) -> tuple[dict[str, Any], list[str]]:
    """The figures of one question set. An error is neither a hit nor a decline: it fails an
    in-field question and an out-of-field one alike, and is counted on its own."""
    infield = [(c, o) for c, o in zip(cases, outcomes, strict=True) if c.topic is not None]
    outfield = [(c, o) for c, o in zip(cases, outcomes, strict=True) if c.topic is None]
    top1 = top3 = declined = suggested = 0
    misses: list[str] = []
    for c, o in infield:
        ok = {c.topic, *c.also}
        if o.decision == "error":
            misses.append(f"  ERROR {c.q!r}: want {c.topic}, got {o.note}")
            continue
        if o.decision == "answer" and o.topic in ok:
            top1 += 1
        if c.topic in o.offered[:3] or (o.topic in ok):
            top3 += 1
        if o.decision == "decline":
            declined += 1
        if o.decision == "suggest":
            suggested += 1
        if not (o.decision == "answer" and o.topic in ok):
            misses.append(f"  MISS {c.q!r}: want {c.topic}, got {o.decision} {o.topic} {o.note}")
    out_ok = 0
    for c, o in outfield:
        if o.decision == "error":
            misses.append(f"  ERROR {c.q!r}: want null, got {o.note}")
        elif o.decision != "answer":
            out_ok += 1
        else:
            misses.append(f"  ANSWERED OUT-OF-FIELD {c.q!r}: {o.topic} {o.note}")
    n_in, n_out = len(infield), len(outfield)
    stats = {
        "questions": len(cases),
        "in_field": n_in,
        "out_of_field": n_out,
        "top1": top1 / n_in if n_in else None,
        "top3": top3 / n_in if n_in else None,
        "out_declined": out_ok / n_out if n_out else None,
        "in_declined": declined / n_in if n_in else None,
        "in_suggested": suggested / n_in if n_in else None,
        "in_not_answered": (declined + suggested) / n_in if n_in else None,
        "errors": sum(o.decision == "error" for o in outcomes),
        "ms_p50": statistics.median(times) if times else 0.0,
        "ms_p95": percentile(times, 95) if times else 0.0,
        "ms_max": max(times) if times else 0.0,
        "outcomes": outcomes,
    }
    return stats, misses


def read_answers(path: Path, cases: list[Case]) -> list[Outcome]:
    """The output of `samverkan ask --batch` for the questions of one file, in their order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if len(rows) != len(cases):
        raise SystemExit(f"{path}: {len(rows)} answers for {len(cases)} questions")
    for n, (c, row) in enumerate(zip(cases, rows, strict=True), start=1):
        if row.get("question") != c.q.strip()[:MAX_QUESTION_CHARS]:
            raise SystemExit(f"{path}, line {n}: answers another question than {c.q!r}")
    return [outcome_of_line(row) for row in rows]


def fmt(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:5.1f} %"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("files", nargs="*", type=Path, help="question files (default: dev + held-out)")
    p.add_argument("--kb", type=Path, default=None, help="knowledge base directory")
    p.add_argument("--date", default=None, help="day the topics are valid (default: today)")
    p.add_argument("--lenient", action="store_true", help="use a knowledge base that has problems")
    p.add_argument(
        "--kommun", default=None, help="search as this kommun profile sees it (its words)"
    )
    p.add_argument("--show-misses", action="store_true")
    p.add_argument("--table", action="store_true", help="one Markdown row per file")
    p.add_argument(
        "--answers",
        type=Path,
        default=None,
        help="score this output of `samverkan ask --batch` (for the one question file given) "
        "instead of searching",
    )
    args = p.parse_args(argv)
    files = args.files or DEFAULT_FILES
    if args.answers is not None and len(files) != 1:
        p.error("--answers needs exactly one question file")

    kb = load(args.kb, strict=not args.lenient)
    if kb.problems:
        print(f"(knowledge base has {len(kb.problems)} problems; measuring anyway)")
    if args.kommun:
        from knowledge.kommun import load_kommuner, with_profile

        kb = with_profile(kb, load_kommuner(kb, default=args.kommun).profiles[args.kommun])
        print(f"kommun profile: {args.kommun}")
    t0 = time.perf_counter()
    index = SearchIndex.build(kb)
    build_ms = (time.perf_counter() - t0) * 1000
    day = date.fromisoformat(args.date) if args.date else date.today()
    topics = len({t.id for t in kb.topics})
    print(
        f"knowledge base: {topics} topics, {len(kb.topics)} versions; "
        f"index built in {build_ms:.0f} ms"
    )

    if args.table:
        print("\n| file | questions | top-1 | top-3 | out-of-field declined "
              "| in-field declined | in-field not answered | errors | ms p50 / p95 |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    pooled_cases: list[Case] = []
    pooled: list[Outcome] = []
    for path in files:
        cases = read_cases(path)
        if args.answers is not None:
            stats, misses = score(cases, read_answers(args.answers, cases), [])
            pooled_cases += cases
            pooled += stats.pop("outcomes")
        else:
            stats, misses = evaluate(index, cases, day)
            pooled_cases += cases
            pooled += stats.pop("outcomes")
        if args.table:
            print(f"| {path.name} | {stats['in_field']} + {stats['out_of_field']} "
                  f"| {fmt(stats['top1'])} | {fmt(stats['top3'])} | {fmt(stats['out_declined'])} "
                  f"| {fmt(stats['in_declined'])} | {fmt(stats['in_not_answered'])} "
                  f"| {stats['errors']} "
                  f"| {stats['ms_p50']:.2f} / {stats['ms_p95']:.2f} |")
            continue
        print(f"\n{path.name}: {stats['questions']} questions "
              f"({stats['in_field']} in field, {stats['out_of_field']} outside)")
        print(f"  top-1                     {fmt(stats['top1'])}   (target ≥ 92 %)")
        print(f"  top-3                     {fmt(stats['top3'])}   (target ≥ 97 %)")
        print(f"  out-of-field declined     {fmt(stats['out_declined'])}   (target ≥ 93 %)")
        print(f"  in-field wrongly declined {fmt(stats['in_declined'])}")
        print(f"  in-field suggested        {fmt(stats['in_suggested'])}")
        print(f"  in-field not answered     {fmt(stats['in_not_answered'])}   (target ≤ 3 %: "
              "declined or suggested, topic null in `ask --batch`)")
        print(f"  errors                    {stats['errors']:5d}     (questions that failed; "
              "counted as misses, not as declines)")
        if args.answers is None:
            print(f"  ms/question               p50 {stats['ms_p50']:.2f}  "
                  f"p95 {stats['ms_p95']:.2f}  max {stats['ms_max']:.2f}   (target < 5 ms)")
        if args.show_misses:
            print("\n".join(misses))
    if len(files) > 1:
        stats, _m = score(pooled_cases, pooled, [])
        print(f"\npooled ({len(files)} files, {stats['questions']} questions): "
              f"top-1 {fmt(stats['top1'])}, top-3 {fmt(stats['top3'])}, out-of-field declined "
              f"{fmt(stats['out_declined'])}, in-field declined {fmt(stats['in_declined'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
