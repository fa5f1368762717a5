"""Question-answering benchmark: how well `SearchIndex` finds the right topic.

    python benchmarks/questions.py [QUESTIONS.yaml ...] [--kb DIR] [--date YYYY-MM-DD]
                                   [--lenient] [--show-misses] [--table]

Defaults to ../shared/eval/questions.yaml, benchmarks/heldout.yaml and benchmarks/tuning.yaml
(fresh questions written for the tuning round of issue 3). Each file holds
`questions: [{q, topic, also?}]` where `topic: null` marks a question outside the bot's field
(a plain string is such a question too).
Reports per file:

- top-1: in-field questions answered with the expected topic (or one of `also`);
- top-3: in-field questions whose expected topic is the answer or among the alternatives
  (for a suggestion: among the offered candidates);
- out-of-field declined: `topic: null` questions not answered (suggest or decline);
- in-field wrongly declined: in-field questions declined outright;
- in-field suggested: in-field questions answered with "Menade du…?" instead;
- milliseconds per question (p50, p95, max) after one warm-up pass.

`--table` prints one Markdown row per file instead (for the record of a tuning step).

Not part of the test suite: the numbers are measurements, not assertions.
"""

from __future__ import annotations

import argparse
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

from knowledge.loader import load  # noqa: E402
from knowledge.search import SearchIndex, SearchResult  # noqa: E402

DEFAULT_FILES = [
    ROOT.parent / "shared" / "eval" / "questions.yaml",
    ROOT / "benchmarks" / "heldout.yaml",
    ROOT / "benchmarks" / "tuning.yaml",
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


def evaluate(index: SearchIndex, cases: list[Case], day: date) -> tuple[dict[str, Any], list[str]]:
    for c in cases:  # warm-up: caches of the analyser
        index.search(c.q, day=day)
    times: list[float] = []
    results: list[SearchResult] = []
    for c in cases:
        t0 = time.perf_counter()
        results.append(index.search(c.q, day=day))
        times.append((time.perf_counter() - t0) * 1000)

    infield = [(c, r) for c, r in zip(cases, results, strict=True) if c.topic is not None]
    outfield = [(c, r) for c, r in zip(cases, results, strict=True) if c.topic is None]
    top1 = top3 = declined = suggested = 0
    misses: list[str] = []
    for c, r in infield:
        ok = {c.topic, *c.also}
        offered = ([r.topic] if r.topic else []) + [h.topic_id for h in r.alternatives]
        if r.decision == "answer" and r.topic in ok:
            top1 += 1
        if c.topic in offered[:3] or (r.topic in ok):
            top3 += 1
        if r.decision == "decline":
            declined += 1
        if r.decision == "suggest":
            suggested += 1
        if not (r.decision == "answer" and r.topic in ok):
            misses.append(
                f"  MISS {c.q!r}: want {c.topic}, got {r.decision} {r.topic} {r.score:.2f} "
                f"alts={[(h.topic_id, round(h.score, 2)) for h in r.alternatives]}"
            )
    out_ok = 0
    for c, r in outfield:
        if r.decision != "answer":
            out_ok += 1
        else:
            misses.append(f"  ANSWERED OUT-OF-FIELD {c.q!r}: {r.topic} {r.score:.2f}")
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
        "ms_p50": statistics.median(times) if times else 0.0,
        "ms_p95": percentile(times, 95) if times else 0.0,
        "ms_max": max(times) if times else 0.0,
    }
    return stats, misses


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
    p.add_argument("--show-misses", action="store_true")
    p.add_argument("--table", action="store_true", help="one Markdown row per file")
    args = p.parse_args(argv)

    kb = load(args.kb, strict=not args.lenient)
    if kb.problems:
        print(f"(knowledge base has {len(kb.problems)} problems; measuring anyway)")
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
              "| in-field wrongly declined | ms p50 / p95 |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
    for path in args.files or DEFAULT_FILES:
        cases = read_cases(path)
        stats, misses = evaluate(index, cases, day)
        if args.table:
            print(f"| {path.name} | {stats['in_field']} + {stats['out_of_field']} "
                  f"| {fmt(stats['top1'])} | {fmt(stats['top3'])} | {fmt(stats['out_declined'])} "
                  f"| {fmt(stats['in_declined'])} "
                  f"| {stats['ms_p50']:.2f} / {stats['ms_p95']:.2f} |")
            continue
        print(f"\n{path.name}: {stats['questions']} questions "
              f"({stats['in_field']} in field, {stats['out_of_field']} outside)")
        print(f"  top-1                     {fmt(stats['top1'])}   (target ≥ 90 %)")
        print(f"  top-3                     {fmt(stats['top3'])}   (target ≥ 97 %)")
        print(f"  out-of-field declined     {fmt(stats['out_declined'])}   (target ≥ 90 %)")
        print(f"  in-field wrongly declined {fmt(stats['in_declined'])}   (target ≤ 5 %)")
        print(f"  in-field suggested        {fmt(stats['in_suggested'])}")
        print(f"  ms/question               p50 {stats['ms_p50']:.2f}  p95 {stats['ms_p95']:.2f}  "
              f"max {stats['ms_max']:.2f}   (target < 5 ms)")
        if args.show_misses:
            print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
