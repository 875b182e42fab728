"""The write side's picture of each school: what the commands check their rules against.

A pure fold: `State.apply(seq, event)` in log order. It keeps timelines (status changes,
pairing intervals, rules in force from a date) because a back-dated write is checked against
the whole timeline, not only today's state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from events import rules
from events.calendar import Term
from events.types import (
    AidGranted,
    AidRevoked,
    CareActivityHeld,
    CategoryAdded,
    CategoryRemoved,
    ContactMade,
    EntryCorrected,
    EntryRetracted,
    Event,
    HandbookInspected,
    HelpPlanReviewed,
    HelpPlanSet,
    IncidentReported,
    IncidentResolved,
    PairingAssigned,
    PairingEnded,
    PupilAmended,
    PupilDroppedOut,
    PupilGraduated,
    PupilRegistered,
    PupilReturned,
    PupilTransferred,
    RulesSet,
    SchoolOpened,
    StaffJoined,
    StaffAmended,
    StaffLeft,
    TermAdded,
)

EXIT_STATUS = {
    PupilGraduated: "graduated",
    PupilTransferred: "transferred",
    PupilDroppedOut: "dropped_out",
}


@dataclass
class Pairing:
    staff: str
    pupil: str
    start: dt.date
    end: dt.date | None = None  # the pairing holds on [start, end)
    reason: str | None = None

    def overlaps_from(self, day: dt.date) -> bool:
        return self.end is None or self.end > day

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass
class Staff:
    id: str
    name: str
    roles: list[str]
    joined: dt.date
    left: dt.date | None = None
    grade: int | None = None
    class_: int | None = None
    pairings: list[Pairing] = field(default_factory=list)
    needed_until: dt.date | None = None  # the last day an entry needs them on the staff (contact by, inspection)

    def active_on(self, day: dt.date) -> bool:
        return self.joined <= day and (self.left is None or day < self.left)

    def needed(self, day: dt.date) -> None:
        if self.needed_until is None or day > self.needed_until:
            self.needed_until = day


@dataclass
class Pupil:
    id: str
    name: str
    grade: int
    class_: int
    registered: dt.date
    categories: set[str] = field(default_factory=set)
    statuses: list[tuple[dt.date, str]] = field(default_factory=list)  # in date order
    pairings: list[Pairing] = field(default_factory=list)
    last_date: dt.date | None = None  # the latest effective date of anything about the pupil
    last_care: dt.date | None = None  # the latest date of an entry that needs the pupil enrolled
    initial_categories: frozenset[str] = frozenset()
    category_changes: list[tuple[dt.date, int, str, bool]] = field(default_factory=list)

    def status_on(self, day: dt.date) -> str | None:
        status = None
        for when, what in self.statuses:
            if when <= day:
                status = what
            else:
                break
        return status

    def at_school_on(self, day: dt.date) -> bool:
        """Care may be recorded on a day the pupil is enrolled, including the day they leave (the
        exit day is their last day at school: a talk that morning and an exit that day agree,
        whichever was recorded first)."""
        if self.status_on(day) == "enrolled":
            return True
        before = self.status_on(day - dt.timedelta(days=1))
        return before == "enrolled" and any(when == day for when, _ in self.statuses[1:])

    def current_pairing(self) -> Pairing | None:
        return next((p for p in reversed(self.pairings) if p.end is None), None)

    def touch(self, day: dt.date, *, care: bool = False) -> None:
        if self.last_date is None or day > self.last_date:
            self.last_date = day
        if care and (self.last_care is None or day > self.last_care):
            self.last_care = day

    def categories_on(self, day: dt.date) -> set[str]:
        """The pupil's care categories on a day (registration, then changes effective by then)."""
        cats = set(self.initial_categories) if day >= self.registered else set()
        for when, _, category, added in self.category_changes:
            if when > day:
                break
            if added:
                cats.add(category)
            else:
                cats.discard(category)
        return cats


@dataclass
class Entry:
    """What a later correction, retraction, revocation or resolution needs of an event."""

    id: str
    type: str
    stream: str
    actor: str
    date: dt.date
    pupils: tuple[str, ...] = ()
    ref: str | None = None  # the grant an AidRevoked revokes, the incident an IncidentResolved closes
    retracted: bool = False
    revoked: bool = False  # an aid grant revoked, an incident resolved


