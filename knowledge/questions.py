"""Labelled staff questions (knowledge/data/questions/): training samples for search.

Each file has the shape of the evaluation sets (`questions:` items `q` and `topic`, topic null for
a message outside the field). They are sets that were written blind from the topic spec, measured
once and then retired: varied voices and wording that the topics' own phrasings lack. Search
trains on them beside the phrasings (knowledge/search.py); they are read only when an index is
built, never at a warm start. `samverkan kb check` reports a label that names no topic.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from common import yaml_safe
from knowledge import texts
from knowledge.loader import DEFAULT_DIR, KnowledgeError, Problem, load

FOLDER = "questions"


def files(directory: Path) -> list[Path]:
    """The question files of a knowledge base, in a fixed order."""
    return sorted((Path(directory) / FOLDER).rglob("*.yaml"))


def read(directory: Path) -> tuple[list[tuple[str | None, str, str]], list[Problem]]:
    """(topic or None, question, file) for every labelled question, and the problems of the
    files' shape."""
    found: list[tuple[str | None, str, str]] = []
    problems: list[Problem] = []
    for path in files(directory):
        rel = str(path.relative_to(directory))
        try:
            data = yaml_safe.safe_load(path.read_text(encoding="utf-8"))
        except Exception as exc:  # not YAML, not UTF-8: a problem to report
            problems.append(Problem(rel, texts().text("questions.unreadable", problem=exc)))
            continue
        items = data.get("questions") if isinstance(data, dict) else None
        if not isinstance(items, list):
            problems.append(Problem(rel, texts().text("questions.not_list")))
            continue
        for n, item in enumerate(items, start=1):
            q = item.get("q") if isinstance(item, dict) else None
            topic = item.get("topic") if isinstance(item, dict) else None
            if not isinstance(q, str) or not q.strip() or not isinstance(topic, str | None):
                problems.append(Problem(rel, texts().text("questions.bad_item", number=n)))
                continue
            found.append((topic, q, rel))
    return found, problems


def unknown_topics(
    found: Iterable[tuple[str | None, str, str]], topic_ids: set[str]
) -> list[Problem]:
    """A problem for every file and label that names no topic of the knowledge base."""
    missing = dict.fromkeys(
        (rel, topic) for topic, _q, rel in found if topic is not None and topic not in topic_ids
    )
    return [
        Problem(rel, texts().text("questions.unknown_topic", topic=topic))
        for rel, topic in missing
    ]


def samples(
    directory: Path, topic_ids: set[str], leave_out: tuple[str, ...] = ()
) -> list[tuple[str | None, str]]:
    """(topic or None, question) to train on; KnowledgeError when a file is broken or a label
    names no topic (a topic removed from the knowledge base must take its questions along).
    `leave_out`: files or folders (relative to the knowledge base) whose questions are left
    out, for cross-validation (benchmarks/fit_search.py)."""
    found, problems = read(directory)
    problems += unknown_topics(found, topic_ids)
    if problems:
        raise KnowledgeError(problems)
    return [(topic, q) for topic, q, rel in found if not rel.startswith(leave_out)]


def validate(directory: Path | None = None) -> list[Problem]:
    """Every problem with the question files (used by `samverkan kb check`)."""
    base = Path(directory) if directory is not None else DEFAULT_DIR
    found, problems = read(base)
    try:
        kb = load(base, strict=False)
    except KnowledgeError:  # reported by the knowledge base's own check
        return problems
    return problems + unknown_topics(found, {t.id for t in kb.topics})
