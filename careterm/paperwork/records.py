"""A pupil's record as the Word documents print it: plain data, gathered by pure functions of the
read model, the day (as-of), the reader (projections/visibility.py) and the log's rows.

The read model keeps each contact's kind, date and note (corrections applied, retractions
marked); what was said (cli.md "What was said": summary, topics, problem, help given, medium,
minutes, follow-up; a semester report's study, thoughts and life; a birthday's gift) is read from
the contact's own event, as `history --json` shows it under `data`: `said_rows` reads those rows
from the log once for all the pupils of a document. A key the event does not carry is empty.

What the reader may not see is never gathered: a pupil outside their view is their restricted
row (name, grade, class, status), with only the entries they recorded themselves when the pupil
was their mentee (`own_entries_only`); counselling content and the `mental` field are withheld
unless they may read them (`visible_data`, `visible_row`).

No python-docx here: the documents (handbook.py, semester_sheet.py, pupil_archive.py) render
this data; the tests read it without Word.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable

from careterm import said
from events import rules
from events.calendar import Period, semester
from events.errors import Refused
from events.model import PupilRec, SchoolModel
from projections import visibility as V
from projections.audit import about_pupil, full_row
from projections.views import visible_row

REPORT_PARTS = ("study", "thoughts", "life")  # the semester report's 学习、思想、生活情况
CONTACT_TYPES = ("ContactMade", "CareActivityHeld")
PROFILE_TEXTS = rules.PROFILE_FIELDS  # the order printed


@dataclass(frozen=True)
class Profile:
    pupil: str
    name: str
    grade: Any
    class_: Any
    status: str | None
    restricted: bool = False  # outside the reader's view: the fields below are empty
    gender: str = ""
    birth: str = ""
    phone: str = ""
    categories: tuple[str, ...] = ()
    guardian: dict[str, str] | None = None
    parents: tuple[dict[str, str], ...] = ()
    texts: tuple[tuple[str, str], ...] = ()  # (profile key, text) the reader may see, in PROFILE_TEXTS order
    mentor: str | None = None
    mentor_name: str = ""
    registered: str = ""


@dataclass(frozen=True)
class Contact:
    id: str
    date: dt.date
    kind: str
    by: str
    by_name: str
    activity: bool  # a care activity for several pupils (it counts as a contact of its kind)
    note: str = ""
    said: dict[str, Any] = field(default_factory=dict)  # SAID keys with a value, as recorded
    withheld: bool = False  # counselling the reader may not read: that it was held, no more


@dataclass(frozen=True)
class PlanStep:
    date: dt.date
    step: str  # "set" | "review"
    by_name: str
    goals: str = ""
    measures: str = ""
    responsible: str = ""
    responsible_name: str = ""
    result: str = ""
    note: str = ""


@dataclass(frozen=True)
class Duty:
    duty: str
    status: str
    last: str | None
    due: str | None
    missed: int
    aim: str | None = None


@dataclass(frozen=True)
class Grant:
    date: dt.date
    kind: str
    amount: str | None
    items: str | None
    fund: str
    revoked_on: dt.date | None
    note: str = ""


@dataclass(frozen=True)
class Incident:
    date: dt.date
    need: str
    description: str
    resolved_on: dt.date | None
    resolution: str = ""


@dataclass(frozen=True)
class StatusChange:
    date: dt.date
    status: str  # graduated | transferred | dropped_out | enrolled (a return)
    detail: str = ""  # the school transferred to, the reason of a dropout


@dataclass(frozen=True)
class Mentoring:
    staff: str
    name: str
    start: dt.date
    end: dt.date | None
    reason: str | None


@dataclass(frozen=True)
class Inspection:
    date: dt.date
    result: str
    by_name: str
    note: str = ""


# --- reading the log: what was said ---------------------------------------------------------

def said_rows(store, school: str, pupils: Iterable[str], known_at: dt.datetime | None = None) -> dict[str, dict]:
    """The log rows (`history --json`'s shape: audit keys and `data`) of the contacts, activities
    and exits of these pupils, by event id, as known at `known_at`. One pass over the school's log."""
    wanted = set(pupils)
    rows: dict[str, dict] = {}
    for seq, event in store.read(school=school):
        if known_at is not None and (event.recorded_at is None or event.recorded_at > known_at):
            continue
        if event.type not in CONTACT_TYPES and event.type not in ("PupilTransferred", "PupilDroppedOut"):
            continue
        if any(about_pupil(event, p) for p in wanted):
            rows[event.id] = full_row(seq, event)
    return rows


def said_of(data: dict[str, Any]) -> dict[str, Any]:
    """What was said, from an event's data: the parts (careterm/said.py FIELDS) that hold something."""
    return {k: data[k] for k in said.FIELDS if data.get(k) not in (None, "", [], ())}


# --- gathering ------------------------------------------------------------------------------

def staff_name(model: SchoolModel, staff_id: str | None) -> str:
    staff = model.staff.get(staff_id or "")
    return staff.name if staff is not None else (staff_id or "")


def profile(model: SchoolModel, pupil: PupilRec, day: dt.date, viewer: V.Viewer | None) -> Profile:
    """The pupil's profile page as the reader may see it (visible_row: in full less the `mental`
    field unless they may read it, or the restricted row)."""
    row = visible_row(model, pupil, day, viewer)
    if row.get("restricted"):
        return Profile(pupil.id, row.get("name") or "", row.get("grade"), row.get("class"), row.get("status"), True)
    # visible_row has withheld the `mental` field from who may not read it
    texts = {k: str(v) for k, v in (row.get("profile") or {}).items() if v not in (None, "")}
    return Profile(
        pupil=pupil.id,
        name=row.get("name") or "",
        grade=row.get("grade"),
        class_=row.get("class"),
        status=row.get("status"),
        gender=row.get("gender") or "",
        birth=row.get("birth") or "",
        phone=row.get("phone") or "",
        categories=tuple(row.get("categories") or ()),
        guardian=dict(row["guardian"]) if row.get("guardian") else None,
        parents=tuple(dict(p) for p in row.get("parents") or ()),
        texts=tuple((k, str(texts[k])) for k in (*PROFILE_TEXTS, *sorted(set(texts) - set(PROFILE_TEXTS)))
                    if k in texts),
        mentor=row.get("mentor"),
        mentor_name=staff_name(model, row.get("mentor")),
        registered=row.get("registered") or "",
    )


def contacts(model: SchoolModel, pupil: PupilRec, day: dt.date, viewer: V.Viewer | None, rows: dict[str, dict], *,
             start: dt.date | None = None, end: dt.date | None = None, spans: list[tuple[dt.date, dt.date | None]] | None = None,
             only_by: str | None = None, kinds: Iterable[str] | None = None) -> list[Contact]:
    """The pupil's contacts and activities that count (not retracted, effective by `day`), in date
    order (log order within a day), with what was said as the reader may read it; within
    [start, end], inside `spans` (days of a pairing, both ends counted) if given, recorded by
    `only_by` if given, of `kinds` if given."""
    wanted = set(kinds) if kinds is not None else None
    found = []
    for entry_id in pupil.entries:
        e = model.entries.get(entry_id)
        if e is None or e.type not in CONTACT_TYPES or e.retracted or e.date > day:
            continue
        if (start is not None and e.date < start) or (end is not None and e.date > end):
            continue
        if spans is not None and not any(a <= e.date and (b is None or e.date <= b) for a, b in spans):
            continue
        if only_by is not None and e.actor != only_by:
            continue
        if wanted is not None and e.kind not in wanted:
            continue
        row = rows.get(e.id) or {"id": e.id, "type": e.type, "actor": e.actor, "corrects": None, "data": {"kind": e.kind}}
        shown = V.visible_data(viewer, model, row)
        withheld = bool(shown.get("withheld"))
        # a withheld counselling record: its note is content too (the model has the corrected one)
        by = e.by or e.actor
        found.append(Contact(e.id, e.date, e.kind or "", by, staff_name(model, by), e.type == "CareActivityHeld",
                             note="" if withheld else e.note, said={} if withheld else said_of(shown.get("data") or {}),
                             withheld=withheld))
    found.sort(key=lambda c: c.date)  # stable: log order within a day
    return found


def plan(model: SchoolModel, pupil: PupilRec, day: dt.date) -> list[PlanStep]:
    """The help plan (帮扶计划) as set, and each review, in date order."""
    steps = []
    for entry_id in pupil.entries:
        e = model.entries.get(entry_id)
        if e is None or e.retracted or e.date > day or e.type not in ("HelpPlanSet", "HelpPlanReviewed"):
            continue
        d = e.data
        if e.type == "HelpPlanSet":
            steps.append(PlanStep(e.date, "set", staff_name(model, e.actor), goals=d.get("goals") or "",
                                  measures=d.get("measures") or "", responsible=d.get("responsible") or "",
                                  responsible_name=staff_name(model, d.get("responsible")) if d.get("responsible") else "",
                                  note=e.note))
        else:
            steps.append(PlanStep(e.date, "review", staff_name(model, e.actor), result=d.get("result") or "", note=e.note))
    steps.sort(key=lambda s: s.date)
    return steps


def duties(compliance_view: dict, staff: str | None, pupil: str) -> list[Duty]:
    """The pairing's duty status on the day, as `compliance` (and the pupil file) shows it."""
    for p in compliance_view.get("pairings", []):
        if p["pupil"] == pupil and (staff is None or p["staff"] == staff):
            return [Duty(d, r["status"], r.get("last"), r.get("due"), r.get("missed") or 0, r.get("aim"))
                    for d, r in p["duties"].items() if r.get("status") is not None]
    return []


def grants(model: SchoolModel, pupil: PupilRec, day: dt.date) -> list[Grant]:
    """Aid received by `day` (revoked ones too, marked: the archive keeps what happened)."""
    found = []
    for entry_id in pupil.entries:
        e = model.entries.get(entry_id)
        if e is None or e.type != "AidGranted" or e.retracted or e.date > day:
            continue
        revoked = e.follow_up_date if e.follow_up is not None and e.follow_up_date is not None and e.follow_up_date <= day else None
        d = e.data
        found.append(Grant(e.date, e.kind or "", d.get("amount"), d.get("items"), d.get("fund") or "", revoked, e.note))
    found.sort(key=lambda g: g.date)
    return found


def incidents(model: SchoolModel, pupil: PupilRec, day: dt.date) -> list[Incident]:
    found = []
    for entry_id in pupil.entries:
        e = model.entries.get(entry_id)
        if e is None or e.type != "IncidentReported" or e.retracted or e.date > day:
            continue
        resolved = e.follow_up_date if e.follow_up and e.follow_up_date and e.follow_up_date <= day else None
        resolution = ""
        if resolved is not None and e.follow_up in model.entries:
            resolution = model.entries[e.follow_up].data.get("resolution") or ""
        found.append(Incident(e.date, e.kind or "", e.data.get("description") or "", resolved, resolution))
    found.sort(key=lambda i: i.date)
    return found


def status_changes(pupil: PupilRec, day: dt.date, rows: dict[str, dict]) -> list[StatusChange]:
    """Exits and returns by `day`, with the school transferred to or the dropout's reason."""
    found = []
    for d in pupil.timeline:
        if d.what != "status" or d.retracted or d.date > day:
            continue
        data = (rows.get(d.entry) or {}).get("data") or {}
        found.append(StatusChange(d.date, d.value, data.get("to") or data.get("reason") or ""))
    return found


def mentoring(model: SchoolModel, pupil: PupilRec, day: dt.date) -> list[Mentoring]:
    return [Mentoring(p.staff, staff_name(model, p.staff), p.start, p.end if p.end and p.end <= day else None,
                      p.reason if p.end and p.end <= day else None)
            for p in pupil.pairings if p.start <= day]


def inspections(model: SchoolModel, staff: str, day: dt.date, start: dt.date | None = None, end: dt.date | None = None) -> list[Inspection]:
    """The handbook inspections of a mentor (`inspect STAFF_ID`), in date order."""
    found = [
        Inspection(e.date, e.kind or "", staff_name(model, e.actor), e.note)
        for e in model.entries.values()
        if e.type == "HandbookInspected" and e.by == staff and not e.retracted and e.date <= day
        and (start is None or e.date >= start) and (end is None or e.date <= end)
    ]
    found.sort(key=lambda i: i.date)
    return found


# --- the calendar ---------------------------------------------------------------------------

def semester_named(model: SchoolModel, day: dt.date, name: str) -> Period | None:
    """The semester of that name, as the school's calendar names them on `day` (the terms, or the
    default semesters 2025-2026-1 / 2025-2026-2 before the first term and without terms), by the
    one definition (events.calendar.semester). The latest one so named, None if none is."""
    terms = model.terms_on(day)
    current = model.opened or day
    found = None
    for _ in range(1000):  # a calendar of more than 500 years is not one
        if current > day:
            break
        period = semester(current, terms)
        following = [t.start for t in terms if t.start > current]
        end = min(period.end, min(following) - dt.timedelta(days=1)) if following else period.end
        if period.name == name:
            found = Period(period.name, period.start, end)
        current = end + dt.timedelta(days=1)
    return found


def require_range(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and end < start:
        raise Refused("--to", "end_before_start", start=start, end=end)
