"""Reading registry files for import: YAML (with line numbers) and CSV (one file or a directory
of one file per table) into records, within the limits on files; and the CSV columns and quoting.

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
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from common.yaml_safe import MAX_DEPTH, DepthLimitedLoader, TooDeepError
from contacts import texts
from contacts.matching import suggest
from contacts.records import TABLES, ParsedFile, RegistryIssue, add_records, parse_bool

# The largest file (each file of a directory) an import reads, and how deep YAML may nest.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_YAML_DEPTH = MAX_DEPTH
# Cell starts a spreadsheet reads as a formula (OWASP CSV injection), and the quote that
# neutralises them; a cell starting with the quote itself is quoted too, so that import can
# always tell the two apart.
CSV_FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
_CSV_QUOTE = "'"
_CSV_QUOTED_STARTS = CSV_FORMULA_STARTS | {_CSV_QUOTE}
_LIST_COLUMNS = frozenset({"aliases", "office_hours.days"})
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "after_hours": ("id", "name", "phone", "email", "url", "example"),
    "districts": (
        "id",
        "name",
        "aliases",
        "intake.name",
        "intake.phone",
        "intake.email",
        "intake.url",
        "office_hours.days",
        "office_hours.open",
        "office_hours.close",
        "after_hours",
        "example",
    ),
    "people": ("id", "name", "title", "district", "phone", "email", "teams_upn", "example"),
    "schools": ("id", "name", "aliases", "district", "contact_person", "example"),
}
CSV_ALL_COLUMNS: tuple[str, ...] = (
    "table",
    "id",
    "name",
    "title",
    "aliases",
    "district",
    "contact_person",
    "phone",
    "email",
    "teams_upn",
    "url",
    "intake.name",
    "intake.phone",
    "intake.email",
    "intake.url",
    "office_hours.days",
    "office_hours.open",
    "office_hours.close",
    "after_hours",
    "example",
)
assert set(CSV_ALL_COLUMNS) == {"table"} | {c for cols in CSV_COLUMNS.values() for c in cols}

# --------------------------------------------------------------------------------------------
# Reading YAML with line numbers (every scalar as text: no YAML 1.1 surprises such as
# `open: 08:00` turning into the number 480)
# --------------------------------------------------------------------------------------------


class _LineDict(dict[str, Any]):
    line: int
    key_lines: dict[str, int]
    duplicates: list[tuple[str, int]]


class _Loader(DepthLimitedLoader):
    """The depth-limited SafeLoader with this module's constructors (if any)."""


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
# CSV cells safe to open in a spreadsheet (see the module's docstring)
# --------------------------------------------------------------------------------------------


def csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula: a quote in front of a dangerous start."""
    return _CSV_QUOTE + value if value[:1] in _CSV_QUOTED_STARTS else value


def csv_unquote(cell: str) -> str:
    """The value of a cell written by `csv_safe` (or typed the same way by hand)."""
    if cell[:1] == _CSV_QUOTE and cell[1:2] in _CSV_QUOTED_STARTS:
        return cell[1:]
    return cell


# --------------------------------------------------------------------------------------------
# Parsing files
# --------------------------------------------------------------------------------------------


def parse_yaml(text: str, source: str) -> ParsedFile:
    parsed = ParsedFile(source)

    def top_error(message: str, line: int | None) -> None:
        parsed.errors.append(RegistryIssue(source, line, message))

    try:
        doc = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except TooDeepError as exc:
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
            parsed.errors.append(
                RegistryIssue(
                    source,
                    doc.key_lines["example"],
                    texts().text("registry.bad_bool", value=doc["example"]),
                    field="example",
                )
            )
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
                parsed.errors.append(
                    RegistryIssue(
                        source,
                        doc.key_lines[table],
                        texts().text("registry.not_mapping"),
                        table=table,
                    )
                )
                continue
            entries.append((item, item.line, item.key_lines))
        add_records(parsed, table, entries, default_example, seen)
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
    parsed: ParsedFile,
    text: str,
    table_hint: str | None,
    source: str,
    seen: dict[tuple[str, str], int | None],
) -> None:
    try:
        header, rows = _csv_rows(text)
    except _CsvBroken as exc:
        parsed.errors.append(
            RegistryIssue(
                source, exc.line, texts().text("registry.csv_broken", problem=exc.problem)
            )
        )
        return
    if not header:
        parsed.errors.append(RegistryIssue(source, None, texts().text("registry.csv_empty")))
        return
    has_table = "table" in header
    if not has_table and table_hint is None:
        parsed.errors.append(RegistryIssue(source, 1, texts().text("registry.csv_no_table")))
        return
    known = set(CSV_ALL_COLUMNS) if has_table else {"table", *CSV_COLUMNS[table_hint or ""]}
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
            parsed.errors.append(
                RegistryIssue(
                    source,
                    line,
                    texts().text("registry.csv_unknown_table", value=table),
                    field="table",
                )
            )
            continue
        values: dict[str, Any] = {}
        foreign = False
        for col, cell in row.items():
            if not cell:
                continue
            if col not in CSV_COLUMNS[table]:
                parsed.errors.append(
                    RegistryIssue(
                        source,
                        line,
                        texts().text("registry.csv_column_not_in_table", key=col, table=table),
                        table=table,
                        record=row.get("id") or None,
                        field=col,
                    )
                )
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
        add_records(parsed, table, per_table[table], False, seen)


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
        return ParsedFile(
            source,
            errors=[
                RegistryIssue(
                    source, None, texts().text("registry.unreadable", problem=exc.strerror or exc)
                )
            ],
        )
    kind = fmt or {".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}.get(path.suffix.lower())
    if kind is None:
        unknown = texts().text("registry.unknown_format")
        return ParsedFile(source, errors=[RegistryIssue(source, None, unknown)])
    decoded = _decode(raw, source)
    if isinstance(decoded, RegistryIssue):
        return ParsedFile(source, errors=[decoded])
    return parse_yaml(decoded, source) if kind == "yaml" else parse_csv(decoded, source)


