"""The contact registry's tables: after-hours services, districts, people, schools, aliases.

Rows carry `example` (True for the bundled example registry with fictional people), so that the
contact card can say so and a real import can replace the example data, and `kommun`: the kommun
profile whose registry they belong to ("" without kommun profiles), so that one server can hold
each kommun's own registry (contacts.registry.RegistryService.for_kommun). Ids are unique across
the server: an import refuses an id another kommun already uses. `registry_state` holds a
revision number that every import bumps: a cached snapshot checks it with one cheap query.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UtcDateTime

ID_LEN = 100
NAME_LEN = 200
PHONE_LEN = 40
EMAIL_LEN = 254
URL_LEN = 1000
KOMMUN_LEN = 80


def kommun_column() -> Mapped[str]:
    """The kommun a record belongs to ("" when the server has no kommun profiles)."""
    return mapped_column(
        String(KOMMUN_LEN), nullable=False, default="", server_default="", index=True
    )


class RegistryAfterHours(Base):
    """An after-hours service (socialjour / social beredskap)."""

    __tablename__ = "registry_after_hours"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)
    phone: Mapped[str] = mapped_column(String(PHONE_LEN), nullable=False)
    email: Mapped[str | None] = mapped_column(String(EMAIL_LEN), nullable=True)
    url: Mapped[str | None] = mapped_column(String(URL_LEN), nullable=True)
    kommun: Mapped[str] = kommun_column()
    example: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class RegistryDistrict(Base):
    """A kommun or stadsdel that receives reports: its intake, office hours and socialjour."""

    __tablename__ = "registry_districts"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)
    intake_name: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)
    intake_phone: Mapped[str] = mapped_column(String(PHONE_LEN), nullable=False)
    intake_email: Mapped[str | None] = mapped_column(String(EMAIL_LEN), nullable=True)
    intake_url: Mapped[str | None] = mapped_column(String(URL_LEN), nullable=True)
    # 'mon,tue,wed,thu,fri'
    office_days: Mapped[str] = mapped_column(String(40), nullable=False)
    office_open: Mapped[str] = mapped_column(String(5), nullable=False)  # 'HH:MM'
    office_close: Mapped[str] = mapped_column(String(5), nullable=False)
    after_hours_id: Mapped[str | None] = mapped_column(
        String(ID_LEN), ForeignKey("registry_after_hours.id"), nullable=True, index=True
    )
    kommun: Mapped[str] = kommun_column()
    example: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class RegistryDistrictAlias(Base):
    __tablename__ = "registry_district_aliases"

    district_id: Mapped[str] = mapped_column(
        String(ID_LEN), ForeignKey("registry_districts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)


class RegistryPerson(Base):
    """A person at socialtjänsten, e.g. a school's kontaktsocialsekreterare."""

    __tablename__ = "registry_people"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)
    title: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    district_id: Mapped[str | None] = mapped_column(
        String(ID_LEN), ForeignKey("registry_districts.id"), nullable=True, index=True
    )
    phone: Mapped[str | None] = mapped_column(String(PHONE_LEN), nullable=True)
    email: Mapped[str | None] = mapped_column(String(EMAIL_LEN), nullable=True)
    teams_upn: Mapped[str | None] = mapped_column(String(EMAIL_LEN), nullable=True)
    kommun: Mapped[str] = kommun_column()
    example: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class RegistrySchool(Base):
    """A school or förskola: the district it lies in and its contact person, if any."""

    __tablename__ = "registry_schools"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)
    district_id: Mapped[str] = mapped_column(
        String(ID_LEN), ForeignKey("registry_districts.id"), nullable=False, index=True
    )
    contact_person_id: Mapped[str | None] = mapped_column(
        String(ID_LEN), ForeignKey("registry_people.id"), nullable=True, index=True
    )
    kommun: Mapped[str] = kommun_column()
    example: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class RegistrySchoolAlias(Base):
    __tablename__ = "registry_school_aliases"

    school_id: Mapped[str] = mapped_column(
        String(ID_LEN), ForeignKey("registry_schools.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias: Mapped[str] = mapped_column(String(NAME_LEN), nullable=False)


class RegistryState(Base):
    """One row (id 1): the registry's revision, bumped by every import that changes something."""

    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
