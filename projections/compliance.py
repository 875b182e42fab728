"""Compliance: which duties each pairing owes, their status on a date, and rates over a range.

The rules are in ../shared/domain.md and cli.md ("Duty status"):
- a rolling duty of N days counts the school days since its anchor (the later of the pairing's
  start and the last time it was done): `ok` below N-2, `due_soon` from N-2 to N, `overdue`
  above N; `due` is the day the count reaches N. `missed` counts the times it went overdue.
- a calendar duty (month, semester, school year) is `met` once done in the current period, else
  `pending`; `missed` counts past periods that ended unmet while the pairing held all of them.
- the parent duties apply to left-behind pupils only; rules and terms in force on a day judge it.
- a rate is the share of owed duty-time that was met: for a rolling duty each school day of an
  active pairing in the range is owed and met unless overdue; for a calendar duty each period
  that ended in the range, with the pairing active for all of it, is owed and met if done.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

from events import rules
from events.calendar import Period, default_semester, school_year, semester
from projections.model import PairingRec, PupilRec, SchoolModel, categories_on, profile_on

ONE_DAY = dt.timedelta(days=1)


def rolling_days(cadence: str) -> int | None:
    return int(cadence[:-1]) if cadence.endswith("d") else None


class Calendar:
    """School days and the cadences in force, precomputed day by day over [first, last]."""

    def __init__(self, model: SchoolModel, first: dt.date, last: dt.date):
        self.model = model
        self.first = first
        self.last = last
        n = (last - first).days + 1
        terms = model.terms
        starts = [t.start for t in terms]
        self.school_day = []
        for i in range(n):
            day = first + dt.timedelta(days=i)
            if not terms:
                self.school_day.append(True)
                continue
            k = bisect.bisect_right(starts, day) - 1
            self.school_day.append(k >= 0 and terms[k].start <= day <= terms[k].end)
        # cadence of each duty per day, from the rules in force that day
        self.cadences: dict[str, list[str]] = {duty: [] for duty in rules.DUTIES}
        rule_list = model.rules
        j = -1
        current = model.rules_on(first - ONE_DAY).cadences if rule_list else dict(rules.DEFAULT_CADENCES)
        for i in range(n):
            day = first + dt.timedelta(days=i)
            while j + 1 < len(rule_list) and rule_list[j + 1].date <= day:
                j += 1
                current = rule_list[j].cadences
            for duty in rules.DUTIES:
                self.cadences[duty].append(current.get(duty, rules.DEFAULT_CADENCES[duty]))

    def index(self, day: dt.date) -> int:
        return (day - self.first).days

    def period(self, kind: str, day: dt.date) -> Period:
        if kind == "month":
            nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return Period(f"{day:%Y-%m}", day.replace(day=1), nxt - ONE_DAY)
        if kind == "year":
            return school_year(day)
        return semester_span(day, self.model)


def semester_span(day: dt.date, model: SchoolModel) -> Period:
    """The semester of a day, running until the next one starts (a holiday follows its term)."""
    if not model.terms:
        return default_semester(day)
    found = semester(day, model.terms)
    later = [t.start for t in model.terms if t.start > found.start]
    end = (min(later) - ONE_DAY) if later else max(found.end, day)
    return Period(found.name, found.start, end)


@dataclass
class DutyResult:
    status: str | None = None
    last: dt.date | None = None
    due: dt.date | None = None
    missed: int = 0
    owed: int = 0
    met: int = 0

    def as_json(self) -> dict:
        return {
            "status": self.status,
            "last": self.last.isoformat() if self.last else None,
            "due": self.due.isoformat() if self.due else None,
            "missed": self.missed,
        }


def done_dates(model: SchoolModel, pupil: PupilRec, until: dt.date) -> dict[str, list[dt.date]]:
    """Dates each kind of contact was made for the pupil (any contact or activity, anyone's)."""
    found: dict[str, set[dt.date]] = {}
    for entry_id in pupil.entries:
        e = model.entries[entry_id]
        if e.retracted or e.kind is None or e.date > until or e.type not in ("ContactMade", "CareActivityHeld"):
            continue
        found.setdefault(e.kind, set()).add(e.date)
    return {kind: sorted(days) for kind, days in found.items()}


def applies(duty: str, pupil: PupilRec, day: dt.date) -> bool:
    return duty not in rules.LEFT_BEHIND_DUTIES or "left_behind" in categories_on(pupil, day)


def evaluate_pairing(
    model: SchoolModel,
    cal: Calendar,
    pairing: PairingRec,
    as_of: dt.date,
    range_from: dt.date,
    range_to: dt.date,
) -> dict[str, DutyResult]:
    """Each duty's result for one pairing, on `as_of`, with owed/met counts over the range."""
    pupil = model.pupils[pairing.pupil]
    last_day = as_of if pairing.end is None else min(as_of, pairing.end - ONE_DAY)
    done = done_dates(model, pupil, as_of)
    left_behind_on_end = "left_behind" in categories_on(pupil, last_day)
    results: dict[str, DutyResult] = {}
    for duty in rules.DUTIES:
        cadence_now = cal.cadences[duty][cal.index(last_day)]
        dates = done.get(duty, [])
        result = DutyResult(last=dates[bisect.bisect_right(dates, last_day) - 1] if dates and dates[0] <= last_day else None)
        if rolling_days(cadence_now) is not None:
            _rolling(cal, pairing, duty, pupil, dates, last_day, range_from, range_to, result)
        elif cadence_now != "off":
            _calendar(cal, pairing, duty, pupil, cadence_now, dates, last_day, as_of, range_from, range_to, result)
        if cadence_now == "off" or (duty in rules.LEFT_BEHIND_DUTIES and not left_behind_on_end):
            result.status = None  # the duty does not apply on the day asked: absent from the view
        results[duty] = result
    return results


def _rolling(cal, pairing, duty, pupil, dates, last_day, range_from, range_to, result: DutyResult) -> None:
    done_set = set(dates)
    # the anchor: the later of the pairing's start and the last time done on or before it
    elapsed = 0
    overdue = False
    status = "ok"
    n_today = None
    left_behind_cache: dict[dt.date, bool] = {}
    day = pairing.start
    anchor = pairing.start
    while day < last_day:
        day += ONE_DAY
        i = cal.index(day)
        if day in done_set:
            anchor, elapsed, overdue = day, 0, False
        elif cal.school_day[i]:
            elapsed += 1
        n = rolling_days(cal.cadences[duty][i])
        if n is None:
            continue
        n_today = n
        status = "ok" if elapsed < n - 2 else ("due_soon" if elapsed <= n else "overdue")
        if status == "overdue" and not overdue:
            overdue = True
            result.missed += 1
        if range_from <= day <= range_to and cal.school_day[i]:
            if duty in rules.LEFT_BEHIND_DUTIES:
                month = day.replace(day=1)
                if month not in left_behind_cache:
                    left_behind_cache[month] = applies(duty, pupil, day)
                if not left_behind_cache[month]:
                    continue
            result.owed += 1
            result.met += status != "overdue"
    n = n_today or rolling_days(cal.cadences[duty][cal.index(last_day)])
    result.status = status if last_day > pairing.start else "ok"
    # due: the day the count of school days since the anchor reaches n
    count, day, due = 0, anchor, None
    limit = cal.last
    while day < limit:
        day += ONE_DAY
        if cal.school_day[cal.index(day)]:
            count += 1
            if count >= n:
                due = day
                break
    if due is None and not cal.model.terms:
        due = anchor + dt.timedelta(days=n)
    result.due = due


def _calendar(cal, pairing, duty, pupil, kind, dates, last_day, as_of, range_from, range_to, result: DutyResult) -> None:
    def done_in(p: Period, until: dt.date) -> bool:
        k = bisect.bisect_left(dates, p.start)
        return k < len(dates) and dates[k] <= min(p.end, until)

    current = cal.period(kind, last_day)
    result.status = "met" if done_in(current, last_day) else "pending"
    result.due = None if result.status == "met" else current.end
    # past periods: ended before the day asked, and on or before the pairing's last day
    period = cal.period(kind, max(pairing.start, cal.first))
    while period.end < as_of and period.end <= last_day:
        held_all = pairing.start <= period.start and (pairing.end is None or pairing.end > period.end)
        if held_all and applies(duty, pupil, period.end) and cal.cadences[duty][cal.index(period.end)] == kind:
            met = done_in(period, period.end)
            result.missed += not met
            if range_from <= period.end <= range_to:
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
    as_of: dt.date
    range_from: dt.date
    range_to: dt.date
    pairings: list[dict] = field(default_factory=list)
    mentors: dict[str, Rate] = field(default_factory=dict)
    classes: dict[tuple[int, int], Rate] = field(default_factory=dict)
    school: Rate = field(default_factory=Rate)


def compliance(model: SchoolModel, as_of: dt.date, range_from: dt.date | None = None, range_to: dt.date | None = None) -> dict:
    if range_from is None:
        range_from = semester_span(as_of, model).start
    if range_to is None or range_to > as_of:
        range_to = min(range_to or as_of, as_of)
    first = min(model.opened or as_of, range_from, *(p.start for pupil in model.pupils.values() for p in pupil.pairings)) if model.pupils else (model.opened or as_of)
    cal = Calendar(model, first - ONE_DAY, as_of + dt.timedelta(days=400))
    view = ComplianceView(as_of, range_from, range_to)
    for pupil in model.pupils.values():
        for pairing in pupil.pairings:
            if pairing.start > as_of or (pairing.end is not None and pairing.end <= range_from and pairing.end <= as_of):
                continue
            active_now = pairing.active_on(as_of)
            results = evaluate_pairing(model, cal, pairing, as_of, range_from, range_to)
            rate = view.mentors.setdefault(pairing.staff, Rate())
            profile = profile_on(pupil, min(as_of, pairing.end or as_of))
            klass = view.classes.setdefault((profile.get("grade"), profile.get("class")), Rate())
            for r in results.values():
                rate.add(r)
                klass.add(r)
                view.school.add(r)
            if active_now:
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
