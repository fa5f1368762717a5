"""Writing the registry as files: YAML as the contract writes it (`registry export`), and CSV
(one file with a `table` column, or one per table) whose cells are safe to open in a spreadsheet.

The CSV quoting and its reasons: contacts.file_formats.
"""

from __future__ import annotations

import csv
import io
from datetime import time
from typing import Any

import yaml

from contacts import texts
from contacts.file_formats import CSV_ALL_COLUMNS, CSV_COLUMNS, csv_safe
from contacts.records import TABLES, RegistryData


def clock_text(t: time) -> str:
    return t.strftime("%H:%M")


def record_to_dict(table: str, obj: Any, *, with_example: bool) -> dict[str, Any]:
    """A record as the YAML contract writes it (absent optional fields left out)."""
    out: dict[str, Any] = {"id": obj.id, "name": obj.name}
    if table == "after_hours":
        out.update(phone=obj.phone, email=obj.email, url=obj.url)
    elif table == "districts":
        out["aliases"] = list(obj.aliases)
        intake = {
            "name": obj.intake.name,
            "phone": obj.intake.phone,
            "email": obj.intake.email,
            "url": obj.intake.url,
        }
        out["intake"] = {k: v for k, v in intake.items() if v}
        out["office_hours"] = {
            "days": list(obj.office_hours.days),
            "open": clock_text(obj.office_hours.open),
            "close": clock_text(obj.office_hours.close),
        }
        out["after_hours"] = obj.after_hours
    elif table == "people":
        out.update(
            title=obj.title,
            district=obj.district,
            phone=obj.phone,
            email=obj.email,
            teams_upn=obj.teams_upn,
        )
    else:
        out["aliases"] = list(obj.aliases)
        out.update(district=obj.district, contact_person=obj.contact_person)
    if with_example and obj.example:
        out["example"] = True
    return {k: v for k, v in out.items() if v not in (None, [], "")}


def only_examples(data: RegistryData) -> bool:
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
    all_example = only_examples(data)
    doc: dict[str, Any] = {}
    if all_example:
        doc["example"] = True
    for table in TABLES:
        rows = sorted(data.table(table), key=lambda r: r.id)
        doc[table] = [_styled(record_to_dict(table, r, with_example=not all_example)) for r in rows]
    header = texts().text("registry.export_header") + "\n"
    if all_example:
        header += texts().text("registry.export_example") + "\n"
    return header + yaml.dump(
        doc,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )


def _csv_cells(table: str, obj: Any) -> dict[str, str]:
    """The cells of one record, each made safe to open in a spreadsheet (`csv_safe`)."""
    d = record_to_dict(table, obj, with_example=True)
    cells: dict[str, str] = {}
    for col in CSV_COLUMNS[table]:
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
        writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS[table]), lineterminator="\n")
        writer.writeheader()
        for r in sorted(data.table(table), key=lambda r: r.id):
            writer.writerow(_csv_cells(table, r))
        out[f"{table}.csv"] = buf.getvalue()
    return out


