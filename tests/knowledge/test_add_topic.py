"""Adding a topic is data only (docs/add-topic.md): a new topic file with a title and eight
phrasings (written as docs/add-topic.md says: situations and questions, one without å/ä/ö,
one in English) and the keywords of the doc's example is found by fresh wordings, and barely
moves the decisions on other questions."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from benchmarks.questions import read_cases
from knowledge.loader import DEFAULT_DIR, KnowledgeBase, load
from knowledge.search import SearchIndex
from tests.conftest import cached_index

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 12, 7)
# The project's question sets (the shared dev set only where the checkout sits beside it).
QUESTION_SETS = [
    *[p for p in [ROOT.parent / "shared" / "eval" / "questions.yaml"] if p.exists()],
    ROOT / "benchmarks" / "heldout.yaml",
    ROOT / "knowledge" / "data" / "questions" / "tuning.yaml",
    ROOT / "knowledge" / "data" / "questions" / "blind2.yaml",
    *sorted((ROOT / "knowledge" / "data" / "questions" / "blind-2026-12").glob("set_*.yaml")),
]

NEW_TOPIC = """\
topics:
  - id: foralder-i-fangelse
    title: Barn som har en förälder i fängelse
    lead: >-
      Prata med barnet om vad det vill att skolan ska veta och erbjud elevhälsan. Far barnet
      illa: gör en orosanmälan.
    short_title: Förälder i fängelse
    category: samverkan
    answer: >-
      Ett barn vars förälder sitter i fängelse eller häkte behöver ofta extra stöd i skolan.
      Prata med barnet om vad det vill att skolan ska veta, erbjud kontakt med elevhälsan och
      tipsa familjen om stöd från socialtjänsten. Gör en orosanmälan om barnet far illa.
    examples:
      - Pappa till en av mina elever har hamnat i fängelse, hur stöttar vi barnet?
      - En förälder är häktad, vad kan skolan göra för eleven?
      - barnets mamma sitter inne och barnet mar daligt, vad gor vi
      - Hur pratar jag med ett barn om att föräldern avtjänar ett straff?
      - Eleven har en förälder på anstalt, finns det stöd att få?
      - Vad behöver förskolan tänka på när en förälder blir frihetsberövad?
      - My student's mother has been sent to jail, how do we help him?
      - Kan socialtjänsten hjälpa ett barn vars förälder har dömts till fängelse?
    keywords: [fängelse, häkte, anstalt]
    sources:
      - seed: "000"
        note: Samverkan när barn behöver stöd från flera verksamheter.
"""
FRESH = [
    "Hur hjälper jag en elev vars pappa just har åkt in i fängelset?",
    "barnets mamma ar hakted sedan i fredags, vad gor vi",
    "En flicka i klassen har en pappa som sitter på kriminalvårdsanstalt",
    "Vad säger jag till ett barn när föräldern har fått ett fängelsestraff?",
    "Hur kan förskolan stötta ett barn vars förälder sitter i häktet?",
    "a pupil's father is in prison, how can we support the child?",
]
MAX_CHANGED = 0.005


def _decisions(index: SearchIndex, questions: list[str]) -> list[tuple[str, str | None]]:
    probs = index.probabilities(questions, DAY)
    return [
        (r.decision, r.topic)
        for r in (index.decide(q, row) for q, row in zip(questions, probs, strict=True))
    ]


@pytest.mark.slow
def test_a_new_topic_with_eight_phrasings_is_found_and_moves_little(
    tmp_path: Path, real_kb: KnowledgeBase, real_index: SearchIndex
) -> None:
    copy = tmp_path / "kb"
    shutil.copytree(DEFAULT_DIR, copy)
    (copy / "topics" / "foralder-i-fangelse.yaml").write_text(NEW_TOPIC, encoding="utf-8")
    kb = load(copy)
    assert kb.topic("foralder-i-fangelse", DAY) is not None
    index = cached_index(kb)  # built once, then loaded by content hash

    first = [index.rank(q, day=DAY, limit=1)[0].topic_id for q in FRESH]
    assert sum(t == "foralder-i-fangelse" for t in first) >= 5, list(zip(FRESH, first, strict=True))

    questions = [c.q for path in QUESTION_SETS for c in read_cases(path)]
    before = _decisions(real_index, questions)
    after = _decisions(index, questions)
    changed = [(q, b, a) for q, b, a in zip(questions, before, after, strict=True) if a != b]
    assert len(changed) <= MAX_CHANGED * len(questions), changed
