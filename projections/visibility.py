"""Who sees what: pure functions of (viewer, model, pupil, day, field), applied by every view.

domain.md "Who sees what" (minors' sensitive personal information), as implemented:

| viewer | pupils in full | counselling content, `mental` | views |
|---|---|---|---|
| leader | every pupil | yes | all; audit, access, queue; every rate |
| auditor | every pupil | yes | all but queue; audit, access; every rate |
| counselor | every pupil (every pupil's profile) | yes | their own pairings and rate |
| class teacher | the pupils of their grade and class on the day | no (their own entries: yes) | their class's pairings and rates, their own rate |
| mentor (every staff member) | their mentees on the day | no (their own entries: yes) | their own pairings and rate |
| admin | none | no | staff, stats, the public aid notice |

A pupil outside the viewer's full scope is `restricted_row` only: pupil, name, grade, class,
status. "In full" is the profile, family, phones, categories, mentor, aid, plans, incidents
and the timeline with what was said; counselling content (the note and what was said of a
`counseling` entry: summary, topics, problem, help given, medium, minutes, follow-up, every part
of events.types.ContactMade but who, whom, when and its kind) and the `mental` profile field need
a counselor, leader or auditor, or the entry's author. Counts (`stats`) and the public aid notice are for everyone. A viewer who
is not staff of the school sees what anyone sees of every pupil: the restricted row.

`None` as a viewer means the school as a whole (counts, the rules' own computations, tests of
the views' arithmetic): the faces always pass the signed-in person's `viewer_of`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from events.errors import Refused
from events.model import PupilRec, SchoolModel, mentor_on, profile_on, status_on

FULL, RESTRICTED = "full", "restricted"
SEES_ALL = frozenset({"leader", "auditor"})  # every pupil, every rate, the audit trail
SEES_CONTENT = frozenset({"counselor", "leader", "auditor"})  # counselling content, `mental`
SEES_EVERY_PROFILE = SEES_ALL | {"counselor"}
RESTRICTED_KEYS = ("pupil", "name", "grade", "class", "status")
COUNSELLING_KINDS = frozenset({"counseling"})
CONTENT_FIELDS = ("mental",)  # profile fields of the counselling kind

# the views only some may open (cli.md): the rest are for everyone, each filtered by the table
VIEW_ROLES: dict[str, frozenset[str]] = {
    "audit": SEES_ALL,
    "access": SEES_ALL,
    "queue": frozenset({"leader"}),
    "transfers": SEES_ALL,  # the pupils sent to and from other schools of the district
}


@dataclass(frozen=True)
class Viewer:
    """The signed-in staff member as the table needs them (roles, class taught)."""

    staff: str
    roles: frozenset[str] = frozenset()
    grade: int | None = None
    class_: int | None = None

    @property
    def sees_all(self) -> bool:
        return bool(self.roles & SEES_ALL)

    @property
    def sees_content(self) -> bool:
        return bool(self.roles & SEES_CONTENT)


def viewer_of(model: SchoolModel, staff_id: str | None) -> Viewer:
    """The viewer for a staff id; one who is not staff of the school holds no role."""
    staff = model.staff.get(staff_id or "")
    if staff is None:
        return Viewer(staff_id or "")
    return Viewer(staff.id, frozenset(staff.roles), staff.grade, staff.class_)


def _teaches(viewer: Viewer, pupil: PupilRec, day: dt.date) -> bool:
    profile = profile_on(pupil, day)
    return "class_teacher" in viewer.roles and viewer.grade is not None and (viewer.grade, viewer.class_) == (
        profile.get("grade"), profile.get("class"))


def scope(viewer: Viewer | None, model: SchoolModel, pupil: PupilRec, day: dt.date) -> str:
    """FULL or RESTRICTED: how much of the pupil the viewer sees on the day."""
    if viewer is None or viewer.roles & SEES_EVERY_PROFILE:
        return FULL
    if viewer.staff and mentor_on(pupil, day) == viewer.staff:
        return FULL
    if _teaches(viewer, pupil, day):
        return FULL
    return RESTRICTED


def in_view(viewer: Viewer | None, model: SchoolModel, pupil_id: str, day: dt.date) -> bool:
    pupil = model.pupils.get(pupil_id)
    return pupil is not None and scope(viewer, model, pupil, day) == FULL


def sees_content(viewer: Viewer | None, author: str | None = None) -> bool:
    """Counselling content and the `mental` field: counselors, leaders, auditors, the author."""
    return viewer is None or viewer.sees_content or (author is not None and author == viewer.staff)


def restricted_row(pupil: PupilRec, day: dt.date) -> dict[str, Any]:
    """What anyone sees of a pupil: name, grade, class and status only."""
    p = profile_on(pupil, day)
    return {"pupil": pupil.id, "name": p.get("name"), "grade": p.get("grade"), "class": p.get("class"),
            "status": status_on(pupil, day), "restricted": True}


def without_content_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A full pupil row less the counselling fields (the `mental` state)."""
    profile = {k: v for k, v in (row.get("profile") or {}).items() if k not in CONTENT_FIELDS}
    return {**{k: v for k, v in row.items() if k not in CONTENT_FIELDS}, "profile": profile}


def view_allowed(viewer: Viewer | None, name: str) -> bool:
    roles = VIEW_ROLES.get(name)
    return roles is None or viewer is None or bool(viewer.roles & roles)


def require_view(viewer: Viewer | None, name: str) -> None:
    """Refuse a view the viewer may not open (audit, access: leaders and auditors; queue: leaders)."""
    if not view_allowed(viewer, name):
        raise Refused("--as", "view_not_allowed", staff=viewer.staff if viewer else "", view=name,
                      roles=sorted(VIEW_ROLES[name]))


