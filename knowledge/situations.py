"""Recognising, in a free-text message, a child who may be harmed (a situation, not a question).

A member of staff does not always ask a question: "eleven säger att pappa slår henne" describes a
child at risk. Such a message must never be declined; the bot offers the concern dialog with what
to do first, and shows the 112 card first when the danger may be acute. `samverkan ask --json`
reports the same decisions as `concern` and `acute` (shared/spec/contracts.md).

How it decides (settings and phrases in knowledge/data/situations.yaml, training messages in
knowledge/data/situations-training.yaml):

- concern: a scikit-learn logistic regression over character 2–5-grams and word 1–2-grams of the
  folded text (lower case, without diacritics, so "slar" is "slår"; knowledge.situation_model),
  trained when the detector is built (a fraction of a second) or loaded from the cache of an
  earlier start with the same training messages; a concern when the probability reaches
  `concern_threshold` (`concern_threshold_without_person` when the message names no person).
- acute: a phrase of `acute_phrases` in the message (the safety net, whatever the model says), or
  a concern that says the danger is now (`acute_if_concern`) or whose acute probability (a second
  model on the same features) reaches `acute_threshold`. An acute phrase about a particular child
  (a pronoun or a definite noun) is a concern as well.
- worry only: a short message with a worry word and a word for a child ("jag är orolig för en
  elev") starts the dialog at once.

Nothing a user writes is kept: the detector holds only the models built from the training file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from common.text import fold
from knowledge import texts
from knowledge.loader import DEFAULT_DIR, KnowledgeError, Problem, _read_yaml, _validate
from knowledge.model import Strict
from knowledge.situation_model import LinearModels, load_or_train

SETTINGS_FILE = "situations.yaml"
TRAINING_FILE = "situations-training.yaml"
_TOKEN = re.compile(r"[a-z0-9]+")


class WorrySettings(Strict):
    max_words: Annotated[int, Field(ge=3, le=30)]
    words: Annotated[list[str], Field(min_length=1)]
    children: Annotated[list[str], Field(min_length=1)]


class SituationSettings(Strict):
    concern_threshold: Annotated[float, Field(gt=0, lt=1)]
    concern_threshold_without_person: Annotated[float, Field(gt=0, lt=1)]
    acute_threshold: Annotated[float, Field(gt=0, lt=1)]
    acute_phrases: Annotated[list[str], Field(min_length=1)]
    acute_if_concern: Annotated[list[str], Field(min_length=1)]
    worry: WorrySettings
    particular_child: Annotated[list[str], Field(min_length=1)]
    person_words: Annotated[list[str], Field(min_length=1)]


class TrainingMessage(Strict):
    text: Annotated[str, Field(min_length=2, max_length=2000)]
    concern: bool
    acute: bool


class TrainingFile(Strict):
    messages: Annotated[list[TrainingMessage], Field(min_length=20)]


@dataclass(frozen=True)
class Situation:
    """What a message says about a child: at risk (`concern`), maybe in acute danger (`acute`),
    or only that the writer is worried about one (`worry_only`: start the dialog at once)."""

    concern: bool
    acute: bool
    worry_only: bool
    score: float  # the concern model's probability
    acute_score: float


def tokens(text: str) -> list[str]:
    """Folded words: 'Hon SÄGER att…' → ['hon', 'sager', 'att', …]."""
    return _TOKEN.findall(fold(text))


class PhraseSet:
    """Phrases matched as whole folded words; a trailing '*' matches the beginning of a word."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._phrases: list[tuple[str, bool]] = []
        for p in phrases:
            prefix = p.endswith("*")
            folded = " ".join(tokens(p.rstrip("*")))
            if folded:
                self._phrases.append((folded, prefix))

    def __call__(self, text: str) -> bool:
        return self.find(" ".join(tokens(text))) is not None

    def find(self, folded_words: str) -> str | None:
        padded = f" {folded_words} "
        for phrase, prefix in self._phrases:
            if (f" {phrase}" if prefix else f" {phrase} ") in padded:
                return phrase
        return None


