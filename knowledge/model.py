"""The knowledge base's data model, validated strictly.

Unknown keys, missing sources, bad dates and dangling references are errors; every error names
the file and the topic it was found in (see knowledge.loader).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from knowledge import texts

TOPIC_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SEED_ID = r"^\d{3}$"
# A topic's lead (the short answer shown first) and its button title.
LEAD_MAX_WORDS = 60
SHORT_TITLE_MAX = 30  # "Mer om " / "Läs mer: " + a short title stays within Teams' 40 characters
BUTTON_MAX = 40
PARAGRAPH = re.compile(r"^\d+( ?[a-z])?(\s*[–-]\s*\d+( ?[a-z])?)?$")

Category = Literal[
    "anmalan", "konsultation", "vardnadshavare", "aterkoppling", "sekretess", "akut", "samverkan"
]


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, coerce_numbers_to_str=True
    )


class Seed(Strict):
    """One of the documents the product grew from (../shared/seeds). Users see its `name`
    ("Östermalms rutin 2007"), never its file name."""

    id: Annotated[str, Field(pattern=SEED_ID)]
    file: str
    name: Annotated[str, Field(min_length=3, max_length=60)]
    title: str
    organisation: str
    year: str
    # The kommun profile (knowledge/data/kommuner/<id>) whose routines the document holds.
    kommun: str | None = None
    url: str | None = None

    @field_validator("name")
    @classmethod
    def _no_file_name(cls, v: str) -> str:
        if re.search(r"\.(txt|pdf|docx?)\b", v):
            raise ValueError(texts().text("model.seed_name_file"))
        return v

    def shown_in(self, kommun_id: str | None) -> bool:
        """Whether answers for `kommun_id` (None: no kommun) may cite this document: a
        kommun's own document only for that kommun, never for another one or for none."""
        return self.kommun is None or self.kommun == kommun_id


class Law(Strict):
    """A statute the knowledge base cites, e.g. SoL = Socialtjänstlag (2025:400); users see
    `display` ("Socialtjänstlagen") with a link to `url` (the statute's public text; when
    absent, Regeringskansliets rättsdatabas by SFS number: knowledge.cite.law_url)."""

    abbr: str
    name: str
    display: Annotated[str, Field(min_length=2, max_length=60)]
    sfs: Annotated[str, Field(pattern=r"^\d{4}:\d+$")]
    url: Annotated[str, Field(pattern=r"^https://")] | None = None
    in_force: date | None = None
    repealed: date | None = None


class SeedSource(Strict):
    seed: Annotated[str, Field(pattern=SEED_ID)]
    note: str | None = None


class LawSource(Strict):
    """A provision: law abbreviation (laws.yaml), chapter (if the law has chapters), paragraph."""

    law: str
    # A number, or a number and a letter for inserted chapters ("6 a" in the Skollag).
    chapter: (
        Annotated[int, Field(ge=1)] | Annotated[str, Field(pattern=r"^\d+ [a-z]$")] | None
    ) = None
    paragraph: str
    part: str | None = Field(default=None, description='e.g. "2 st." or "p. 4"')
    valid_from: date
    valid_until: date | None = None
    note: str | None = None

    @field_validator("paragraph")
    @classmethod
    def _paragraph_shape(cls, v: str) -> str:
        if not PARAGRAPH.match(v):
            raise ValueError(texts().text("model.paragraph", value=v))
        return v

    @model_validator(mode="after")
    def _dates_in_order(self) -> LawSource:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError(texts().text("model.until_before_from"))
        return self


class GuidanceSource(Strict):
    """Secondary guidance (Socialstyrelsen, municipal routines): practice, never stated as law."""

    guidance: str
    url: str | None = None


def _source_kind(value: Any) -> str | None:
    """Which kind of source an entry is, by its key: one clear error instead of one per kind."""
    if isinstance(value, dict):
        for key, tag in (("seed", "Seed"), ("law", "Law"), ("guidance", "Guidance")):
            if key in value:
                return tag
        return None
    for cls, tag in ((SeedSource, "Seed"), (LawSource, "Law"), (GuidanceSource, "Guidance")):
        if isinstance(value, cls):
            return tag
    return None


