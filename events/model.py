"""The model of one school: the one fold the commands check against and the views read.

`apply(model, seq, event)` serves live catch-up, full rebuild and known-at replay alike. The
model keeps every fact with its effective date (timelines), so a view can be asked about any
date (as-of) without folding again. Corrections and retractions change the entry they point
at, whatever their own date: they apply at every as-of.

The model is a msgspec Struct so it can be persisted whole (`events.saved`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
import sys
from typing import Any

import msgspec

from events import aid_rules, rules
from events.calendar import Term
from events.types import (
    AidApplied,
    AidDecided,
    AidGranted,
    AidObjected,
    AidRevoked,
    AidSurveyed,
    ConductCleared,
    ConductRecorded,
    FundAdded,
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
    KeyAdded,
    KeyRevoked,
    PairingAssigned,
    PairingEnded,
    PupilAmended,
    PupilDroppedOut,
    PupilGraduated,
    PupilRegistered,
    PupilReturned,
    PupilTransferred,
    TransferAccepted,
    RulesSet,
    SchoolOpened,
    StaffJoined,
    StaffAmended,
    StaffLeft,
    TermAdded,
)

SCHEMA = 8  # bump when the model's shape or the fold changes: persisted models are rebuilt

STATUS_OF = {**rules.EXIT_STATUS, "PupilReturned": "enrolled"}


class Dated(msgspec.Struct, array_like=True):
    """A fact on a pupil's timeline: registration values, amendments, categories, statuses."""

    date: dt.date
    seq: int
    entry: str  # the event id
    what: str  # "status" | "category+" | "category-" | "profile"
    value: Any = None
    retracted: bool = False


class PairingRec(msgspec.Struct, array_like=True):
    staff: str
    pupil: str
    start: dt.date
    end: dt.date | None = None
    reason: str | None = None
    entry: str = ""  # the PairingAssigned
    end_entry: str | None = None  # the PairingEnded

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


class PupilRec(msgspec.Struct):
    id: str
    registered: dt.date
    base: dict[str, Any]  # the registration's fields
    timeline: list[Dated] = []
    pairings: list[PairingRec] = []
    entries: list[str] = []  # ids of contacts, activities, aid, plans, incidents about the pupil


class StaffRec(msgspec.Struct):
    id: str
    name: str
    roles: list[str]
    joined: dt.date
    left: dt.date | None = None
    grade: int | None = None
    class_: int | None = None
    pairings: list[PairingRec] = []


class KeyRec(msgspec.Struct, array_like=True):
    """An SSH key bound to a staff member (`keys add`); `revoked` once `keys revoke` took it back."""

    staff: str
    key: str  # TYPE BASE64
    fingerprint: str
    added: dt.date
    entry: str = ""
    revoked: dt.date | None = None


class EntryRec(msgspec.Struct, array_like=True, gc=False, omit_defaults=True):
    """A record that can be corrected or retracted: contacts, activities, aid, plans, incidents.

    The bulk of a school's model (most events are contacts): stored as an array (no field names
    in the saved model, and no trailing defaults: a contact leaves out the last four) and left
    out of the cyclic collector (it holds no cycles)."""

    id: str
    type: str
    date: dt.date
    actor: str
    pupils: list[str]
    kind: str | None = None
    by: str | None = None
    note: str = ""
    retracted: bool = False
    data: dict[str, Any] = {}
    follow_up: str | None = None  # the AidRevoked / IncidentResolved entry
    follow_up_date: dt.date | None = None


class MarkRec(msgspec.Struct, array_like=True):
    """An entry that is not an `EntryRec` (registrations, timeline changes, pairings, staff,
    calendar, rules, retractions, corrections): what a correction or retraction of it needs."""

    type: str
    date: dt.date
    actor: str
    stream: str
    retracted: bool = False


class RulesRec(msgspec.Struct, array_like=True):
    """A `rules set` as recorded (None: unchanged), or the totals in force (from `rules_on`)."""

    date: dt.date
    seq: int
    capacity: int | None
    late_days: int | None
    cadences: dict[str, str]


