"""Fit the constants of search (knowledge/search-constants.yaml) and write them there.

    python -m benchmarks.fit_search [--dry-run]

Fit sets: the dev set (../shared/eval/questions.yaml), benchmarks/heldout.yaml,
benchmarks/tuning.yaml, benchmarks/blind2.yaml and tests/knowledge/out_of_field.yaml. The retired blind sets
(benchmarks/blind-2026-12) are never read here: they check the result
(`python benchmarks/questions.py benchmarks/blind-2026-12/set_*.yaml`).

1. For every `c` × `char_weight` of the grid the topic model is trained once and the class
   probabilities of every fit question computed.
2. For each, every combination of the decision thresholds of the sweep is scored on the
   pooled fit questions: top-1 + out-of-field declined − 2 × in-field declined, among the
   combinations with in-field declined ≤ 2 %. Ties go to the earlier (simpler) value.
3. The best model and thresholds are written into the constants file (values only; its
   comments stay). `sure_at` is not fitted (it changes no measured figure).

Deterministic: the same files give the same constants.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.questions import Case, read_cases, score  # noqa: E402
from knowledge.loader import load  # noqa: E402
from knowledge.search import CONSTANTS_FILE, Constants, SearchIndex  # noqa: E402

FIT_FILES = [
    ROOT.parent / "shared" / "eval" / "questions.yaml",
    ROOT / "benchmarks" / "heldout.yaml",
    ROOT / "benchmarks" / "tuning.yaml",
    ROOT / "benchmarks" / "blind2.yaml",
    ROOT / "tests" / "knowledge" / "out_of_field.yaml",
]
GRID = {"c": [10.0], "char_weight": [1.0], "outside_share": [6.0, 9.0, 12.0]}
SWEEP = {
    "answer_ratio": [1.0, 1.5, 2.0, 2.5, 3.0, 4.0],
    "answer_at": [0.0, 0.05, 0.1, 0.15],
    "suggest_ratio": [0.25, 0.5, 1.0],
    "suggest_at": [0.0, 0.05],
}
MAX_IN_DECLINED = 0.02
DAY = date(2026, 12, 7)


def objective(stats: dict[str, float]) -> float:
    return stats["top1"] + stats["out_declined"] - 2 * stats["in_declined"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dry-run", action="store_true", help="print, do not write the constants")
    args = p.parse_args(argv)
    kb = load(None)
    cases: list[Case] = [c for f in FIT_FILES for c in read_cases(f)]
    questions = [c.q for c in cases]
    base = Constants.load()
    best: tuple[float, Constants, dict[str, float]] | None = None
    for point in itertools.product(*GRID.values()):
        model = dict(zip(GRID, point, strict=True))
        index = SearchIndex.build(kb, replace(base, **model))
        probs = index.probabilities(questions, DAY)
        for values in itertools.product(*SWEEP.values()):
            k = replace(index.constants, **dict(zip(SWEEP, values, strict=True)))
            index.constants = k
            outcomes = [
                _outcome(index.decide(q, row)) for q, row in zip(questions, probs, strict=True)
            ]
            stats, _misses = score(cases, outcomes, [])
            if stats["in_declined"] > MAX_IN_DECLINED:
                continue
            value = objective(stats)
            if best is None or value > best[0] + 1e-9:
                best = (value, k, stats)
        print(f"{model}: best so far {best[1] if best else None}", flush=True)
        if best:
            print("  " + _summary(best[2]), flush=True)
    if best is None:
        print("no combination keeps in-field declined within bounds")
        return 1
    _value, k, stats = best
    print(f"fitted: {k}\n  on the fit sets: {_summary(stats)}")
    if not args.dry_run:
        write(k)
    return 0


def _summary(stats: dict[str, float]) -> str:
    return (
        f"top-1 {stats['top1']:.3f}, top-3 {stats['top3']:.3f}, out-of-field declined "
        f"{stats['out_declined']:.3f}, in-field declined {stats['in_declined']:.3f}"
    )


def _outcome(result):  # type: ignore[no-untyped-def]
    from benchmarks.questions import outcome_of

    return outcome_of(result)


def write(k: Constants, path: Path = CONSTANTS_FILE) -> None:
    """Replace the values in the constants file, keeping its comments."""
    text = path.read_text(encoding="utf-8")
    for name in (*GRID, *SWEEP):
        text = re.sub(rf"(?m)^{name}: .*$", f"{name}: {getattr(k, name)}", text)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
