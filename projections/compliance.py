"""Compliance: which duties each pairing owes, their status on a date, and rates over a range.

The rules (cli.md "Duty status" and "Calendar rules (exact)"):
- a duty applies from the later of the pairing's start, the day the pupil entered the duty's
  category (the parent duties: left-behind pupils only) and the day its cadence was switched
  on; until the pairing ends, the pupil leaves the category or the cadence is switched off.
  Each day is judged by the cadences in force on it, so periods missed under an earlier cadence
  stay missed. The school calendar is the terms known on the day asked.
- a rolling duty of N days counts the school days since its anchor (the later of the day the
  duty started to apply and the last time it was done): `ok` below N-2, `due_soon` from N-2 to
  N, `overdue` above N; `due` is the day the count reaches N. `missed` counts the times it went
  overdue.
- a calendar duty (month, semester, school year) is `met` once done in the current period, else
  `pending`; `due` is the period's last day. A period is owed when the duty applied on every
  school day of it (`owed`): never one with no school day, and holidays at its start or end do
  not matter. A pairing holds the day it ends (a pupil who graduates on the last school day of
  the year owes that year's birthday). `missed` counts the past periods owed and not met. The
  birthday duty also gives `aim`: the child's own birthday in the current period.
- the duties beyond the five are off by default and apply to every pairing; `inspection` is
  met by a handbook inspection of the pairing's mentor (any result), and shows, like the others,
  in each of the mentor's pairings.
- a rate is the share of owed duty-time that was met: for a rolling duty each school day of an
  active pairing in the range on which the duty applied is owed, and met unless overdue; for a
  calendar duty each owed period that ended in the range is owed, and met if done.
"""

from __future__ import annotations

import bisect
import datetime as dt
from itertools import accumulate
from dataclasses import dataclass, field
from typing import Sequence

from events import rules
from events.calendar import Period, Term, school_year, semester
from events.model import PairingRec, PupilRec, SchoolModel, profile_on

ONE_DAY = dt.timedelta(days=1)
CALENDAR_KINDS = ("month", "semester", "year")


def rolling_days(cadence: str) -> int | None:
    return int(cadence[:-1]) if cadence.endswith("d") else None


def semester_span(day: dt.date, terms: Sequence[Term]) -> Period:
    """The semester of a day (events.calendar.semester: the one definition)."""
    return semester(day, terms)


class Calendar:
    """School days and the cadences in force, day by day over [first, last], as known on `as_of`."""

    def __init__(self, model: SchoolModel, first: dt.date, last: dt.date, as_of: dt.date):
        self.first = first
        self.last = last
        self.terms = model.terms_on(as_of)
        n = (last - first).days + 1
        starts = [t.start for t in self.terms]
        self.school_day = []
        for i in range(n):
            day = first + dt.timedelta(days=i)
            if not self.terms:
                self.school_day.append(True)
                continue
            k = bisect.bisect_right(starts, day) - 1
            self.school_day.append(k >= 0 and self.terms[k].start <= day <= self.terms[k].end)
        # the cadence of each duty per day, from the rules in force that day
        self.cadences: dict[str, list[str]] = {duty: [] for duty in rules.DUTIES}
        changes = model.rules_changes()
        current = model.rules_on(first).cadences
        j = 0
        while j < len(changes) and changes[j].date <= first:
            j += 1
        for i in range(n):
            day = first + dt.timedelta(days=i)
            while j < len(changes) and changes[j].date <= day:
                current = changes[j].cadences
                j += 1
            for duty in rules.DUTIES:
                self.cadences[duty].append(current.get(duty, rules.DEFAULT_CADENCES[duty]))
        # a rolling cadence's length per day (None: a calendar cadence or off), read in loops
        lengths = {c: rolling_days(c) for duty in rules.DUTIES for c in set(self.cadences[duty])}
        self.rolling: dict[str, list[int | None]] = {
            duty: [lengths[c] for c in self.cadences[duty]] for duty in rules.DUTIES
        }
        # whether each duty's cadence is on, per day (switched off, the duty does not apply)
        self.on: dict[str, list[bool]] = {duty: [c != "off" for c in self.cadences[duty]] for duty in rules.DUTIES}
        self.school_before = [0, *accumulate(self.school_day)]  # school days before each index
        self._other_cadence: dict[tuple[str, str], list[int]] = {}

    def index(self, day: dt.date) -> int:
        return (day - self.first).days

    def cadence(self, duty: str, day: dt.date) -> str:
        return self.cadences[duty][self.index(day)]

    def clip(self, day: dt.date) -> int:
        return min(max(self.index(day), 0), len(self.school_day) - 1)

    def school_span(self, period: Period) -> tuple[int, int] | None:
        """The first and last school day of a period, by index; None if it has none."""
        lo, hi = self.clip(period.start), self.clip(period.end)
        if self.school_before[hi + 1] == self.school_before[lo]:
            return None
        school = self.school_day
        return next(i for i in range(lo, hi + 1) if school[i]), next(i for i in range(hi, lo - 1, -1) if school[i])

    def other_cadence(self, duty: str, kind: str) -> list[int]:
        """Prefix counts of the school days on which the duty's cadence was not `kind`."""
        key = (duty, kind)
        if key not in self._other_cadence:
            pairs = zip(self.school_day, self.cadences[duty])
            self._other_cadence[key] = [0, *accumulate(school and c != kind for school, c in pairs)]
        return self._other_cadence[key]

    def period(self, kind: str, day: dt.date) -> Period:
        if kind == "month":
            following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return Period(f"{day:%Y-%m}", day.replace(day=1), following - ONE_DAY)
        if kind == "year":
            return school_year(day)
        return semester_span(day, self.terms)


