"""Loading and cross-checking the knowledge base from its data files.

Every problem is collected (not just the first) and names the file and, where there is one, the
topic, so that `samverkan kb check` can print a list an editor can work through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from knowledge import cite, texts
from knowledge.cite import Cited
from knowledge.model import (
    Glossary,
    GuidanceSource,
    Law,
    LawsFile,
    LawSource,
    Meta,
    SearchLexicon,
    Seed,
    SeedsFile,
    SeedSource,
    Topic,
    TopicFile,
)

if TYPE_CHECKING:
    from knowledge.kommun_model import KommunProfile

DEFAULT_DIR = Path(__file__).resolve().parent / "data"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    topic: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.topic}]" if self.topic else "")
        return f"{where}: {self.message}"


class KnowledgeError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class KnowledgeBase:
    meta: Meta
    seeds: dict[str, Seed]
    laws: dict[str, Law]
    topics: list[Topic]  # every version of every topic
    glossary: Glossary
    directory: Path
    required: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Language data for search (search.yaml of the directory, else the built-in one).
    lexicon: SearchLexicon = field(default_factory=SearchLexicon)
    # Problems found by a lenient load (`load(..., strict=False)`); empty after a strict one.
    problems: list[Problem] = field(default_factory=list)
    # The kommun profile answers add local routines from (knowledge.kommun.with_profile).
    kommun: KommunProfile | None = None
    _by_day: dict[date, dict[str, Topic]] = field(default_factory=dict, repr=False, compare=False)

    def topics_on(self, day: date) -> dict[str, Topic]:
        """The version of each topic that applies on `day` (computed once per day)."""
        found = self._by_day.get(day)
        if found is None:
            if len(self._by_day) > 8:
                self._by_day.clear()
            found = self._by_day[day] = {t.id: t for t in self.topics if t.valid_on(day)}
        return found

    def topic(self, topic_id: str, day: date) -> Topic | None:
        return self.topics_on(day).get(topic_id)

    def cited(self, source: SeedSource | LawSource | GuidanceSource) -> Cited:
        """A source as users see it, with its link: 'Socialtjänstlagen 19 kap. 1 §' (the
        statute's public text), 'Östermalms rutin 2007'."""
        return cite.source(source, self.seeds, self.laws)

    def cite(self, source: SeedSource | LawSource | GuidanceSource) -> str:
        """A source's label as users see it ('Socialtjänstlagen 19 kap. 1 §'), without link."""
        return self.cited(source).label

    def cited_reference(self, ref: str) -> Cited:
        """A source as the rule engine gives it ('003', 'SoL (2025:400) 19 kap. 1 §')."""
        return cite.reference(ref, self.seeds, self.laws)

    def short_cite(self, source: SeedSource | LawSource | GuidanceSource) -> str:
        """Compact form for JSON output: 'SoL (2025:400) 19 kap. 1 §' or '003'."""
        if isinstance(source, SeedSource):
            return source.seed
        if isinstance(source, GuidanceSource):
            return source.guidance
        return cite_law(self.laws[source.law], source)


def cite_law(law: Law, src: LawSource) -> str:
    """The technical citation 'SoL (2025:400) 19 kap. 1 §' (rules, `assess`, errors)."""
    abbr = law.abbr.split()[0]
    return f"{abbr} ({law.sfs}) {cite.provision(src)}"


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML without YAML 1.1's surprises: dates stay text (pydantic checks them and can
    say which one is wrong; "2026-13-45" would otherwise crash the parser) and only
    true/false are booleans ("on", "no" and "yes" are words)."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class _Unreadable:
    """What `_read_yaml` returns for a file it has already reported (missing, not YAML)."""


UNREADABLE = _Unreadable()


