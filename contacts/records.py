"""The records of a registry file: its tables and fields, what an import read and what is wrong
with it (file, line, field), and the static validation of one record, shared by YAML and CSV."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any
from urllib.parse import urlparse

from contacts import texts
from contacts.matching import suggest
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
from contacts.tables import EMAIL_LEN, ID_LEN, NAME_LEN, PHONE_LEN, URL_LEN

# Registry tables in an order where references point backwards.
TABLES: tuple[str, ...] = ("after_hours", "districts", "people", "schools")

_FIELDS: dict[str, tuple[str, ...]] = {
    "after_hours": ("id", "name", "phone", "email", "url", "example"),
    "districts": (
        "id",
        "name",
        "aliases",
        "intake",
        "office_hours",
        "after_hours",
        "example",
    ),
    "people": ("id", "name", "title", "district", "phone", "email", "teams_upn", "example"),
    "schools": ("id", "name", "aliases", "district", "contact_person", "example"),
}
_NESTED: dict[str, tuple[str, ...]] = {
    "intake": ("name", "phone", "email", "url"),
    "office_hours": ("days", "open", "close"),
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
            after_hours=self.after_hours,
            districts=self.districts,
            people=self.people,
            schools=self.schools,
            calendar=calendar,
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


class _Record:
    """Helpers to read one record's fields and collect problems with their lines."""

    def __init__(
        self,
        parsed: ParsedFile,
        table: str,
        values: Mapping[str, Any],
        line: int | None,
        key_lines: Mapping[str, int],
        default_example: bool,
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
        self.parsed.errors.append(
            RegistryIssue(
                file=self.parsed.source,
                line=line if line is not None else (self.line_of(key) if key else self.line),
                message=message,
                table=self.table,
                record=self.id,
                field=key,
            )
        )

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
                    rec.error(
                        "office_hours.close",
                        texts().text(
                            "registry.close_before_open",
                            open=opens.strftime("%H:%M"),
                            close=closes.strftime("%H:%M"),
                        ),
                    )
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


def add_records(
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