class Step:
    """A yes or no that changes on given days, in date order (the last change of a day wins)."""

    def __init__(self, changes: list[tuple[dt.date, bool]]):
        self.changes = changes
        self.days = [day for day, _ in changes]

    def __call__(self, day: dt.date) -> bool:
        k = bisect.bisect_right(self.days, day) - 1
        return k >= 0 and self.changes[k][1]

    def spans(self, cal: "Calendar") -> list[tuple[int, int]]:
        """The index ranges [start, end) of the calendar on which the answer is yes."""
        n = len(cal.school_day)
        out = []
        for k, (day, value) in enumerate(self.changes):
            start = min(max(cal.index(day), 0), n)
            end = min(max(cal.index(self.days[k + 1]), 0), n) if k + 1 < len(self.days) else n
            if value and start < end:
                out.append((start, end))
        return out

    def mask(self, cal: "Calendar") -> list[bool]:
        """The answer for each day of the calendar, by index."""
        return mask_of(self.spans(cal), len(cal.school_day))


def mask_of(spans: list[tuple[int, int]], n: int) -> list[bool]:
    """Yes on the index ranges [start, end) given, for n days."""
    out = [False] * n
    for start, end in spans:
        out[start:end] = [True] * (end - start)
    return out


def holds(pupil: PupilRec, category: str) -> Step:
    """Whether the pupil is in a category on a day, from their timeline (registration, changes)."""
    changes: list[tuple[dt.date, bool]] = [(pupil.registered, category in pupil.base.get("categories", []))]
    for d in pupil.timeline:
        if not d.retracted and d.value == category and d.what in ("category+", "category-"):
            changes.append((d.date, d.what == "category+"))
    return Step(changes)


@dataclass
class DutyResult:
    status: str | None = None
    last: dt.date | None = None
    due: dt.date | None = None
    missed: int = 0
    owed: int = 0
    met: int = 0
    aim: dt.date | None = None  # the birthday duty: the child's birthday in the current period
    has_aim: bool = False

    def as_json(self) -> dict:
        out = {
            "status": self.status,
            "last": self.last.isoformat() if self.last else None,
            "due": self.due.isoformat() if self.due else None,
            "missed": self.missed,
        }
        if self.has_aim:  # an addition to cli.md's keys, for the birthday duty only
            out["aim"] = self.aim.isoformat() if self.aim else None
        return out


def birthday_in(period: Period, birth: dt.date | str | None) -> dt.date | None:
    """The child's birthday that falls in the period (the day to aim for), None if none does or
    the birth date is unknown. Born on 29 February: the 28th in a year that has no 29th."""
    if not birth:
        return None
    birth = dt.date.fromisoformat(birth) if isinstance(birth, str) else birth
    for year in range(period.start.year, period.end.year + 1):
        try:
            day = birth.replace(year=year)
        except ValueError:
            day = dt.date(year, 2, 28)
        if period.start <= day <= period.end:
            return day
    return None


