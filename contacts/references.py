"""References between registry records (a school's district, a district's after-hours service):
which ones an import leaves unknown, and which example records a real import may remove."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contacts import texts
from contacts.records import TABLES, ParsedFile, RegistryData, RegistryIssue

# Where each reference points: (table, field) → referenced table.
_REFS: dict[tuple[str, str], str] = {
    ("districts", "after_hours"): "after_hours",
    ("people", "district"): "districts",
    ("schools", "district"): "districts",
    ("schools", "contact_person"): "people",
}


def _refs_of(table: str, obj: Any) -> list[tuple[str, str]]:
    """(referenced table, id) pairs of one record."""
    out: list[tuple[str, str]] = []
    for (t, fld), target in _REFS.items():
        if t == table:
            value = getattr(obj, fld)
            if value:
                out.append((target, value))
    return out


def removable_examples(existing: RegistryData, incoming: RegistryData) -> dict[str, set[str]]:
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


def check_kept_refs(
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
                    issues.append(
                        RegistryIssue(
                            parsed.source,
                            None,
                            texts().text(
                                "registry.still_referenced",
                                what_cap=what[:1].upper() + what[1:],
                                value=value,
                                table=t,
                                record=r.id,
                            ),
                            table=target,
                            record=value,
                        )
                    )
    return issues


def check_refs(
    parsed: ParsedFile, existing: RegistryData, removable: Mapping[str, set[str]]
) -> list[RegistryIssue]:
    known = {t: ({r.id for r in existing.table(t)} - removable[t]) | parsed.ids[t] for t in TABLES}
    issues: list[RegistryIssue] = []
    for ref in parsed.refs:
        if ref.value in known[ref.target]:
            continue
        key = (
            "registry.unknown_ref_example"
            if ref.value in removable[ref.target]
            else "registry.unknown_ref"
        )
        issues.append(
            RegistryIssue(
                parsed.source,
                ref.line,
                texts().text(key, value=ref.value, what=texts().text(f"registry.ref_{ref.target}")),
                table=ref.table,
                record=ref.record,
                field=ref.field,
            )
        )
    return issues