class SituationDetector:
    def __init__(self, settings: SituationSettings, models: LinearModels) -> None:
        self.settings = settings
        self.models = models  # [0]: concern, [1]: acute
        self._acute_phrases = PhraseSet(settings.acute_phrases)
        self._now = PhraseSet(settings.acute_if_concern)
        self._worry = PhraseSet(settings.worry.words)
        self._children = PhraseSet(settings.worry.children)
        self._particular = PhraseSet(settings.particular_child)
        self._person = PhraseSet(settings.person_words)

    @classmethod
    def build(cls, directory: Path | None = None) -> SituationDetector:
        """Read the settings and the training messages and train both models (a fraction of a
        second, and a second to import scikit-learn). KnowledgeError lists every problem with
        the files."""
        settings, messages = load_files(directory)
        return cls(settings, train(messages))

    @classmethod
    def load_or_build(cls, directory: Path | None, cache_dir: Path | None) -> SituationDetector:
        """As `build`, with the models from `cache_dir` when they were trained before from the
        same training messages (knowledge.situation_model.load_or_train); no cache_dir:
        trained."""
        settings, messages = load_files(directory)
        return cls(settings, train(messages, cache_dir))

    def acute_phrase(self, text: str) -> bool:
        return self._acute_phrases(text)

    def says_now(self, text: str) -> bool:
        return self._now(text)

    def names_a_person(self, text: str) -> bool:
        return self._person(text)

    def __call__(self, text: str) -> Situation:
        words = tokens(text)
        if not words:
            return Situation(False, False, False, 0.0, 0.0)
        joined = " ".join(words)
        score, acute_score = self.models.probabilities(text)
        threshold = (
            self.settings.concern_threshold
            if self._person.find(joined) is not None
            else self.settings.concern_threshold_without_person
        )
        concern = score >= threshold
        phrase = self._acute_phrases.find(joined) is not None
        if phrase and self._particular.find(joined) is not None:
            concern = True  # "hon ska giftas bort", "barnet är i fara": about a child, now
        acute = phrase or (
            concern
            and (acute_score >= self.settings.acute_threshold or self._now.find(joined) is not None)
        )
        worry_only = (
            len(words) <= self.settings.worry.max_words
            and self._worry.find(joined) is not None
            and self._children.find(joined) is not None
        )
        # A worry about a child is a concern, whatever the model makes of a short message.
        return Situation(concern or worry_only, acute, worry_only, score, acute_score)


def train(messages: Sequence[TrainingMessage], cache_dir: Path | None = None) -> LinearModels:
    """The concern and the acute model, on the same features (from `cache_dir` when they were
    trained there before from the same messages)."""
    texts = [m.text for m in messages]
    labels = [[m.concern for m in messages], [m.acute for m in messages]]
    return load_or_train(texts, labels, cache_dir)


def load_files(
    directory: Path | None = None,
) -> tuple[SituationSettings, list[TrainingMessage]]:
    base = Path(directory) if directory is not None else DEFAULT_DIR
    problems: list[Problem] = []
    raw: Any = _read_yaml(base / SETTINGS_FILE, base, problems)
    settings = _validate(SituationSettings, raw, SETTINGS_FILE, problems) if raw else None
    data: Any = _read_yaml(base / TRAINING_FILE, base, problems)
    training = _validate(TrainingFile, data, TRAINING_FILE, problems) if data else None
    if training is not None:
        kinds = {m.concern for m in training.messages}
        if kinds != {True, False}:
            problems.append(Problem(TRAINING_FILE, texts().text("situations.both_kinds")))
        if not any(m.acute for m in training.messages):
            problems.append(Problem(TRAINING_FILE, texts().text("situations.no_acute")))
        for m in training.messages:
            if m.acute and not m.concern:
                acute = texts().text("situations.acute_not_concern", message=m.text[:40])
                problems.append(Problem(TRAINING_FILE, acute))
    if problems or settings is None or training is None:
        unreadable = Problem(SETTINGS_FILE, texts().text("situations.unreadable"))
        raise KnowledgeError(problems or [unreadable])
    return settings, list(training.messages)


def validate(directory: Path | None = None) -> list[Problem]:
    """Every problem with the settings and the training messages (used by `samverkan kb check`)."""
    try:
        settings, _messages = load_files(directory)
    except KnowledgeError as exc:
        return list(exc.problems)
    problems: list[Problem] = []
    for name, phrases in (
        ("acute_phrases", settings.acute_phrases),
        ("acute_if_concern", settings.acute_if_concern),
        ("worry.words", settings.worry.words),
        ("worry.children", settings.worry.children),
        ("particular_child", settings.particular_child),
        ("person_words", settings.person_words),
    ):
        for p in phrases:
            if not tokens(p.rstrip("*")):
                empty = texts().text("situations.empty_phrase", name=name)
                problems.append(Problem(SETTINGS_FILE, empty))
    return problems
