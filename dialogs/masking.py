"""Masking a question before it is stored for the knowledge base's editors (the learning loop).

Nothing a user types is stored unless they press "Föreslå frågan till kunskapsbasen"; what is
stored then has passed through `Masker.mask`, which prefers masking too much to too little:

1. e-mail addresses → [e-post];
2. personnummer and samordningsnummer (dialogs.text.find_personnummer: YYMMDD-XXXX,
   YYMMDD+XXXX, YYYYMMDD-XXXX, YYYYMMDDXXXX, with or without a space) → [personnummer];
3. anything else shaped like a personnummer (ten or twelve digits not starting with 0, an
   impossible date or check digit included) → [personnummer]; phone numbers as Google's
   libphonenumber finds them in Swedish text (070-123 45 67, +46 70 123 45 67, 0046…,
   08-123 456 78) → [telefon], and any other run of seven or more digits (not a date) →
   [telefon];
4. names → [namn]. A *known name* is a common first name from dialogs/names.sv.yaml or one
   that the gender-guesser package lists for Sweden or for countries many families in Sweden
   come from; an *ordinary word* is one written in lower case somewhere in the knowledge base
   or the conversation's catalogue (some 8,000 forms: the bot's own vocabulary). A word is a
   name when it is
   - capitalised in mid-sentence and not an ordinary word, or a known name, or a known name's
     possessive ("Nour Ahmadi", a surname, a place; "Marks mamma");
   - capitalised at the start of a sentence and not an ordinary word, or a known name ("Liv
     berättade …"; the catalogue's `masking.sentence_words` aside: "Can I …");
   - in lower case a known name that is not an ordinary word ("ahmed");
   - right after "heter", "kallas" (any word but a few like "det"), or after "eleven",
     "pojken", "flickan" and the like when unknown or a known name ("eleven amira", "pojken
     bo").
   Abbreviations and products (BUS, EHT, SoL, OneNote) and the word after "lex" stay. Names
   next to each other ("Anna-Karin Lind") become one [namn].
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from common import yaml_safe
from common.catalogue import Catalogue
from dialogs.text import NAMES_FILE, find_personnummer, fold_plain

# Placeholder kinds (the catalogue's `masking.<kind>` gives the text, e.g. "[namn]").
KINDS = ("email", "personnummer", "phone", "name")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# What is left that looks like a personnummer: 6 or 8 digits, a separator or none, 4 digits,
# not starting with 0 (every Swedish phone number does).
_PNR_SHAPED = re.compile(r"(?<![\w+])(?!0)(?:\d{8}|\d{6})\s?[-+–]?\s?\d{4}(?![\w])")
# Any other run of seven or more digits (with spaces, dashes, dots, slashes or a leading +) ...
_DIGITS = re.compile(r"(?<![\w+])\+?\d[\d \-–./]{5,}\d(?![\w])")
_MIN_DIGITS = 7
# ... that is not a date, a time, a range of years or times ("2019-2020", "08.00-16.30").
_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}\.\d{2}"
    r"|\d{4}\s?[-–]\s?\d{2,4}|\d{1,2}[.:]\d{2}\s?[-–]\s?\d{1,2}[.:]\d{2}"
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_TOKEN = re.compile(r"\[[^\]\[]*\]|[^\W\d_]+", re.UNICODE)
_SPACE = re.compile(r"\s+")
# Web and e-mail addresses in the vocabulary's sources: not words.
_ADDRESS = re.compile(r"\S+://\S+|\S+@\S+")

# Countries of gender-guesser's data whose common first names are common in Sweden too.
_COUNTRIES = (
    "sweden", "finland", "norway", "denmark", "iceland", "arabia", "turkey", "the_stans",
    "other_countries", "bosniaand", "kosovo", "albania", "serbia", "croatia", "poland",
    "great_britain", "usa", "germany",
)
# gender-guesser's frequency scale is 1 (rare) … 13 (very common) per country; Sweden counts
# from 1, the others from this value.
_OTHER_COUNTRY_MIN = 4


# Knowledge-base files that name (made-up) people: their capitalised words are not vocabulary.
_PEOPLE_FILES = frozenset({"registry.yaml", "forums.yaml"})


@dataclass(frozen=True)
class Vocabulary:
    """What `Masker` reads names with. Names are compared in lower case with å/ä/ö kept ("Saga"
    is a name, "säga" a word); ordinary words also without them (staff who type "saga" for
    "säga")."""

    words: frozenset[str]  # lower case, and folded (fold_plain)
    first_names: frozenset[str]  # lower case: a name when capitalised or not an ordinary word
    name_like: frozenset[str]  # lower case: the same, but in mid-sentence only when capitalised

    @classmethod
    def build(cls, sources: Iterable[Path], names_file: Path = NAMES_FILE) -> Vocabulary:
        """Words written in lower case in `sources` (YAML files: the knowledge base and the
        catalogue); names from dialogs/names.sv.yaml and gender-guesser."""
        raw: set[str] = set()
        proper: set[str] = set()  # "Försäkringskassan", "Migrationsverket": not people
        for path in sources:
            text = _ADDRESS.sub(" ", path.read_text(encoding="utf-8"))
            found = _WORD.findall(text)
            raw.update(w for w in found if w[0].islower())
            if path.name not in _PEOPLE_FILES:
                proper.update(w.casefold() for w in found if w[0].isupper())
        data = yaml_safe.safe_load(names_file.read_text(encoding="utf-8"))
        first = frozenset(str(n).casefold() for n in data["names"])
        also = {str(n).casefold() for n in data["also_words"]}
        library = _library_names()
        raw |= proper - first - also - library
        return cls(
            words=frozenset(raw | {fold_plain(w) for w in raw}),
            first_names=first,
            name_like=frozenset(library | also),
        )


def _library_names() -> set[str]:
    """First names common in Sweden and in countries many families here come from, from the
    gender-guesser package's name dictionary (lower case). The file is read as the package's own
    `Detector._eat_name_line` reads it (its parser takes three times as long: codecs)."""
    import gender_guesser
    from gender_guesser.detector import Detector

    path = Path(gender_guesser.__file__).with_name("data") / "nam_dict.txt"
    countries: list[str] = Detector.COUNTRIES
    width = len(countries)
    sweden = countries.index("sweden")
    others = operator.itemgetter(*(countries.index(c) for c in _COUNTRIES if c != "sweden"))
    common = set("0123456789ABCDEF"[_OTHER_COUNTRY_MIN:])
    out: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#=":
                continue
            values = line[30:-1].ljust(width)
            if values[sweden] != " " or not common.isdisjoint(others(values)):
                name = line.split()[1]
                for variant in {name.replace("+", r) for r in ("", " ", "-")}:
                    out.update(variant.casefold().split())
    out.discard("")
    return out


class Masker:
    """`mask(text)`: the text with personal details replaced by placeholders (see above).

    The vocabulary is built on the first `mask` (a press of the button), not at start."""

    def __init__(
        self,
        vocabulary: Vocabulary | Callable[[], Vocabulary],
        placeholders: Mapping[str, str],
        *,
        cue_words: Iterable[str] = (),
        naming_words: Iterable[str] = (),
        after_naming: Iterable[str] = (),
        sentence_words: Iterable[str] = (),
        keep_after: Iterable[str] = (),
    ) -> None:
        """`cue_words`: after these an unknown word is a name ("eleven Amira");
        `naming_words`: after these the next word is a name even when it is also an ordinary
        word ("heter Max"), unless it is one of `after_naming` ("vad heter det");
        `sentence_words`: words that are also names but often start a sentence ("Can I …");
        `keep_after`: after these the next word is no person ("lex Sarah")."""
        missing = set(KINDS) - set(placeholders)
        if missing:
            raise ValueError(f"placeholders missing: {sorted(missing)}")
        self._vocabulary = vocabulary
        self.tags = dict(placeholders)
        self.cue_words = frozenset(fold_plain(w) for w in cue_words)
        self.naming_words = frozenset(fold_plain(w) for w in naming_words)
        self.after_naming = frozenset(fold_plain(w) for w in after_naming)
        self.sentence_words = frozenset(fold_plain(w) for w in sentence_words)
        self.keep_after = frozenset(fold_plain(w) for w in keep_after)

    @classmethod
    def for_knowledge_base(cls, kb_dir: Path, messages: Catalogue, catalogue: Path) -> Masker:
        """Ordinary words from the knowledge base's YAML files and the conversation's catalogue
        file; placeholders from the catalogue."""

        def vocabulary() -> Vocabulary:
            return Vocabulary.build([*sorted(kb_dir.rglob("*.yaml")), catalogue])

        tags = {
            "email": messages.text("masking.email"),
            "personnummer": messages.text("masking.personnummer"),
            "phone": messages.text("masking.phone"),
            "name": messages.text("masking.name"),
        }
        return cls(
            vocabulary,
            tags,
            cue_words=messages.phrases("masking.cue_words"),
            naming_words=messages.phrases("masking.naming_words"),
            after_naming=messages.phrases("masking.after_naming"),
            sentence_words=messages.phrases("masking.sentence_words"),
            keep_after=messages.phrases("masking.keep_after"),
        )

    @property
    def vocabulary(self) -> Vocabulary:
        if not isinstance(self._vocabulary, Vocabulary):
            self._vocabulary = self._vocabulary()
        return self._vocabulary

    def mask(self, text: str) -> str:
        t = _SPACE.sub(" ", text).strip()
        t = _EMAIL.sub(self.tags["email"], t)
        t = _replace_spans(
            t, [(h.start, h.end) for h in find_personnummer(t)], self.tags["personnummer"]
        )
        t = _PNR_SHAPED.sub(self.tags["personnummer"], t)
        t = self._phones(t)
        t = _DIGITS.sub(self._other_number, t)
        return self._names(t)

    def _other_number(self, m: re.Match[str]) -> str:
        raw = m[0]
        digits = sum(ch.isdigit() for ch in raw)
        return raw if digits < _MIN_DIGITS or _DATE.fullmatch(raw) else self.tags["phone"]

    def _phones(self, text: str) -> str:
        import phonenumbers  # 70 ms to import: on the first press, not at start

        spans = []
        for m in phonenumbers.PhoneNumberMatcher(text, "SE", phonenumbers.Leniency.POSSIBLE):
            raw = m.raw_string
            if _DATE.fullmatch(raw):
                continue
            # "(070-123 45 67, …)": the parenthesis is the sentence's, not the number's.
            lead = 1 if raw.startswith("(") and raw.count("(") > raw.count(")") else 0
            spans.append((m.start + lead, m.end))
        return _replace_spans(text, spans, self.tags["phone"])

    def _names(self, text: str) -> str:
        tag = self.tags["name"]
        spans: list[tuple[int, int]] = []
        previous = ""
        for m in _TOKEN.finditer(text):
            word = m.group()
            if word.startswith("["):
                previous = ""
                continue
            if self._is_name(word, _sentence_start(text, m.start()), previous):
                spans.append((m.start(), m.end()))
            previous = fold_plain(word)
        masked = _replace_spans(text, spans, tag)
        # "[namn] [namn]", "[namn]-[namn]": one name.
        joined = re.compile(re.escape(tag) + r"(?:[ \-–]" + re.escape(tag) + r")+")
        return joined.sub(tag, masked)

    def _is_name(self, word: str, sentence_start: bool, previous: str) -> bool:
        v = self.vocabulary
        if len(word) >= 2 and (word.isupper() or not word[1:].islower()):
            return False  # an abbreviation or a product: BUS, EHT, SoL, OneNote
        if previous in self.keep_after:
            return False  # "lex Sarah"
        lower = word.casefold()
        folded = fold_plain(word)
        ordinary = lower in v.words or folded in v.words
        known = lower in v.first_names or lower in v.name_like
        if previous in self.naming_words and folded not in self.after_naming:
            return True  # "heter Max"
        if word[0].isupper():
            possessive = not sentence_start and lower.endswith("s") and (
                lower[:-1] in v.first_names or lower[:-1] in v.name_like
            )
            if lower in v.first_names or possessive:
                return True  # "Saga", "Marks mamma", also first in a sentence
            if sentence_start:
                # "Liv berättade", "Bo slår": a name first in a sentence, unless it is one of
                # the few words that often start one ("Can I …", "Mentor …").
                return not ordinary or (known and folded not in self.sentence_words)
            return not ordinary or known
        if previous in self.cue_words and (not ordinary or known):
            return True  # "eleven amira", "pojken bo"
        return known and not ordinary


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t\"”'“(-–")
    return not before or before[-1] in ".!?:;\n"


def _replace_spans(text: str, spans: list[tuple[int, int]], replacement: str) -> str:
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)