def done_dates(model: SchoolModel, pupil: PupilRec, until: dt.date) -> dict[str, list[dt.date]]:
    """Dates each kind of contact was made for the pupil (any contact or activity, anyone's)."""
    found: dict[str, set[dt.date]] = {}
    for entry_id in pupil.entries:
        e = model.entries[entry_id]
        if e.retracted or e.kind is None or e.date > until or e.type not in ("ContactMade", "CareActivityHeld"):
            continue
        found.setdefault(e.kind, set()).add(e.date)
    return {kind: sorted(days) for kind, days in found.items()}


def inspection_dates(model: SchoolModel, until: dt.date) -> dict[str, list[dt.date]]:
    """Dates each staff member's handbook was inspected (any result), by the staff inspected."""
    found: dict[str, set[dt.date]] = {}
    for e in model.entries.values():
        if e.type == "HandbookInspected" and not e.retracted and e.date <= until and e.by:
            found.setdefault(e.by, set()).add(e.date)
    return {staff: sorted(days) for staff, days in found.items()}


@dataclass
class Span:
    """One pairing's days to judge: [start, last_day], on `as_of`, rates over [range_from, range_to]."""

    pairing: PairingRec
    last_day: dt.date
    as_of: dt.date
    range_from: dt.date
    range_to: dt.date


def evaluate_pairing(
    model: SchoolModel,
    cal: Calendar,
    pairing: PairingRec,
    as_of: dt.date,
    range_from: dt.date,
    range_to: dt.date,
    inspections: dict[str, list[dt.date]] | None = None,
) -> dict[str, DutyResult]:
    """Each duty's result for one pairing, on `as_of`, with owed/met counts over the range."""
    pupil = model.pupils[pairing.pupil]
    last_day = as_of if pairing.end is None else min(as_of, pairing.end - ONE_DAY)
    # the last day a calendar period can be owed on: the pairing holds the day it ends
    held_to = as_of if pairing.end is None else min(as_of, pairing.end)
    span = Span(pairing, last_day, as_of, range_from, range_to)
    done = done_dates(model, pupil, as_of)
    if inspections is not None:
        done[rules.INSPECTION] = inspections.get(pairing.staff, [])
    first, last = cal.index(pairing.start), cal.index(held_to)
    inside = holds(pupil, "left_behind").spans(cal)  # the days the pupil is left-behind
    left_behind = any(a <= last and b > first for a, b in inside)  # at some time in the pairing
    in_category: list[bool] | None = None
    results: dict[str, DutyResult] = {}
    for duty in rules.DUTIES:
        cadence_now = cal.cadence(duty, last_day)
        seen = set(cal.cadences[duty][first : last + 1]) | {cadence_now}
        category = duty in rules.LEFT_BEHIND_DUTIES
        if seen == {"off"} or (category and not left_behind):
            continue  # never owed during the pairing: absent from the view
        mask = None  # the days the pupil is in the duty's category (None: every pairing owes it)
        if category:
            in_category = in_category or mask_of(inside, len(cal.school_day))
            mask = in_category
        dates = done.get(duty, [])
        k = bisect.bisect_right(dates, last_day) - 1
        result = DutyResult(last=dates[k] if k >= 0 else None)
        # every cadence this duty had during the pairing counts its own days or periods
        if any(rolling_days(c) for c in seen):
            _rolling(cal, span, duty, mask, dates, result)
        for kind in CALENDAR_KINDS:
            if kind in seen:
                _calendar(cal, span, duty, inside if category else None, kind, dates, result, current=kind == cadence_now)
        if duty == "birthday" and cadence_now in CALENDAR_KINDS:
            # `due` stays the period's end (when it is missed); the day to aim for is the child's own
            result.has_aim = True
            result.aim = birthday_in(cal.period(cadence_now, last_day), profile_on(pupil, last_day).get("birth"))
        if cadence_now == "off" or (mask is not None and not mask[cal.index(last_day)]):
            result.status = None  # the duty does not apply on the day asked: absent from the view
        results[duty] = result
    return results


