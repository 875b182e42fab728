"""What the plan of a school is made of: staff, pupils, pairings, and the demo's own settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from careterm.demo.calendar import _school_year
from events import rules
from events.types import Person

# The policy says 每名教职工结队帮扶1名 (capacity 1, the default), and the school starts with that.
# With ~40 staff for ~150 pupils in care, most pupils would wait for a mentor for years; like many
# rural schools, the leadership group raises the limit a few weeks later so that every pupil in
# the archive has a mentor (150 / 40 ≈ 3.75, hence 4).
CAPACITY = 4


class DemoError(RuntimeError):
    """The generator produced an action a rule refused: a bug in the demo, not in the rules."""


class Ref(NamedTuple):
    """Stands for the id of an event recorded earlier in the build (known only at execution)."""

    key: str


_NO_KW: dict[str, Any] = {}
_KIND_KW = {kind: {"kind": kind} for kind in rules.ACTIVITY_KINDS}


@dataclass(eq=False)
class Staff:
    id: str
    name: str
    roles: tuple[str, ...]
    joined: dt.date
    title: str = "教师"
    grade: int | None = None
    cls: int | None = None
    left: dt.date | None = None
    style: str = "normal"  # prompt | normal | weekly | laggard | burst
    diligence: float = 0.85
    gaps: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    call_day: int = 2
    parity: int = 0
    inspections: list[dt.date] = field(default_factory=list)

    def in_gap(self, day: dt.date) -> bool:
        return any(a <= day <= b for a, b in self.gaps)


@dataclass(eq=False)
class Pairing:
    staff: Staff
    pupil: "Pupil"
    start: dt.date
    end: dt.date | None  # holds on [start, end)
    reason: str | None


@dataclass(eq=False)
class Pupil:
    id: str
    name: str
    gender: str
    birth: dt.date
    entry: int  # the school year the pupil entered grade 1
    cls: int
    registered: dt.date
    cats: list[tuple[dt.date, tuple[str, ...]]]  # category timeline, first at registration
    basis: str | None
    guardian: Person
    parents: list[Person]
    profile: dict[str, str]
    phone: str
    statuses: list[tuple[dt.date, str]] = field(default_factory=list)  # after registration
    pairings: list[Pairing] = field(default_factory=list)
    busy: bool = False  # taken by a scenario (exit, incident, category change)

    def categories_on(self, day: dt.date) -> tuple[str, ...]:
        found = self.cats[0][1]
        for when, cats in self.cats:
            if when <= day:
                found = cats
        return found

    def status_on(self, day: dt.date) -> str | None:
        if day < self.registered:
            return None
        status = "enrolled"
        for when, what in self.statuses:
            if when <= day:
                status = what
        return status

    def enrolled(self, day: dt.date) -> bool:
        return self.status_on(day) == "enrolled"

    def exit_after(self, day: dt.date) -> tuple[dt.date, str] | None:
        for when, what in self.statuses:
            if when > day and what != "enrolled":
                return when, what
        return None

    def grade_on(self, day: dt.date) -> int:
        return _school_year(day) - self.entry + 1

    def paired_on(self, day: dt.date) -> Pairing | None:
        for p in self.pairings:
            if p.start <= day and (p.end is None or day < p.end):
                return p
        return None


def _ordered(cats) -> tuple[str, ...]:
    return tuple(c for c in rules.CATEGORIES if c in cats)