def _read_yaml(path: Path, base: Path, problems: list[Problem]) -> Any:
    rel = _rel(path, base)
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_YamlLoader)  # a SafeLoader subclass
    except FileNotFoundError:
        problems.append(Problem(rel, texts().text("load.missing_file")))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = texts().text("load.line", line=mark.line + 1) if mark is not None else ""
        problem = getattr(exc, "problem", exc)
        problems.append(Problem(rel, texts().text("load.bad_yaml", line=line, problem=problem)))
    except UnicodeDecodeError:
        problems.append(Problem(rel, texts().text("load.not_utf8")))
    return UNREADABLE


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _swedish(err: Any, loc: list[Any], path: str) -> str:
    """One pydantic error in plain Swedish, with the path of the field."""
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    parent = ".".join(path.split(".")[:-1])
    where = texts().text("load.where", parent=parent) if parent else ""
    if kind == "extra_forbidden":
        return texts().text("load.unknown_key", key=loc[-1] if loc else "?", where=where)
    if kind == "missing":
        return texts().text("load.missing_field", path=path)
    if kind.startswith("date"):
        return texts().text("load.bad_date", path=path, value=err.get("input"))
    # The message of each pydantic error type; they use some of the error's context values.
    key = f"validation.{kind}"
    template = texts().template(key) if texts().has(key) else None
    if template is not None:
        try:
            text = template.format(input=err.get("input"), **ctx)
        except (KeyError, IndexError):
            text = str(err["msg"])
    else:
        text = str(err["msg"]).removeprefix("Value error, ")
    return f"{path}: {text}" if path else text


def _format_validation(exc: ValidationError, data: Any) -> list[tuple[str | None, str]]:
    """Pydantic errors as (topic id, message) pairs in Swedish-friendly wording."""
    out: list[tuple[str | None, str]] = []
    for err in exc.errors():
        loc = list(err["loc"])
        topic_id: str | None = None
        if len(loc) >= 2 and loc[0] in ("topics", "terms") and isinstance(loc[1], int):
            try:
                item = data[loc[0]][loc[1]]
                topic_id = str(item.get("id") or item.get("term") or f"#{loc[1] + 1}")
            except (KeyError, IndexError, TypeError, AttributeError):
                topic_id = f"#{loc[1] + 1}"
            loc = loc[2:]
        # Drop pydantic's union-member tags (e.g. 'SeedSource') from the path.
        path = ".".join(str(p) for p in loc if not (isinstance(p, str) and p[:1].isupper()))
        msg = _swedish(err, loc, path)
        out.append((topic_id, msg))
    # One union failure produces an error per member; keep each message once.
    return list(dict.fromkeys(out))


def _validate(model: type[M], data: Any, rel: str, problems: list[Problem]) -> M | None:
    if data is UNREADABLE:
        return None
    if data is None:
        problems.append(Problem(rel, texts().text("load.empty")))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for topic_id, msg in _format_validation(exc, data):
            problems.append(Problem(rel, msg, topic_id))
        return None


def _topic_files(directory: Path) -> Iterable[Path]:
    return sorted((directory / "topics").glob("*.yaml"))


def _check_law_source(
    src: LawSource, laws: dict[str, Law], have_laws: bool, rel: str, topic_id: str
) -> list[Problem]:
    law = laws.get(src.law)
    if law is None:
        if not have_laws:
            return []
        return [Problem(rel, texts().text("load.unknown_law", law=src.law), topic_id)]
    out: list[Problem] = []
    if law.repealed is not None and (src.valid_until is None or src.valid_until > law.repealed):
        out.append(
            Problem(
                rel,
                texts().text("load.repealed", law=src.law, repealed=law.repealed),
                topic_id,
            )
        )
    if law.in_force is not None and src.valid_from < law.in_force:
        out.append(
            Problem(
                rel,
                texts().text(
                    "load.before_in_force",
                    cite=cite_law(law, src), valid_from=src.valid_from, in_force=law.in_force,
                ),
                topic_id,
            )
        )
    return out


