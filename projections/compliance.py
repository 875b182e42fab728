"""Compliance: which duties each pairing owes, their status on a date, and rates over a range.

The rules (the programme's duty status, as the command contract states it):
- a rolling duty of N days counts the school days since its anchor (the later of the pairing's
  start and the last time it was done): `ok` below N-2, `due_soon` from N-2 to N, `overdue`
  above N; `due` is the day the count reaches N. `missed` counts the times it went overdue.
- a calendar duty (month, semester, school year) is `met` once done in the current period, else
  `pending`; `due` is the period's last day; `missed` counts past periods that ended unmet while
  the pairing held all of them. The birthday duty also gives `aim`: the child's own birthday in
  the current period, the day to aim for (None if it falls in no day of it).
- the parent duties apply to left-behind pupils only; each day is judged by the rules (cadences)
  in force on it, so periods missed under an earlier cadence stay missed. The school calendar is
  the terms known on the day asked.
- a rate is the share of owed duty-time that was met: for a rolling duty each school day of an
  active pairing in the range is owed and met unless overdue; for a calendar duty each period
  that ended in the range, with the pairing active for all of it, is owed and met if done.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Sequence

from events import rules
from events.calendar import Period, Term, default_semester, school_year, semester
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

    def index(self, day: dt.date) -> int:
        return (day - self.first).days

    def cadence(self, duty: str, day: dt.date) -> str:
        return self.cadences[duty][self.index(day)]

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

    def mask(self, cal: "Calendar") -> list[bool]:
        """The answer for each day of the calendar, by index."""
        n = len(cal.school_day)
        out = [False] * n
        for k, (day, value) in enumerate(self.changes):
            start = min(max(cal.index(day), 0), n)
            end = min(max(cal.index(self.days[k + 1]), 0), n) if k + 1 < len(self.days) else n
            if value and start < end:
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


@dataclass
class Span:
    """One pairing's days to judge: [start, last_day], on `as_of`, rates over [range_from, range_to]."""

    pairing: PairingRec
    last_day: dt.date
    as_of: dt.date
    range_from: dt.date
    range_to: dt.date


def evaluate_pairing(
    model: SchoolModel, cal: Calendar, pairing: PairingRec, as_of: dt.date, range_from: dt.date, range_to: dt.date
) -> dict[str, DutyResult]:
    """Each duty's result for one pairing, on `as_of`, with owed/met counts over the range."""
    pupil = model.pupils[pairing.pupil]
    last_day = as_of if pairing.end is None else min(as_of, pairing.end - ONE_DAY)
    span = Span(pairing, last_day, as_of, range_from, range_to)
    done = done_dates(model, pupil, as_of)
    left_behind = holds(pupil, "left_behind")
    left_behind_mask: list[bool] | None = None
    results: dict[str, DutyResult] = {}
    for duty in rules.DUTIES:
        applies = left_behind if duty in rules.LEFT_BEHIND_DUTIES else (lambda day: True)
        dates = done.get(duty, [])
        k = bisect.bisect_right(dates, last_day) - 1
        result = DutyResult(last=dates[k] if k >= 0 else None)
        cadence_now = cal.cadence(duty, last_day)
        # every cadence this duty had during the pairing counts its own days or periods
        seen = set(cal.cadences[duty][cal.index(pairing.start) : cal.index(last_day) + 1]) | {cadence_now}
        if any(rolling_days(c) for c in seen):
            mask = None
            if duty in rules.LEFT_BEHIND_DUTIES:
                left_behind_mask = left_behind_mask or left_behind.mask(cal)
                mask = left_behind_mask
            _rolling(cal, span, duty, mask, dates, result)
        for kind in CALENDAR_KINDS:
            if kind in seen:
                _calendar(cal, span, duty, applies, kind, dates, result, current=kind == cadence_now)
        if duty == "birthday" and cadence_now in CALENDAR_KINDS:
            # `due` stays the period's end (when it is missed); the day to aim for is the child's own
            result.has_aim = True
            result.aim = birthday_in(cal.period(cadence_now, last_day), profile_on(pupil, last_day).get("birth"))
        if cadence_now == "off" or not applies(last_day):
            result.status = None  # the duty does not apply on the day asked: absent from the view
        results[duty] = result
    return results


def _rolling(cal: Calendar, span: Span, duty: str, applies: list[bool] | None, dates: list[dt.date], result: DutyResult) -> None:
    """Walk the pairing's days by calendar index; `applies` says on which days the duty is owed
    (None: every day)."""
    index, school_day, lengths = cal.index, cal.school_day, cal.rolling[duty]
    done = {index(d) for d in dates}
    start, last = index(span.pairing.start), index(span.last_day)
    lo, hi = index(span.range_from), index(span.range_to)
    elapsed, overdue, status = 0, False, "ok"
    anchor = start
    for i in range(start + 1, last + 1):
        if i in done:
            anchor, elapsed, overdue = i, 0, False
        elif school_day[i]:
            elapsed += 1
        n = lengths[i]
        if n is None or (applies is not None and not applies[i]):
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


def _calendar(cal: Calendar, span: Span, duty: str, applies, kind: str, dates, result: DutyResult, *, current: bool) -> None:
    def done_in(p: Period, until: dt.date) -> bool:
        k = bisect.bisect_left(dates, p.start)
        return k < len(dates) and dates[k] <= min(p.end, until)

    pairing = span.pairing
    if current:
        period = cal.period(kind, span.last_day)
        result.status = "met" if done_in(period, span.last_day) else "pending"
        result.due = None if result.status == "met" else period.end
    # past periods: ended before the day asked, and on or before the pairing's last day
    period = cal.period(kind, pairing.start)
    while period.end < span.as_of and period.end <= span.last_day:
        held_all = pairing.start <= period.start and (pairing.end is None or pairing.end > period.end)
        if held_all and applies(period.end) and cal.cadence(duty, period.end) == kind:
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


def compliance(model: SchoolModel, as_of: dt.date, range_from: dt.date | None = None, range_to: dt.date | None = None) -> dict:
    terms = model.terms_on(as_of)
    if range_from is None:
        range_from = semester_span(as_of, terms).start
    range_to = as_of if range_to is None else min(range_to, as_of)
    starts = [p.start for pupil in model.pupils.values() for p in pupil.pairings]
    first = min([model.opened or as_of, range_from, *starts])
    cal = Calendar(model, first - ONE_DAY, as_of + dt.timedelta(days=400), as_of)
    view = ComplianceView()
    for pupil in model.pupils.values():
        for pairing in pupil.pairings:
            if pairing.start > as_of or (pairing.end is not None and pairing.end <= range_from):
                continue
            results = evaluate_pairing(model, cal, pairing, as_of, range_from, range_to)
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