class TermRec(msgspec.Struct, array_like=True):
    name: str
    start: dt.date
    end: dt.date
    entered: dt.date  # the entry's own date: as of an earlier day the term was not yet known


class AppRec(msgspec.Struct, array_like=True):
    """An aid application: its steps' entry ids in log order (the AidApplied first; each an
    `EntryRec`, so corrections, history and visibility treat them like any entry)."""

    id: str
    pupil: str
    steps: list[str] = []


class FundRec(msgspec.Struct, array_like=True):
    name: str
    budget: str  # yuan, "5000.00"
    kinds: list[str]
    source: str
    date: dt.date
    entry: str = ""
    grants: list[str] = []  # the AidGranted entries paid from it
    applications: list[str] = []  # the applications that name it


class SentRec(msgspec.Struct, array_like=True):
    """A pupil sent to another school of the store (a PupilTransferred with `district`)."""

    id: str  # the PupilTransferred
    pupil: str
    to: str
    date: dt.date


class ArrivalRec(msgspec.Struct, array_like=True):
    """A pupil taken in from another school of the store (TransferAccepted)."""

    transfer: str  # the PupilTransferred at the sending school
    school: str  # the sending school
    from_pupil: str  # the pupil's id there
    pupil: str  # the pupil's id here
    sent: dt.date
    accepted: dt.date


class SchoolModel(msgspec.Struct):
    id: str
    name: str = ""
    lang: str = "zh"
    timezone: str = "Asia/Shanghai"
    opened: dt.date | None = None
    position: int = 0
    pupils: dict[str, PupilRec] = {}
    staff: dict[str, StaffRec] = {}
    entries: dict[str, EntryRec] = {}
    terms: list[TermRec] = []
    rules: list[RulesRec] = []  # changes, in (date, seq) order
    # the small index the commands need besides: each stream's last version, the other entries
    versions: dict[str, int] = {}
    marks: dict[str, MarkRec] = {}
    keys: dict[str, KeyRec] = {}  # fingerprint -> the SSH key bound to a staff member
    applications: dict[str, AppRec] = {}  # the aid procedure, by the AidApplied's id
    funds: dict[str, FundRec] = {}  # by name
    sent: dict[str, SentRec] = {}  # transfers to another school of the store, by the transfer's id
    arrivals: dict[str, ArrivalRec] = {}  # transfers taken in, by the sending school's transfer id

    # -- questions about a date --------------------------------------------------------------

    def rules_on(self, day: dt.date) -> RulesRec:
        """The rules in force on a day (events.rules.in_force: the write side judges the same)."""
        return RulesRec(day, 0, *self._totals(day))

    def rules_changes(self) -> list[RulesRec]:
        """The totals in force from each change on, in date order."""
        return [RulesRec(r.date, r.seq, *self._totals(r.date)) for r in self.rules]

    def _totals(self, day: dt.date) -> tuple[int, int, dict[str, str]]:
        return rules.in_force(((r.date, r.capacity, r.late_days, r.cadences) for r in self.rules), day)

    def terms_on(self, day: dt.date) -> list[Term]:
        """The school calendar as known on a day (terms entered by then), by start date."""
        return [Term(t.name, t.start, t.end) for t in self.terms if t.entered <= day]


def pupil_timeline(pupil: PupilRec, day: dt.date) -> list[Dated]:
    return [d for d in pupil.timeline if d.date <= day and not d.retracted]


def status_on(pupil: PupilRec, day: dt.date) -> str | None:
    if pupil.registered > day:
        return None
    status = "enrolled"
    for d in pupil_timeline(pupil, day):
        if d.what == "status":
            status = d.value
    return status


def categories_on(pupil: PupilRec, day: dt.date) -> list[str]:
    cats = list(pupil.base.get("categories", [])) if pupil.registered <= day else []
    for d in pupil_timeline(pupil, day):
        if d.what == "category+" and d.value not in cats:
            cats.append(d.value)
        elif d.what == "category-" and d.value in cats:
            cats.remove(d.value)
    return cats


