"""The views a face shows, as pure functions of a school's read model and a date (as-of).

Each takes the viewer (`projections.visibility.viewer_of`: the signed-in staff member) and shows
what the table there lets them see; `viewer=None` is the school as a whole (counts, tests).

Their JSON follows the command-line contract (docs/commands.en.md lists the commands); keys beyond it are additions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from events import rules
from events.calendar import default_semester
from projections import aid as aid_views
from projections import visibility as V
from projections.compliance import semester_span
from projections.completeness import incomplete_on
from events.model import (
    EntryRec,
    PupilRec,
    SchoolModel,
    categories_on,
    mentor_on,
    profile_on,
    status_on,
)

AID_TYPES = ("AidGranted",)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def pupil_row(model: SchoolModel, pupil: PupilRec, day: dt.date) -> dict[str, Any]:
    p = profile_on(pupil, day)
    return {
        "pupil": pupil.id,
        "name": p.get("name"),
        "gender": p.get("gender"),
        "birth": _iso(p.get("birth")),
        "grade": p.get("grade"),
        "class": p.get("class"),
        "categories": categories_on(pupil, day),
        "status": status_on(pupil, day),
        "mentor": mentor_on(pupil, day),
        "registered": pupil.registered.isoformat(),
        "phone": p.get("phone", ""),
        "guardian": p.get("guardian"),
        "parents": p.get("parents", []),
        "profile": p.get("profile", {}),
        "incomplete": incomplete_on(pupil, day),  # what a left-behind pupil's file lacks
    }


def visible_row(model: SchoolModel, pupil: PupilRec, day: dt.date, viewer: V.Viewer | None) -> dict[str, Any]:
    """The pupil's row as the viewer may see it: in full (less the counselling fields unless
    they may read them), or name, grade, class and status only (`"restricted": true`)."""
    if V.scope(viewer, model, pupil, day) != V.FULL:
        return V.restricted_row(pupil, day)
    row = pupil_row(model, pupil, day)
    return row if V.sees_content(viewer) else V.without_content_fields(row)


def archive(model: SchoolModel, day: dt.date, viewer: V.Viewer | None = None) -> dict:
    pupils = [visible_row(model, p, day, viewer) for p in model.pupils.values() if p.registered <= day]
    pupils.sort(key=lambda r: (r["grade"] or 0, r["class"] or 0, r["pupil"]))
    return {"as_of": day.isoformat(), "pupils": pupils}


def staff_list(model: SchoolModel, day: dt.date, viewer: V.Viewer | None = None) -> dict:
    """Every staff member; a mentee is listed only if the viewer sees the pupil in full (that
    a pupil has a mentor says they are in care)."""
    rows = []
    for s in model.staff.values():
        if s.joined > day:
            continue
        rows.append(
            {
                "staff": s.id,
                "name": s.name,
                "roles": list(s.roles),
                "active": s.left is None or s.left > day,
                "mentees": [p.pupil for p in s.pairings if p.active_on(day) and V.in_view(viewer, model, p.pupil, day)],
                "grade": s.grade,
                "class": s.class_,
                "joined": s.joined.isoformat(),
                "left": _iso(s.left) if s.left is not None and s.left <= day else None,
            }
        )
    return {"as_of": day.isoformat(), "staff": rows}


# --- aid -----------------------------------------------------------------------------------


def _grants(model: SchoolModel, day: dt.date) -> list[EntryRec]:
    return [e for e in model.entries.values() if e.type == "AidGranted" and not e.retracted and e.date <= day]


def _revoked(grant: EntryRec, day: dt.date) -> bool:
    return grant.follow_up is not None and grant.follow_up_date is not None and grant.follow_up_date <= day


def aid_list(model: SchoolModel, day: dt.date, viewer: V.Viewer | None = None) -> dict:
    """The grants of the pupils the viewer sees in full (aid is part of a pupil's file), and
    their totals."""
    terms = model.terms_on(day)
    rows = []
    for g in sorted(_grants(model, day), key=lambda g: g.date):  # stable: log order within a day
        if not V.in_view(viewer, model, g.pupils[0], day):
            continue
        rows.append(
            {
                "id": g.id,
                "pupil": g.pupils[0],
                "kind": g.kind,
                "amount": g.data.get("amount"),
                "items": g.data.get("items"),
                "date": g.date.isoformat(),
                "fund": g.data.get("fund", ""),
                "revoked": _revoked(g, day),
                "basis": g.data.get("basis"),
                "override": g.data.get("override"),
                "semester": semester_span(g.date, terms).name,
                "application": g.data.get("application"),
                "direct": bool(g.data.get("direct")),
                "incident": g.data.get("incident"),
            }
        )
    totals: dict[str, Decimal] = {}
    for r in rows:
        if r["amount"] and not r["revoked"]:
            totals[r["kind"]] = totals.get(r["kind"], Decimal("0")) + Decimal(r["amount"])
    return {
        "as_of": day.isoformat(),
        "grants": rows,
        "totals": {k: f"{v:.2f}" for k, v in sorted(totals.items())},
        "applications": aid_views.applications(model, day, viewer),
    }


def semesters(model: SchoolModel, day: dt.date) -> list[str]:
    names = [t.name for t in model.terms_on(day) if t.start <= day]
    if not names:
        first = model.opened or day
        current, seen = first, []
        while current <= day:
            period = default_semester(current)
            seen.append(period.name)
            current = period.end + dt.timedelta(days=1)
        names = seen
    return names


def aid_notice(model: SchoolModel, day: dt.date, semester_name: str, viewer: V.Viewer | None = None) -> dict | None:
    """The public notice (公示) of a semester: name, class, kind and amount only, with the days
    each stood in notice (`start`, `end`): every approval whose notice began in the semester, and
    the aid granted there without a notice (old one-step grants, emergencies; `start` and `end`
    null) unless revoked. None if no such semester. Public: the same for every viewer."""
    terms = model.terms_on(day)

    def in_semester(when: dt.date) -> bool:
        return semester_span(when, terms).name == semester_name

    noticed = aid_views.notice_rows(model, day, in_semester)
    unnoticed = [g for g in _grants(model, day) if not g.data.get("application")]
    if semester_name not in semesters(model, day) and not noticed and not any(in_semester(g.date) for g in unnoticed):
        return None
    rows = [(r["start"], r) for r in noticed]
    for g in unnoticed:
        if _revoked(g, day) or not in_semester(g.date):
            continue
        p = profile_on(model.pupils[g.pupils[0]], g.date)
        # in-kind aid shows no text: what was written there may name a family's circumstances
        row = {"name": p.get("name"), "class": f"{p.get('grade')}-{p.get('class')}", "kind": g.kind,
               "amount": g.data.get("amount"), "start": None, "end": None}
        rows.append((g.date.isoformat(), row))
    rows.sort(key=lambda r: r[0])  # stable: log order within a day
    return {"semester": semester_name, "notice": [r for _, r in rows]}


# --- the reassignment queue ----------------------------------------------------------------

PUPIL_REASONS = {"graduated", "transferred", "dropped_out", "mentor_left"}


def _reason(ended_reason: str | None) -> str:
    if ended_reason is None:
        return "new"
    return ended_reason if ended_reason in PUPIL_REASONS else "unpaired"


def queue(model: SchoolModel, day: dt.date, viewer: V.Viewer | None = None) -> dict:
    """The reassignment queue: for leaders (visibility.VIEW_ROLES), refused to others."""
    V.require_view(viewer, "queue")
    capacity = model.rules_on(day).capacity
    mentors = []
    for s in model.staff.values():
        if not (s.joined <= day and (s.left is None or s.left > day)):
            continue
        load = sum(1 for p in s.pairings if p.active_on(day))
        if load >= capacity:
            continue
        ended = [p for p in s.pairings if p.end is not None and p.end <= day]
        last = max(ended, key=lambda p: p.end) if ended else None
        since = max(s.joined, last.end) if last else s.joined
        mentors.append(
            {
                "staff": s.id,
                "name": s.name,
                "free_places": capacity - load,
                "waiting_since": since.isoformat(),
                "reason": _reason(last.reason) if last else "new",
                "grade": s.grade,
                "class": s.class_,
            }
        )
    pupils = []
    # taken in from another school of the district, and not yet given a mentor here
    arrived = {a.pupil for a in model.arrivals.values()}
    for pupil in model.pupils.values():
        if pupil.registered > day or status_on(pupil, day) != "enrolled":
            continue
        cats = categories_on(pupil, day)
        if not cats or mentor_on(pupil, day) is not None:
            continue
        ended = [p for p in pupil.pairings if p.end is not None and p.end <= day]
        last = max(ended, key=lambda p: p.end) if ended else None
        since = _in_care_since(pupil, day)
        if last:
            since = max(since, last.end)
        profile = profile_on(pupil, day)
        pupils.append(
            {
                "pupil": pupil.id,
                "name": profile.get("name"),
                "categories": cats,
                "waiting_since": since.isoformat(),
                "reason": _reason(last.reason) if last else "transferred_in" if pupil.id in arrived else "new",
                "grade": profile.get("grade"),
                "class": profile.get("class"),
                "need": rules.need_rank(cats),
                "last_mentor": last.staff if last else None,
            }
        )
    pupils.sort(key=lambda r: (r["need"], r["waiting_since"], r["pupil"]))
    mentors.sort(key=lambda r: (r["waiting_since"], r["staff"]))
    return {
        "as_of": day.isoformat(),
        "mentors": mentors,
        "pupils": pupils,
        "suggestions": suggest(mentors, pupils),
    }


def _in_care_since(pupil: PupilRec, day: dt.date) -> dt.date:
    """When the pupil last came to need a mentor: registered or returned with a care category, or
    given a first category. A second category does not restart the wait."""
    cats = set(pupil.base.get("categories", []))
    since = pupil.registered
    enrolled = True
    for d in pupil.timeline:
        if d.date > day:
            break
        if d.retracted:
            continue
        was_waiting = enrolled and bool(cats)
        if d.what == "category+":
            cats.add(d.value)
        elif d.what == "category-":
            cats.discard(d.value)
        elif d.what == "status":
            enrolled = d.value == "enrolled"
        if enrolled and cats and not was_waiting:
            since = d.date
    return since


SUGGESTION_REASONS = ("same_class", "same_grade", "other_grade", "fewest_mentees", "longest_waiting", "only_choice", "not_last_mentor")


def suggest(mentors: list[dict], pupils: list[dict]) -> list[dict]:
    """Greedy pairs in the pupils' order of need: a mentor who teaches the pupil's class, then
    the pupil's grade, then any other; among those, the one with the fewest mentees (the most free
    places, counting the pairs suggested before), then the one who waited longest; never the
    mentor the pupil just lost.

    Each pair says why (`why`, codes in SUGGESTION_REASONS): how close the mentor is (same_class,
    same_grade or other_grade), what chose them among the mentors as close (fewest_mentees,
    longest_waiting; only_choice when no other mentor could take the pupil), and not_last_mentor when
    the pupil's last mentor had a place but was passed over."""
    free = {m["staff"]: m["free_places"] for m in mentors}
    pairs = []
    for p in pupils:
        candidates = []
        for m in mentors:
            if free[m["staff"]] <= 0 or m["staff"] == p["last_mentor"]:
                continue
            same_grade = m["grade"] is not None and m["grade"] == p["grade"]
            tier = 0 if same_grade and m["class"] == p["class"] else 1 if same_grade else 2
            candidates.append(((tier, -free[m["staff"]], m["waiting_since"], m["staff"]), m))
        if not candidates:
            continue
        candidates.sort(key=lambda c: c[0])
        (tier, places, since, _), best = candidates[0]
        free[best["staff"]] -= 1
        pairs.append({"staff": best["staff"], "pupil": p["pupil"], "why": _why(p, tier, places, since, candidates, free)})
    return pairs