def require_pupil(viewer: Viewer | None, model: SchoolModel, pupil_id: str, day: dt.date, field: str = "PUPIL_ID") -> None:
    """A pupil's file (history) is opened only in full scope: refused naming the pupil."""
    if not in_view(viewer, model, pupil_id, day):
        raise Refused(field, "pupil_out_of_view", pupil=pupil_id, staff=viewer.staff if viewer else "")


def pairing_in_view(viewer: Viewer | None, model: SchoolModel, staff: str, pupil_id: str, day: dt.date) -> bool:
    """Compliance: a teacher's view is their own pairings, a class teacher's also their class's."""
    if viewer is None or viewer.sees_all or staff == viewer.staff:
        return True
    pupil = model.pupils.get(pupil_id)
    return pupil is not None and _teaches(viewer, pupil, day)


def rate_in_view(viewer: Viewer | None, staff: str) -> bool:
    """The mentors' rates: one's own, every one for leaders and auditors."""
    return viewer is None or viewer.sees_all or staff == viewer.staff


def class_in_view(viewer: Viewer | None, grade: Any, class_: Any) -> bool:
    return viewer is None or viewer.sees_all or (
        "class_teacher" in viewer.roles and viewer.grade is not None and (viewer.grade, viewer.class_) == (grade, class_))


# --- the log's rows (history, the pupil file's timeline) ----------------------------------------

# what stays of a counselling entry the viewer may not read: that it was held, when, by whom
_KEPT_OF_WITHHELD = ("pupil", "pupils", "kind", "by", "to_kind", "to_date", "staff")


def counselling_entry(model: SchoolModel, event_type: str, data: dict[str, Any], corrects: str | None,
                      entry_id: str | None = None) -> bool:
    """A counselling record, or a correction or retraction of one (its new note is content too).
    A record counts as counselling by the kind it was recorded with and by the kind it has now
    (the model's, after corrections): what was said in a talk corrected to counselling is
    counselling content, and so is what was said in counselling corrected to a talk."""
    kinds = {data.get("kind"), data.get("to_kind")}
    if event_type in ("ContactMade", "CareActivityHeld") and entry_id is not None:
        entry = model.entries.get(entry_id)
        kinds.add(entry.kind if entry is not None else None)
    elif corrects:
        target = model.entries.get(corrects)
        kinds.add(target.kind if target is not None else None)
    return bool(kinds & COUNSELLING_KINDS)


def visible_data(viewer: Viewer | None, model: SchoolModel, row: dict[str, Any]) -> dict[str, Any]:
    """A log row with data (`projections.audit.full_row`) as the viewer may read it: counselling
    content withheld (`"withheld": true`), the `mental` field left out, unless counselor, leader,
    auditor or the entry's author."""
    if sees_content(viewer, row.get("actor")):
        return row
    data = row.get("data")
    if not isinstance(data, dict):
        return row
    if counselling_entry(model, row["type"], data, row.get("corrects"), row.get("id")):
        return {**row, "data": {k: v for k, v in data.items() if k in _KEPT_OF_WITHHELD}, "withheld": True}
    hidden = dict(data)
    for group in ("profile", "changes"):
        if isinstance(hidden.get(group), dict) and any(k in hidden[group] for k in CONTENT_FIELDS):
            hidden[group] = {k: v for k, v in hidden[group].items() if k not in CONTENT_FIELDS}
    return {**row, "data": hidden} if hidden != data else row


def from_elsewhere(viewer: Viewer | None) -> Viewer | None:
    """The viewer reading another school's record (a pupil's earlier school in the district):
    their roles here, but no entry there is theirs (staff ids are each school's own)."""
    import dataclasses

    return dataclasses.replace(viewer, staff="") if viewer is not None else None


def own_entries_only(viewer: Viewer | None, model: SchoolModel, pupil_id: str, day: dt.date) -> bool:
    """A former mentee: outside the viewer's scope, but the entries they recorded themselves
    about the pupil stay theirs to read (domain.md: mentors)."""
    if viewer is None or in_view(viewer, model, pupil_id, day):
        return False
    pupil = model.pupils.get(pupil_id)
    return pupil is not None and any(p.staff == viewer.staff for p in pupil.pairings)


def visible_event(viewer: Viewer | None, model: SchoolModel, event: Any) -> tuple[Any, bool]:
    """(the event as the viewer may read it, withheld): the app shows stored events themselves,
    so a counselling entry the viewer may not read comes as a copy without its note and what was
    said, and a registration or amendment without the `mental` field."""
    import msgspec

    if sees_content(viewer, event.actor):
        return event, False
    data = {"kind": getattr(event, "kind", None), "to_kind": getattr(event, "to_kind", None)}
    if counselling_entry(model, event.type, data, event.corrects, event.id):
        # every field but what is kept goes back to its empty default: the note and what was said
        # (summary, topics, medium, minutes…: a list's default is made by its factory)
        blank = {
            f.name: f.default if f.default is not msgspec.NODEFAULT else f.default_factory()
            for f in msgspec.structs.fields(event)
            if f.name not in _KEPT_OF_WITHHELD and f.name not in _ENVELOPE
            and (f.default is not msgspec.NODEFAULT or f.default_factory is not msgspec.NODEFAULT)
        }
        return msgspec.structs.replace(event, **blank), True
    for group in ("profile", "changes"):
        value = getattr(event, group, None)
        if isinstance(value, dict) and any(k in value for k in CONTENT_FIELDS):
            kept = {k: v for k, v in value.items() if k not in CONTENT_FIELDS}
            return msgspec.structs.replace(event, **{group: kept}), False
    return event, False


_ENVELOPE = ("id", "school", "stream", "date", "actor", "source", "corrects", "version", "recorded_at")