# Tags are capitalised so that error paths (knowledge.loader) leave them out.
Source = Annotated[
    Annotated[SeedSource, Tag("Seed")]
    | Annotated[LawSource, Tag("Law")]
    | Annotated[GuidanceSource, Tag("Guidance")],
    Discriminator(
        _source_kind,
        custom_error_type="source_kind",
        # Read when this module is imported: pydantic needs the text when it builds the schema.
        custom_error_message=texts().text("model.source_kind"),
    ),
]


class Topic(Strict):
    id: Annotated[str, Field(pattern=TOPIC_ID, max_length=80)]
    title: Annotated[str, Field(min_length=3, max_length=120)]
    # The short answer shown first: what to do, in plain Swedish (≤ LEAD_MAX_WORDS words).
    lead: Annotated[str, Field(min_length=20)]
    # The topic on a button ("Läs också", "Mer om …"): ≤ SHORT_TITLE_MAX characters.
    short_title: Annotated[str, Field(min_length=2, max_length=SHORT_TITLE_MAX)]
    category: Category
    answer: Annotated[str, Field(min_length=40, max_length=1200)]
    details: str | None = None
    changed: str | None = Field(
        default=None, description="What changed compared with older rules (e.g. in the seeds)."
    )
    examples: Annotated[list[str], Field(min_length=3)]
    keywords: list[str] = []
    related: list[str] = []
    offer: list[Literal["concern", "report", "contacts", "forums", "feedback"]] = []
    sources: Annotated[list[Source], Field(min_length=1)]
    valid_from: date | None = None
    valid_until: date | None = None

    @field_validator("lead")
    @classmethod
    def _lead_short(cls, v: str) -> str:
        words = len(v.split())
        if words > LEAD_MAX_WORDS:
            raise ValueError(texts().text("model.lead_long", words=words, most=LEAD_MAX_WORDS))
        return v

    @model_validator(mode="after")
    def _check(self) -> Topic:
        if not any(isinstance(s, SeedSource | LawSource) for s in self.sources):
            raise ValueError(texts().text("model.no_seed_or_law"))
        if self.id in self.related:
            raise ValueError(texts().text("model.related_to_itself"))
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise ValueError(texts().text("model.until_before_from"))
        return self

    def valid_on(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return not (self.valid_until is not None and day >= self.valid_until)


class TopicFile(Strict):
    topics: list[Topic]


class Term(Strict):
    """A glossary entry: explains a term and feeds search with its synonyms."""

    term: str
    long: str | None = None
    explanation: Annotated[str, Field(min_length=10)]
    aliases: list[str] = []
    topic: str | None = None


class Glossary(Strict):
    terms: list[Term]
    # Search-only equivalence groups: words staff use for the same thing ("soc", "socialen").
    synonyms: list[Annotated[list[str], Field(min_length=2)]] = []


class Meta(Strict):
    version: str
    legal_checked: date
    legal_note: str
    timezone: str = "Europe/Stockholm"


class Expansion(Strict):
    """Search only, question side: when a user writes one of `words`, also look for `means`."""

    words: Annotated[list[str], Field(min_length=1)]
    means: Annotated[list[str], Field(min_length=1)]


class SearchLexicon(Strict):
    """Language data for search (search.yaml): never shown to users, never an answer."""

    # English function words (left out when search reads a text) and more common English
    # words; with common Swedish words they tell which questions read as English.
    english: list[str] = []
    english_more: list[str] = []
    swedish: list[str] = []
    # Words or phrases that mean the same thing, on both sides of the search.
    equivalents: list[Annotated[list[str], Field(min_length=2)]] = []
    # Everyday or English wording → the knowledge base's words.
    expansions: list[Expansion] = []
    # Phrases that make a question a request to explain a term ("vad betyder", "står för").
    definition_cues: list[str] = []
    # Messages outside the bot's field (school life with no child at risk, the staff member's
    # own matters, small talk): the topic model's class "outside".
    outside_examples: list[str] = []


class SeedsFile(Strict):
    seeds: list[Seed]


class LawsFile(Strict):
    laws: list[Law]
