"""Situations in free text: how well the bot recognises a child at risk (`concern`) and acute
danger (`acute`), measured on sets written blind from shared/spec (benchmarks/concern-2026-12/).

    python -m benchmarks.situations benchmarks/concern-2026-12/set_c2.yaml [...]
    python -m benchmarks.situations --fit        # cross-validation on the training data

For each set: concern recognised among the situations, acute recognised among the acute ones,
concern wrongly flagged on non-situations, and situations the bot would decline (no concern and
no answer from search). `--misses` prints the misses (only for sets that are retired: see
benchmarks/concern-2026-12/README.md). Not part of the tests: it reports measured numbers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.model_selection import StratifiedKFold

from common.clock import SystemClock, local
from knowledge.loader import load
from knowledge.search import SearchIndex
from knowledge.situations import SituationDetector, load_files, train


def evaluate(path: Path, detector: SituationDetector, index: SearchIndex, misses: bool) -> None:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    msgs = data["messages"]
    day = local(SystemClock().now()).date()
    n_sit = n_acute = n_non = 0
    hit = acute_hit = false_flag = declined = acute_on_non = 0
    lines: list[str] = []
    for m in msgs:
        s = detector(m["text"])
        decision = index.search(m["text"], day=day).decision
        if m["concern"]:
            n_sit += 1
            hit += s.concern
            if not s.concern:
                lines.append(f"  MISSED concern ({s.score:.2f}): {m['text']}")
                if decision == "decline":
                    declined += 1
            if m["acute"]:
                n_acute += 1
                acute_hit += s.acute
                if not s.acute:
                    lines.append(f"  MISSED acute ({s.acute_score:.2f}): {m['text']}")
        else:
            n_non += 1
            false_flag += s.concern
            acute_on_non += s.acute
            if s.concern:
                lines.append(f"  FALSE concern ({s.score:.2f}): {m['text']}")
    print(
        f"{path.name}: concern {hit}/{n_sit} = {hit / n_sit:.1%}; "
        f"acute {acute_hit}/{n_acute} = {acute_hit / max(n_acute, 1):.1%}; "
        f"wrongly flagged {false_flag}/{n_non} = {false_flag / max(n_non, 1):.1%}; "
        f"situations declined {declined}; acute card on non-situations {acute_on_non}"
    )
    if misses:
        print("\n".join(lines))


def fit() -> None:
    settings, messages = load_files()
    texts = np.array([m.text for m in messages], dtype=object)
    concern = np.array([m.concern for m in messages])
    acute = np.array([m.acute for m in messages])
    p_concern = np.zeros(len(texts))
    p_acute = np.zeros(len(texts))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for tr, te in folds.split(texts, concern * 2 + acute):
        models = train([messages[i] for i in tr])
        probs = models.reference(list(texts[te]))
        p_concern[te], p_acute[te] = probs[:, 0], probs[:, 1]
    detector = SituationDetector.build()
    phrase = np.array([detector.acute_phrase(t) for t in texts])
    now = np.array([detector.says_now(t) for t in texts])
    print(f"{len(texts)} messages: {concern.sum()} concern, {acute.sum()} acute (5-fold CV)")
    for t in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
        flag = p_concern >= t
        print(
            f"  concern_threshold {t:.2f}: recall {(flag & concern).sum() / concern.sum():.1%}, "
            f"wrongly flagged {(flag & ~concern).sum() / (~concern).sum():.1%}"
        )
    person = np.array([detector.names_a_person(t) for t in texts])
    flag = p_concern >= np.where(
        person, settings.concern_threshold, settings.concern_threshold_without_person
    )
    print(
        f"  with the person gate: recall {(flag & concern).sum() / concern.sum():.1%}, "
        f"wrongly flagged {(flag & ~concern).sum() / (~concern).sum():.1%}"
    )
    for t in (0.1, 0.2, 0.3, 0.4, 0.5):
        got = phrase | (flag & ((p_acute >= t) | now))
        print(
            f"  acute_threshold {t:.2f} (+ phrases, now-words): recall {(got & acute).sum() / acute.sum():.1%},"
            f" acute on non-acute {(got & ~acute).sum() / (~acute).sum():.1%}"
        )
    print(f"  phrases alone: recall {(phrase & acute).sum() / acute.sum():.1%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sets", nargs="*", type=Path)
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args(argv)
    if args.fit:
        fit()
    if args.sets:
        detector = SituationDetector.build()
        index = SearchIndex.build(load())
        for path in args.sets:
            evaluate(path, detector, index, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