def _why(pupil: dict, tier: int, places: int, since: str, candidates: list, free: dict) -> list[str]:
    why = [("same_class", "same_grade", "other_grade")[tier]]
    rivals = [score for score, _ in candidates[1:] if score[0] == tier]
    if len(candidates) == 1:
        why.append("only_choice")
    elif rivals:
        if any(score[1] > places for score in rivals):  # a rival with fewer free places: more mentees
            why.append("fewest_mentees")
        if any(score[1] == places and score[2] > since for score in rivals):
            why.append("longest_waiting")
    last = pupil.get("last_mentor")
    if last is not None and free.get(last, 0) > 0:
        why.append("not_last_mentor")
    return why


def same_entries(model: SchoolModel, pupil: str, kind: str, day: dt.date) -> list[str]:
    """Ids of the standing contacts and activities of this kind for this pupil on this day: a
    second identical entry is most often a slip (the form saved twice). Asked before recording,
    so the app can ask to confirm and the command line can say so; never a refusal."""
    record = model.pupils.get(pupil)
    if record is None:
        return []
    found = []
    for entry_id in record.entries:
        entry = model.entries.get(entry_id)
        if (
            entry is not None
            and entry.type in ("ContactMade", "CareActivityHeld")
            and entry.kind == kind
            and entry.date == day
            and not entry.retracted
        ):
            found.append(entry_id)
    return found
