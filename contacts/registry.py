"""The contact registry in the database (`RegistryService`): transactional import, export, and
the snapshot used for routing, cached until an import changes the registry's revision.

The file formats and the validation of what an import reads are contacts.file_formats and
contacts.records; writing files is contacts.export.

Import is idempotent by id and transactional: every error (file, line, field) is collected and a
file with any error changes nothing. Importing data that is not example data removes the example
records it does not replace, so the bundled example registry never mixes with the real one.

Each kommun has its own registry on one server (`for_kommun`; the records' `kommun` column):
imports, look-ups and routing of one kommun never see, change or remove another kommun's
records, and an id another kommun uses is refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import Clock, SystemClock
from contacts import texts
from contacts.export import clock_text, export_csv, export_csv_tables, export_yaml, only_examples
from contacts.file_formats import parse_csv, parse_path, parse_yaml
from contacts.matching import Match
from contacts.model import (
    AfterHours,
    District,
    Intake,
    OfficeHours,
    Person,
    RegistrySnapshot,
    School,
    SwedishCalendar,
    parse_clock,
)
from contacts.records import TABLES, ParsedFile, RegistryData, RegistryIssue
from contacts.references import check_kept_refs, check_refs, removable_examples
from contacts.routing import RouteResult, route
from contacts.tables import (
    RegistryAfterHours,
    RegistryDistrict,
    RegistryDistrictAlias,
    RegistryPerson,
    RegistrySchool,
    RegistrySchoolAlias,
    RegistryState,
)
from storage.db import Database

_PG_IMPORT_LOCK = 7_344_118_002

# --------------------------------------------------------------------------------------------
# The report of an import
# --------------------------------------------------------------------------------------------


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
    changes. The revision is read (one primary-key read) at most once per `recheck_after`
    seconds: an import by this service is seen at once, an import by another process (the CLI
    while the bot runs) within that time. A dialog turn can look up the registry several times;
    it need not ask the database each time.
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock | None = None,
        calendar: SwedishCalendar | None = None,
        recheck_after: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        kommun: str | None = None,
    ) -> None:
        self.db = db
        self._recheck_after = recheck_after
        self._monotonic = monotonic
        self._checked_at = -float("inf")
        self.clock: Clock = clock or SystemClock()
        self._calendar = calendar or SwedishCalendar()
        self.kommun = kommun or ""  # whose registry this is ("" without kommun profiles)
        self._cache: RegistrySnapshot | None = None
        self._lock = asyncio.Lock()

    def for_kommun(self, kommun: str | None) -> RegistryService:
        """The registry of `kommun` on the same database (its own snapshot cache)."""
        return RegistryService(
            self.db,
            clock=self.clock,
            calendar=self._calendar,
            recheck_after=self._recheck_after,
            monotonic=self._monotonic,
            kommun=kommun,
        )

    async def adopt_unscoped(self) -> int:
        """Give this kommun the records that belong to no kommun (those imported before each
        kommun had its own registry: the server's default kommun's). The number adopted."""
        if not self.kommun:
            return 0
        adopted = 0
        async with self.db.transaction() as s:
            for model in _MODELS.values():
                result = await s.execute(
                    update(model).where(model.kommun == "").values(kommun=self.kommun)
                )
                adopted += int(result.rowcount or 0)  # type: ignore[attr-defined]
            if adopted:
                await _bump_revision(s, self.clock.now())
        if adopted:
            self._cache = None
        return adopted

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
            existing = await _load(s, self.kommun)
            report.errors.extend(await _taken_elsewhere(s, self.kommun, parsed))
            data = parsed.data
            has_rows = any(data.table(t) for t in TABLES)
            if has_rows and not only_examples(data):
                removable = removable_examples(existing, data)
            else:
                removable = {t: set() for t in TABLES}
            if replace:
                for t in TABLES:
                    if data.table(t):
                        removable[t] |= {r.id for r in existing.table(t)} - parsed.ids[t]
                report.errors.extend(check_kept_refs(parsed, existing, removable))
            report.errors.extend(check_refs(parsed, existing, removable))
            if report.errors:
                # Nothing has been written: the (empty) transaction ends here.
                report.errors.sort(key=lambda e: (e.file, e.line or 0))
                return report
            await _write(s, existing, data, removable, report, stamp, self.kommun)
            if report.changed:
                await _bump_revision(s, stamp)
        if report.changed:
            self._cache = None
        return report

    async def ensure_default(self, path: Path | None) -> bool:
        """Load an example registry (a kommun profile's registry.yaml) when this kommun's
        registry is empty. True if it loaded; None: there is none to load."""
        if path is None or not await self.is_empty():
            return False
        parsed = parse_path(path)
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
                query = select(model.id).where(model.kommun == self.kommun).limit(1)
                if (await s.execute(query)).first() is not None:
                    return False
        return True

    # ---- export -------------------------------------------------------------------------

    async def data(self) -> RegistryData:
        async with self.db.session() as s:
            return await _load(s, self.kommun)

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
        cached = self._cache
        now = self._monotonic()
        if cached is not None and now - self._checked_at < self._recheck_after:
            return cached
        rev = await self.revision()
        if cached is not None and cached.revision == rev:
            self._checked_at = now
            return cached
        async with self._lock:
            cached = self._cache
            if cached is not None and cached.revision == rev:
                return cached
            async with self.db.session() as s:
                rev = int(
                    await s.scalar(select(RegistryState.revision).where(RegistryState.id == 1)) or 0
                )
                data = await _load(s, self.kommun)
            snap = RegistrySnapshot(
                after_hours=data.after_hours,
                districts=data.districts,
                people=data.people,
                schools=data.schools,
                revision=rev,
                calendar=self._calendar,
            )
            self._cache = snap
            self._checked_at = now
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
            await self.snapshot(),
            purpose=purpose,
            school=school,
            home_district=home_district,
            at=at,
        )


# --------------------------------------------------------------------------------------------
# Database helpers
# --------------------------------------------------------------------------------------------


async def _load(s: AsyncSession, kommun: str) -> RegistryData:
    """One kommun's registry."""
    d_aliases: dict[str, list[str]] = {}
    for row in (
        await s.execute(
            select(RegistryDistrictAlias)
            .join(RegistryDistrict, RegistryDistrict.id == RegistryDistrictAlias.district_id)
            .where(RegistryDistrict.kommun == kommun)
            .order_by(RegistryDistrictAlias.district_id, RegistryDistrictAlias.position)
        )
    ).scalars():
        d_aliases.setdefault(row.district_id, []).append(row.alias)
    s_aliases: dict[str, list[str]] = {}
    for srow in (
        await s.execute(
            select(RegistrySchoolAlias)
            .join(RegistrySchool, RegistrySchool.id == RegistrySchoolAlias.school_id)
            .where(RegistrySchool.kommun == kommun)
            .order_by(RegistrySchoolAlias.school_id, RegistrySchoolAlias.position)
        )
    ).scalars():
        s_aliases.setdefault(srow.school_id, []).append(srow.alias)

    def rows(model: Any) -> Any:
        return select(model).where(model.kommun == kommun).order_by(model.id)

    data = RegistryData()
    after_rows = await s.execute(rows(RegistryAfterHours))
    for a in after_rows.scalars():
        data.after_hours.append(AfterHours(a.id, a.name, a.phone, a.email, a.url, a.example))
    for d in (await s.execute(rows(RegistryDistrict))).scalars():
        opens, closes = parse_clock(d.office_open), parse_clock(d.office_close)
        assert opens is not None and closes is not None
        data.districts.append(
            District(
                d.id,
                d.name,
                Intake(d.intake_name, d.intake_phone, d.intake_email, d.intake_url),
                OfficeHours(tuple(x for x in d.office_days.split(",") if x), opens, closes),
                d.after_hours_id,
                tuple(d_aliases.get(d.id, ())),
                d.example,
            )
        )
    for p in (await s.execute(rows(RegistryPerson))).scalars():
        data.people.append(
            Person(p.id, p.name, p.title, p.district_id, p.phone, p.email, p.teams_upn, p.example)
        )
    for sc in (await s.execute(rows(RegistrySchool))).scalars():
        data.schools.append(
            School(
                sc.id,
                sc.name,
                sc.district_id,
                sc.contact_person_id,
                tuple(s_aliases.get(sc.id, ())),
                sc.example,
            )
        )
    return data


_MODELS: dict[str, Any] = {
    "after_hours": RegistryAfterHours,
    "districts": RegistryDistrict,
    "people": RegistryPerson,
    "schools": RegistrySchool,
}


def _columns(table: str, obj: Any) -> dict[str, Any]:
    if table == "after_hours":
        return dict(
            name=obj.name, phone=obj.phone, email=obj.email, url=obj.url, example=obj.example
        )
    if table == "districts":
        return dict(
            name=obj.name,
            intake_name=obj.intake.name,
            intake_phone=obj.intake.phone,
            intake_email=obj.intake.email,
            intake_url=obj.intake.url,
            office_days=",".join(obj.office_hours.days),
            office_open=clock_text(obj.office_hours.open),
            office_close=clock_text(obj.office_hours.close),
            after_hours_id=obj.after_hours,
            example=obj.example,
        )
    if table == "people":
        return dict(
            name=obj.name,
            title=obj.title,
            district_id=obj.district,
            phone=obj.phone,
            email=obj.email,
            teams_upn=obj.teams_upn,
            example=obj.example,
        )
    return dict(
        name=obj.name,
        district_id=obj.district,
        contact_person_id=obj.contact_person,
        example=obj.example,
    )


async def _write(
    s: AsyncSession,
    existing: RegistryData,
    data: RegistryData,
    removable: Mapping[str, set[str]],
    report: ImportReport,
    stamp: datetime,
    kommun: str,
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
                s.add(model(id=obj.id, kommun=kommun, updated_at=stamp, **_columns(table, obj)))
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


async def _taken_elsewhere(
    s: AsyncSession, kommun: str, parsed: ParsedFile
) -> list[RegistryIssue]:
    """The file's ids that another kommun's registry uses (ids are unique on the server)."""
    issues: list[RegistryIssue] = []
    for table in TABLES:
        ids = sorted(parsed.ids[table])
        if not ids:
            continue
        model = _MODELS[table]
        found = await s.execute(
            select(model.id, model.kommun).where(model.id.in_(ids), model.kommun != kommun)
        )
        for record, other in found.all():
            owner = other or texts().text("registry.no_kommun")
            message = texts().text("registry.other_kommun", id=record, kommun=owner)
            issues.append(RegistryIssue(parsed.source, None, message, table=table, record=record))
    return issues


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