def profile_on(pupil: PupilRec, day: dt.date) -> dict[str, Any]:
    """The pupil's file on `day`: the registration with the amendments effective by then; the
    profile's texts under `profile`, wherever the event that set them held them."""
    values = dict(pupil.base)
    profile = values["profile"] = dict(values.get("profile") or {})
    for d in pupil_timeline(pupil, day):
        if d.what == "profile":
            for key, value in d.value.items():
                (profile if key in rules.PROFILE_FIELDS else values)[key] = value
    return values


def mentor_on(pupil: PupilRec, day: dt.date) -> str | None:
    for p in pupil.pairings:
        if p.active_on(day):
            return p.staff
    return None


def statuses(pupil: PupilRec) -> list[tuple[dt.date, str]]:
    """The pupil's status changes in date order, registration first (retracted ones left out)."""
    return [(pupil.registered, "enrolled")] + [
        (d.date, d.value) for d in pupil.timeline if d.what == "status" and not d.retracted
    ]


def at_school_on(pupil: PupilRec, day: dt.date) -> bool:
    """Care may be recorded on a day the pupil is enrolled, including the day they leave (the
    exit day is their last day at school: a talk that morning and an exit that day agree,
    whichever was recorded first)."""
    if status_on(pupil, day) == "enrolled":
        return True
    changes = statuses(pupil)
    return status_on(pupil, day - dt.timedelta(days=1)) == "enrolled" and any(when == day for when, _ in changes[1:])


def current_pairing(pupil: PupilRec) -> PairingRec | None:
    return next((p for p in reversed(pupil.pairings) if p.end is None), None)


def staff_active_on(staff: StaffRec, day: dt.date) -> bool:
    return staff.joined <= day and (staff.left is None or day < staff.left)


def last_date(model: SchoolModel, pupil: PupilRec) -> dt.date:
    """The latest effective date of anything still counting about the pupil."""
    days = [pupil.registered]
    days += [d.date for d in pupil.timeline if not d.retracted]
    days += [day for p in pupil.pairings for day in (p.start, p.end) if day is not None]
    days += [e.date for e in map(model.entries.get, pupil.entries) if e is not None and not e.retracted]
    return max(days)


def needed_until(model: SchoolModel, staff_id: str) -> dt.date | None:
    """The last day an entry needs the staff member on the staff: a contact they made, an
    inspection of their handbook."""
    days = [
        e.date
        for e in model.entries.values()
        if not e.retracted and e.by == staff_id and e.type in ("ContactMade", "HandbookInspected")
    ]
    return max(days, default=None)


def grants_of(model: SchoolModel, pupil: PupilRec) -> list[EntryRec]:
    """The pupil's aid grants that count: neither retracted nor revoked."""
    found = (model.entries.get(i) for i in pupil.entries)
    return [e for e in found if e is not None and e.type == "AidGranted" and not e.retracted and e.follow_up is None]


def steps_of(model: SchoolModel, app: AppRec) -> list[aid_rules.Step]:
    """The standing steps of an application, for events.aid_rules (none once it is retracted)."""
    found = []
    for entry_id in app.steps:
        e = model.entries.get(entry_id)
        if e is None or e.retracted:
            if entry_id == app.id:
                return []
            continue
        revoked = e.follow_up_date if e.type == "AidGranted" and e.follow_up is not None else None
        found.append(aid_rules.Step(e.type, e.date, e.actor, e.id, e.data, revoked))
    return found


def fund_use(school: SchoolModel, name: str, day: dt.date, but: str = "") -> tuple[Decimal, Decimal]:
    """(spent, reserved) of a fund on a day: what it granted (revocations give back), and what
    standing approvals hold and are not yet granted (but the application `but`, being decided)."""
    spent = reserved = Decimal("0")
    fund = school.funds.get(name)
    if fund is None:
        return spent, reserved
    for e in map(school.entries.__getitem__, fund.grants):
        if not e.retracted and e.date <= day:
            if not (e.follow_up is not None and e.follow_up_date is not None and e.follow_up_date <= day):
                spent += aid_rules.money(e.data.get("amount"))
    for app_id in fund.applications:
        if app_id != but and aid_rules.status(steps_of(school, school.applications[app_id]), day) in aid_rules.RESERVED:
            reserved += aid_rules.money(school.entries[app_id].data.get("amount"))
    return spent, reserved



