"""The data model of a kommun profile (knowledge.kommun loads and checks it): the files'
schemas, validated strictly, and the loaded profile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from knowledge import texts
from knowledge.model import TOPIC_ID, Strict, Term

KOMMUN_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
HTTPS = r"^https://\S+$"

# Forum kinds every profile may use; a profile adds its own under `forum_kinds`.
FORUM_KINDS: tuple[str, ...] = (
    "bus",
    "konsultationsgrupp",
    "2+2",
    "styrgrupp",
    "motesplats",
    "arbetsgrupp",
    "uppfoljning",
    "polissamverkan",
    "ledningsgrupp",
    "sip",
)

Id = Annotated[str, Field(pattern=KOMMUN_ID, max_length=80)]


class Unit(Strict):
    """A stadsdel (or the one socialtjänst) that receives reports."""

    id: Id
    name: Annotated[str, Field(min_length=2)]


class Organisation(Strict):
    kind: Literal["socialtjanst", "stadsdelar"]
    name: Annotated[str, Field(min_length=2)]
    units: list[Unit] = []

    @model_validator(mode="after")
    def _units(self) -> Organisation:
        if self.kind == "stadsdelar" and len(self.units) < 2:
            raise ValueError(texts().text("kommun.two_units"))
        return self


class Page(Strict):
    title: Annotated[str, Field(min_length=2)]
    url: Annotated[str, Field(pattern=HTTPS)]


class Links(Strict):
    orosanmalan: Annotated[str, Field(pattern=HTTPS)] | None = None
    pages: list[Page] = []


class Document(Strict):
    """A local document a routine cites: named in words, with a link only when one is known."""

    id: Id
    title: Annotated[str, Field(min_length=3)]
    organisation: Annotated[str, Field(min_length=2)]
    year: Annotated[str, Field(pattern=r"^\d{4}$")]
    seed: Annotated[str, Field(pattern=r"^\d{3}$")] | None = None
    url: Annotated[str, Field(pattern=HTTPS)] | None = None


class KommunFile(Strict):
    id: Id
    name: Annotated[str, Field(min_length=2)]
    short_name: Annotated[str, Field(min_length=2)]
    example: bool
    organisation: Organisation
    links: Links = Links()
    documents: Annotated[list[Document], Field(min_length=1)]
    forum_kinds: list[Annotated[str, Field(min_length=1, max_length=40)]] = []


class RoutineSource(Strict):
    document: str
    section: str | None = None


class Routine(Strict):
    topic: Annotated[str, Field(pattern=TOPIC_ID)]
    unit: str | None = None
    text: Annotated[str, Field(min_length=20, max_length=1500)]
    source: RoutineSource
    valid_from: date
    valid_until: date | None = None
    changed: str | None = None
    forums: list[str] = []

    @model_validator(mode="after")
    def _dates(self) -> Routine:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError(texts().text("model.until_before_from"))
        return self

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)


class RoutinesFile(Strict):
    routines: list[Routine]


class Word(Strict):
    word: Annotated[str, Field(min_length=2, max_length=80)]
    topics: Annotated[list[Annotated[str, Field(pattern=TOPIC_ID)]], Field(min_length=1)]
    also: list[str] = []  # other spellings of the same word
    # The knowledge base's own words for it ("socialtjänsten", "mottagningen"); default: the
    # first keyword of each of its topics.
    means: list[Annotated[str, Field(min_length=2)]] = []
    # With an explanation the word is also a glossary term of this kommun's bot ("vad betyder
    # LEFA?"): `long` is what it stands for; the national glossary holds no kommun's words.
    long: Annotated[str, Field(min_length=2, max_length=120)] | None = None
    explanation: Annotated[str, Field(min_length=10, max_length=600)] | None = None

    def term(self) -> Term | None:
        """The word as a glossary term (None without an explanation)."""
        if self.explanation is None:
            return None
        return Term(
            term=self.word,
            long=self.long,
            explanation=self.explanation,
            aliases=list(self.also),
            topic=self.topics[0],
        )


class WordsFile(Strict):
    words: list[Word]


@dataclass(frozen=True)
class ForumInfo:
    id: str
    name: str
    kind: str | None


@dataclass(frozen=True)
class KommunProblem:
    """One problem of a profile: `code` names its kind (stable; tests and tools use it)."""

    file: str
    code: str
    message: str
    item: str | None = None

    def __str__(self) -> str:
        where = self.file + (f" [{self.item}]" if self.item else "")
        return f"{where}: {self.message} ({self.code})"


class KommunError(Exception):
    def __init__(self, problems: Sequence[KommunProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class KommunProfile:
    id: str
    directory: Path
    info: KommunFile
    routines: tuple[Routine, ...] = ()
    words: tuple[Word, ...] = ()
    forums: tuple[ForumInfo, ...] = ()
    has_registry: bool = False
    digest: str = ""

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def example(self) -> bool:
        return self.info.example

    def routines_for(self, topic_id: str, day: date) -> list[Routine]:
        return [r for r in self.routines if r.topic == topic_id and r.valid_on(day)]

    def document(self, doc_id: str) -> Document | None:
        return next((d for d in self.info.documents if d.id == doc_id), None)

    def forum(self, forum_id: str) -> ForumInfo | None:
        return next((f for f in self.forums if f.id == forum_id), None)

    def unit_name(self, unit_id: str | None) -> str | None:
        if unit_id is None:
            return None
        return next((u.name for u in self.info.organisation.units if u.id == unit_id), None)

    def terms(self) -> list[Term]:
        """The kommun's own glossary terms (its words with an explanation)."""
        return [t for w in self.words if (t := w.term()) is not None]

    def aliases(self) -> dict[str, list[str]]:
        """Topic id → the kommun's words for it (search takes them as extra keywords)."""
        out: dict[str, list[str]] = {}
        for w in self.words:
            for topic_id in w.topics:
                out.setdefault(topic_id, []).extend([w.word, *w.also])
        return out

    @property
    def forums_file(self) -> Path | None:
        path = self.directory / "forums.yaml"
        return path if path.exists() else None

    @property
    def registry_file(self) -> Path | None:
        path = self.directory / "registry.yaml"
        return path if path.exists() else None
