"""One school: its plan drawn first, then every intended action as (recorded time, command)."""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_left, bisect_right
from typing import Callable

from careterm.demo.aid import Aid
from careterm.demo.calendar import DAY, _hm, _local_day, _public_holiday, _ts, school_terms
from careterm.demo.care import CareHistory
from careterm.demo.people import PeoplePlan
from careterm.demo.records import _NO_KW, Pupil, Staff
from careterm.demo.structure import Structure
from events.calendar import Term


class School(PeoplePlan, Structure, CareHistory, Aid):
    """Draws the plan of one school and turns it into timed actions."""

    def __init__(self, index: int, seed: int, until: dt.date, principal: str, name: str):
        self.index = index
        self.sid = f"s{index}"
        self.rng = random.Random(seed + index)
        self.said_rng = random.Random(f"said/{seed}/{index}")  # what was said in contacts (demo/said.py)
        self.until = until
        self.principal_id = principal
        self.name = name
        self.actions: list[tuple] = []
        self.n = 0
        self.slots: dict[dt.date, int] = {}
        self.structural: list[tuple] = []
        self.staff: dict[str, Staff] = {}
        self.pupils: list[Pupil] = []
        self.names: set[str] = set()
        self.marks: dict[str, int] = {}  # scenario -> how many were drawn

    def workday_on_or_after(self, day: dt.date) -> dt.date | None:
        i = bisect_left(self.workdays, day)
        return self.workdays[i] if i < len(self.workdays) else None

    def workday_at(self, fraction: float) -> dt.date | None:
        return self.workday_on_or_after(self.opened + dt.timedelta(days=int(self.span * fraction)))

    def workdays_between(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Workdays in [start, end)."""
        return self.workdays[bisect_left(self.workdays, start):bisect_left(self.workdays, end)]

    def term_of(self, day: dt.date) -> Term | None:
        for term in self.terms:
            if term.start <= day <= term.end:
                return term
        return None

    # -- recording ---------------------------------------------------------------------------

    def push(self, ts: int, actor: str, day: dt.date, fn: Callable, args: tuple = (), kw: dict = _NO_KW,
             key: str | None = None, note: str = "") -> int | None:
        """Queue one action recorded at `ts`; None if it would be recorded after `until` or by a
        staff member who has left by then (their late entries are handed in the day before)."""
        rec_day = _local_day(ts)
        staff = self.staff.get(actor)
        if staff is not None and staff.left is not None and rec_day >= staff.left:
            if day >= staff.left:
                return None
            rec_day = staff.left - DAY
            ts = _ts(rec_day, _hm(20, 0) + self.n % 3000)
        if rec_day > self.until:
            return None
        assert rec_day >= day, (fn, day, rec_day)
        self.n += 1
        self.actions.append((ts, self.index, self.n, actor, day, fn, args, kw, key and f"{self.sid}:{key}", note))
        return ts

    def struct(self, day: dt.date, priority: int, actor: str, fn: Callable, *args, **kw) -> None:
        """A structural action, recorded on its own date in the morning, in priority order."""
        self.structural.append((day, priority, len(self.structural), actor, fn, args, kw))

    def flush_structural(self) -> None:
        for day, _, _, actor, fn, args, kw in sorted(self.structural, key=lambda s: s[:3]):
            slot = self.slots.get(day, 0)
            self.slots[day] = slot + 1
            note = kw.pop("note", "")
            self.push(_ts(day, _hm(8, 0) + slot * 12), actor, day, fn, args, kw, note=note)
        self.structural = []

    def office_ts(self, day: dt.date) -> int:
        """Official business (aid, activities, inspections): the same afternoon."""
        return _ts(day, self.rng.randint(_hm(14, 0), _hm(17, 30)))

    def _time_of_day(self, same_day: bool) -> int:
        r = self.rng
        x = r.random()
        if same_day:
            if x < 0.25:
                return r.randint(_hm(12, 5), _hm(13, 40))
            if x < 0.55:
                return r.randint(_hm(16, 40), _hm(18, 30))
            return r.randint(_hm(19, 30), _hm(22, 50))
        if x < 0.15:
            return r.randint(_hm(8, 10), _hm(11, 30))
        if x < 0.35:
            return r.randint(_hm(12, 5), _hm(13, 40))
        if x < 0.6:
            return r.randint(_hm(16, 40), _hm(18, 30))
        return r.randint(_hm(19, 30), _hm(23, 20))

    def when(self, staff: Staff, day: dt.date) -> int | None:
        """When `staff` records something done on `day`, by their habits; None: never (yet)."""
        r = self.rng
        style = staff.style
        if style == "burst" and r.random() < 0.8:
            # fills the handbook in the days before the next inspection of their handbook
            i = bisect_right(staff.inspections, day)
            if i == len(staff.inspections):
                if r.random() < 0.5:
                    return None
                rec = day + r.randint(8, 20) * DAY
            else:
                inspection = staff.inspections[i]
                lo, hi = max(day, inspection - 6 * DAY), inspection - DAY
                rec = day if hi < lo else lo + r.randint(0, (hi - lo).days) * DAY
        elif style == "weekly":
            rec = day + (6 - day.weekday()) * DAY  # Sunday evening, for the whole week
            if r.random() < 0.15:
                rec += 7 * DAY
        else:
            x = r.random()
            same, short, week = {
                "prompt": (0.7, 0.95, 1.0),
                "normal": (0.45, 0.8, 0.92),
                "laggard": (0.2, 0.5, 0.75),
                "burst": (0.3, 0.7, 0.9),
            }[style]
            if x < same:
                rec = day
            elif x < short:
                rec = day + r.randint(1, 3) * DAY
            elif x < week:
                rec = day + r.randint(4, 7) * DAY
            else:
                rec = day + r.randint(8, 30) * DAY
        return _ts(rec, self._time_of_day(rec == day))

    # -- phase 1: the plan -------------------------------------------------------------------

    def plan(self) -> None:
        r = self.rng
        until = self.until
        y, m = until.year, until.month - 18
        while m < 1:
            m += 12
            y -= 1
        opened = dt.date(y, m, min(until.day, 28)) - r.randint(0, 6) * DAY
        while opened.weekday() >= 5:
            opened += DAY
        self.opened = opened
        self.span = (until - opened).days
        self.terms = [t for t in school_terms(opened.year - 1, until.year + 1)
                      if t.end >= opened - 200 * DAY and t.start <= until + 60 * DAY]
        self.terms.sort(key=lambda t: t.start)
        self.workdays = []
        day = opened
        while day <= until:
            if day.weekday() < 5 and not _public_holiday(day) and self.term_of(day) is not None:
                self.workdays.append(day)
            day += DAY
        self.setup = self.workdays[:8]
        self.paired_first = self.workdays[9]
        self.capacity_day = self.workday_on_or_after(self.paired_first + 42 * DAY)
        self.plan_staff()
        self.plan_pupils()
        self.plan_exits()
        self.plan_pairings()

    # -- phase 2: the actions ----------------------------------------------------------------

    def generate(self) -> list[tuple]:
        self.plan()
        self.gen_structure()
        self.gen_inspections()
        self.gen_contacts()
        self.gen_activities()
        self.gen_aid()
        self.gen_plans()
        self.gen_incidents()
        self.gen_funds()
        self.actions.sort(key=lambda a: a[:3])
        return self.actions