@dataclass
class Grant:
    id: str
    pupil: str
    kind: str
    date: dt.date
    revoked: bool = False
    retracted: bool = False


@dataclass
class School:
    id: str
    name: str
    lang: str
    timezone: str
    opened: dt.date
    staff: dict[str, Staff] = field(default_factory=dict)
    pupils: dict[str, Pupil] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    # each `rules set` as recorded: (from date, order, capacity, late days, cadences), None = unchanged.
    # Kept as changes, not totals, so a back-dated rule recorded later still holds under later ones.
    rules: list[tuple[dt.date, int, int | None, int | None, dict[str, str]]] = field(default_factory=list)

    def rules_on(self, day: dt.date) -> tuple[int, int, dict[str, str]]:
        return rules.in_force(((when, cap, late, duties) for when, _, cap, late, duties in self.rules), day)

    def capacity_on(self, day: dt.date) -> int:
        return self.rules_on(day)[0]


@dataclass
class State:
    position: int = 0
    schools: dict[str, School] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    seq_of: dict[str, int] = field(default_factory=dict)  # event id -> its place in the log

    def next_version(self, stream: str) -> int:
        return self.versions.get(stream, 0) + 1

    def apply(self, seq: int | None, event: Event) -> None:
        if seq is not None:
            self.position = seq
        self.versions[event.stream] = event.version
        if seq is not None:
            self.seq_of[event.id] = seq
        handler = _HANDLERS.get(type(event))
        if isinstance(event, SchoolOpened):
            self.schools[event.school] = School(
                event.school, event.name, event.lang, event.timezone, event.date
            )
            return
        school = self.schools.get(event.school)
        if school is None or handler is None:
            return
        handler(school, event)


def _entry(school: School, event: Event, pupils: tuple[str, ...] = (), ref: str | None = None) -> None:
    school.entries[event.id] = Entry(event.id, event.type, event.stream, event.actor, event.date, pupils, ref)


def _staff_joined(s: School, e: StaffJoined) -> None:
    s.staff[e.staff] = Staff(e.staff, e.name, list(e.roles), e.date, grade=e.grade, class_=e.class_)
    _entry(s, e)


def _staff_left(s: School, e: StaffLeft) -> None:
    s.staff[e.staff].left = e.date
    _entry(s, e)


def amend_staff_record(staff, changes: dict) -> None:
    """Apply a StaffAmended's changes to a staff record (here, and in the read model)."""
    staff.name = changes.get("name", staff.name)
    staff.roles = list(changes.get("roles", staff.roles))
    staff.grade = changes.get("grade", staff.grade)
    staff.class_ = changes.get("class", staff.class_)


def _staff_amended(s: School, e: StaffAmended) -> None:
    amend_staff_record(s.staff[e.staff], e.changes)
    _entry(s, e)


def _pupil_registered(s: School, e: PupilRegistered) -> None:
    p = Pupil(e.pupil, e.name, e.grade, e.class_, e.date, set(e.categories), [(e.date, "enrolled")])
    p.initial_categories = frozenset(e.categories)
    p.touch(e.date)
    s.pupils[e.pupil] = p
    _entry(s, e, (e.pupil,))


def _pupil_amended(s: School, e: PupilAmended) -> None:
    p = s.pupils[e.pupil]
    if "name" in e.changes:
        p.name = e.changes["name"]
    if "grade" in e.changes:
        p.grade = int(e.changes["grade"])
    if "class" in e.changes:
        p.class_ = int(e.changes["class"])
    p.touch(e.date)
    _entry(s, e, (e.pupil,))


def _category(s: School, e: CategoryAdded | CategoryRemoved) -> None:
    p = s.pupils[e.pupil]
    added = isinstance(e, CategoryAdded)
    if added:
        p.categories.add(e.category)
    else:
        p.categories.discard(e.category)
    p.category_changes.append((e.date, len(p.category_changes), e.category, added))
    p.category_changes.sort()
    p.touch(e.date)
    _entry(s, e, (e.pupil,))


def _status(s: School, e: Event) -> None:
    p = s.pupils[e.pupil]
    status = "enrolled" if isinstance(e, PupilReturned) else EXIT_STATUS[type(e)]
    p.statuses.append((e.date, status))
    p.statuses.sort(key=lambda x: x[0])
    p.touch(e.date)
    _entry(s, e, (e.pupil,))


