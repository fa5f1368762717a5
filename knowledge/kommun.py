"""Kommun profiles: the local layer on top of the national knowledge base.

A profile is a folder (`knowledge/data/kommuner/<id>/`, or one under SAMVERKAN_KOMMUN_DIR):

- `kommun.yaml`: id, name, organisation (one socialtjänst or stadsdelar), whether it is an
  example, links (the e-tjänst for orosanmälan, pages) and the documents its routines cite;
- `routines.yaml`: local routines per topic id (text, source document, valid_from, changed);
- `words.yaml`: the kommun's own words ("familjeenheten", "PRISMA") and the topics they mean;
- `forums.yaml` and `registry.yaml` (optional): the `forums import` and `registry import`
  formats; read here only for forum ids, names and kinds (samverkan.kommun_check parses them
  fully).

Every problem is a `KommunProblem` with a stable code (`unknown-topic`, `bad-date`,
`unknown-forum-kind`, `broken-source`, `missing-field`, …) so that `samverkan kb check` lists
named errors. Search takes a profile's words as extra keywords of the topics they alias
(`with_profile`), additive only.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from knowledge import texts
from knowledge.kommun_model import (
    FORUM_KINDS,
    Document,
    ForumInfo,
    KommunError,
    KommunFile,
    KommunProblem,
    KommunProfile,
    RoutinesFile,
    WordsFile,
)
from knowledge.loader import (
    DEFAULT_DIR,
    UNREADABLE,
    KnowledgeBase,
    Problem,
    _read_yaml,
    _swedish,
)
from knowledge.model import Expansion, SearchLexicon

BUILTIN_DIR = DEFAULT_DIR / "kommuner"
# The profile used when SAMVERKAN_KOMMUN is not set (an example, and said so).
DEFAULT_KOMMUN = "stockholm"
def _code(err: dict[str, Any]) -> str:
    kind = str(err["type"])
    if kind == "missing":
        return "missing-field"
    if kind.startswith("date"):
        return "bad-date"
    if kind == "extra_forbidden":
        return "unknown-key"
    return "invalid"


def _validate(model: Any, data: Any, rel: str, problems: list[KommunProblem]) -> Any:
    if data is UNREADABLE:
        return None
    if data is None:
        problems.append(KommunProblem(rel, "empty-file", texts().text("load.empty")))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"])
            code = _code(dict(err))
            msg = _swedish(err, list(err["loc"]), path)
            problems.append(KommunProblem(rel, code, msg))
        return None


def _read(path: Path, base: Path, problems: list[KommunProblem]) -> Any:
    found: list[Problem] = []
    data = _read_yaml(path, base, found)
    for p in found:
        code = "missing-file" if not path.exists() else "bad-yaml"
        problems.append(KommunProblem(p.file, code, p.message))
    return data


def _forum_infos(
    path: Path, rel: str, base: Path, problems: list[KommunProblem]
) -> list[ForumInfo]:
    data = _read(path, base, problems)
    items = data.get("forums") if isinstance(data, dict) else None
    out: list[ForumInfo] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            kind = item.get("kind")
            name = item.get("name")
            out.append(ForumInfo(item["id"], str(name or item["id"]), str(kind) if kind else None))
    return out


def load_profile(
    directory: Path, topic_ids: Iterable[str], seed_ids: Iterable[str] = ()
) -> tuple[KommunProfile | None, list[KommunProblem]]:
    """One profile and every problem found in it (the profile is None when there are any)."""
    directory = Path(directory)
    base = directory.parent
    problems: list[KommunProblem] = []
    topics, seeds = set(topic_ids), set(seed_ids)
    rel = f"{directory.name}/"
    info: KommunFile | None = _validate(
        KommunFile, _read(directory / "kommun.yaml", base, problems), rel + "kommun.yaml", problems
    )
    routines_f: RoutinesFile | None = None
    if (directory / "routines.yaml").exists():
        routines_f = _validate(
            RoutinesFile,
            _read(directory / "routines.yaml", base, problems),
            rel + "routines.yaml",
            problems,
        )
    words_f: WordsFile | None = None
    if (directory / "words.yaml").exists():
        words_f = _validate(
            WordsFile, _read(directory / "words.yaml", base, problems), rel + "words.yaml", problems
        )
    forums: list[ForumInfo] = []
    if (directory / "forums.yaml").exists():
        forums = _forum_infos(directory / "forums.yaml", rel + "forums.yaml", base, problems)

    def add(file: str, code: str, key: str, item: str | None = None, **values: Any) -> None:
        problems.append(KommunProblem(rel + file, code, texts().text(key, **values), item))

    if info is not None:
        if info.id != directory.name:
            add(
                "kommun.yaml",
                "id-mismatch",
                "kommun.id_mismatch",
                id=info.id,
                folder=directory.name,
            )
        for doc in info.documents:
            if doc.seed is not None and seeds and doc.seed not in seeds:
                add("kommun.yaml", "broken-source", "kommun.unknown_seed", doc.id, seed=doc.seed)
        kinds = set(FORUM_KINDS) | set(info.forum_kinds)
        for forum in forums:
            if forum.kind is not None and forum.kind not in kinds:
                add(
                    "forums.yaml",
                    "unknown-forum-kind",
                    "kommun.unknown_kind",
                    forum.id,
                    kind=forum.kind,
                    kinds=", ".join(sorted(kinds)),
                )
    forum_ids = {f.id for f in forums}
    if routines_f is not None:
        for r in routines_f.routines:
            if r.topic not in topics:
                add(
                    "routines.yaml", "unknown-topic", "kommun.unknown_topic", r.topic, topic=r.topic
                )
            if info is not None and info.id == directory.name:
                if not any(d.id == r.source.document for d in info.documents):
                    add(
                        "routines.yaml",
                        "broken-source",
                        "kommun.unknown_document",
                        r.topic,
                        document=r.source.document,
                    )
                units = {u.id for u in info.organisation.units}
                if r.unit is not None and r.unit not in units:
                    add(
                        "routines.yaml", "unknown-unit", "kommun.unknown_unit", r.topic, unit=r.unit
                    )
            for forum_id in r.forums:
                if forum_id not in forum_ids:
                    add(
                        "routines.yaml",
                        "unknown-forum",
                        "kommun.unknown_forum",
                        r.topic,
                        forum=forum_id,
                    )
    if words_f is not None:
        for w in words_f.words:
            for topic_id in w.topics:
                if topic_id not in topics:
                    add(
                        "words.yaml",
                        "unknown-topic",
                        "kommun.unknown_topic",
                        w.word,
                        topic=topic_id,
                    )
    if problems or info is None:
        return None, problems
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.y*ml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    profile = KommunProfile(
        id=info.id,
        directory=directory,
        info=info,
        routines=tuple(routines_f.routines) if routines_f else (),
        words=tuple(words_f.words) if words_f else (),
        forums=tuple(forums),
        has_registry=(directory / "registry.yaml").exists(),
        digest=digest.hexdigest()[:16],
    )
    return profile, []


def profile_dirs(kb_dir: Path | None = None, extra: Path | None = None) -> dict[str, Path]:
    """Profile id → folder: the knowledge base's own profiles (`<kb_dir>/kommuner`, by default
    the built-in ones) and those of `extra` (which win)."""
    found: dict[str, Path] = {}
    own = Path(kb_dir) / "kommuner" if kb_dir is not None else BUILTIN_DIR
    for root in (own, extra):
        if root is None or not Path(root).is_dir():
            continue
        for sub in sorted(Path(root).iterdir()):
            if sub.is_dir() and (sub / "kommun.yaml").exists():
                found[sub.name] = sub
    return found


def choose_kommun(
    option: str | None,
    setting: str | None,
    *,
    kb_dir: Path | None = None,
    extra_dir: Path | None = None,
) -> str | None:
    """The kommun a command acts for, without loading the profiles: `option` (--kommun), else
    `setting` (SAMVERKAN_KOMMUN), else the example profile DEFAULT_KOMMUN when it exists, else
    None (a knowledge base without profiles). KommunError ("unknown-kommun", naming where the
    id came from) when the chosen id has no profile folder."""
    folders = profile_dirs(kb_dir, extra_dir)
    chosen, source = (option, "--kommun") if option else (setting, "SAMVERKAN_KOMMUN")
    if not chosen:
        return DEFAULT_KOMMUN if DEFAULT_KOMMUN in folders else None
    if chosen not in folders:
        message = texts().text(
            "kommun.unknown_kommun", kommun=chosen, known=", ".join(sorted(folders)) or "-"
        )
        raise KommunError([KommunProblem(source, "unknown-kommun", message)])
    return chosen


@dataclass(frozen=True)
class Kommuner:
    """Every readable profile, the default one and the Teams tenant → profile map. A knowledge
    base without profiles and no kommun chosen has no local layer (`default` None)."""

    profiles: dict[str, KommunProfile]
    default: str | None
    tenants: dict[str, str] = field(default_factory=dict)

    def for_tenant(self, tenant_id: str | None) -> KommunProfile | None:
        chosen = self.tenants.get(tenant_id or "", self.default)
        return self.profiles[chosen] if chosen is not None else None

    @property
    def in_use(self) -> list[str]:
        ids = [self.default, *self.tenants.values()]
        return list(dict.fromkeys(i for i in ids if i is not None))


def load_kommuner(
    kb: KnowledgeBase,
    *,
    extra_dir: Path | None = None,
    default: str | None = None,
    tenants: dict[str, str] | None = None,
) -> Kommuner:
    """All profiles, checked against `kb`; KommunError naming every problem, including a
    chosen kommun (default or per tenant) that has no profile. Without a chosen default the
    example profile DEFAULT_KOMMUN is used when it exists."""
    if extra_dir is not None and not Path(extra_dir).is_dir():
        raise KommunError(
            [KommunProblem(str(extra_dir), "missing-file", texts().text("kommun.no_dir"))]
        )
    topic_ids = {t.id for t in kb.topics}
    problems: list[KommunProblem] = []
    profiles: dict[str, KommunProfile] = {}
    folders = profile_dirs(kb.directory, extra_dir)
    for kommun_id, folder in folders.items():
        profile, found = load_profile(folder, topic_ids, kb.seeds)
        problems += found
        if profile is not None:
            profiles[kommun_id] = profile
    chosen = default or (DEFAULT_KOMMUN if DEFAULT_KOMMUN in folders else None)
    wanted = {f"SAMVERKAN_TENANT_KOMMUNER[{t}]": k for t, k in (tenants or {}).items()}
    if chosen is not None:
        wanted["SAMVERKAN_KOMMUN"] = chosen
    for setting, kommun_id in wanted.items():
        if kommun_id not in folders:
            problems.append(
                KommunProblem(
                    setting,
                    "unknown-kommun",
                    texts().text(
                        "kommun.unknown_kommun",
                        kommun=kommun_id,
                        known=", ".join(sorted(folders)) or "-",
                    ),
                )
            )
    if problems:
        raise KommunError(problems)
    return Kommuner(profiles=profiles, default=chosen, tenants=dict(tenants or {}))


def with_profile(kb: KnowledgeBase, profile: KommunProfile) -> KnowledgeBase:
    """`kb` as one kommun sees it: the profile attached (answers add its routines) and its words
    understood by search. The words reach today's search as question-side expansions (a
    question with "PRISMA" is also read as "samverkansforum"), so that the topics, their
    training and every question without the kommun's words are exactly as before; the
    per-topic phrasings (`KommunProfile.aliases`) are there for an engine that takes them.
    The national topics' texts are not changed."""
    return dataclasses.replace(
        kb, lexicon=_with_expansions(kb, profile), kommun=profile, _by_day={}
    )


