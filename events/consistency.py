"""Whether a school's timeline still keeps the rules once entries are taken back.

A retraction changes the past: the timeline without the entry must still agree with what was
recorded since (cli.md "Retractions"). The rules a later entry was checked against when it was
recorded are asked again of the whole timeline, for the pupils concerned and their mentors.
Only conflicts the retraction makes count: what was already so before is not the retraction's.
The checks use the same questions of the model as the commands (`events.model`), and the same
rules (`events.rules`, `events.calendar`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Iterator

import msgspec

from events import model as M
from events import aid_rules, rules
from events.calendar import same_semester
from events.types import Event

# the entries whose command needs the pupil at school on their date
AT_SCHOOL = frozenset({"ContactMade", "CareActivityHeld", "HelpPlanSet", "HelpPlanReviewed", "IncidentReported", "AidGranted",
                       "AidApplied", "ConductRecorded"})


@dataclass(frozen=True, order=True)
class Conflict:
    date: dt.date
    entry: str  # the entry that would break a rule
    type: str
    rule: str  # a key of the catalog's `conflict.*`

    def params(self) -> dict[str, object]:
        return {"entry": self.entry, "type": self.type, "entry_date": self.date, "rule": self.rule}


_codec = msgspec.msgpack.Encoder(), msgspec.msgpack.Decoder(M.SchoolModel)


def first_conflict(school: M.SchoolModel, retractions: Iterable[Event], *, pupils: set[str]) -> Conflict | None:
    """The earliest conflict the retractions would make, or None. The model is not changed."""
    retractions = list(retractions)
    after = _codec[1].decode(_codec[0].encode(school))  # a copy to fold the retractions into
    for i, event in enumerate(retractions, 1):
        M.apply(after, school.position + i, event)
    staff = {p.staff for model in (school, after) for pupil in pupils if pupil in model.pupils for p in model.pupils[pupil].pairings}
    made = set(conflicts(after, pupils, staff)) - set(conflicts(school, pupils, staff))
    return min(made, default=None)


def conflicts(school: M.SchoolModel, pupils: set[str], staff: set[str]) -> Iterator[Conflict]:
    for pupil_id in sorted(pupils):
        pupil = school.pupils.get(pupil_id)
        if pupil is not None:
            yield from _pupil_conflicts(school, pupil)
    for staff_id in sorted(staff):
        member = school.staff.get(staff_id)
        if member is not None:
            yield from _mentor_conflicts(school, member)


def _pupil_conflicts(school: M.SchoolModel, pupil: M.PupilRec) -> Iterator[Conflict]:
    # the status changes: an exit only from school, a return only from away
    status = "enrolled"
    for d in pupil.timeline:
        if d.what == "status" and not d.retracted:
            if not (status in rules.AWAY if d.value == "enrolled" else status == "enrolled"):
                yield Conflict(d.date, d.entry, _type(school, d.entry), "status_order")
            status = d.value
    # categories: added only when absent, removed only when present
    cats = set(pupil.base.get("categories", []))
    for d in pupil.timeline:
        if d.retracted or d.what not in ("category+", "category-"):
            continue
        if (d.value in cats) == (d.what == "category+"):
            yield Conflict(d.date, d.entry, _type(school, d.entry), "category_order")
        (cats.add if d.what == "category+" else cats.discard)(d.value)
    # care entries: on a day the pupil is at school
    for entry in _entries(school, pupil):
        if entry.type in AT_SCHOOL and not M.at_school_on(pupil, entry.date):
            yield Conflict(entry.date, entry.id, entry.type, "not_at_school")
    # pairings: one mentor at a time, only while at school
    exits = [(when, what) for when, what in M.statuses(pupil)[1:] if what != "enrolled"]
    for i, pairing in enumerate(pupil.pairings):
        if not M.at_school_on(pupil, pairing.start) or M.status_on(pupil, pairing.start) != "enrolled":
            yield Conflict(pairing.start, pairing.entry, "PairingAssigned", "not_at_school")
        for other in pupil.pairings[:i]:
            if _overlap(pairing, other):
                yield Conflict(pairing.start, pairing.entry, "PairingAssigned", "two_mentors")
        for when, _ in exits:
            if pairing.active_on(when):
                exit = _status_entry(pupil, when)
                yield Conflict(when, exit, _type(school, exit), "pairing_outlives_exit")
    # aid: a hardship basis where the kind needs one, one similar aid per semester, no
    # disciplinary record before an approval (those two unless overridden), enrolled to be paid
    yield from _aid_conflicts(school, pupil)


def _aid_conflicts(school: M.SchoolModel, pupil: M.PupilRec) -> Iterator[Conflict]:
    terms = school.terms_on(dt.date.max)
    counted: list[tuple[str, dt.date]] = []
    for grant in M.grants_of(school, pupil):
        if grant.data.get("application") or grant.data.get("direct"):
            continue  # an application's grant was judged at its decision; a direct one needs no basis
        basis, override = grant.data.get("basis"), grant.data.get("override")
        if rules.needs_hardship_basis(grant.kind) and not rules.has_hardship(M.categories_on(pupil, grant.date), basis):
            yield Conflict(grant.date, grant.id, grant.type, "no_hardship_basis")
        if grant.kind in rules.SIMILAR_AID and override is None:
            if any(same_semester(when, grant.date, terms) for _, when in counted):
                yield Conflict(grant.date, grant.id, grant.type, "similar_aid")
            counted.append((grant.kind, grant.date))
    approvals = []
    for app in M.applications_of(school, pupil.id):
        steps = M.steps_of(school, app)
        decision = aid_rules.last_decision(steps) if steps else None
        if decision is None or not decision.data.get("approved") or aid_rules.status(steps, dt.date.max) not in aid_rules.STANDING:
            continue
        approvals.append((decision, school.entries[app.id]))
    for decision, applied in sorted(approvals, key=lambda a: a[0].date):
        override = decision.data.get("override")
        if aid_rules.needs_basis(applied.kind) and not rules.has_hardship(
            M.categories_on(pupil, decision.date), applied.data.get("basis")
        ):
            yield Conflict(decision.date, decision.entry, decision.type, "no_hardship_basis")
        if override is None:
            if aid_rules.similar_in_semester(applied.kind, decision.date, counted, terms):
                yield Conflict(decision.date, decision.entry, decision.type, "similar_aid")
            if aid_rules.conduct_blocks(decision.date, M.conduct_records(school, pupil)) is not None:
                yield Conflict(decision.date, decision.entry, decision.type, "conduct_record")
        if aid_rules.similar(applied.kind) and override is None:
            counted.append((applied.kind, decision.date))


def _mentor_conflicts(school: M.SchoolModel, staff: M.StaffRec) -> Iterator[Conflict]:
    # a pairing ends when its mentor leaves
    if staff.left is not None:
        for pairing in staff.pairings:
            if pairing.end is None or pairing.end > staff.left:
                left = next((i for i, m in school.marks.items() if m.type == "StaffLeft" and m.stream.endswith(f"/staff/{staff.id}")), "")
                yield Conflict(staff.left, left, "StaffLeft", "pairing_outlives_mentor")
    # capacity, at every start of a pairing and every change of the rules
    moments = sorted({p.start for p in staff.pairings} | {r.date for r in school.rules})
    for moment in moments:
        load = [p for p in staff.pairings if p.active_on(moment)]
        if len(load) > school.rules_on(moment).capacity:
            newest = max(load, key=lambda p: p.start)
            yield Conflict(newest.start, newest.entry, "PairingAssigned", "mentor_full")


def _overlap(a: M.PairingRec, b: M.PairingRec) -> bool:
    return (a.end is None or b.start < a.end) and (b.end is None or a.start < b.end)


def _entries(school: M.SchoolModel, pupil: M.PupilRec) -> Iterator[M.EntryRec]:
    for entry_id in pupil.entries:
        entry = school.entries.get(entry_id)
        if entry is not None and not entry.retracted:
            yield entry


def _status_entry(pupil: M.PupilRec, day: dt.date) -> str:
    return next((d.entry for d in pupil.timeline if d.what == "status" and not d.retracted and d.date == day), "")


def _type(school: M.SchoolModel, entry: str) -> str:
    mark = school.marks.get(entry)
    return mark.type if mark is not None else ""