def _rolling(cal: Calendar, span: Span, duty: str, applies: list[bool] | None, dates: list[dt.date], result: DutyResult) -> None:
    """Walk the pairing's days by calendar index; `applies` says on which days the pupil is in
    the duty's category (None: every day). The clock starts again whenever the duty starts to
    apply (the pupil enters the category, the cadence is switched on)."""
    index, school_day, lengths, on = cal.index, cal.school_day, cal.rolling[duty], cal.on[duty]
    done = {index(d) for d in dates}
    start, last = index(span.pairing.start), index(span.last_day)
    lo, hi = index(span.range_from), index(span.range_to)
    elapsed, overdue, status = 0, False, "ok"
    anchor = start
    applied = on[start] and (applies is None or applies[start])
    for i in range(start + 1, last + 1):
        applies_now = on[i] and (applies is None or applies[i])
        if i in done or (applies_now and not applied):
            anchor, elapsed, overdue = i, 0, False
        elif school_day[i]:
            elapsed += 1
        applied = applies_now
        n = lengths[i]
        if n is None or not applies_now:
            continue
        status = "ok" if elapsed < n - 2 else ("due_soon" if elapsed <= n else "overdue")
        if status == "overdue" and not overdue:
            overdue = True
            result.missed += 1
        if lo <= i <= hi and school_day[i]:
            result.owed += 1
            result.met += status != "overdue"
    n = lengths[last]
    if n is None:
        return  # judged by a calendar cadence today: the status comes from there
    result.status = status
    # due: the day the count of school days since the anchor reaches n
    count, due = 0, None
    for i in range(anchor + 1, len(school_day)):
        if school_day[i]:
            count += 1
            if count >= n:
                due = cal.first + dt.timedelta(days=i)
                break
    result.due = due


def owed(cal: Calendar, period: Period, pairing: PairingRec, duty: str, kind: str, inside: list[tuple[int, int]] | None) -> bool:
    """Whether a period of a calendar duty is owed: the duty applied, under that cadence, on every
    school day of it. A period with no school day is never owed; the holidays at its start or end
    do not matter; the pairing holds the day it ends. `inside`: the index ranges on which the
    pupil is in the duty's category (None: every pairing owes it)."""
    days = cal.school_span(period)
    if days is None:
        return False
    first, last = days
    if cal.index(pairing.start) > first or (pairing.end is not None and cal.index(pairing.end) < last):
        return False
    other = cal.other_cadence(duty, kind)
    if other[last + 1] != other[first]:
        return False  # another cadence (or none) on some school day of it
    if inside is None:
        return True
    before = cal.school_before
    covered = sum(before[min(b, last + 1)] - before[max(a, first)] for a, b in inside if a <= last and b > first)
    return covered == before[last + 1] - before[first]  # in the category on every school day


def _calendar(cal: Calendar, span: Span, duty: str, inside: list[tuple[int, int]] | None, kind: str, dates, result: DutyResult, *, current: bool) -> None:
    def done_in(p: Period, until: dt.date) -> bool:
        k = bisect.bisect_left(dates, p.start)
        return k < len(dates) and dates[k] <= min(p.end, until)

    pairing = span.pairing
    if current:
        period = cal.period(kind, span.last_day)
        result.status = "met" if done_in(period, span.last_day) else "pending"
        result.due = None if result.status == "met" else period.end
    # past periods: ended before the day asked, begun by the pairing's end
    period = cal.period(kind, pairing.start)
    while period.end < span.as_of and (pairing.end is None or period.start <= pairing.end):
        if owed(cal, period, pairing, duty, kind, inside):
            met = done_in(period, period.end)
            result.missed += not met
            if span.range_from <= period.end <= span.range_to:
                result.owed += 1
                result.met += met
        following = cal.period(kind, period.end + ONE_DAY)
        if following.start <= period.start:
            break
        period = following


@dataclass
class Rate:
    owed: int = 0
    met: int = 0

    def add(self, r: DutyResult) -> None:
        self.owed += r.owed
        self.met += r.met

    @property
    def value(self) -> float | None:
        return round(self.met / self.owed, 4) if self.owed else None


@dataclass
class ComplianceView:
    pairings: list[dict] = field(default_factory=list)
    mentors: dict[str, Rate] = field(default_factory=dict)
    classes: dict[tuple[int, int], Rate] = field(default_factory=dict)
    school: Rate = field(default_factory=Rate)


