"""How search cost grows: a synthetic knowledge base of 1,000 and 10,000 topics.

    python benchmarks/scale.py [--sizes 1000 10000] [--questions FILE] [--seed 7]

The synthetic topics are made from the shipped ones: each copies a real topic's structure and
mixes its sentences with another topic's, then replaces about a third of the words with made-up
Swedish-looking words (so the vocabulary grows with the knowledge base, as it would with real
content), under new ids. The real topics stay in, so the benchmark also shows whether their
questions are still found among thousands of similar distractors. Reports per size: index build
time, the number of index terms, and milliseconds per question (p50, p95, max) over the
development questions, plus top-1 over their in-field part.

Not part of the test suite: the numbers are measurements, not assertions.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from questions import percentile, read_cases  # noqa: E402

from knowledge.loader import KnowledgeBase, load  # noqa: E402
from knowledge.model import Topic  # noqa: E402
from knowledge.search import SearchIndex  # noqa: E402

SYLLABLES = [
    "an", "be", "da", "för", "gen", "hål", "in", "kal", "lin", "mö", "nor", "om", "på", "rus",
    "sta", "tå", "un", "ve", "äl", "ös", "bru", "fri", "gla", "kra", "ljus", "mark", "sko",
    "stig", "tor", "vång",
]


def made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def mix(text: str, other: str, rng: random.Random, share: float = 0.35) -> str:
    words = (text + " " + other).split()
    rng.shuffle(words)
    words = words[: max(8, len(words) // 2)]
    return " ".join(made_up_word(rng) if rng.random() < share else w for w in words)


def synthetic(kb: KnowledgeBase, size: int, seed: int) -> KnowledgeBase:
    rng = random.Random(seed)
    real = list(kb.topics)
    topics: list[Topic] = list(real)
    n = 0
    while len(topics) < size:
        a, b = rng.choice(real), rng.choice(real)
        n += 1
        topics.append(
            replace_topic(
                a,
                id=f"syn-{n}",
                title=mix(a.title, b.title, rng)[:110] or a.title,
                answer=mix(a.answer, b.answer, rng)[:1100],
                details=mix(a.details or "", b.details or "", rng) if a.details else None,
                examples=[mix(e, rng.choice(b.examples), rng) for e in a.examples],
                keywords=[made_up_word(rng) for _ in a.keywords[:3]] + a.keywords[3:6],
                related=[],
                valid_from=None,
                valid_until=None,
            )
        )
    return replace(kb, topics=topics, required={})


def replace_topic(topic: Topic, **changes: object) -> Topic:
    data = topic.model_dump()
    data.update(changes)
    return Topic.model_validate(data)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    p.add_argument(
        "--questions", type=Path, default=ROOT.parent / "shared" / "eval" / "questions.yaml"
    )
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)

    kb = load()
    cases = read_cases(args.questions)
    day = kb.meta.legal_checked
    print(f"real knowledge base: {len({t.id for t in kb.topics})} topics; "
          f"{len(cases)} questions from {args.questions.name}")
    for size in [len(kb.topics), *args.sizes]:
        big = kb if size <= len(kb.topics) else synthetic(kb, size, args.seed)
        t0 = time.perf_counter()
        index = SearchIndex.build(big)
        build_s = time.perf_counter() - t0
        for c in cases:  # warm-up
            index.search(c.q, day=day)
        times: list[float] = []
        top1 = infield = 0
        for c in cases:
            t1 = time.perf_counter()
            r = index.search(c.q, day=day)
            times.append((time.perf_counter() - t1) * 1000)
            if c.topic is not None:
                infield += 1
                top1 += r.decision == "answer" and r.topic in {c.topic, *c.also}
        print(
            f"{len(big.topics):>6} topics: build {build_s:6.2f} s, "
            f"{index.term_count():>6} terms; ms/question p50 {statistics.median(times):6.2f} "
            f"p95 {percentile(times, 95):6.2f} max {max(times):6.2f}; "
            f"top-1 {100 * top1 / infield:5.1f} %"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