def application_of(model: SchoolModel, app: AppRec) -> EntryRec:
    """The AidApplied entry: kind, amount, items, fund, basis, reason."""
    return model.entries[app.id]


def applications_of(model: SchoolModel, pupil_id: str) -> list[AppRec]:
    return [a for a in model.applications.values() if a.pupil == pupil_id]


def conduct_records(model: SchoolModel, pupil: PupilRec) -> list[tuple[dt.date, dt.date | None]]:
    """(recorded, cleared or None) of the pupil's standing disciplinary records."""
    found = (model.entries.get(i) for i in pupil.entries)
    return [
        (e.date, e.follow_up_date if e.follow_up else None)
        for e in found
        if e is not None and e.type == "ConductRecorded" and not e.retracted
    ]


# --- the fold ------------------------------------------------------------------------------


def new_model(school: str) -> SchoolModel:
    return SchoolModel(id=school)


def apply(model: SchoolModel, seq: int, event: Event) -> None:
    """Fold one event of this school into the model (events of other schools are ignored)."""
    if event.school != model.id:
        return
    model.position = seq
    model.versions[event.stream] = event.version
    kind = type(event)
    if kind not in RECORDS:
        model.marks[event.id] = MarkRec(event.type, event.date, event.actor, event.stream)
    handler = _HANDLERS.get(kind)
    if handler is not None:
        handler(model, seq, event)


def _school_opened(m: SchoolModel, seq: int, e: SchoolOpened) -> None:
    m.name, m.lang, m.timezone, m.opened = e.name, e.lang, e.timezone, e.date


def _term_added(m: SchoolModel, seq: int, e: TermAdded) -> None:
    m.terms.append(TermRec(e.name, e.start, e.end, e.date))
    m.terms.sort(key=lambda t: t.start)


def _rules_set(m: SchoolModel, seq: int, e: RulesSet) -> None:
    m.rules.append(RulesRec(e.date, seq, e.capacity, e.late_days, dict(e.duties)))
    m.rules.sort(key=lambda r: (r.date, r.seq))


def _staff_joined(m: SchoolModel, seq: int, e: StaffJoined) -> None:
    m.staff[e.staff] = StaffRec(e.staff, e.name, list(e.roles), e.date, grade=e.grade, class_=e.class_)


def _staff_left(m: SchoolModel, seq: int, e: StaffLeft) -> None:
    m.staff[e.staff].left = e.date


def amend_staff_record(staff: StaffRec, changes: dict) -> None:
    staff.name = changes.get("name", staff.name)
    staff.roles = list(changes.get("roles", staff.roles))
    staff.grade = changes.get("grade", staff.grade)
    staff.class_ = changes.get("class", staff.class_)


def _staff_amended(m: SchoolModel, seq: int, e: StaffAmended) -> None:
    amend_staff_record(m.staff[e.staff], e.changes)


def _inspected(m: SchoolModel, seq: int, e: HandbookInspected) -> None:
    m.entries[e.id] = EntryRec(e.id, e.type, e.date, e.actor, [], kind=e.result, by=e.staff, note=e.note)


def _key_added(m: SchoolModel, seq: int, e: KeyAdded) -> None:
    m.keys[e.fingerprint] = KeyRec(e.staff, e.key, e.fingerprint, e.date, e.id)


def _key_revoked(m: SchoolModel, seq: int, e: KeyRevoked) -> None:
    m.keys[e.fingerprint].revoked = e.date


def _registered(m: SchoolModel, seq: int, e: PupilRegistered) -> None:
    base = msgspec.to_builtins(e)
    for key in ("id", "school", "stream", "date", "actor", "source", "corrects", "version", "recorded_at", "note"):
        base.pop(key, None)
    base["birth"] = e.birth
    m.pupils[e.pupil] = PupilRec(e.pupil, e.date, base)


def _dated(m: SchoolModel, seq: int, e: Event, what: str, value: Any) -> None:
    pupil = m.pupils[e.pupil]
    pupil.timeline.append(Dated(e.date, seq, e.id, what, value))
    pupil.timeline.sort(key=lambda d: (d.date, d.seq))