def _with_expansions(kb: KnowledgeBase, profile: KommunProfile) -> SearchLexicon:
    first: dict[str, str] = {}
    for topic in kb.topics:
        first.setdefault(topic.id, topic.keywords[0] if topic.keywords else topic.title)
    added = [
        Expansion(
            words=[w.word, *w.also],
            means=list(dict.fromkeys(w.means or [first[t] for t in w.topics if t in first])),
        )
        for w in profile.words
        if w.means or any(t in first for t in w.topics)
    ]
    return kb.lexicon.model_copy(update={"expansions": [*kb.lexicon.expansions, *added]})


def kommun_id(kb: KnowledgeBase) -> str | None:
    return kb.kommun.id if kb.kommun is not None else None


def shows_seed(kb: KnowledgeBase, seed_id: str) -> bool:
    """Whether answers of `kb` may cite the seed document `seed_id`: a kommun's document only
    when that kommun is the kb's (knowledge.model.Seed.shown_in)."""
    seed = kb.seeds.get(seed_id)
    return seed is None or seed.shown_in(kommun_id(kb))


def national_sources(kb: KnowledgeBase, sources: Iterable[Any]) -> list[Any]:
    """A topic's (or a flow's) sources as the kb's kommun sees them: the seed documents of
    other kommuner are left out – without a kommun, those of every kommun (never another
    kommun's routine)."""
    out = []
    for src in sources:
        seed = getattr(src, "seed", None)
        if isinstance(seed, str) and not shows_seed(kb, seed):
            continue
        out.append(src)
    return out


