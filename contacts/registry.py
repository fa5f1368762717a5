"""The contact registry: import (YAML, CSV), validation, export, and the snapshot used for routing.

File formats (shared/spec/contracts.md):

YAML — top-level keys `after_hours`, `districts`, `people`, `schools` (lists of records) and an
optional `example: true` that marks every record of the file as example data.

CSV — the same columns as the YAML records, nested fields flattened with a dot
(`intake.name`, `intake.phone`, `intake.email`, `intake.url`, `office_hours.days`,
`office_hours.open`, `office_hours.close`), lists (`aliases`, `office_hours.days`) separated by
`|`, `example` as true/false. Either ONE file with a `table` column (`after_hours`, `districts`,
`people` or `schools`) naming each row's table — what `registry export --format csv` writes — or a
directory of one file per table named `after_hours.csv`, `districts.csv`, `people.csv`,
`schools.csv` (a single such file may also be imported on its own). The delimiter may be `,` or
`;` (Excel with Swedish settings), the encoding UTF-8 (with or without BOM) or Windows-1252.
Columns a row's table does not have must be empty.

CSV export is safe to open in a spreadsheet (OWASP "CSV injection"): a cell that starts with
`=`, `+`, `-`, `@`, a tab, CR or LF (or their full-width forms `＝＋－＠`) would be run as a
formula, so it is written with a single quote in front (`'=…`, `'+46 8 …`); a cell that itself
starts with a quote gets one more. CSV import removes exactly that quote again (a leading `'`
followed by one of those characters or by another `'`), so a re-import of an exported file gives
the same registry back, and a hand-written `'+46 8 …` works as well.

Limits on files: at most 5 MB per file (`MAX_IMPORT_BYTES`), text in UTF-8 or Windows-1252
without NUL bytes, YAML nested at most 20 levels deep; texts may not contain control characters
(line breaks and tabs become spaces); links must be https://. Each of these is a named error.

Import is idempotent by id and transactional: every error (file, line, field) is collected and a
file with any error changes nothing. Importing data that is not example data removes the example
records it does not replace, so the bundled example registry never mixes with the real one.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import Clock, SystemClock
from contacts import texts
from contacts.matching import Match, suggest
from contacts.model import (
    WEEKDAYS,
    AfterHours,
    District,
    Intake,
    OfficeHours,
    Person,
    RegistrySnapshot,
    School,
    SwedishCalendar,
    parse_clock,
    parse_day,
)
from contacts.routing import RouteResult, route
from contacts.tables import (
    EMAIL_LEN,
    ID_LEN,
    NAME_LEN,
    PHONE_LEN,
    URL_LEN,
    RegistryAfterHours,
    RegistryDistrict,
    RegistryDistrictAlias,
    RegistryPerson,
    RegistrySchool,
    RegistrySchoolAlias,
    RegistryState,
)
from storage.db import Database

DEFAULT_REGISTRY = Path(__file__).resolve().parent / "data" / "example-registry.yaml"
# The largest file (each file of a directory) an import reads, and how deep YAML may nest.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_YAML_DEPTH = 20
# Cell starts a spreadsheet reads as a formula (OWASP CSV injection), and the quote that
# neutralises them; a cell starting with the quote itself is quoted too, so that import can
# always tell the two apart.
CSV_FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
_CSV_QUOTE = "'"
_CSV_QUOTED_STARTS = CSV_FORMULA_STARTS | {_CSV_QUOTE}
TABLES: tuple[str, ...] = ("after_hours", "districts", "people", "schools")
# Registry tables in an order where references point backwards.
_PG_IMPORT_LOCK = 7_344_118_002

_FIELDS: dict[str, tuple[str, ...]] = {
    "after_hours": ("id", "name", "phone", "email", "url", "example"),
    "districts": (
        "id", "name", "aliases", "intake", "office_hours", "after_hours", "example",
    ),
    "people": ("id", "name", "title", "district", "phone", "email", "teams_upn", "example"),
    "schools": ("id", "name", "aliases", "district", "contact_person", "example"),
}
_NESTED: dict[str, tuple[str, ...]] = {
    "intake": ("name", "phone", "email", "url"),
    "office_hours": ("days", "open", "close"),
}
_LIST_COLUMNS = frozenset({"aliases", "office_hours.days"})
_CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "after_hours": ("id", "name", "phone", "email", "url", "example"),
    "districts": (
        "id", "name", "aliases", "intake.name", "intake.phone", "intake.email", "intake.url",
        "office_hours.days", "office_hours.open", "office_hours.close", "after_hours", "example",
    ),
    "people": ("id", "name", "title", "district", "phone", "email", "teams_upn", "example"),
    "schools": ("id", "name", "aliases", "district", "contact_person", "example"),
}
CSV_ALL_COLUMNS: tuple[str, ...] = (
    "table", "id", "name", "title", "aliases", "district", "contact_person", "phone", "email",
    "teams_upn", "url", "intake.name", "intake.phone", "intake.email", "intake.url",
    "office_hours.days", "office_hours.open", "office_hours.close", "after_hours", "example",
)
assert set(CSV_ALL_COLUMNS) == {"table"} | {c for cols in _CSV_COLUMNS.values() for c in cols}
# Where each reference points: (table, field) → referenced table.
_REFS: dict[tuple[str, str], str] = {
    ("districts", "after_hours"): "after_hours",
    ("people", "district"): "districts",
    ("schools", "district"): "districts",
    ("schools", "contact_person"): "people",
}

# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryIssue:
    """One problem in an import file: where it is and what is wrong, in Swedish."""

    file: str
    line: int | None
    message: str
    table: str | None = None
    record: str | None = None  # the record's id, when it has one
    field: str | None = None

    def __str__(self) -> str:
        where = (
            texts().text("registry.where", file=self.file, line=self.line)
            if self.line is not None
            else texts().text("registry.where_noline", file=self.file)
        )
        path = ""
        if self.table:
            path = self.table + (f"[{self.record}]" if self.record else "")
        if self.field:
            path = f"{path}.{self.field}" if path else self.field
        return f"{where}: {path + ': ' if path else ''}{self.message}"


@dataclass
class TableCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


@dataclass
class ImportReport:
    source: str
    errors: list[RegistryIssue] = field(default_factory=list)
    counts: dict[str, TableCounts] = field(
        default_factory=lambda: {t: TableCounts() for t in TABLES}
    )

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.counts.values())


@dataclass
class RegistryData:
    """Validated records of one import, in file order."""

    after_hours: list[AfterHours] = field(default_factory=list)
    districts: list[District] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    schools: list[School] = field(default_factory=list)

    def table(self, name: str) -> list[Any]:
        rows: list[Any] = getattr(self, name)
        return rows

    def snapshot(self, *, calendar: SwedishCalendar | None = None) -> RegistrySnapshot:
        return RegistrySnapshot(
            after_hours=self.after_hours, districts=self.districts, people=self.people,
            schools=self.schools, calendar=calendar,
        )


@dataclass
class _Ref:
    table: str  # the referring record's table
    record: str
    field: str
    target: str  # referenced table
    value: str
    line: int | None


@dataclass
class ParsedFile:
    """A parsed, statically validated import: records, references to check, and problems."""

    source: str
    data: RegistryData = field(default_factory=RegistryData)
    refs: list[_Ref] = field(default_factory=list)
    errors: list[RegistryIssue] = field(default_factory=list)
    # Every id the file defines, also of records with errors (so that references to them do
    # not add a second, misleading "unknown reference" error).
    ids: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in TABLES})


# --------------------------------------------------------------------------------------------
# Reading YAML with line numbers (every scalar as text: no YAML 1.1 surprises such as
# `open: 08:00` turning into the number 480)
# --------------------------------------------------------------------------------------------


class _LineDict(dict[str, Any]):
    line: int
    key_lines: dict[str, int]
    duplicates: list[tuple[str, int]]


class _TooDeepError(yaml.YAMLError):
    def __init__(self, line: int) -> None:
        super().__init__(f"nested deeper than {MAX_YAML_DEPTH} levels")
        self.line = line


class _Loader(yaml.SafeLoader):
    """A SafeLoader that refuses nesting deeper than MAX_YAML_DEPTH (instead of recursing
    until Python's recursion limit)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _TooDeepError(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    out.duplicates = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = "" if key is None else str(key)
        value = loader.construct_object(value_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in out:
            out.duplicates.append((key, line))
        out[key] = value
        out.key_lines[key] = line
    return out


def _construct_raw(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return str(node.value)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
for _tag in ("int", "float", "bool", "timestamp"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_raw)


# --------------------------------------------------------------------------------------------
# Static validation of one record (shared by YAML and CSV)
# --------------------------------------------------------------------------------------------

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]*[0-9]$")
_EMAIL_RE = re.compile(r"^[^@\s,;<>()\[\]]+@[^@\s,;<>()\[\]]+\.[^@\s,;<>()\[\].]{2,}$")
_TRUE = frozenset({"true", "yes", "ja", "1", "sant"})
_FALSE = frozenset({"false", "no", "nej", "0", "falskt", ""})


def valid_phone(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return bool(_PHONE_RE.match(value)) and 3 <= len(digits) <= 15


def valid_email(value: str) -> bool:
    return bool(_EMAIL_RE.match(value))


def valid_url(value: str) -> bool:
    """An https:// link (plain http is refused: the links open from Teams)."""
    u = urlparse(value)
    return u.scheme == "https" and bool(u.netloc) and " " not in value


def forbidden_char(value: str) -> str | None:
    """The first control character or lone surrogate in a text, if any (line breaks and tabs
    are whitespace and have been normalised to spaces before this is asked)."""
    return next((c for c in value if unicodedata.category(c) in ("Cc", "Cs")), None)


def csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula: a quote in front of a dangerous start."""
    return _CSV_QUOTE + value if value[:1] in _CSV_QUOTED_STARTS else value


def csv_unquote(cell: str) -> str:
    """The value of a cell written by `csv_safe` (or typed the same way by hand)."""
    if cell[:1] == _CSV_QUOTE and cell[1:2] in _CSV_QUOTED_STARTS:
        return cell[1:]
    return cell


class _Record:
    """Helpers to read one record's fields and collect problems with their lines."""

    def __init__(
        self, parsed: ParsedFile, table: str, values: Mapping[str, Any], line: int | None,
        key_lines: Mapping[str, int], default_example: bool,
    ) -> None:
        self.parsed = parsed
        self.table = table
        self.values = values
        self.line = line
        self.key_lines = key_lines
        self.default_example = default_example
        self.id: str | None = None
        self.failed = False

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key.split(".")[0], self.line)

    def error(self, key: str | None, message: str, line: int | None = None) -> None:
        self.failed = True
        self.parsed.errors.append(RegistryIssue(
            file=self.parsed.source,
            line=line if line is not None else (self.line_of(key) if key else self.line),
            message=message, table=self.table, record=self.id, field=key,
        ))

    def raw(self, key: str) -> Any:
        node: Any = self.values
        for part in key.split("."):
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    def text(self, key: str, *, required: bool = False, max_len: int = NAME_LEN) -> str | None:
        value = self.raw(key)
        if isinstance(value, str):
            value = " ".join(value.split())
        if value is None or value == "":
            if required:
                missing = "registry.missing_name" if key.endswith("name") else "registry.missing"
                self.error(key, texts().text(missing))
            return None
        if not isinstance(value, str):
            self.error(key, texts().text("registry.not_text"))
            return None
        bad = forbidden_char(value)
        if bad is not None:
            self.error(key, texts().text("registry.control_char", code=ord(bad)))
            return None
        if len(value) > max_len:
            self.error(key, texts().text("registry.too_long", max=max_len))
            return None
        return value

    def ident(self) -> str | None:
        value = self.text("id", required=True, max_len=ID_LEN)
        if value is not None and not _ID_RE.match(value):
            self.error("id", texts().text("registry.bad_id", value=value))
            return None
        self.id = value
        return value

    def checked(
        self, key: str, check: Any, message: str, *, max_len: int, required: bool = False
    ) -> str | None:
        value = self.text(key, required=required, max_len=max_len)
        if value is not None and not check(value):
            self.error(key, texts().text(message, value=value))
            return None
        return value

    # The limits are the columns' (a longer value would fail on PostgreSQL, not on SQLite).
    def phone(self, key: str, *, required: bool = False) -> str | None:
        return self.checked(
            key, valid_phone, "registry.bad_phone", max_len=PHONE_LEN, required=required
        )

    def email(self, key: str, *, message: str = "registry.bad_email") -> str | None:
        return self.checked(key, valid_email, message, max_len=EMAIL_LEN)

    def url(self, key: str) -> str | None:
        return self.checked(key, valid_url, "registry.bad_url", max_len=URL_LEN)

    def text_list(self, key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(key, texts().text("registry.bad_list"))
            return ()
        out: list[str] = []
        seen: set[str] = set()
        for v in value:
            v = " ".join(v.split())
            if not v or v.casefold() in seen:
                continue
            bad = forbidden_char(v)
            if bad is not None:
                self.error(key, texts().text("registry.control_char", code=ord(bad)))
                continue
            if len(v) > NAME_LEN:
                self.error(key, texts().text("registry.too_long", max=NAME_LEN))
                continue
            seen.add(v.casefold())
            out.append(v)
        return tuple(out)

    def ref(self, key: str, target: str) -> str | None:
        value = self.text(key, max_len=ID_LEN)
        if value is not None and self.id is not None:
            self.parsed.refs.append(
                _Ref(self.table, self.id, key, target, value, self.line_of(key))
            )
        return value

    def example(self) -> bool:
        value = self.raw("example")
        if value is None:
            return self.default_example
        parsed = parse_bool(value)
        if parsed is None:
            self.error("example", texts().text("registry.bad_bool", value=value))
            return self.default_example
        return parsed

    def check_keys(self, allowed: Sequence[str], prefix: str = "") -> None:
        node = self.raw(prefix) if prefix else self.values
        if not isinstance(node, Mapping):
            return
        for key in node:
            if key not in allowed:
                hint = suggest(str(key), {k: k for k in allowed}, limit=1)
                message = texts().text("registry.unknown_key", key=key)
                if hint:
                    message += texts().text("registry.did_you_mean", suggestion=hint[0])
                full = f"{prefix}.{key}" if prefix else str(key)
                line = getattr(node, "key_lines", {}).get(key)
                self.error(full, message, line)
        for key, line in getattr(node, "duplicates", []):
            full = f"{prefix}.{key}" if prefix else str(key)
            self.error(full, texts().text("registry.duplicate_key", key=key), line)

    def mapping(self, key: str, *, required: bool) -> bool:
        value = self.raw(key)
        if value is None or value == "":
            if required:
                self.error(key, texts().text("registry.missing"))
            return False
        if not isinstance(value, Mapping):
            self.error(key, texts().text("registry.not_mapping"))
            return False
        self.check_keys(_NESTED[key], key)
        return True


def parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _parse_days(rec: _Record, key: str) -> tuple[str, ...]:
    value = rec.raw(key)
    if value is None or value == "":
        rec.error(key, texts().text("registry.missing"))
        return ()
    items: list[Any]
    if isinstance(value, str):
        items = [p for p in re.split(r"[\s,;|]+", value) if p]
    elif isinstance(value, list):
        items = value
    else:
        rec.error(key, texts().text("registry.bad_list"))
        return ()
    days: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            rec.error(key, texts().text("registry.bad_day", value=item))
            continue
        parts = re.split(r"\s*[-–]\s*", item.strip())
        if len(parts) == 2:  # a range: mon-fri, mån–fre
            first, last = parse_day(parts[0]), parse_day(parts[1])
            if first is None or last is None or WEEKDAYS.index(first) > WEEKDAYS.index(last):
                rec.error(key, texts().text("registry.bad_day", value=item))
                continue
            days.update(WEEKDAYS[WEEKDAYS.index(first) : WEEKDAYS.index(last) + 1])
            continue
        day = parse_day(item)
        if day is None:
            rec.error(key, texts().text("registry.bad_day", value=item))
            continue
        days.add(day)
    if not days and not rec.failed:
        rec.error(key, texts().text("registry.no_days"))
    return tuple(d for d in WEEKDAYS if d in days)


def _parse_time(rec: _Record, key: str) -> time | None:
    value = rec.raw(key)
    if value is None or value == "":
        rec.error(key, texts().text("registry.missing"))
        return None
    parsed = parse_clock(str(value))
    if parsed is None:
        rec.error(key, texts().text("registry.bad_time", value=value))
    return parsed


def _validate_record(rec: _Record) -> Any | None:
    """The typed record, or None when it has errors (which are collected)."""
    table = rec.table
    rid = rec.ident()
    rec.check_keys(_FIELDS[table])
    name = rec.text("name", required=True)
    example = rec.example()
    if table == "after_hours":
        phone = rec.phone("phone", required=True)
        email = rec.email("email")
        url = rec.url("url")
        if rec.failed or rid is None or name is None or phone is None:
            return None
        return AfterHours(rid, name, phone, email, url, example)
    if table == "districts":
        aliases = rec.text_list("aliases")
        intake: Intake | None = None
        if rec.mapping("intake", required=True):
            i_name = rec.text("intake.name", required=True)
            i_phone = rec.phone("intake.phone", required=True)
            i_email = rec.email("intake.email")
            i_url = rec.url("intake.url")
            if i_name is not None and i_phone is not None:
                intake = Intake(i_name, i_phone, i_email, i_url)
        hours: OfficeHours | None = None
        if rec.mapping("office_hours", required=True):
            days = _parse_days(rec, "office_hours.days")
            opens = _parse_time(rec, "office_hours.open")
            closes = _parse_time(rec, "office_hours.close")
            if opens is not None and closes is not None:
                if closes <= opens:
                    rec.error("office_hours.close", texts().text(
                        "registry.close_before_open",
                        open=opens.strftime("%H:%M"), close=closes.strftime("%H:%M"),
                    ))
                elif days:
                    hours = OfficeHours(days, opens, closes)
        after = rec.ref("after_hours", "after_hours")
        if rec.failed or rid is None or name is None or intake is None or hours is None:
            return None
        return District(rid, name, intake, hours, after, aliases, example)
    if table == "people":
        title = rec.text("title")
        district = rec.ref("district", "districts")
        phone = rec.phone("phone")
        email = rec.email("email")
        upn = rec.email("teams_upn", message="registry.bad_upn")
        if not rec.failed and not (phone or email or upn):
            rec.error(None, texts().text("registry.person_unreachable"))
        if rec.failed or rid is None or name is None:
            return None
        return Person(rid, name, title, district, phone, email, upn, example)
    # schools
    aliases = rec.text_list("aliases")
    district = rec.ref("district", "districts")
    if district is None and rec.raw("district") in (None, ""):
        rec.error("district", texts().text("registry.missing"))
    person = rec.ref("contact_person", "people")
    if rec.failed or rid is None or name is None or district is None:
        return None
    return School(rid, name, district, person, aliases, example)


def _add_records(
    parsed: ParsedFile,
    table: str,
    entries: Iterable[tuple[Mapping[str, Any], int | None, Mapping[str, int]]],
    default_example: bool,
    seen: dict[tuple[str, str], int | None],
) -> None:
    for values, line, key_lines in entries:
        rec = _Record(parsed, table, values, line, key_lines, default_example)
        obj = _validate_record(rec)
        if rec.id is not None:
            first = seen.get((table, rec.id), -1)
            if first != -1:
                rec.error("id", texts().text("registry.duplicate_id", value=rec.id, line=first))
                continue
            seen[(table, rec.id)] = line
            parsed.ids[table].add(rec.id)
        if obj is not None:
            parsed.data.table(table).append(obj)


# --------------------------------------------------------------------------------------------
# Parsing files
# --------------------------------------------------------------------------------------------


def parse_yaml(text: str, source: str) -> ParsedFile:
    parsed = ParsedFile(source)

    def top_error(message: str, line: int | None) -> None:
        parsed.errors.append(RegistryIssue(source, line, message))

    try:
        doc = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except _TooDeepError as exc:
        top_error(texts().text("registry.too_deep", max=MAX_YAML_DEPTH), exc.line)
        return parsed
    except RecursionError:  # pragma: no cover - the depth limit comes first
        top_error(texts().text("registry.too_deep", max=MAX_YAML_DEPTH), None)
        return parsed
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        syntax = texts().text("registry.yaml_syntax", problem=problem)
        top_error(syntax, mark.line + 1 if mark else None)
        return parsed
    if doc is None:
        return parsed
    if not isinstance(doc, _LineDict):
        top_error(texts().text("registry.top_not_mapping"), 1)
        return parsed
    for key, line in doc.duplicates:
        top_error(texts().text("registry.duplicate_key", key=key), line)
    default_example = False
    if "example" in doc:
        flag = parse_bool(doc["example"])
        if flag is None:
            parsed.errors.append(RegistryIssue(
                source, doc.key_lines["example"],
                texts().text("registry.bad_bool", value=doc["example"]),
                field="example",
            ))
        else:
            default_example = flag
    for key in doc:
        if key not in TABLES and key != "example":
            top_error(texts().text("registry.unknown_top", key=key), doc.key_lines[key])
    seen: dict[tuple[str, str], int | None] = {}
    for table in TABLES:
        rows = doc.get(table)
        if rows is None:
            continue
        if not isinstance(rows, list):
            parsed.errors.append(
                RegistryIssue(
                    source, doc.key_lines[table], texts().text("registry.not_list"), table=table
                )
            )
            continue
        entries: list[tuple[Mapping[str, Any], int | None, Mapping[str, int]]] = []
        for item in rows:
            if not isinstance(item, _LineDict):
                parsed.errors.append(RegistryIssue(
                    source, doc.key_lines[table], texts().text("registry.not_mapping"), table=table
                ))
                continue
            entries.append((item, item.line, item.key_lines))
        _add_records(parsed, table, entries, default_example, seen)
    return _sorted(parsed)


def _read_limited(path: Path) -> bytes:
    """At most MAX_IMPORT_BYTES + 1 bytes: enough to tell a file that is too large (or endless,
    like /dev/zero) without reading it all."""
    with path.open("rb") as f:
        return f.read(MAX_IMPORT_BYTES + 1)


def _decode(raw: bytes, source: str) -> str | RegistryIssue:
    """The text of an import file (UTF-8 with or without BOM, else Windows-1252), or why not."""
    if len(raw) > MAX_IMPORT_BYTES:
        return RegistryIssue(
            source, None, texts().text("registry.too_big", mb=MAX_IMPORT_BYTES // (1024 * 1024))
        )
    if b"\x00" in raw:
        return RegistryIssue(source, None, texts().text("registry.binary"))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return RegistryIssue(
            source, None, texts().text("registry.not_text_file", byte=raw[exc.start], line=line)
        )


class _CsvBroken(Exception):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def _csv_rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line, cells) rows; the delimiter is sniffed (',' or ';' or tab)."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            limit = csv.field_size_limit()
            problem = (
                texts().text("registry.csv_field_too_long", max=f"{limit:,}".replace(",", " "))
                if "field limit" in str(exc)
                else texts().text("registry.csv_malformed")
            )
            raise _CsvBroken(max(start, reader.line_num), problem) from None
        line = start
        start = reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        rows.append((line, cells))
    return header or [], rows


def _parse_csv_text(
    parsed: ParsedFile, text: str, table_hint: str | None, source: str,
    seen: dict[tuple[str, str], int | None],
) -> None:
    try:
        header, rows = _csv_rows(text)
    except _CsvBroken as exc:
        parsed.errors.append(RegistryIssue(
            source, exc.line, texts().text("registry.csv_broken", problem=exc.problem)
        ))
        return
    if not header:
        parsed.errors.append(RegistryIssue(source, None, texts().text("registry.csv_empty")))
        return
    has_table = "table" in header
    if not has_table and table_hint is None:
        parsed.errors.append(RegistryIssue(source, 1, texts().text("registry.csv_no_table")))
        return
    known = set(CSV_ALL_COLUMNS) if has_table else {"table", *_CSV_COLUMNS[table_hint or ""]}
    bad_columns = False
    for col in header:
        if col not in known:
            hint = suggest(col, {c: c for c in known}, limit=1)
            message = texts().text("registry.csv_unknown_column", key=col)
            if hint:
                message += texts().text("registry.did_you_mean", suggestion=hint[0])
            parsed.errors.append(RegistryIssue(source, 1, message, field=col))
            bad_columns = True
    if bad_columns:
        return
    per_table: dict[str, list[tuple[Mapping[str, Any], int | None, Mapping[str, int]]]] = {
        t: [] for t in TABLES
    }
    for line, cells in rows:
        cells = cells + [""] * (len(header) - len(cells))
        row = {col: csv_unquote(cells[i].strip()) for i, col in enumerate(header) if col}
        table = row.pop("table", "") if has_table else (table_hint or "")
        if table not in TABLES:
            parsed.errors.append(RegistryIssue(
                source, line, texts().text("registry.csv_unknown_table", value=table), field="table"
            ))
            continue
        values: dict[str, Any] = {}
        foreign = False
        for col, cell in row.items():
            if not cell:
                continue
            if col not in _CSV_COLUMNS[table]:
                parsed.errors.append(RegistryIssue(
                    source, line,
                    texts().text("registry.csv_column_not_in_table", key=col, table=table),
                    table=table, record=row.get("id") or None, field=col,
                ))
                foreign = True
                continue
            value: Any = cell
            if col in _LIST_COLUMNS:
                value = [p.strip() for p in cell.split("|") if p.strip()]
            if "." in col:
                outer, inner = col.split(".", 1)
                values.setdefault(outer, {})[inner] = value
            else:
                values[col] = value
        if foreign:
            continue
        per_table[table].append((values, line, {}))
    for table in TABLES:
        _add_records(parsed, table, per_table[table], False, seen)


def parse_csv(text: str, source: str, *, table: str | None = None) -> ParsedFile:
    parsed = ParsedFile(source)
    hint = table or _table_from_name(source)
    _parse_csv_text(parsed, text, hint, source, {})
    return _sorted(parsed)


def _sorted(parsed: ParsedFile) -> ParsedFile:
    parsed.errors.sort(key=lambda e: (e.file, e.line or 0))
    return parsed


def _table_from_name(source: str) -> str | None:
    stem = Path(source).stem
    return stem if stem in TABLES else None


def parse_path(path: Path, fmt: str | None = None) -> ParsedFile:
    """Read and statically validate an import file (or a directory of per-table CSV files)."""
    source = path.name or str(path)
    try:
        if path.is_dir():
            parsed = ParsedFile(source)
            seen: dict[tuple[str, str], int | None] = {}
            files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
            by_table = {p.stem: p for p in files if p.stem in TABLES}
            for p in files:
                if p.stem not in TABLES:
                    unknown = texts().text("registry.csv_unknown_file")
                    parsed.errors.append(RegistryIssue(p.name, None, unknown))
            if not by_table and not parsed.errors:
                empty = texts().text("registry.csv_dir_empty")
                parsed.errors.append(RegistryIssue(source, None, empty))
            for table in TABLES:
                if table in by_table:
                    p = by_table[table]
                    text = _decode(_read_limited(p), p.name)
                    if isinstance(text, RegistryIssue):
                        parsed.errors.append(text)
                        continue
                    _parse_csv_text(parsed, text, table, p.name, seen)
            return _sorted(parsed)
        raw = _read_limited(path)
    except OSError as exc:
        return ParsedFile(source, errors=[RegistryIssue(
            source, None, texts().text("registry.unreadable", problem=exc.strerror or exc)
        )])
    kind = fmt or {".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}.get(path.suffix.lower())
    if kind is None:
        unknown = texts().text("registry.unknown_format")
        return ParsedFile(source, errors=[RegistryIssue(source, None, unknown)])
    decoded = _decode(raw, source)
    if isinstance(decoded, RegistryIssue):
        return ParsedFile(source, errors=[decoded])
    return parse_yaml(decoded, source) if kind == "yaml" else parse_csv(decoded, source)


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def _clock_text(t: time) -> str:
    return t.strftime("%H:%M")


def record_to_dict(table: str, obj: Any, *, with_example: bool) -> dict[str, Any]:
    """A record as the YAML contract writes it (absent optional fields left out)."""
    out: dict[str, Any] = {"id": obj.id, "name": obj.name}
    if table == "after_hours":
        out.update(phone=obj.phone, email=obj.email, url=obj.url)
    elif table == "districts":
        out["aliases"] = list(obj.aliases)
        intake = {"name": obj.intake.name, "phone": obj.intake.phone,
                  "email": obj.intake.email, "url": obj.intake.url}
        out["intake"] = {k: v for k, v in intake.items() if v}
        out["office_hours"] = {
            "days": list(obj.office_hours.days),
            "open": _clock_text(obj.office_hours.open),
            "close": _clock_text(obj.office_hours.close),
        }
        out["after_hours"] = obj.after_hours
    elif table == "people":
        out.update(title=obj.title, district=obj.district, phone=obj.phone, email=obj.email,
                   teams_upn=obj.teams_upn)
    else:
        out["aliases"] = list(obj.aliases)
        out.update(district=obj.district, contact_person=obj.contact_person)
    if with_example and obj.example:
        out["example"] = True
    return {k: v for k, v in out.items() if v not in (None, [], "")}


def _all_example(data: RegistryData) -> bool:
    rows = [r for t in TABLES for r in data.table(t)]
    return bool(rows) and all(r.example for r in rows)


class _Quoted(str):
    """A string written in double quotes (phone numbers and times, for readability)."""


class _Flow(list[str]):
    """A list written on one line: [mon, tue, wed]."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style='"')
)
_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True)
)


def _styled(node: Any, key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _styled(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return _Flow(node)
    if isinstance(node, str) and key in ("phone", "open", "close"):
        return _Quoted(node)
    return node


def export_yaml(data: RegistryData) -> str:
    all_example = _all_example(data)
    doc: dict[str, Any] = {}
    if all_example:
        doc["example"] = True
    for table in TABLES:
        rows = sorted(data.table(table), key=lambda r: r.id)
        doc[table] = [
            _styled(record_to_dict(table, r, with_example=not all_example)) for r in rows
        ]
    header = texts().text("registry.export_header") + "\n"
    if all_example:
        header += texts().text("registry.export_example") + "\n"
    return header + yaml.dump(
        doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
        width=100,
    )


def _csv_cells(table: str, obj: Any) -> dict[str, str]:
    """The cells of one record, each made safe to open in a spreadsheet (`csv_safe`)."""
    d = record_to_dict(table, obj, with_example=True)
    cells: dict[str, str] = {}
    for col in _CSV_COLUMNS[table]:
        node: Any = d
        for part in col.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            cells[col] = ""
        elif isinstance(node, list):
            cells[col] = "|".join(node)
        elif isinstance(node, bool):
            cells[col] = "true" if node else ""
        else:
            cells[col] = str(node)
        cells[col] = csv_safe(cells[col])
    return cells


def export_csv(data: RegistryData) -> str:
    """One CSV file with a `table` column."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_ALL_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for table in TABLES:
        for r in sorted(data.table(table), key=lambda r: r.id):
            writer.writerow({"table": table, **_csv_cells(table, r)})
    return buf.getvalue()


def export_csv_tables(data: RegistryData) -> dict[str, str]:
    """One CSV text per table: {'after_hours.csv': …, …}."""
    out: dict[str, str] = {}
    for table in TABLES:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(_CSV_COLUMNS[table]), lineterminator="\n")
        writer.writeheader()
        for r in sorted(data.table(table), key=lambda r: r.id):
            writer.writerow(_csv_cells(table, r))
        out[f"{table}.csv"] = buf.getvalue()
    return out


# --------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictInfo:
    id: str
    name: str
    aliases: tuple[str, ...]
    example: bool


@dataclass(frozen=True)
class SchoolInfo:
    id: str
    name: str
    district: str
    example: bool


class RegistryService:
    """Import, export and look-ups of the contact registry on one `Database`.

    The snapshot used for routing is cached and reloaded only when `registry_state.revision`
    changes (one primary-key read per look-up), so an import by another process (the CLI while
    the bot runs) is seen on the next look-up.
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock | None = None,
        calendar: SwedishCalendar | None = None,
    ) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self._calendar = calendar or SwedishCalendar()
        self._cache: RegistrySnapshot | None = None
        self._lock = asyncio.Lock()

    # ---- import -------------------------------------------------------------------------

    async def import_path(
        self, path: Path | str, fmt: str | None = None, *, replace: bool = False
    ) -> ImportReport:
        parsed = parse_path(Path(path), fmt)
        return await self.import_parsed(parsed, replace=replace)

    async def import_text(
        self, text: str, *, fmt: str, source: str = "<text>", replace: bool = False
    ) -> ImportReport:
        parsed = parse_yaml(text, source) if fmt == "yaml" else parse_csv(text, source)
        return await self.import_parsed(parsed, replace=replace)

    async def import_parsed(self, parsed: ParsedFile, *, replace: bool = False) -> ImportReport:
        """Write a parsed file in one transaction; nothing is written when there is any error.

        With `replace`, the file is the whole registry for every table it has records in: the
        records of those tables that it does not contain are removed (refused, with the
        records named, while anything kept still refers to them). Tables the file has no
        records in are left as they are, so an empty or one-table file never wipes the rest."""
        report = ImportReport(parsed.source, errors=list(parsed.errors))
        stamp = self.clock.now()
        async with self.db.transaction() as s:
            if self.db.is_postgres:
                await s.execute(select(func.pg_advisory_xact_lock(_PG_IMPORT_LOCK)))
            existing = await _load(s)
            data = parsed.data
            has_rows = any(data.table(t) for t in TABLES)
            if has_rows and not _all_example(data):
                removable = _removable_examples(existing, data)
            else:
                removable = {t: set() for t in TABLES}
            if replace:
                for t in TABLES:
                    if data.table(t):
                        removable[t] |= {r.id for r in existing.table(t)} - parsed.ids[t]
                report.errors.extend(_check_kept_refs(parsed, existing, removable))
            report.errors.extend(_check_refs(parsed, existing, removable))
            if report.errors:
                # Nothing has been written: the (empty) transaction ends here.
                report.errors.sort(key=lambda e: (e.file, e.line or 0))
                return report
            await _write(s, existing, data, removable, report, stamp)
            if report.changed:
                await _bump_revision(s, stamp)
        if report.changed:
            self._cache = None
        return report

    async def ensure_default(self, path: Path | None = None) -> bool:
        """Load the bundled example registry when the registry is empty. True if it loaded."""
        if not await self.is_empty():
            return False
        parsed = parse_path(path or DEFAULT_REGISTRY)
        # The bundled file is example data whatever it says.
        for table in TABLES:
            rows = parsed.data.table(table)
            rows[:] = [replace(r, example=True) for r in rows]
        report = await self.import_parsed(parsed)
        if not report.ok:
            raise RuntimeError(
                "the bundled example registry is invalid:\n" + "\n".join(map(str, report.errors))
            )
        return report.changed

    async def is_empty(self) -> bool:
        async with self.db.session() as s:
            for model in (RegistryDistrict, RegistrySchool, RegistryPerson, RegistryAfterHours):
                if (await s.execute(select(model.id).limit(1))).first() is not None:
                    return False
        return True

    # ---- export -------------------------------------------------------------------------

    async def data(self) -> RegistryData:
        async with self.db.session() as s:
            return await _load(s)

    async def export(self, fmt: str = "yaml") -> str:
        data = await self.data()
        return export_yaml(data) if fmt == "yaml" else export_csv(data)

    async def export_tables(self) -> dict[str, str]:
        return export_csv_tables(await self.data())

    # ---- look-ups -----------------------------------------------------------------------

    async def revision(self) -> int:
        async with self.db.session() as s:
            rev = await s.scalar(select(RegistryState.revision).where(RegistryState.id == 1))
        return int(rev or 0)

    async def snapshot(self) -> RegistrySnapshot:
        """The registry for routing; cached until an import changes the revision."""
        rev = await self.revision()
        cached = self._cache
        if cached is not None and cached.revision == rev:
            return cached
        async with self._lock:
            cached = self._cache
            if cached is not None and cached.revision == rev:
                return cached
            async with self.db.session() as s:
                rev = int(
                    await s.scalar(select(RegistryState.revision).where(RegistryState.id == 1))
                    or 0
                )
                data = await _load(s)
            snap = RegistrySnapshot(
                after_hours=data.after_hours, districts=data.districts, people=data.people,
                schools=data.schools, revision=rev, calendar=self._calendar,
            )
            self._cache = snap
            return snap

    async def match_school(self, text: str) -> Match:
        return (await self.snapshot()).match_school(text)

    async def match_district(self, text: str) -> Match:
        return (await self.snapshot()).match_district(text)

    async def list_districts(self) -> list[DistrictInfo]:
        snap = await self.snapshot()
        return sorted(
            (DistrictInfo(d.id, d.name, d.aliases, d.example) for d in snap.districts.values()),
            key=lambda d: d.name,
        )

    async def list_schools(self, district: str | None = None) -> list[SchoolInfo]:
        snap = await self.snapshot()
        return sorted(
            (
                SchoolInfo(s.id, s.name, s.district, s.example)
                for s in snap.schools.values()
                if district is None or s.district == district
            ),
            key=lambda s: s.name,
        )

    async def route(
        self,
        *,
        purpose: str,
        at: datetime,
        school: str | None = None,
        home_district: str | None = None,
    ) -> RouteResult:
        """`contacts.routing.route` over the current snapshot. Names or ids are accepted."""
        return route(
            await self.snapshot(), purpose=purpose, school=school, home_district=home_district,
            at=at,
        )


# --------------------------------------------------------------------------------------------
# Database helpers
# --------------------------------------------------------------------------------------------


async def _load(s: AsyncSession) -> RegistryData:
    d_aliases: dict[str, list[str]] = {}
    for row in (await s.execute(
        select(RegistryDistrictAlias).order_by(
            RegistryDistrictAlias.district_id, RegistryDistrictAlias.position
        )
    )).scalars():
        d_aliases.setdefault(row.district_id, []).append(row.alias)
    s_aliases: dict[str, list[str]] = {}
    for srow in (await s.execute(
        select(RegistrySchoolAlias).order_by(
            RegistrySchoolAlias.school_id, RegistrySchoolAlias.position
        )
    )).scalars():
        s_aliases.setdefault(srow.school_id, []).append(srow.alias)
    data = RegistryData()
    after_rows = await s.execute(select(RegistryAfterHours).order_by(RegistryAfterHours.id))
    for a in after_rows.scalars():
        data.after_hours.append(AfterHours(a.id, a.name, a.phone, a.email, a.url, a.example))
    for d in (await s.execute(select(RegistryDistrict).order_by(RegistryDistrict.id))).scalars():
        opens, closes = parse_clock(d.office_open), parse_clock(d.office_close)
        assert opens is not None and closes is not None
        data.districts.append(District(
            d.id, d.name,
            Intake(d.intake_name, d.intake_phone, d.intake_email, d.intake_url),
            OfficeHours(tuple(x for x in d.office_days.split(",") if x), opens, closes),
            d.after_hours_id, tuple(d_aliases.get(d.id, ())), d.example,
        ))
    for p in (await s.execute(select(RegistryPerson).order_by(RegistryPerson.id))).scalars():
        data.people.append(Person(
            p.id, p.name, p.title, p.district_id, p.phone, p.email, p.teams_upn, p.example
        ))
    for sc in (await s.execute(select(RegistrySchool).order_by(RegistrySchool.id))).scalars():
        data.schools.append(School(
            sc.id, sc.name, sc.district_id, sc.contact_person_id, tuple(s_aliases.get(sc.id, ())),
            sc.example,
        ))
    return data


def _refs_of(table: str, obj: Any) -> list[tuple[str, str]]:
    """(referenced table, id) pairs of one record."""
    out: list[tuple[str, str]] = []
    for (t, fld), target in _REFS.items():
        if t == table:
            value = getattr(obj, fld)
            if value:
                out.append((target, value))
    return out


def _removable_examples(existing: RegistryData, incoming: RegistryData) -> dict[str, set[str]]:
    """Example records a real import removes: those it does not replace and that no kept
    non-example record still refers to."""
    incoming_ids = {t: {r.id for r in incoming.table(t)} for t in TABLES}
    remove = {
        t: {r.id for r in existing.table(t) if r.example and r.id not in incoming_ids[t]}
        for t in TABLES
    }
    changed = True
    while changed:
        changed = False
        for t in TABLES:
            for r in existing.table(t):
                if r.id in remove[t] or r.id in incoming_ids[t]:
                    continue
                for target, value in _refs_of(t, r):
                    if value in remove[target]:
                        remove[target].discard(value)
                        changed = True
    return remove


def _check_kept_refs(
    parsed: ParsedFile, existing: RegistryData, removable: Mapping[str, set[str]]
) -> list[RegistryIssue]:
    """Records that stay in the registry (not in the file, not removed) but refer to a record
    that would be removed."""
    issues: list[RegistryIssue] = []
    for t in TABLES:
        for r in existing.table(t):
            if r.id in parsed.ids[t] or r.id in removable[t]:
                continue
            for target, value in _refs_of(t, r):
                if value in removable[target]:
                    what = texts().text(f"registry.ref_{target}")
                    issues.append(RegistryIssue(
                        parsed.source, None,
                        texts().text(
                            "registry.still_referenced",
                            what_cap=what[:1].upper() + what[1:], value=value, table=t,
                            record=r.id,
                        ),
                        table=target, record=value,
                    ))
    return issues


def _check_refs(
    parsed: ParsedFile, existing: RegistryData, removable: Mapping[str, set[str]]
) -> list[RegistryIssue]:
    known = {
        t: ({r.id for r in existing.table(t)} - removable[t]) | parsed.ids[t]
        for t in TABLES
    }
    issues: list[RegistryIssue] = []
    for ref in parsed.refs:
        if ref.value in known[ref.target]:
            continue
        key = (
            "registry.unknown_ref_example"
            if ref.value in removable[ref.target]
            else "registry.unknown_ref"
        )
        issues.append(RegistryIssue(
            parsed.source, ref.line,
            texts().text(key, value=ref.value, what=texts().text(f"registry.ref_{ref.target}")),
            table=ref.table, record=ref.record, field=ref.field,
        ))
    return issues


_MODELS: dict[str, Any] = {
    "after_hours": RegistryAfterHours,
    "districts": RegistryDistrict,
    "people": RegistryPerson,
    "schools": RegistrySchool,
}


def _columns(table: str, obj: Any) -> dict[str, Any]:
    if table == "after_hours":
        return dict(name=obj.name, phone=obj.phone, email=obj.email, url=obj.url,
                    example=obj.example)
    if table == "districts":
        return dict(
            name=obj.name, intake_name=obj.intake.name, intake_phone=obj.intake.phone,
            intake_email=obj.intake.email, intake_url=obj.intake.url,
            office_days=",".join(obj.office_hours.days),
            office_open=_clock_text(obj.office_hours.open),
            office_close=_clock_text(obj.office_hours.close),
            after_hours_id=obj.after_hours, example=obj.example,
        )
    if table == "people":
        return dict(name=obj.name, title=obj.title, district_id=obj.district, phone=obj.phone,
                    email=obj.email, teams_upn=obj.teams_upn, example=obj.example)
    return dict(name=obj.name, district_id=obj.district, contact_person_id=obj.contact_person,
                example=obj.example)


async def _write(
    s: AsyncSession,
    existing: RegistryData,
    data: RegistryData,
    removable: Mapping[str, set[str]],
    report: ImportReport,
    stamp: datetime,
) -> None:
    for table in TABLES:
        model = _MODELS[table]
        old = {r.id: r for r in existing.table(table)}
        counts = report.counts[table]
        alias_changes: list[Any] = []
        for obj in data.table(table):
            before = old.get(obj.id)
            if before == obj:
                counts.unchanged += 1
                continue
            if before is None:
                s.add(model(id=obj.id, updated_at=stamp, **_columns(table, obj)))
                counts.created += 1
            else:
                row = await s.get(model, obj.id)  # already in the session (loaded above)
                assert row is not None
                for k, v in _columns(table, obj).items():
                    setattr(row, k, v)
                row.updated_at = stamp
                counts.updated += 1
            if table in ("districts", "schools") and (
                before is None or before.aliases != obj.aliases
            ):
                alias_changes.append(obj)
        await s.flush()
        for obj in alias_changes:
            await _write_aliases(s, table, obj.id, obj.aliases)
        await s.flush()
    # Example records replaced by real data: remove in reverse reference order.
    for table in reversed(TABLES):
        ids = removable[table]
        if not ids:
            continue
        model = _MODELS[table]
        if table == "districts":
            await s.execute(
                delete(RegistryDistrictAlias).where(RegistryDistrictAlias.district_id.in_(ids))
            )
        if table == "schools":
            await s.execute(
                delete(RegistrySchoolAlias).where(RegistrySchoolAlias.school_id.in_(ids))
            )
        await s.execute(delete(model).where(model.id.in_(ids)))
        report.counts[table].removed += len(ids)
    await s.flush()


async def _write_aliases(s: AsyncSession, table: str, owner: str, aliases: Sequence[str]) -> None:
    if table == "districts":
        await s.execute(
            delete(RegistryDistrictAlias).where(RegistryDistrictAlias.district_id == owner)
        )
        for i, alias in enumerate(aliases):
            s.add(RegistryDistrictAlias(district_id=owner, position=i, alias=alias))
    else:
        await s.execute(delete(RegistrySchoolAlias).where(RegistrySchoolAlias.school_id == owner))
        for i, alias in enumerate(aliases):
            s.add(RegistrySchoolAlias(school_id=owner, position=i, alias=alias))


async def _bump_revision(s: AsyncSession, stamp: datetime) -> None:
    state = await s.get(RegistryState, 1)
    if state is None:
        s.add(RegistryState(id=1, revision=1, updated_at=stamp))
    else:
        state.revision += 1
        state.updated_at = stamp
    await s.flush()