def _amended(m: SchoolModel, seq: int, e: PupilAmended) -> None:
    _dated(m, seq, e, "profile", dict(e.changes))


def _category(m: SchoolModel, seq: int, e: CategoryAdded | CategoryRemoved) -> None:
    _dated(m, seq, e, "category+" if isinstance(e, CategoryAdded) else "category-", e.category)


def _status(m: SchoolModel, seq: int, e: Event) -> None:
    _dated(m, seq, e, "status", STATUS_OF[e.type])


def _transferred(m: SchoolModel, seq: int, e: PupilTransferred) -> None:
    _status(m, seq, e)
    if e.district:
        m.sent[e.id] = SentRec(e.id, e.pupil, e.to, e.date)


def _transfer_accepted(m: SchoolModel, seq: int, e: TransferAccepted) -> None:
    m.arrivals[e.transfer] = ArrivalRec(e.transfer, e.from_school, e.from_pupil, e.pupil, e.sent, e.date)


def _pairing_assigned(m: SchoolModel, seq: int, e: PairingAssigned) -> None:
    pairing = PairingRec(e.staff, e.pupil, e.date, entry=e.id)
    m.pupils[e.pupil].pairings.append(pairing)
    m.staff[e.staff].pairings.append(pairing)


def _copies(m: SchoolModel, pairing: PairingRec) -> list[PairingRec]:
    """The pupil's and the mentor's record of a pairing: separate objects after a persisted
    round-trip, so every change is made to both."""
    staff = m.staff.get(pairing.staff)
    mine = [p for p in staff.pairings if p.entry == pairing.entry and p.pupil == pairing.pupil] if staff else []
    return [pairing] + [p for p in mine if p is not pairing]


def _pairing_ended(m: SchoolModel, seq: int, e: PairingEnded) -> None:
    for pairing in reversed(m.pupils[e.pupil].pairings):
        if pairing.end is None:
            for copy in _copies(m, pairing):
                copy.end, copy.reason, copy.end_entry = e.date, e.reason, e.id
            break


def _record(m: SchoolModel, seq: int, e: Event, pupils: list[str], **fields: Any) -> EntryRec:
    entry = EntryRec(e.id, e.type, e.date, e.actor, pupils, note=e.note, **fields)
    m.entries[e.id] = entry
    for pupil in pupils:
        if pupil in m.pupils:
            m.pupils[pupil].entries.append(e.id)
    return entry


_intern = sys.intern
_days: dict[dt.date, dt.date] = {}


def _day(day: dt.date) -> dt.date:
    return _days.setdefault(day, day)


class ContactFields(msgspec.Struct, gc=False):
    """The fields of a ContactMade the model keeps: a fold decodes contacts straight into this
    (see `INTO`), which skips the envelope fields the model does not keep."""

    id: str
    school: str
    stream: str
    version: int
    date: dt.date
    actor: str
    pupil: str
    kind: str
    by: str
    note: str = ""


def _contact(m: SchoolModel, seq: int, e: ContactMade | ContactFields) -> None:
    # `_record` spelled out: this is most of the log, and a rebuild's time. The few distinct
    # names and days are shared, not one copy per entry: less memory, and a model that is
    # faster to save because its objects sit close together.
    m.entries[e.id] = EntryRec(
        e.id, "ContactMade", _day(e.date), _intern(e.actor), [_intern(e.pupil)], _intern(e.kind), _intern(e.by), e.note
    )
    pupil = m.pupils.get(e.pupil)
    if pupil is not None:
        pupil.entries.append(e.id)


def _activity(m: SchoolModel, seq: int, e: CareActivityHeld) -> None:
    _record(m, seq, e, list(e.pupils), kind=e.kind, by=e.actor)


def _plan(m: SchoolModel, seq: int, e: HelpPlanSet | HelpPlanReviewed) -> None:
    data = {"goals": e.goals, "measures": e.measures, "responsible": e.responsible} if isinstance(e, HelpPlanSet) else {"result": e.result}
    _record(m, seq, e, [e.pupil], data=data)


def _incident(m: SchoolModel, seq: int, e: IncidentReported) -> None:
    _record(m, seq, e, [e.pupil], kind=e.need, data={"description": e.description})