def local_documents(kb: KnowledgeBase, topic_id: str, day: date) -> list[Document]:
    """The documents of the kb's kommun that its routines for `topic_id` cite."""
    profile = kb.kommun
    if profile is None:
        return []
    docs = [profile.document(r.source.document) for r in profile.routines_for(topic_id, day)]
    return list({d.id: d for d in docs if d is not None}.values())


def without_seeds(sources: Iterable[Any], docs: Iterable[Document]) -> list[Any]:
    """`sources` without the seed documents that `docs` name in words already."""
    named = {d.seed for d in docs if d.seed is not None}
    return [s for s in sources if getattr(s, "seed", None) not in named]


def sources_json(kb: KnowledgeBase, topic: Any, day: date) -> list[dict[str, Any]]:
    """The contract's `sources` of an answer: law, guidance and local (with their kommun)."""
    own = kommun_id(kb)
    out: list[dict[str, Any]] = []
    docs = local_documents(kb, topic.id, day)
    for src in without_seeds(national_sources(kb, topic.sources), docs):
        if getattr(src, "law", None) is not None:
            out.append({"kind": "law", "ref": kb.cite(src), "kommun": None})
        elif getattr(src, "guidance", None) is not None:
            out.append({"kind": "guidance", "ref": kb.cite(src), "kommun": None})
        else:
            seed = kb.seeds.get(src.seed)
            if seed is None or seed.kommun is None:
                continue
            out.append({"kind": "local", "ref": seed.title, "kommun": seed.kommun})
    for doc in docs:
        out.append({"kind": "local", "ref": doc.title, "kommun": own})
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for item in out:
        unique.setdefault((item["kind"], item["ref"]), item)
    return list(unique.values())