def load(
    directory: Path | None = None, *, required_file: Path | None = None, strict: bool = True
) -> KnowledgeBase:
    """Load and cross-check a knowledge base; raise KnowledgeError listing every problem.

    With `strict=False` (tools working on a knowledge base that is being written) the valid
    topic files are loaded anyway and the problems are kept in `KnowledgeBase.problems`; it
    still raises when meta.yaml, the glossary or the search lexicon cannot be read.
    """
    base = Path(directory) if directory is not None else DEFAULT_DIR
    problems: list[Problem] = []

    meta = _validate(Meta, _read_yaml(base / "meta.yaml", base, problems), "meta.yaml", problems)
    seeds_f = _validate(
        SeedsFile, _read_yaml(base / "seeds.yaml", base, problems), "seeds.yaml", problems
    )
    laws_f = _validate(
        LawsFile, _read_yaml(base / "laws.yaml", base, problems), "laws.yaml", problems
    )
    glossary = _validate(
        Glossary, _read_yaml(base / "glossary.yaml", base, problems), "glossary.yaml", problems
    )
    lex_path = base / "search.yaml"
    if not lex_path.exists():
        lex_path = DEFAULT_DIR / "search.yaml"
    lexicon: SearchLexicon | None = SearchLexicon()
    if lex_path.exists():
        lexicon = _validate(
            SearchLexicon, _read_yaml(lex_path, base, problems), _rel(lex_path, base), problems
        )
    seeds = {s.id: s for s in (seeds_f.seeds if seeds_f else [])}
    laws = {law.abbr: law for law in (laws_f.laws if laws_f else [])}

    topics: list[Topic] = []
    origin: dict[int, str] = {}
    files = list(_topic_files(base))
    broken: list[str] = []  # topic files that could not be read or validated
    if not files:
        problems.append(Problem("topics/", texts().text("load.no_topics")))
    for path in files:
        rel = _rel(path, base)
        tf = _validate(TopicFile, _read_yaml(path, base, problems), rel, problems)
        if tf is None:
            broken.append(rel)
            continue
        for t in tf.topics:
            origin[id(t)] = rel
            topics.append(t)

    # Cross-references. Ids defined in a topic file that failed validation are unknown, so
    # references to topics are only checked when every topic file could be read.
    by_id: dict[str, list[Topic]] = {}
    for t in topics:
        by_id.setdefault(t.id, []).append(t)
    unchecked = 0

    def dangling(topic_id: str) -> bool:
        nonlocal unchecked
        if topic_id in by_id:
            return False
        if broken:
            unchecked += 1
            return False
        return True

    for t in topics:
        rel = origin[id(t)]
        for src in t.sources:
            if isinstance(src, SeedSource) and seeds_f is not None and src.seed not in seeds:
                unknown = texts().text("load.unknown_seed", seed=src.seed)
                problems.append(Problem(rel, unknown, t.id))
            if isinstance(src, LawSource):
                problems += _check_law_source(src, laws, laws_f is not None, rel, t.id)
        for rel_id in t.related:
            if dangling(rel_id):
                unknown = texts().text("load.unknown_related", topic=rel_id)
                problems.append(Problem(rel, unknown, t.id))
    for topic_id, versions in by_id.items():
        if len(versions) > 1:
            ordered = sorted(versions, key=lambda v: v.valid_from or date.min)
            for a, b in pairwise(ordered):
                if a.valid_until is None or (b.valid_from or date.min) < a.valid_until:
                    problems.append(
                        Problem(
                            origin[id(b)],
                            texts().text("load.overlapping_versions"),
                            topic_id,
                        )
                    )
    if glossary is not None:
        seen_terms: set[str] = set()
        for term in glossary.terms:
            key = term.term.casefold()
            if key in seen_terms:
                problems.append(
                    Problem("glossary.yaml", texts().text("load.duplicate_term"), term.term)
                )
            seen_terms.add(key)
            if term.topic is not None and dangling(term.topic):
                problems.append(
                    Problem(
                        "glossary.yaml",
                        texts().text("load.unknown_term_topic", topic=term.topic),
                        term.term,
                    )
                )

    required: dict[str, dict[str, Any]] = {}
    req_path = required_file if required_file is not None else base / "required-topics.yaml"
    if req_path.exists():
        req_rel = _rel(req_path, base)
        req = _read_yaml(req_path, base, problems)
        items = req.get("topics") if isinstance(req, dict) else None
        if req is UNREADABLE:
            items = []
        elif not isinstance(items, list):
            problems.append(Problem(req_rel, texts().text("load.required_not_list")))
            items = []
        for n, item in enumerate(items, start=1):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                problems.append(Problem(req_rel, texts().text("load.required_no_id", number=n)))
                continue
            required[item["id"]] = item
            if dangling(item["id"]):
                missing = texts().text("load.required_missing", topic=item["id"])
                problems.append(Problem(req_rel, missing))
    if unchecked:
        problems.append(
            Problem(
                "topics/",
                texts().text("load.unchecked", count=unchecked, files=", ".join(broken)),
            )
        )

    if problems and (strict or meta is None or glossary is None or lexicon is None):
        raise KnowledgeError(problems)
    assert meta is not None and glossary is not None and lexicon is not None
    return KnowledgeBase(
        meta=meta,
        seeds=seeds,
        laws=laws,
        topics=topics,
        glossary=glossary,
        directory=base,
        required=required,
        lexicon=lexicon,
        problems=problems,
    )