def _incident_resolved(m: SchoolModel, seq: int, e: IncidentResolved) -> None:
    target = m.entries.get(e.incident)
    _record(m, seq, e, [e.pupil], data={"incident": e.incident, "resolution": e.resolution})
    if target is not None:
        target.follow_up, target.follow_up_date = e.id, e.date


def _aid_granted(m: SchoolModel, seq: int, e: AidGranted) -> None:
    _record(
        m,
        seq,
        e,
        [e.pupil],
        kind=e.kind,
        data={"amount": e.amount, "items": e.items, "fund": e.fund, "basis": e.basis, "override": e.override}
        | ({"application": e.application} if e.application else {})
        | ({"direct": True, "incident": e.incident} if e.direct else {}),
    )
    app = m.applications.get(e.application) if e.application else None
    if app is not None:
        app.steps.append(e.id)
    if e.fund in m.funds:
        m.funds[e.fund].grants.append(e.id)


def _aid_revoked(m: SchoolModel, seq: int, e: AidRevoked) -> None:
    target = m.entries.get(e.grant)
    _record(m, seq, e, [e.pupil], data={"grant": e.grant, "reason": e.reason})
    if target is not None:
        target.follow_up, target.follow_up_date = e.id, e.date


def _aid_applied(m: SchoolModel, seq: int, e: AidApplied) -> None:
    data = {"amount": e.amount, "items": e.items, "fund": e.fund, "basis": e.basis, "reason": e.reason}
    _record(m, seq, e, [e.pupil], kind=e.kind, data=data)
    m.applications[e.id] = AppRec(e.id, e.pupil, [e.id])
    if e.fund in m.funds:
        m.funds[e.fund].applications.append(e.id)


def _aid_step(m: SchoolModel, seq: int, e: AidSurveyed | AidDecided | AidObjected) -> None:
    if isinstance(e, AidSurveyed):
        data, kind = {"application": e.application, "result": e.result, "method": e.method}, e.result
    elif isinstance(e, AidDecided):
        data, kind = {"application": e.application, "approved": e.approved, "override": e.override}, None
    else:
        data, kind = {"application": e.application}, None
    _record(m, seq, e, [e.pupil], kind=kind, data=data)
    app = m.applications.get(e.application)
    if app is not None:
        app.steps.append(e.id)


def _fund_added(m: SchoolModel, seq: int, e: FundAdded) -> None:
    m.funds[e.name] = FundRec(e.name, e.budget, list(e.kinds), e.origin, e.date, e.id)


def _conduct(m: SchoolModel, seq: int, e: ConductRecorded) -> None:
    _record(m, seq, e, [e.pupil])


def _conduct_cleared(m: SchoolModel, seq: int, e: ConductCleared) -> None:
    target = m.entries.get(e.record)
    _record(m, seq, e, [e.pupil], data={"record": e.record, "reason": e.reason})
    if target is not None:
        target.follow_up, target.follow_up_date = e.id, e.date


def pupil_of_stream(stream: str) -> str | None:
    """The pupil id of a pupil's stream (school/pupil/ID), else None."""
    kind, _, key = stream.partition("/")[2].partition("/")
    return key if kind == "pupil" else None


def _pupil_of_mark(m: SchoolModel, mark: MarkRec) -> PupilRec | None:
    pupil = pupil_of_stream(mark.stream)
    return m.pupils.get(pupil) if pupil is not None else None


def _find_dated(m: SchoolModel, entry_id: str) -> Dated | None:
    mark = m.marks.get(entry_id)
    pupil = _pupil_of_mark(m, mark) if mark is not None else None
    if pupil is None:
        return None
    return next((d for d in pupil.timeline if d.entry == entry_id), None)


