"""`samverkan ask` and `samverkan kb check` (shared/spec/contracts.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from cli import texts
from common import swedish
from common.clock import Clock, SystemClock, local
from dialogs import flowcheck
from knowledge import questions, rule_proofs, situations
from knowledge.kommun import (
    load_kommuner,
    national_sources,
    sources_json,
    with_profile,
)
from knowledge.kommun_model import KommunError
from knowledge.loader import DEFAULT_DIR, KnowledgeBase, KnowledgeError, load
from knowledge.model import LawSource, Topic
from knowledge.search import SearchIndex, SearchResult
from knowledge.situations import SituationDetector

# Questions longer than this are cut before they are searched (a pasted document is no question).
MAX_QUESTION_CHARS = 1000


def _kb_dir(args: argparse.Namespace) -> Path | None:
    explicit = getattr(args, "dir", None)
    if explicit:
        return Path(explicit)
    from samverkan.settings import Settings

    return Settings().kb_dir


def _cache_dir() -> Path | None:
    from samverkan.settings import Settings

    return Settings().cache_dir


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def ask(args: argparse.Namespace, *, clock: Clock | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    question: str | None = args.question
    batch: str | None = args.batch
    if question is not None and batch is not None:
        _err(texts().text("ask.both"))
        return 2
    if batch is None and (question is None or not question.strip()):
        _err(texts().text("ask.none"))
        return 2

    lines: list[str] = []
    if batch is not None:
        try:
            with open(batch, encoding="utf-8-sig") as fh:
                lines = [line.strip() for line in fh]
        except FileNotFoundError:
            _err(texts().text("ask.no_file", file=batch))
            return 2
        except UnicodeDecodeError:
            _err(texts().text("ask.not_utf8", file=batch))
            return 2
        except OSError as exc:
            _err(texts().text("ask.unreadable", file=batch, problem=exc.strerror or exc))
            return 2

    try:
        directory = _kb_dir(args)
    except Exception as exc:  # settings from the environment that do not validate
        _err(texts().text("kb.bad_settings", problem=exc))
        return 2
    try:
        kb = load(directory)
        cache_dir = _cache_dir()
        national = SearchIndex.load_or_build(kb, cache_dir)  # every kommun reads with it
    except KnowledgeError as exc:
        _err(texts().text("kb.broken", count=len(exc.problems)))
        return 1
    except Exception as exc:  # settings from the environment that do not validate
        _err(texts().text("kb.bad_settings", problem=exc))
        return 2
    try:
        kb, kommun = _with_kommun(kb, getattr(args, "kommun", None))
    except KommunError as exc:
        _err(texts().text("kommuner.broken", problems=exc))
        return 2
    except Exception as exc:  # settings from the environment that do not validate
        _err(texts().text("kb.bad_settings", problem=exc))
        return 2
    index = national if kb.kommun is None else SearchIndex.for_kommun(national, kb)
    try:
        situations = SituationDetector.load_or_build(directory, cache_dir)
    except KnowledgeError as exc:
        _err(texts().text("kb.broken", count=len(exc.problems)))
        return 1
    day = local((clock or SystemClock()).now()).date()

    def answer(text: str) -> dict[str, object]:
        """The contract shape: the search result, and whether the message describes a child
        who may be harmed (`concern`) and the acute safety net fired (`acute`)."""
        situation = situations(text)
        result = index.search(text, day=day)
        topic = kb.topics_on(day).get(result.topic) if result.topic else None
        return {
            **result.to_json(),
            "concern": situation.concern,
            "acute": situation.acute,
            "kommun": kommun,
            "sources": sources_json(kb, topic, day) if topic is not None else [],
        }

    if batch is not None:
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            question_text = line[:MAX_QUESTION_CHARS]
            try:
                data = answer(question_text)
            except Exception as exc:  # one question must not cost the rest of the batch
                # The line keeps the contract's shape (topic null) and is marked with "error",
                # so that an evaluation counts it as a failure, not as a declined question. The
                # error goes to stderr as its type only, never with the question.
                _err(texts().text("ask.failed", number=number, error=type(exc).__name__))
                data = {
                    **SearchResult(question_text, "decline", None, 0.0, []).to_json(),
                    "concern": False,
                    "acute": False,
                    "kommun": kommun,
                    "sources": [],
                    "error": type(exc).__name__,
                }
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
        return 0

    assert question is not None
    text = question.strip()[:MAX_QUESTION_CHARS]
    if args.json:
        out.write(json.dumps(answer(text), ensure_ascii=False) + "\n")
    else:
        result = index.search(text, day=day)
        out.write(render_answer(result, kb, day) + "\n")
    return 0


def _with_kommun(kb: KnowledgeBase, chosen: str | None) -> tuple[KnowledgeBase, str | None]:
    """The knowledge base as the kommun sees it: --kommun, else SAMVERKAN_KOMMUN, else the
    example profile; its id (None when the knowledge base has no profiles)."""
    from samverkan.settings import Settings

    settings = Settings()
    kommuner = load_kommuner(
        kb, extra_dir=settings.kommun_dir, default=chosen or settings.kommun or None
    )
    profile = kommuner.for_tenant(None)
    if profile is None:
        return kb, None
    return with_profile(kb, profile), profile.id


def render_answer(result: SearchResult, kb: KnowledgeBase, day: date) -> str:
    """A search result as readable Swedish text for the terminal."""
    topics = kb.topics_on(day)
    if result.decision == "answer" and result.topic is not None:
        text = render_topic(topics[result.topic], kb, day)
        if result.english:
            text = texts().text("answer.in_swedish") + "\n\n" + text
        others = [h for h in result.alternatives if h.topic_id in topics]
        if result.tentative and others:
            lines = ["", texts().text("answer.tentative")]
            lines += [f"  - {topics[h.topic_id].title} ({h.topic_id})" for h in others]
            text += "\n" + "\n".join(lines)
        return text
    if result.decision == "suggest":
        lines = [texts().text("answer.suggest")]
        for n, hit in enumerate(result.alternatives, start=1):
            lines.append(f"  {n}. {topics[hit.topic_id].title} ({hit.topic_id})")
        lines.append("")
        lines.append(texts().text("answer.rephrase"))
        return "\n".join(lines)
    return texts().text("answer.decline")


def render_topic(topic: Topic, kb: KnowledgeBase, day: date) -> str:
    laws = [s for s in topic.sources if isinstance(s, LawSource) and _in_force(s, day)]
    lines = [topic.title, "", topic.lead, "", topic.answer]
    lines += local_lines(kb, topic, day)
    if topic.details:
        lines += ["", topic.details]
    if topic.changed:
        lines += ["", texts().text("answer.changed", changed=topic.changed)]
    checked = kb.meta.legal_checked.isoformat()
    if laws:
        cites = ", ".join(dict.fromkeys(kb.cite(s) for s in laws))
        lines += ["", texts().text("answer.valid_law", cites=cites, checked=checked)]
    else:
        lines += ["", texts().text("answer.valid_practice", checked=checked)]
    lines += ["", texts().text("answer.sources")]
    for src in national_sources(kb, topic.sources):
        cited = kb.cited(src)
        cite = cited.label
        if isinstance(src, LawSource) and not _in_force(src, day):
            if src.valid_from > day:
                frm = texts().text("answer.law_from", day=src.valid_from)
            elif src.valid_until:
                frm = texts().text("answer.law_was_until", day=src.valid_until)
            else:
                frm = texts().text("answer.law_was")
            cite = f"{cite} ({frm})"
        note = getattr(src, "note", None)
        lines.append(f"  – {cite}" + (f": {note}" if note else ""))
        if cited.url:
            lines.append(f"    {cited.url}")
    if topic.related:
        current = kb.topics_on(day)
        titles = [current[r].title for r in topic.related if r in current]
        if titles:
            lines += ["", texts().text("answer.related", titles="; ".join(titles))]
    return "\n".join(lines)


def local_lines(kb: KnowledgeBase, topic: Topic, day: date) -> list[str]:
    """The kommun's routines for the terminal, as dialogs.local_routine shows them in Teams."""
    profile = kb.kommun
    if profile is None:
        return []
    lines = ["", texts().text("local.in_kommun", kommun=profile.info.short_name)]
    routines = profile.routines_for(topic.id, day)
    if not routines:
        return [*lines, texts().text("local.ask_rektor")]
    for routine in routines:
        lines.append(routine.text)
        if routine.changed:
            lines.append(texts().text("local.changed", text=routine.changed))
        doc = profile.document(routine.source.document)
        if doc is not None:
            lines.append(texts().text("local.source", document=doc.title, year=doc.year))
    return lines