def _pairing_assigned(s: School, e: PairingAssigned) -> None:
    pairing = Pairing(e.staff, e.pupil, e.date)
    s.pupils[e.pupil].pairings.append(pairing)
    s.staff[e.staff].pairings.append(pairing)
    s.pupils[e.pupil].touch(e.date, care=True)
    _entry(s, e, (e.pupil,))


def _pairing_ended(s: School, e: PairingEnded) -> None:
    pairing = s.pupils[e.pupil].current_pairing()
    if pairing is not None:
        pairing.end = e.date
        pairing.reason = e.reason
    s.pupils[e.pupil].touch(e.date)
    _entry(s, e, (e.pupil,))


def _pupil_record(s: School, e: Event) -> None:
    s.pupils[e.pupil].touch(e.date, care=True)
    _entry(s, e, (e.pupil,))


def _contact(s: School, e: ContactMade) -> None:
    if e.by in s.staff:
        s.staff[e.by].needed(e.date)
    _pupil_record(s, e)


def _activity(s: School, e: CareActivityHeld) -> None:
    for pupil in e.pupils:
        s.pupils[pupil].touch(e.date, care=True)
    _entry(s, e, tuple(e.pupils))


def _aid_granted(s: School, e: AidGranted) -> None:
    s.grants[e.id] = Grant(e.id, e.pupil, e.kind, e.date)
    _pupil_record(s, e)


def _aid_revoked(s: School, e: AidRevoked) -> None:
    s.grants[e.grant].revoked = True
    s.entries[e.grant].revoked = True
    s.pupils[e.pupil].touch(e.date)
    _entry(s, e, (e.pupil,), ref=e.grant)


def _incident_resolved(s: School, e: IncidentResolved) -> None:
    s.entries[e.incident].revoked = True
    s.pupils[e.pupil].touch(e.date)
    _entry(s, e, (e.pupil,), ref=e.incident)


def _inspected(s: School, e: HandbookInspected) -> None:
    s.staff[e.staff].needed(e.date)
    _entry(s, e)


def _term_added(s: School, e: TermAdded) -> None:
    s.terms.append(Term(e.name, e.start, e.end))
    s.terms.sort(key=lambda t: t.start)
    _entry(s, e)


def _rules_set(s: School, e: RulesSet) -> None:
    s.rules.append((e.date, len(s.rules), e.capacity, e.late_days, dict(e.duties)))
    s.rules.sort(key=lambda r: (r[0], r[1]))
    _entry(s, e)


def _retracted(s: School, e: EntryRetracted) -> None:
    target = s.entries[e.corrects]
    target.retracted = True
    if e.corrects in s.grants:
        s.grants[e.corrects].retracted = True
    if target.ref is not None:
        # a retracted revocation or resolution: the grant counts again, the incident is open again
        s.entries[target.ref].revoked = False
        if target.ref in s.grants:
            s.grants[target.ref].revoked = False
    _entry(s, e, target.pupils)


def _corrected(s: School, e: EntryCorrected) -> None:
    target = s.entries[e.corrects]
    if e.to_date is not None:
        target.date = e.to_date
        for pupil in target.pupils:
            if pupil in s.pupils:
                s.pupils[pupil].touch(e.to_date, care=True)
    _entry(s, e, target.pupils)


_HANDLERS = {
    StaffJoined: _staff_joined,
    StaffLeft: _staff_left,
    StaffAmended: _staff_amended,
    PupilRegistered: _pupil_registered,
    PupilAmended: _pupil_amended,
    CategoryAdded: _category,
    CategoryRemoved: _category,
    PupilGraduated: _status,
    PupilTransferred: _status,
    PupilDroppedOut: _status,
    PupilReturned: _status,
    PairingAssigned: _pairing_assigned,
    PairingEnded: _pairing_ended,
    ContactMade: _contact,
    CareActivityHeld: _activity,
    HelpPlanSet: _pupil_record,
    HelpPlanReviewed: _pupil_record,
    IncidentReported: _pupil_record,
    IncidentResolved: _incident_resolved,
    AidGranted: _aid_granted,
    AidRevoked: _aid_revoked,
    HandbookInspected: _inspected,
    TermAdded: _term_added,
    RulesSet: _rules_set,
    EntryRetracted: _retracted,
    EntryCorrected: _corrected,
}