def _retracted(m: SchoolModel, seq: int, e: EntryRetracted) -> None:
    mark = m.marks.get(e.corrects)
    if mark is not None:
        mark.retracted = True
        if mark.type in ("PairingAssigned", "PairingEnded"):
            _pairing_retracted(m, e.corrects, mark)
            return
    target = m.entries.get(e.corrects)
    if target is not None:
        target.retracted = True
        follow_of = _followed(target)
        if follow_of and follow_of in m.entries and m.entries[follow_of].follow_up == target.id:
            m.entries[follow_of].follow_up = None
            m.entries[follow_of].follow_up_date = None
        return
    dated = _find_dated(m, e.corrects)
    if dated is not None:
        dated.retracted = True


def _followed(entry: EntryRec) -> str | None:
    """The entry a follow-up answers: a revocation's grant, a resolution's incident, a clearing's
    disciplinary record (a direct grant's incident is a link, not a follow-up)."""
    if entry.type in ("AidRevoked", "IncidentResolved", "ConductCleared"):
        return entry.data.get("grant") or entry.data.get("incident") or entry.data.get("record")
    return None


def _pairing_retracted(m: SchoolModel, entry: str, mark: MarkRec) -> None:
    """A retracted pairing never was (both records go); a retracted unpairing lets the pairing
    go on (cli.md "Retractions")."""
    pupil = _pupil_of_mark(m, mark)
    for pairing in pupil.pairings if pupil is not None else ():
        if mark.type == "PairingAssigned" and pairing.entry == entry:
            pupil.pairings.remove(pairing)
            staff = m.staff.get(pairing.staff)
            if staff is not None:
                staff.pairings[:] = [p for p in staff.pairings if p.entry != entry]
            return
        if mark.type == "PairingEnded" and pairing.end_entry == entry:
            for copy in _copies(m, pairing):
                copy.end = copy.reason = copy.end_entry = None
            return


def _corrected(m: SchoolModel, seq: int, e: EntryCorrected) -> None:
    target = m.entries.get(e.corrects)
    if target is None:
        return
    if e.to_date is not None:
        target.date = e.to_date
        follow_of = _followed(target)
        if follow_of and follow_of in m.entries and m.entries[follow_of].follow_up == target.id:
            m.entries[follow_of].follow_up_date = e.to_date
    if e.to_kind is not None:
        target.kind = e.to_kind
    if e.to_note is not None:
        target.note = e.to_note


_HANDLERS = {
    SchoolOpened: _school_opened,
    TermAdded: _term_added,
    RulesSet: _rules_set,
    StaffJoined: _staff_joined,
    StaffLeft: _staff_left,
    StaffAmended: _staff_amended,
    HandbookInspected: _inspected,
    KeyAdded: _key_added,
    KeyRevoked: _key_revoked,
    PupilRegistered: _registered,
    PupilAmended: _amended,
    CategoryAdded: _category,
    CategoryRemoved: _category,
    PupilGraduated: _status,
    PupilTransferred: _transferred,
    TransferAccepted: _transfer_accepted,
    PupilDroppedOut: _status,
    PupilReturned: _status,
    PairingAssigned: _pairing_assigned,
    PairingEnded: _pairing_ended,
    ContactMade: _contact,
    ContactFields: _contact,
    CareActivityHeld: _activity,
    HelpPlanSet: _plan,
    HelpPlanReviewed: _plan,
    IncidentReported: _incident,
    IncidentResolved: _incident_resolved,
    AidGranted: _aid_granted,
    AidRevoked: _aid_revoked,
    AidApplied: _aid_applied,
    AidSurveyed: _aid_step,
    AidDecided: _aid_step,
    AidObjected: _aid_step,
    FundAdded: _fund_added,
    ConductRecorded: _conduct,
    ConductCleared: _conduct_cleared,
    EntryRetracted: _retracted,
    EntryCorrected: _corrected,
}

# the entries kept as `EntryRec` (every other entry gets a `MarkRec`)
RECORDS = frozenset(
    {ContactMade, ContactFields, CareActivityHeld, HelpPlanSet, HelpPlanReviewed, IncidentReported, IncidentResolved}
    | {AidGranted, AidRevoked, HandbookInspected}
    | {AidApplied, AidSurveyed, AidDecided, AidObjected, ConductRecorded, ConductCleared}
)

# event types a fold decodes into a smaller struct (`events.codec.MsgspecMapper.decoder`)
INTO: dict[type, type] = {ContactMade: ContactFields}