def _in_force(src: LawSource, day: date) -> bool:
    return src.valid_from <= day and (src.valid_until is None or day < src.valid_until)


# --- kb check -----------------------------------------------------------------------------------

# The checks beyond the topics: (what it checks, the validator). Every one always runs; a check
# that crashes is a problem to report, never a reason to call the knowledge base valid.
Check = Callable[[Path], Sequence[Any]]
# The names are keys of the cli catalogue's `kb.checks` ("reglerna", "flödena", …).
CHECKS: tuple[tuple[str, Check], ...] = (
    ("rules", rule_proofs.validate),
    ("flows", flowcheck.validate),
    ("situations", situations.validate),
    ("questions", questions.validate),
)


def check(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        directory = _kb_dir(args) or DEFAULT_DIR
    except Exception as exc:  # settings from the environment that do not validate
        _err(texts().text("kb.bad_settings", problem=exc))
        return 2
    if not directory.is_dir():
        _err(texts().text("kb.no_directory", directory=directory))
        return 2

    problems: list[str] = []
    kb: KnowledgeBase | None = None
    try:
        kb = load(directory)
    except KnowledgeError as exc:
        problems += [str(p) for p in exc.problems]

    checked: list[str] = []
    for name, validate in CHECKS:
        what = texts().text(f"kb.checks.{name}")
        try:
            found = validate(directory)
        except Exception as exc:  # a crash in a check is a problem to report, not a traceback
            problems.append(texts().text("kb.check_crashed", what=what, problem=exc))
            continue
        checked.append(what)
        problems += [str(p) for p in found]

    kommun_ids: list[str] = []
    if kb is not None:
        kommun_ids, found_kommun = _check_kommuner(kb, args)
        problems += found_kommun

    problems = list(dict.fromkeys(problems))  # the checks may report a missing file each
    if problems:
        out.write(texts().text("kb.problems", directory=directory, count=len(problems)) + "\n")
        width = len(str(len(problems)))
        for n, text in enumerate(problems, start=1):
            out.write(f"{n:>{width}}. {text}\n")
        return 1
    assert kb is not None
    ids = {t.id for t in kb.topics}
    and_ = f" {swedish.conjunction('and')} "
    extra = texts().text("kb.also_checked", checks=and_.join(checked)) if checked else ""
    valid = texts().text(
        "kb.valid",
        topics=len(ids), versions=len(kb.topics), terms=len(kb.glossary.terms),
        laws=len(kb.laws), seeds=len(kb.seeds), extra=extra,
    )
    out.write(valid + "\n")
    if kommun_ids:
        out.write(
            texts().text("kommuner.valid", count=len(kommun_ids), ids=", ".join(kommun_ids)) + "\n"
        )
    return 0


def _check_kommuner(kb: KnowledgeBase, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The kommun profiles of the knowledge base and of --kommun-dir or SAMVERKAN_KOMMUN_DIR:
    their ids and every problem (named by its code)."""
    from knowledge.kommun import profile_dirs
    from samverkan.kommun_check import check_all
    from samverkan.settings import Settings

    extra = getattr(args, "kommun_dir", None)
    kommun_dir = Path(extra) if extra else Settings().kommun_dir
    problems = [str(p) for p in check_all(kb, kommun_dir)]
    return sorted(profile_dirs(kb.directory, kommun_dir)), problems