def _judged_until(cal: Calendar, end: dt.date) -> dt.date:
    """The last day an ended pairing can owe anything on: the end of its last periods."""
    return max(cal.period(kind, end).end for kind in CALENDAR_KINDS)


def compliance(
    model: SchoolModel, as_of: dt.date, range_from: dt.date | None = None, range_to: dt.date | None = None, viewer=None
) -> dict:
    """Every pairing's duties and the rates; with a viewer (projections.visibility), what they
    may see: the pairings in view (their own, a class teacher's class), their own rate and their
    class's, every one for leaders and auditors. The school's rate is a count, for everyone."""
    return in_view(compliance_of_school(model, as_of, range_from, range_to), model, as_of, viewer)


def in_view(view: dict, model: SchoolModel, as_of: dt.date, viewer) -> dict:
    from projections import visibility as V

    if viewer is None:
        return view
    return {
        **view,
        "pairings": [p for p in view["pairings"] if V.pairing_in_view(viewer, model, p["staff"], p["pupil"], as_of)],
        "mentors": [m for m in view["mentors"] if V.rate_in_view(viewer, m["staff"])],
        "classes": [c for c in view["classes"] if V.class_in_view(viewer, c["grade"], c["class"])],
    }


def compliance_of_school(
    model: SchoolModel, as_of: dt.date, range_from: dt.date | None = None, range_to: dt.date | None = None
) -> dict:
    terms = model.terms_on(as_of)
    if range_from is None:
        range_from = semester_span(as_of, terms).start
    range_to = as_of if range_to is None else min(range_to, as_of)
    starts = [p.start for pupil in model.pupils.values() for p in pupil.pairings]
    first = min([model.opened or as_of, range_from, *starts])
    # from the start of the first period any pairing is judged in (its school days before it count)
    first = min(first.replace(day=1), school_year(first).start, semester_span(first, terms).start)
    cal = Calendar(model, first - ONE_DAY, as_of + dt.timedelta(days=400), as_of)
    inspection_on = any(c != "off" for c in cal.cadences[rules.INSPECTION])
    inspections = inspection_dates(model, as_of) if inspection_on else None
    view = ComplianceView()
    for pupil in model.pupils.values():
        for pairing in pupil.pairings:
            if pairing.start > as_of or (pairing.end is not None and _judged_until(cal, pairing.end) < range_from):
                continue
            results = evaluate_pairing(model, cal, pairing, as_of, range_from, range_to, inspections)
            profile = profile_on(pupil, min(as_of, pairing.end or as_of))
            rates = (
                view.mentors.setdefault(pairing.staff, Rate()),
                view.classes.setdefault((profile.get("grade"), profile.get("class")), Rate()),
                view.school,
            )
            for r in results.values():
                for rate in rates:
                    rate.add(r)
            if pairing.active_on(as_of):
                view.pairings.append(
                    {
                        "staff": pairing.staff,
                        "pupil": pairing.pupil,
                        "since": pairing.start.isoformat(),
                        "duties": {d: r.as_json() for d, r in results.items() if r.status is not None},
                    }
                )
    view.pairings.sort(key=lambda p: (p["staff"], p["pupil"]))
    return {
        "as_of": as_of.isoformat(),
        "from": range_from.isoformat(),
        "to": range_to.isoformat(),
        "pairings": view.pairings,
        "mentors": [
            {"staff": staff, "name": model.staff[staff].name if staff in model.staff else None, "rate": r.value, "owed": r.owed, "met": r.met}
            for staff, r in sorted(view.mentors.items())
        ],
        "classes": [
            {"grade": g, "class": c, "rate": r.value, "owed": r.owed, "met": r.met}
            for (g, c), r in sorted(view.classes.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1] or 0))
        ],
        "school": {"rate": view.school.value, "owed": view.school.owed, "met": view.school.met},
    }


def shown_duties(view: dict) -> tuple[str, ...]:
    """The duties a compliance table has columns for: the five always, the others (off by
    default) when some pairing owes them on the day asked; in events.rules.DUTIES' order."""
    present = {duty for p in view["pairings"] for duty in p["duties"]}
    return tuple(d for d in rules.DUTIES if d not in rules.MORE_DUTIES or d in present)
