"""The duty rules, the queue, the statistics, the aid notice and the audit flags, case by case.

Every case is a small school on a real SQLite store, built through events.commands and
events.service, read through projections.readmodel and the view functions. The store's clock
is fake (recording times are fixed by the test), commands run with a fixed "today", and views
are asked about explicit dates, so nothing depends on the day the tests run.

Expected values are computed by hand from ../shared/domain.md and ../shared/cli.md ("Duty
status", "Defaults the checks rely on"). Without terms every day is a school day, so a count of
school days since an anchor is simply the number of days after it.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from events import commands as C
from helpers import granted_aid
from events.errors import Refused
from events.service import Service
from events.store import Store
from events import saved
from projections.audit import signals
from projections.compliance import compliance
from projections.stats import stats
from projections.views import aid_list, aid_notice, archive, queue, staff_list

D = dt.date
SCHOOL = "s1"
OPENED = D(2024, 9, 1)
TODAY = D(2026, 6, 30)
UTC = dt.timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """The store's clock (UTC): the recording time of everything stored next."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def at_local(self, day: dt.date, hour: int = 12) -> None:
        """Record next at `hour` o'clock on `day`, school time (Asia/Shanghai)."""
        self.now = dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC)


class School:
    """A small school on a real store, with short ways to record and to read."""

    def __init__(self, store: Store, clock: Clock):
        self.store = store
        self.clock = clock
        self.service = Service(store)
        self.do(lambda s, c: C.init(s, c, name="石砚小学", admin_name="校长"), OPENED)

    def do(self, build, day: dt.date, actor: str = "admin"):
        context = C.Context(school=SCHOOL, actor=actor, today=TODAY, date=day)
        return self.service.execute(lambda s: build(s, context))

    def staff(self, sid: str, *, grade=None, class_=None, day: dt.date = OPENED, roles=("teacher",)) -> None:
        self.do(lambda s, c: C.add_staff(s, c, sid, name=f"老师{sid}", roles=roles, grade=grade, class_=class_), day)

    def pupil(self, pid: str, *cats: str, grade: int = 3, class_: int = 2, day: dt.date = OPENED,
              name: str | None = None, phone: str = "") -> None:
        self.do(lambda s, c: C.add_pupil(s, c, pid, name=name or f"学生{pid}", gender="F", birth=D(2016, 3, 1),
                                         grade=grade, class_=class_, categories=list(cats), phone=phone), day)

    def pair(self, sid: str, pid: str, day: dt.date) -> None:
        self.do(lambda s, c: C.pair(s, c, sid, pid), day)

    def contact(self, pid: str, kind: str, day: dt.date, actor: str = "admin") -> str:
        return self.do(lambda s, c: C.contact(s, c, pid, kind=kind), day, actor)[0].id

    def activity(self, kind: str, pupils: list[str], day: dt.date) -> str:
        return self.do(lambda s, c: C.activity(s, c, kind=kind, pupils=pupils), day)[0].id

    def grant(self, pid: str, kind: str, day: dt.date, **kw) -> str:
        # (issue 14) through the procedure, decided before `day` (helpers.granted_aid): the grant's id
        return self.do(lambda s, c: granted_aid(s, c, pid, kind=kind, **kw), day)[-1].id

    def rules(self, day: dt.date, **kw) -> None:
        self.do(lambda s, c: C.set_rules(s, c, **kw), day)

    def term(self, name: str, start: dt.date, end: dt.date, day: dt.date = OPENED) -> None:
        self.do(lambda s, c: C.add_term(s, c, name=name, start=start, end=end), day)

    def model(self):
        return saved.load(self.store, SCHOOL)

    def compliance(self, as_of: dt.date, range_from=None, range_to=None) -> dict:
        return compliance(self.model(), as_of, range_from, range_to)

    def duties(self, pid: str, as_of: dt.date) -> dict:
        rows = [p for p in self.compliance(as_of)["pairings"] if p["pupil"] == pid]
        assert len(rows) == 1, f"{pid} is not in one active pairing on {as_of}: {rows}"
        return rows[0]["duties"]

    def duty(self, pid: str, duty: str, as_of: dt.date) -> dict:
        return self.duties(pid, as_of)[duty]


@pytest.fixture
def school(tmp_path):
    # noon in Shanghai on the opening day: tests move the clock on to record late entries (a
    # store's recording times never go backwards, so it may not start at TODAY and go back)
    clock = Clock(dt.datetime(OPENED.year, OPENED.month, OPENED.day, 4, 0, tzinfo=UTC))
    with Store(tmp_path / "rules.sqlite", create=True, clock=clock) as store:
        yield School(store, clock)


def status(duty: dict) -> tuple:
    return duty["status"], duty["last"], duty["due"], duty["missed"]


def every(first: dt.date, last: dt.date, step: int) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        days.append(day)
        day += dt.timedelta(days=step)
    return days


# --- rolling duties ------------------------------------------------------------------------


def test_rolling_talk_ok_then_due_soon_then_overdue_at_the_exact_counts(school):
    school.staff("T1")
    school.pupil("P1", "learning_difficulty")
    school.pair("T1", "P1", D(2025, 10, 1))
    school.contact("P1", "talk", D(2025, 10, 10))
    # before the contact the clock runs from the pairing's start (2025-10-01)
    assert status(school.duty("P1", "talk", D(2025, 10, 5))) == ("ok", None, "2025-10-15", 0)
    # anchor 2025-10-10, talk every 14 days: ok below 12, due_soon 12..14, overdue above 14
    assert status(school.duty("P1", "talk", D(2025, 10, 10))) == ("ok", "2025-10-10", "2025-10-24", 0)
    assert status(school.duty("P1", "talk", D(2025, 10, 21))) == ("ok", "2025-10-10", "2025-10-24", 0)  # 11
    assert status(school.duty("P1", "talk", D(2025, 10, 22))) == ("due_soon", "2025-10-10", "2025-10-24", 0)  # 12
    assert status(school.duty("P1", "talk", D(2025, 10, 24))) == ("due_soon", "2025-10-10", "2025-10-24", 0)  # 14
    assert status(school.duty("P1", "talk", D(2025, 10, 25))) == ("overdue", "2025-10-10", "2025-10-24", 1)  # 15
    # a new talk resets the clock; the overdue spell stays counted
    school.contact("P1", "talk", D(2025, 10, 28))
    assert status(school.duty("P1", "talk", D(2025, 10, 30))) == ("ok", "2025-10-28", "2025-11-11", 1)


def test_rolling_parent_call_seven_days(school):
    school.staff("T1")
    school.pupil("P1", "left_behind")
    school.pair("T1", "P1", D(2025, 10, 1))
    school.contact("P1", "parent_call", D(2025, 10, 3))
    # 7 days: ok below 5, due_soon 5..7, overdue above 7
    assert status(school.duty("P1", "parent_call", D(2025, 10, 7))) == ("ok", "2025-10-03", "2025-10-10", 0)  # 4
    assert status(school.duty("P1", "parent_call", D(2025, 10, 8))) == ("due_soon", "2025-10-03", "2025-10-10", 0)
    assert status(school.duty("P1", "parent_call", D(2025, 10, 10))) == ("due_soon", "2025-10-03", "2025-10-10", 0)
    assert status(school.duty("P1", "parent_call", D(2025, 10, 11))) == ("overdue", "2025-10-03", "2025-10-10", 1)


def test_a_holiday_between_terms_stops_the_rolling_clock(school):
    # autumn term ends 2026-01-16, spring term starts 2026-02-20: the days between do not count
    school.term("2025秋", D(2025, 9, 1), D(2026, 1, 16))
    school.term("2026春", D(2026, 2, 20), D(2026, 7, 10))
    school.staff("T1")
    school.pupil("P1", "learning_difficulty")
    school.pair("T1", "P1", D(2026, 1, 5))
    school.contact("P1", "talk", D(2026, 1, 10))
    # school days after the anchor: 01-11..01-16 are 1..6, then 02-20 is 7, ..., 02-27 is 14
    assert status(school.duty("P1", "talk", D(2026, 1, 16))) == ("ok", "2026-01-10", "2026-02-27", 0)
    assert status(school.duty("P1", "talk", D(2026, 2, 10))) == ("ok", "2026-01-10", "2026-02-27", 0)  # holiday
    assert status(school.duty("P1", "talk", D(2026, 2, 24))) == ("ok", "2026-01-10", "2026-02-27", 0)  # 11
    assert status(school.duty("P1", "talk", D(2026, 2, 25))) == ("due_soon", "2026-01-10", "2026-02-27", 0)  # 12
    assert status(school.duty("P1", "talk", D(2026, 2, 27))) == ("due_soon", "2026-01-10", "2026-02-27", 0)  # 14
    assert status(school.duty("P1", "talk", D(2026, 2, 28))) == ("overdue", "2026-01-10", "2026-02-27", 1)  # 15


def test_a_rule_change_mid_term_judges_the_later_days_by_the_new_cadence(school):
    school.staff("T1")
    school.staff("T2")
    school.pupil("P1", "learning_difficulty")
    school.pupil("P2", "learning_difficulty")
    school.pair("T1", "P1", D(2025, 10, 25))
    school.pair("T2", "P2", D(2025, 10, 25))
    school.contact("P1", "talk", D(2025, 11, 1))
    school.rules(D(2025, 11, 5), duties={"talk": "7d"})  # talk every 7 days from 2025-11-05
    # P1, anchor 11-01. Up to 11-04 judged by 14d, from 11-05 by 7d (ok below 5, due_soon 5..7)
    assert status(school.duty("P1", "talk", D(2025, 11, 4))) == ("ok", "2025-11-01", "2025-11-15", 0)  # 3 of 14
    assert status(school.duty("P1", "talk", D(2025, 11, 5))) == ("ok", "2025-11-01", "2025-11-08", 0)  # 4 of 7
    assert status(school.duty("P1", "talk", D(2025, 11, 6))) == ("due_soon", "2025-11-01", "2025-11-08", 0)  # 5
    assert status(school.duty("P1", "talk", D(2025, 11, 8))) == ("due_soon", "2025-11-01", "2025-11-08", 0)  # 7
    assert status(school.duty("P1", "talk", D(2025, 11, 9))) == ("overdue", "2025-11-01", "2025-11-08", 1)  # 8
    # P2, no talk since the pairing began on 10-25: 10 days is ok under 14d, 11 days overdue under 7d
    assert status(school.duty("P2", "talk", D(2025, 11, 4))) == ("ok", None, "2025-11-08", 0)
    assert status(school.duty("P2", "talk", D(2025, 11, 5))) == ("overdue", None, "2025-11-01", 1)


def test_back_dated_rules_stay_in_force_under_later_rules_that_do_not_touch_them(school):
    school.staff("T1")
    school.pupil("P1", "learning_difficulty")
    school.pupil("P2", "learning_difficulty")
    school.pair("T1", "P1", D(2026, 2, 1))
    school.rules(D(2026, 3, 1), capacity=2)  # recorded first: from 03-01, capacity 2 (talk untouched)
    school.rules(D(2026, 1, 1), duties={"talk": "7d"})  # recorded second, back-dated: talk 7d from 01-01
    school.contact("P1", "talk", D(2026, 3, 1))
    # on 03-10 both are in force: talk 7d (9 days since 03-01: overdue) and capacity 2
    assert school.duty("P1", "talk", D(2026, 3, 10))["status"] == "overdue"
    mentors = {m["staff"]: m for m in queue(school.model(), D(2026, 3, 10))["mentors"]}
    assert mentors["T1"]["free_places"] == 1


# --- calendar duties -----------------------------------------------------------------------


def test_a_pairing_starting_mid_month_does_not_miss_that_month(school):
    school.staff("T1")
    school.pupil("P1", "left_behind")
    school.pair("T1", "P1", D(2025, 10, 15))
    # October: the pairing did not hold all of it; November ended unmet
    assert status(school.duty("P1", "parent_phone_visit", D(2025, 11, 1))) == ("pending", None, "2025-11-30", 0)
    assert status(school.duty("P1", "parent_phone_visit", D(2025, 11, 30))) == ("pending", None, "2025-11-30", 0)
    assert status(school.duty("P1", "parent_phone_visit", D(2025, 12, 1))) == ("pending", None, "2025-12-31", 1)
    school.contact("P1", "parent_phone_visit", D(2025, 12, 3))
    assert status(school.duty("P1", "parent_phone_visit", D(2025, 12, 5))) == ("met", "2025-12-03", None, 1)
    assert status(school.duty("P1", "parent_phone_visit", D(2026, 1, 2))) == ("pending", "2025-12-03", "2026-01-31", 1)


def test_semester_duty_pairing_from_mid_semester_versus_the_whole_semester(school):
    for i in (1, 2, 3):
        school.staff(f"T{i}")
        school.pupil(f"P{i}", "learning_difficulty")
    school.pair("T1", "P1", D(2025, 10, 15))  # mid-semester (2025-09-01 .. 2026-01-31)
    school.pair("T2", "P2", D(2025, 9, 1))  # the whole semester, no report
    school.pair("T3", "P3", D(2025, 9, 1))  # the whole semester, a report in December
    school.contact("P3", "semester_report", D(2025, 12, 20))
    assert status(school.duty("P3", "semester_report", D(2025, 12, 25))) == ("met", "2025-12-20", None, 0)
    assert status(school.duty("P1", "semester_report", D(2025, 12, 25))) == ("pending", None, "2026-01-31", 0)
    after = D(2026, 2, 1)
    assert status(school.duty("P1", "semester_report", after)) == ("pending", None, "2026-08-31", 0)
    assert status(school.duty("P2", "semester_report", after)) == ("pending", None, "2026-08-31", 1)
    assert status(school.duty("P3", "semester_report", after)) == ("pending", "2025-12-20", "2026-08-31", 0)


def test_birthday_once_per_school_year(school):
    school.staff("T1")
    school.staff("T2")
    school.pupil("P1", "learning_difficulty")
    school.pupil("P2", "learning_difficulty")
    school.pair("T1", "P1", D(2024, 9, 1))
    school.pair("T2", "P2", D(2024, 9, 1))
    school.activity("birthday", ["P2"], D(2025, 5, 20))
    assert status(school.duty("P2", "birthday", D(2025, 5, 25))) == ("met", "2025-05-20", None, 0)
    assert status(school.duty("P1", "birthday", D(2025, 5, 25))) == ("pending", None, "2025-08-31", 0)
    # the school year 2024-09-01 .. 2025-08-31 ended: P1 missed it, P2 did not
    assert status(school.duty("P1", "birthday", D(2025, 9, 10))) == ("pending", None, "2026-08-31", 1)
    assert status(school.duty("P2", "birthday", D(2025, 9, 10))) == ("pending", "2025-05-20", "2026-08-31", 0)


def test_birthday_duty_aims_at_the_childs_own_birthday_in_the_school_year(school):
    """`due` stays the school year's last day (the app showed it, 2027-08-31, for every pupil);
    `aim` is the child's birthday in the current school year (1 September – 31 August):
    - P3 born 2016-03-01: as of 2026-06-20 (year 2025-09-01..2026-08-31) -> 2026-03-01.
    - P10 born 2015-10-15: as of 2026-06-20 -> 2025-10-15; as of 2025-08-20 (year 2024-09-01..
      2025-08-31) -> 2024-10-15.
    - P29 born 2016-02-29: the year 2025-09-01..2026-08-31 has no 29 February -> 2026-02-28; as of
      2027-09-05 (year 2027-09-01..2028-08-31, 2028 a leap year) -> 2028-02-29.
    - met (P3's party on 2026-06-10): `due` is None, `aim` still 2026-03-01."""
    school.staff("T1")
    school.staff("T2")
    school.staff("T3")
    school.pupil("P3", "learning_difficulty")  # born 2016-03-01 (the School helper's default)
    for pid, birth in (("P10", D(2015, 10, 15)), ("P29", D(2016, 2, 29))):
        school.do(lambda s, c, pid=pid, birth=birth: C.add_pupil(
            s, c, pid, name=f"学生{pid}", gender="M", birth=birth, grade=3, class_=2, categories=["other"]), OPENED)
    for sid, pid in (("T1", "P3"), ("T2", "P10"), ("T3", "P29")):
        school.pair(sid, pid, D(2024, 9, 2))
    on = D(2026, 6, 20)
    b = {pid: school.duty(pid, "birthday", on) for pid in ("P3", "P10", "P29")}
    assert [(d["due"], d["aim"]) for d in b.values()] == [
        ("2026-08-31", "2026-03-01"), ("2026-08-31", "2025-10-15"), ("2026-08-31", "2026-02-28")]
    assert school.duty("P10", "birthday", D(2025, 8, 20))["aim"] == "2024-10-15"
    assert school.duty("P29", "birthday", D(2027, 9, 5))["aim"] == "2028-02-29"
    school.activity("birthday", ["P3"], D(2026, 6, 10))
    met = school.duty("P3", "birthday", on)
    assert (met["status"], met["due"], met["aim"]) == ("met", None, "2026-03-01")
    assert "aim" not in school.duty("P3", "talk", on)  # the other duties keep cli.md's keys only


def test_periods_missed_under_earlier_rules_stay_missed(school):
    # domain.md: "the audit judges a date by the rules then in force"
    school.staff("T1")
    school.pupil("P1", "left_behind")
    school.pair("T1", "P1", D(2025, 9, 1))
    school.rules(D(2026, 2, 1), duties={"parent_phone_visit": "semester"})
    # September .. January ended unmet under the monthly rule: 5 missed; the new semester is pending
    assert status(school.duty("P1", "parent_phone_visit", D(2026, 3, 10))) == ("pending", None, "2026-08-31", 5)


def test_an_exit_on_the_last_day_of_a_period_still_owes_that_period(school):
    # P1 transfers on 2026-01-31, the last (school) day of January and of the first semester:
    # cli.md "Calendar rules": a period is owed when the duty applied on every school day of it,
    # and the pairing holds the day it ends (like a pupil graduating on the last school day of
    # the year, who owes that year's birthday), so P1 owes January and the semester (this test
    # said the opposite before issue 10). P3 leaves a day later and owes both too. Same contacts
    # for both: parent_call every 5 days, talk every 10 days, a parent_phone_visit in
    # September .. December but not January, no semester report.
    for i in (1, 3):
        school.staff(f"T{i}")
        school.pupil(f"P{i}", "left_behind")
        school.pair(f"T{i}", f"P{i}", D(2025, 9, 1))
        for day in every(D(2025, 9, 5), D(2026, 1, 30), 5):
            school.contact(f"P{i}", "parent_call", day)
        for day in every(D(2025, 9, 10), D(2026, 1, 30), 10):
            school.contact(f"P{i}", "talk", day)
        for month in (9, 10, 11, 12):
            school.contact(f"P{i}", "parent_phone_visit", D(2025, month, 15))
    school.do(lambda s, c: C.transfer(s, c, "P1", to="县实验小学"), D(2026, 1, 31))
    school.do(lambda s, c: C.transfer(s, c, "P3", to="县实验小学"), D(2026, 2, 1))

    on_30th = school.duties("P1", D(2026, 1, 30))
    assert on_30th["parent_call"]["status"] == on_30th["talk"]["status"] == "ok"
    assert status(on_30th["parent_phone_visit"]) == ("pending", "2025-12-15", "2026-01-31", 0)
    assert status(on_30th["semester_report"]) == ("pending", None, "2026-01-31", 0)
    # after the exit the pairing is no longer shown
    view = school.compliance(D(2026, 2, 10), D(2025, 12, 1), D(2026, 2, 10))
    assert [p["pupil"] for p in view["pairings"]] == []
    rates = {m["staff"]: (m["owed"], m["met"]) for m in view["mentors"]}
    # P1: parent_call and talk owed each day 12-01 .. 01-30 (61 days: a rolling duty is not
    # judged on the day the pairing ends), all met; December's phone visit owed and met;
    # January and the semester owed and missed
    assert rates["T1"] == (2 * 61 + 2 + 1, 2 * 61 + 1)
    # P3: 62 days each, met; December met, January missed, the semester report missed
    assert rates["T3"] == (2 * 62 + 2 + 1, 2 * 62 + 1)


def test_a_collective_birthday_counts_for_each_pupil_in_it(school):
    for i in (1, 2, 3):
        school.staff(f"T{i}")
        school.pupil(f"P{i}", "learning_difficulty")
        school.pair(f"T{i}", f"P{i}", D(2025, 9, 1))
    school.activity("birthday", ["P1", "P2"], D(2025, 11, 11))  # 集体生日, recorded by the admin
    school.activity("talk", ["P1", "P2", "P3"], D(2025, 11, 12))
    day = D(2025, 11, 20)
    assert status(school.duty("P1", "birthday", day)) == ("met", "2025-11-11", None, 0)
    assert status(school.duty("P2", "birthday", day)) == ("met", "2025-11-11", None, 0)
    assert status(school.duty("P3", "birthday", day)) == ("pending", None, "2026-08-31", 0)
    for pupil in ("P1", "P2", "P3"):
        assert status(school.duty(pupil, "talk", day)) == ("ok", "2025-11-12", "2025-11-26", 1)  # overdue 09-16 .. 11-11


def test_parent_duties_only_for_left_behind_pupils(school):
    school.staff("T1")
    school.staff("T2")
    school.pupil("P1", "left_behind", "psychological")
    school.pupil("P2", "learning_difficulty", "economic_hardship")
    school.pair("T1", "P1", D(2025, 9, 1))
    school.pair("T2", "P2", D(2025, 9, 1))
    everything = {"parent_call", "talk", "parent_phone_visit", "semester_report", "birthday"}
    assert set(school.duties("P1", D(2025, 11, 20))) == everything
    assert set(school.duties("P2", D(2025, 11, 20))) == {"talk", "semester_report", "birthday"}
    # parents back home from 2025-12-01: the parent duties no longer apply to P1
    school.do(lambda s, c: C.amend_pupil(s, c, "P1", remove_categories=["left_behind"]), D(2025, 12, 1))
    assert set(school.duties("P1", D(2025, 12, 10))) == {"talk", "semester_report", "birthday"}
    assert set(school.duties("P1", D(2025, 11, 20))) == everything  # as-of before the change
    # P2's parents leave to work away from 2026-03-01
    school.do(lambda s, c: C.amend_pupil(s, c, "P2", add_categories=["left_behind"]), D(2026, 3, 1))
    assert set(school.duties("P2", D(2026, 3, 5))) == everything


def test_a_parent_duty_is_owed_from_the_day_the_pupil_becomes_left_behind(school):
    school.staff("T1")
    school.pupil("P1", "learning_difficulty")
    school.pair("T1", "P1", D(2025, 9, 1))
    for day in every(D(2025, 9, 5), D(2025, 10, 31), 5):
        school.contact("P1", "talk", day)
    school.do(lambda s, c: C.amend_pupil(s, c, "P1", add_categories=["left_behind"]), D(2025, 10, 15))
    view = school.compliance(D(2025, 10, 31), D(2025, 10, 1), D(2025, 10, 31))
    # talk: 31 days owed; parent_call: owed 10-15 .. 10-31, 17 days (whether they were met
    # depends on where its clock starts, which the text leaves open: not asserted)
    assert view["school"]["owed"] == 31 + 17


# --- corrections and retractions -----------------------------------------------------------


def test_a_correction_moves_a_contact_to_its_corrected_date(school):
    school.staff("T1")
    school.pupil("P1", "learning_difficulty")
    school.pair("T1", "P1", D(2025, 10, 25))
    talk = school.contact("P1", "talk", D(2025, 11, 1))
    school.do(lambda s, c: C.correct(s, c, talk, reason="日期记错", to_date=D(2025, 11, 10)), D(2025, 11, 12))
    # it counts on 11-10 only, at every as-of (even before the correction's own date, 11-12)
    assert status(school.duty("P1", "talk", D(2025, 11, 5))) == ("ok", None, "2025-11-08", 0)  # 11 since 10-25
    assert status(school.duty("P1", "talk", D(2025, 11, 8))) == ("due_soon", None, "2025-11-08", 0)  # 14
    assert status(school.duty("P1", "talk", D(2025, 11, 9))) == ("overdue", None, "2025-11-08", 1)  # 15
    assert status(school.duty("P1", "talk", D(2025, 11, 12))) == ("ok", "2025-11-10", "2025-11-24", 1)
    # and earlier: a talk recorded on 11-20 that happened on 11-15
    later = school.contact("P1", "talk", D(2025, 11, 20))
    school.do(lambda s, c: C.correct(s, c, later, reason="日期记错", to_date=D(2025, 11, 15)), D(2025, 11, 21))
    assert status(school.duty("P1", "talk", D(2025, 11, 16))) == ("ok", "2025-11-15", "2025-11-29", 1)


def test_a_correction_changes_the_kind_a_contact_counts_as(school):
    school.staff("T1")
    school.pupil("P1", "left_behind")
    school.pair("T1", "P1", D(2025, 10, 25))
    visit = school.contact("P1", "parent_phone_visit", D(2025, 11, 3))
    assert school.duty("P1", "parent_phone_visit", D(2025, 11, 5))["status"] == "met"
    school.do(lambda s, c: C.correct(s, c, visit, reason="其实是谈心", to_kind="talk"), D(2025, 11, 4))
    duties = school.duties("P1", D(2025, 11, 5))
    assert status(duties["parent_phone_visit"]) == ("pending", None, "2025-11-30", 0)
    assert status(duties["talk"]) == ("ok", "2025-11-03", "2025-11-17", 0)
    # both at once: an activity moved to another day and another kind
    held = school.activity("holiday_visit", ["P1"], D(2025, 11, 6))
    school.do(lambda s, c: C.correct(s, c, held, reason="记错", to_date=D(2025, 11, 7), to_kind="parent_phone_visit"),
              D(2025, 11, 8))
    assert status(school.duty("P1", "parent_phone_visit", D(2025, 11, 6))) == ("pending", None, "2025-11-30", 0)
    assert status(school.duty("P1", "parent_phone_visit", D(2025, 11, 7))) == ("met", "2025-11-07", None, 0)


def test_a_retracted_entry_no_longer_counts(school):
    school.staff("T1")
    school.staff("T2")
    school.pupil("P1", "learning_difficulty")
    school.pupil("P2", "learning_difficulty")
    school.pair("T1", "P1", D(2025, 10, 25))
    school.pair("T2", "P2", D(2025, 10, 25))
    talk = school.contact("P1", "talk", D(2025, 11, 1))
    party = school.activity("birthday", ["P1", "P2"], D(2025, 11, 2))
    school.do(lambda s, c: C.retract(s, c, talk, reason="重复录入"), D(2025, 11, 20))
    school.do(lambda s, c: C.retract(s, c, party, reason="活动取消"), D(2025, 11, 20))
    # at every as-of, even before the retractions' own date
    assert status(school.duty("P1", "talk", D(2025, 11, 5))) == ("ok", None, "2025-11-08", 0)
    for pupil in ("P1", "P2"):
        assert status(school.duty(pupil, "birthday", D(2025, 11, 5))) == ("pending", None, "2026-08-31", 0)


# --- rates -----------------------------------------------------------------------------------


def test_rates_over_a_range_per_mentor_class_and_school(school):
    # Reading: a rate's owed duty-time is, for a rolling duty, each school day of an active
    # pairing in the range (met unless overdue that day) and, for a calendar duty, each period
    # ending in the range that the pairing held whole (met if done). Here only `talk` is owed in
    # October (no semester or school year ends in it; the pupils are not left-behind).
    school.staff("T1")
    school.staff("T2")
    school.staff("T3")
    school.pupil("P1", "learning_difficulty", grade=3, class_=2)
    school.pupil("P2", "learning_difficulty", grade=3, class_=2)
    school.pupil("P3", "learning_difficulty", grade=4, class_=1)
    for i in (1, 2, 3):
        school.pair(f"T{i}", f"P{i}", D(2025, 9, 1))
    for day in every(D(2025, 9, 10), D(2025, 11, 9), 10):  # never more than 9 days apart
        school.contact("P1", "talk", day)
    school.contact("P2", "talk", D(2025, 9, 15))  # overdue from 09-30 (15 days): all October
    school.contact("P3", "talk", D(2025, 9, 25))  # overdue 10-10 .. 10-19 (10 days)
    school.contact("P3", "talk", D(2025, 10, 20))
    view = school.compliance(D(2025, 11, 15), D(2025, 10, 1), D(2025, 10, 31))
    assert (view["from"], view["to"]) == ("2025-10-01", "2025-10-31")
    mentors = {m["staff"]: (m["rate"], m["owed"], m["met"]) for m in view["mentors"]}
    assert mentors == {"T1": (1.0, 31, 31), "T2": (0.0, 31, 0), "T3": (round(21 / 31, 4), 31, 21)}
    classes = {(c["grade"], c["class"]): (c["rate"], c["owed"], c["met"]) for c in view["classes"]}
    assert classes == {(3, 2): (0.5, 62, 31), (4, 1): (round(21 / 31, 4), 31, 21)}
    assert view["school"] == {"rate": round(52 / 93, 4), "owed": 93, "met": 52}
    # the default range is the current semester, up to the day asked
    default = school.compliance(D(2025, 11, 15))
    assert (default["from"], default["to"]) == ("2025-09-01", "2025-11-15")


# --- the reassignment queue ------------------------------------------------------------------


def test_queue_reasons_and_waiting_since(school):
    day0 = D(2025, 9, 1)
    for sid in ("Tnew", "Tgrad", "Ttr", "Tdo", "Tun", "Tleft"):
        school.staff(sid, day=day0)
    for pid in ("Pg", "Pt", "Pd", "Pu", "Pm"):
        school.pupil(pid, "left_behind", day=day0)
    school.pupil("Pnew", "other", day=D(2026, 3, 1))
    school.pupil("Plate", day=D(2025, 9, 1))  # in no category until 2026-02-01
    school.pupil("Pnone", day=D(2025, 9, 1))  # never in a category: never waits
    school.do(lambda s, c: C.amend_pupil(s, c, "Plate", add_categories=["left_behind"]), D(2026, 2, 1))
    for sid, pid in (("Tgrad", "Pg"), ("Ttr", "Pt"), ("Tdo", "Pd"), ("Tun", "Pu"), ("Tleft", "Pm")):
        school.pair(sid, pid, day0)
    school.pair("admin", "Pnone", day0)  # the admin mentors too; keep them busy
    school.do(lambda s, c: C.graduate(s, c, "Pg"), D(2026, 6, 20))
    school.do(lambda s, c: C.transfer(s, c, "Pt", to="县实验小学"), D(2026, 6, 10))
    school.do(lambda s, c: C.drop_out(s, c, "Pd", reason="随父母外出"), D(2026, 6, 5))
    school.do(lambda s, c: C.unpair(s, c, "Pu", reason="家长要求换老师"), D(2026, 6, 1))
    school.do(lambda s, c: C.staff_leave(s, c, "Tleft"), D(2026, 5, 20))

    q = queue(school.model(), D(2026, 6, 25))
    mentors = {m["staff"]: (m["free_places"], m["waiting_since"], m["reason"]) for m in q["mentors"]}
    assert mentors == {
        "Tnew": (1, "2025-09-01", "new"),
        "Tgrad": (1, "2026-06-20", "graduated"),
        "Ttr": (1, "2026-06-10", "transferred"),
        "Tdo": (1, "2026-06-05", "dropped_out"),
        "Tun": (1, "2026-06-01", "unpaired"),
    }
    pupils = {p["pupil"]: (p["waiting_since"], p["reason"]) for p in q["pupils"]}
    assert pupils == {
        "Pu": ("2026-06-01", "unpaired"),
        "Pm": ("2026-05-20", "mentor_left"),
        "Pnew": ("2026-03-01", "new"),
        "Plate": ("2026-02-01", "new"),
    }
    for p in q["pupils"]:
        assert {"pupil", "name", "categories", "waiting_since", "reason"} <= p.keys()
    assert all({"staff", "name", "free_places", "waiting_since", "reason"} <= m.keys() for m in q["mentors"])
    # never the mentor the pupil just lost
    assert ("Tun", "Pu") not in {(x["staff"], x["pupil"]) for x in q["suggestions"]}
    # a transferred pupil who comes back waits from the return
    school.do(lambda s, c: C.return_pupil(s, c, "Pt"), D(2026, 6, 22))
    back = {p["pupil"]: p for p in queue(school.model(), D(2026, 6, 25))["pupils"]}
    assert back["Pt"]["waiting_since"] == "2026-06-22"
    # before the exits: everyone still paired, only Tnew and the late pupil wait
    before = queue(school.model(), D(2026, 3, 1))
    assert [m["staff"] for m in before["mentors"]] == ["Tnew"]
    assert {p["pupil"] for p in before["pupils"]} == {"Plate", "Pnew"}


def test_a_second_category_does_not_restart_the_wait(school):
    school.pupil("P1", "left_behind", day=D(2025, 9, 1))
    school.do(lambda s, c: C.amend_pupil(s, c, "P1", add_categories=["psychological"]), D(2025, 10, 1))
    [row] = queue(school.model(), D(2025, 11, 1))["pupils"]
    assert (row["pupil"], row["waiting_since"], row["reason"]) == ("P1", "2025-09-01", "new")


def test_queue_orders_pupils_by_need_then_by_waiting_time(school):
    # registered in the reverse order of need, so waiting time alone would give the wrong order
    registered = [
        ("Aother", ["other"]),
        ("Apsy", ["psychological"]),
        ("Alearn", ["learning_difficulty"]),
        ("Apoor", ["economic_hardship"]),
        ("Alb", ["left_behind"]),
        ("Albpoor", ["left_behind", "economic_hardship"]),
        ("Adis", ["disabled"]),
        ("Adiff", ["in_difficulty"]),
        ("Aorph1", ["orphan"]),
        ("Aorph2", ["orphan"]),
        ("Amix", ["psychological", "orphan"]),  # its best need counts: orphan
    ]
    for i, (pid, cats) in enumerate(registered):
        school.pupil(pid, *cats, day=D(2025, 9, 1) + dt.timedelta(days=i))
    order = [p["pupil"] for p in queue(school.model(), D(2026, 6, 25))["pupils"]]
    assert order == ["Aorph1", "Aorph2", "Amix", "Adiff", "Adis", "Albpoor", "Alb", "Apoor", "Alearn", "Apsy", "Aother"]


def test_queue_suggests_a_mentor_of_the_class_then_of_the_grade(school):
    """Capacity 1 (the default). X (grade 3 class 2): Mclass teaches the class, the only one who
    does. Y (3-4): Mclass is now full; Mgrade teaches grade 3, the only free one who does. Z (1-1):
    no one teaches grade 1 and Mfar is the only mentor left with a place."""
    school.pupil("D0", day=D(2025, 9, 1))
    school.pair("admin", "D0", D(2025, 9, 1))  # keep the admin's place taken
    school.staff("Mfar", grade=6, class_=1, day=D(2025, 9, 1))  # waited longest
    school.staff("Mgrade", grade=3, class_=5, day=D(2025, 10, 1))
    school.staff("Mclass", grade=3, class_=2, day=D(2025, 11, 1))
    school.pupil("X", "orphan", grade=3, class_=2, day=D(2025, 12, 1))
    school.pupil("Y", "left_behind", grade=3, class_=4, day=D(2025, 12, 1))
    school.pupil("Z", "other", grade=1, class_=1, day=D(2025, 12, 1))
    q = queue(school.model(), D(2026, 1, 10))
    assert q["suggestions"] == [
        {"staff": "Mclass", "pupil": "X", "why": ["same_class"]},
        {"staff": "Mgrade", "pupil": "Y", "why": ["same_grade"]},
        {"staff": "Mfar", "pupil": "Z", "why": ["other_grade", "only_choice"]},
    ]


def test_queue_suggests_the_mentor_with_the_fewest_mentees(school):
    """Capacity 3 from 2025-09-01. Mbusy (grade 3, joined 09-01, waited longest) already mentors D0;
    Midle (grade 3, joined 10-01) mentors no one. X (3-2, neither teaches the class): Midle, 3 free
    places against 2, for the fewest mentees. Y (3-4): now both have 2 free places; Mbusy waited
    longer (since 09-01 against 10-01): Mbusy, for the longest wait."""
    school.rules(D(2025, 9, 1), capacity=3)
    school.pupil("D0", day=D(2025, 9, 1))
    school.pair("admin", "D0", D(2025, 9, 1))
    school.staff("Mbusy", grade=3, class_=5, day=D(2025, 9, 1))
    school.staff("Midle", grade=3, class_=6, day=D(2025, 10, 1))
    school.pupil("D1", day=D(2025, 9, 1))
    school.pair("Mbusy", "D1", D(2025, 9, 2))
    school.pupil("X", "orphan", grade=3, class_=2, day=D(2025, 12, 1))
    school.pupil("Y", "left_behind", grade=3, class_=4, day=D(2025, 12, 1))
    q = queue(school.model(), D(2026, 1, 10))
    mine = [s for s in q["suggestions"] if s["staff"] in ("Mbusy", "Midle")]
    assert mine == [
        {"staff": "Midle", "pupil": "X", "why": ["same_grade", "fewest_mentees"]},
        {"staff": "Mbusy", "pupil": "Y", "why": ["same_grade", "longest_waiting"]},
    ]


def test_queue_suggestion_says_why_the_longest_waiting_mentor(school):
    """Two free mentors of the pupil's grade, neither of its class, both with no mentee: the one
    who waited longer (joined 2025-09-01, against 2025-10-01) is suggested, and says so."""
    school.pupil("D0", day=D(2025, 9, 1))
    school.pair("admin", "D0", D(2025, 9, 1))
    school.staff("Mearly", grade=3, class_=5, day=D(2025, 9, 1))
    school.staff("Mlate", grade=3, class_=6, day=D(2025, 10, 1))
    school.pupil("X", "orphan", grade=3, class_=2, day=D(2025, 12, 1))
    q = queue(school.model(), D(2026, 1, 10))
    assert q["suggestions"] == [{"staff": "Mearly", "pupil": "X", "why": ["same_grade", "longest_waiting"]}]


def test_queue_never_suggests_the_mentor_the_pupil_just_lost(school):
    school.pupil("D0", day=D(2025, 9, 1))
    school.pair("admin", "D0", D(2025, 9, 1))
    school.staff("Mclass", grade=3, class_=2, day=D(2025, 9, 1))
    school.staff("Mother", grade=5, class_=1, day=D(2025, 10, 1))
    school.pupil("W", "orphan", grade=3, class_=2, day=D(2025, 9, 1))
    school.pair("Mclass", "W", D(2025, 9, 2))
    school.do(lambda s, c: C.unpair(s, c, "W", reason="性格不合"), D(2025, 12, 1))
    q = queue(school.model(), D(2026, 1, 10))
    assert {m["staff"] for m in q["mentors"]} == {"Mclass", "Mother"}
    # Mother is the only other mentor with a place; Mclass, who has one, was passed over
    assert q["suggestions"] == [{"staff": "Mother", "pupil": "W", "why": ["other_grade", "only_choice", "not_last_mentor"]}]


# --- statistics and aid --------------------------------------------------------------------


def test_stats_count_enrolled_pupils_with_and_without_a_mentor_and_sum_aid(school):
    school.staff("T1")
    school.pupil("P1", "left_behind", grade=3)
    school.pupil("P2", "left_behind", "economic_hardship", grade=3)
    school.pupil("P3", "left_behind", grade=4)
    school.pupil("P4", "orphan", grade=5)
    school.pair("T1", "P1", D(2025, 9, 1))
    school.grant("P3", "tuition_waiver", D(2026, 3, 1), amount="1200")  # a waiver needs no basis
    school.grant("P2", "living_subsidy", D(2026, 3, 10), amount="500")
    revoked = school.grant("P1", "grant", D(2026, 3, 12), amount="300.50", basis="dibao")
    school.grant("P2", "scholarship", D(2026, 3, 15), amount="200", override="家庭特别困难")
    school.grant("P4", "material", D(2026, 4, 10), items="冬衣一套")
    retracted = school.grant("P4", "donation", D(2026, 4, 11), amount="50", fund="扶助基金")
    school.do(lambda s, c: C.revoke_aid(s, c, revoked, reason="核实不符"), D(2026, 5, 1))
    school.do(lambda s, c: C.retract(s, c, retracted, reason="录错学生"), D(2026, 5, 2))
    school.do(lambda s, c: C.transfer(s, c, "P4", to="县实验小学"), D(2026, 5, 10))
    school.do(lambda s, c: C.return_pupil(s, c, "P4"), D(2026, 6, 1))
    school.do(lambda s, c: C.graduate(s, c, "P3"), D(2026, 6, 20))

    with pytest.raises(Refused) as refused:  # similar aid twice in a semester, without an override
        school.grant("P2", "grant", D(2026, 3, 20), amount="100")
    assert refused.value.field == "--kind"

    now = stats(school.model(), D(2026, 6, 25))
    cats = now["by_category"]
    assert cats["left_behind"] == {"total": 2, "with_mentor": 1}  # P3 graduated
    assert cats["economic_hardship"] == {"total": 1, "with_mentor": 0}
    assert cats["orphan"] == {"total": 1, "with_mentor": 0}  # P4 returned: enrolled again
    assert all(cats[c] == {"total": 0, "with_mentor": 0} for c in cats
               if c not in ("left_behind", "economic_hardship", "orphan"))
    # by_grade rows also hold dropouts, incomplete and by_category (issue 10, item 7:
    # tests/test_stats_table.py); here the two counts this test is about
    def grades(d: dict) -> dict:
        return {g: {"total": r["total"], "with_mentor": r["with_mentor"]} for g, r in d["by_grade"].items()}

    assert grades(now) == {"3": {"total": 2, "with_mentor": 1}, "5": {"total": 1, "with_mentor": 0}}
    # every grant effective by the date, less revocations (and retractions): also P3's, who left
    assert {k: v for k, v in now["aid"].items() if v != "0.00"} == {
        "tuition_waiver": "1200.00", "living_subsidy": "500.00", "scholarship": "200.00"}
    # as of 2026-05-15: P4 away, P3 still enrolled, the revocation effective
    mid = stats(school.model(), D(2026, 5, 15))
    assert mid["by_category"]["left_behind"] == {"total": 3, "with_mentor": 1}
    assert mid["by_category"]["orphan"] == {"total": 0, "with_mentor": 0}
    assert grades(mid) == {"3": {"total": 2, "with_mentor": 1}, "4": {"total": 1, "with_mentor": 0}}
    # as of 2026-04-20: the grant not yet revoked
    early = stats(school.model(), D(2026, 4, 20))
    assert early["aid"]["grant"] == "300.50"
    assert stats(school.model(), D(2026, 3, 11))["aid"] == {"tuition_waiver": "1200.00", "living_subsidy": "500.00"}

    ledger = {g["id"]: g for g in aid_list(school.model(), D(2026, 6, 25))["grants"]}
    assert retracted not in ledger
    assert ledger[revoked]["revoked"] is True
    for g in ledger.values():
        assert {"id", "pupil", "kind", "amount", "items", "date", "fund", "revoked"} <= g.keys()
    assert aid_list(school.model(), D(2026, 4, 20))["grants"][2]["revoked"] is False
    # the archive: a return shows `enrolled`; a graduate `graduated`, without a mentor
    rows = {r["pupil"]: r for r in archive(school.model(), D(2026, 6, 25))["pupils"]}
    assert (rows["P4"]["status"], rows["P3"]["status"], rows["P1"]["mentor"]) == ("enrolled", "graduated", "T1")
    assert rows["P4"]["categories"] == ["orphan"]
    assert archive(school.model(), D(2026, 5, 15))["pupils"][3]["status"] == "transferred"
    # a retracted revocation: the grant counts again, at every as-of
    revocation = next(e.id for _, e in school.store.read() if e.type == "AidRevoked")
    school.do(lambda s, c: C.retract(s, c, revocation, reason="撤销有误"), D(2026, 6, 26))
    assert stats(school.model(), D(2026, 6, 1))["aid"]["grant"] == "300.50"


def test_a_higher_capacity_gives_mentors_free_places_from_its_date(school):
    school.staff("T1")
    school.pupil("P1", "left_behind")
    school.pupil("P2", "orphan")
    school.pair("T1", "P1", D(2025, 9, 1))
    school.pupil("D0")
    school.pair("admin", "D0", D(2025, 9, 1))
    school.rules(D(2026, 3, 1), capacity=2)
    before = queue(school.model(), D(2026, 2, 28))
    assert before["mentors"] == [] and before["suggestions"] == []
    after = queue(school.model(), D(2026, 3, 1))
    assert {m["staff"]: m["free_places"] for m in after["mentors"]} == {"T1": 1, "admin": 1}
    assert {s["pupil"] for s in after["suggestions"]} == {"P2"}
    school.pair("T1", "P2", D(2026, 3, 2))
    assert staff_list(school.model(), D(2026, 3, 2))["staff"][1]["mentees"] == ["P1", "P2"]


def test_the_aid_notice_of_a_term_by_its_name(school):
    school.term("2025秋", D(2025, 9, 1), D(2026, 1, 16))
    school.term("2026春", D(2026, 2, 20), D(2026, 7, 10))
    school.pupil("P1", "economic_hardship", name="王小明")
    school.grant("P1", "living_subsidy", D(2025, 10, 10), amount="400")
    school.grant("P1", "living_subsidy", D(2026, 3, 10), amount="500")
    model = school.model()
    assert [r["amount"] for r in aid_notice(model, D(2026, 6, 25), "2025秋")["notice"]] == ["400.00"]
    assert [r["amount"] for r in aid_notice(model, D(2026, 6, 25), "2026春")["notice"]] == ["500.00"]
    assert aid_notice(model, D(2026, 6, 25), "2025-2026-2") is None  # default names do not apply with terms


def test_the_aid_notice_shows_name_class_kind_and_amount_only(school):
    school.pupil("P1", "economic_hardship", grade=3, class_=2, name="王小明", phone="13800001111")
    school.pupil("P2", "orphan", grade=5, class_=1, name="李小红", phone="13900002222")
    school.grant("P1", "living_subsidy", D(2025, 10, 10), amount="400")  # 2025-2026-1
    school.grant("P1", "living_subsidy", D(2026, 3, 10), amount="500", fund="扶助基金")  # 2025-2026-2
    school.grant("P2", "material", D(2026, 3, 11), items="冬衣一套")
    revoked = school.grant("P2", "emergency", D(2026, 3, 12), amount="1000")
    school.do(lambda s, c: C.revoke_aid(s, c, revoked, reason="重复申请"), D(2026, 3, 20))
    notice = aid_notice(school.model(), D(2026, 6, 25), "2025-2026-2")
    rows = notice["notice"]
    # (issue 14) and the days each stood in notice: the subsidy granted on Tuesday 03-10 was
    # decided Monday 03-02 (helpers.latest_decision), in notice 03-03 … 03-09; the clothes were
    # granted directly, without a notice (null)
    assert all(set(r) == {"name", "class", "kind", "amount", "start", "end"} for r in rows)
    assert [(r["start"], r["end"]) for r in rows] == [("2026-03-03", "2026-03-09"), (None, None)]
    assert [(r["name"], r["kind"], r["amount"]) for r in rows] == [
        ("王小明", "living_subsidy", "500.00"),
        ("李小红", "material", None),  # in-kind: no text in a public notice (issue 11)
    ]
    # the class shows grade and class (the format is not in cli.md: "3-2" or similar)
    assert [r["class"].replace("年级", "-").replace("班", "") for r in rows] == ["3-2", "5-1"]
    text = json.dumps(notice, ensure_ascii=False)
    for secret in ("P1", "P2", "13800001111", "13900002222", revoked, "扶助基金", "冬衣一套"):
        assert secret not in text
    first = aid_notice(school.model(), D(2026, 6, 25), "2025-2026-1")
    assert [(r["name"], r["amount"]) for r in first["notice"]] == [("王小明", "400.00")]
    assert aid_notice(school.model(), D(2026, 6, 25), "2031-2032-1") is None


# --- the audit flags -------------------------------------------------------------------------


def _flags(school: School) -> dict[str, list[str]]:
    model = school.model()
    return signals(list(school.store.read()), lambda day: model.rules_on(day).late_days, ZoneInfo(model.timezone))


def test_late_flag_more_than_late_days_after_the_date(school):
    school.pupil("P1", "left_behind")
    school.clock.at_local(D(2026, 6, 8))  # 7 days after: not late
    on_time = school.contact("P1", "talk", D(2026, 6, 1))
    # 2026-06-08 17:00 UTC is already 06-09 01:00 at the school: 8 days, late
    school.clock.now = dt.datetime(2026, 6, 8, 17, 0, tzinfo=UTC)
    late_by_zone = school.contact("P1", "talk", D(2026, 6, 1))
    school.clock.at_local(D(2026, 6, 9))  # 8 days after: late
    late = school.contact("P1", "talk", D(2026, 6, 1))
    # from 2026-06-10 entries are late after 3 days
    school.clock.at_local(D(2026, 6, 10))
    school.rules(D(2026, 6, 10), late_days=3)
    school.clock.at_local(D(2026, 6, 13))
    three = school.contact("P1", "talk", D(2026, 6, 10))
    school.clock.at_local(D(2026, 6, 14))
    four = school.contact("P1", "talk", D(2026, 6, 10))
    flags = _flags(school)
    assert "late" not in flags.get(on_time, [])
    assert "late" in flags.get(late, [])
    assert "late" in flags.get(late_by_zone, [])
    assert "late" not in flags.get(three, [])
    assert "late" in flags.get(four, [])


def test_backfill_flag_for_a_burst_of_late_entries_before_an_inspection(school):
    for sid in ("T1", "T2", "T3", "T4"):
        school.staff(sid)
    for pid in ("P1", "P2", "P3", "P4"):
        school.pupil(pid, "left_behind")
    for n in "1234":  # each talk is by the pupil's mentor (events/permissions.py: who may record a contact)
        school.pair(f"T{n}", f"P{n}", D(2026, 4, 1))
    school.clock.at_local(D(2026, 6, 1))  # T3's late entries, 19 days before its inspection
    t3 = [school.contact("P3", "talk", D(2026, 5, d), actor="T3") for d in (1, 2, 3)]
    school.clock.at_local(D(2026, 6, 18))  # two days before the inspections
    t1 = [school.contact("P1", "talk", D(2026, 5, d), actor="T1") for d in (1, 2, 3)]
    t1_on_time = school.contact("P1", "talk", D(2026, 6, 17), actor="T1")
    t2 = [school.contact("P2", "talk", D(2026, 5, d), actor="T2") for d in (1, 2)]
    t4 = [school.contact("P4", "talk", D(2026, 5, d), actor="T4") for d in (1, 2, 3)]  # never inspected
    school.clock.at_local(D(2026, 6, 20))
    for sid in ("T1", "T2", "T3"):
        school.do(lambda s, c, sid=sid: C.inspect_handbook(s, c, sid, result="ok"), D(2026, 6, 20))
    flags = _flags(school)
    for eid in t1:
        assert sorted(flags.get(eid, [])) == ["backfill", "late"]
    assert flags.get(t1_on_time, []) == []
    for eid in t2 + t3 + t4:  # fewer than 3, too long before, or no inspection: late only
        assert flags.get(eid, []) == ["late"]


def test_an_entry_in_detail_names_what_corrected_or_retracted_it(school):
    """A talk recorded, corrected (kind to home visit), then retracted: the talk's detail lists the
    correction and the retraction, in log order, and corrects nothing; the correction's detail
    names the talk as what it corrects and lists nothing after it; an unknown id gives None."""
    from projections.audit import audit_row, entry_detail, trail

    school.pupil("P1", "left_behind")
    talk = school.contact("P1", "talk", D(2026, 6, 1))
    fix = school.do(lambda s, c: C.correct(s, c, talk, reason="类型选错", to_kind="home_visit"), D(2026, 6, 2))[0].id
    gone = school.do(lambda s, c: C.retract(s, c, talk, reason="记错了学生"), D(2026, 6, 3))[0].id
    model = school.model()
    rows = [
        audit_row(seq, e)
        for seq, e, _ in trail(school.store.read(), school=SCHOOL, late_days_on=lambda d: 7, zone=SHANGHAI)
    ]
    detail = entry_detail(rows, talk)
    assert detail["entry"]["id"] == talk and detail["corrects"] is None
    assert [r["id"] for r in detail["followed_by"]] == [fix, gone]
    fixed = entry_detail(rows, fix)
    assert fixed["corrects"]["id"] == talk and fixed["followed_by"] == []
    assert entry_detail(rows, "no-such-id") is None
    assert model.entries[talk].retracted


# --- as-of: what an entry effective later may not show ---------------------------------------


def test_staff_list_as_of_does_not_show_a_later_leaving_date(school):
    school.staff("T1")
    school.do(lambda s, c: C.staff_leave(s, c, "T1"), D(2026, 3, 1))
    rows = {r["staff"]: r for r in staff_list(school.model(), D(2026, 2, 1))["staff"]}
    assert rows["T1"]["active"] is True
    assert rows["T1"].get("left") is None
    after = {r["staff"]: r for r in staff_list(school.model(), D(2026, 3, 1))["staff"]}
    assert after["T1"]["active"] is False


def test_term_added_after_as_of_date_is_not_known_then(school):
    # Reading (literal cli.md, "--as-of DATE: entries effective after it are ignored"): `terms
    # add` is an entry like any other, effective from its --date; as of an earlier date the school
    # had no such term, so (no terms at all) every day is a school day. The other reading (a term
    # describes its own dates, whenever it was entered) was defensible; the lead chose this one.
    school.staff("T1")
    school.pupil("P1", "learning_difficulty")
    school.pair("T1", "P1", D(2026, 1, 5))
    school.contact("P1", "talk", D(2026, 1, 10))
    school.term("2025秋", D(2025, 9, 1), D(2026, 1, 16), day=D(2026, 3, 1))
    school.term("2026春", D(2026, 2, 20), D(2026, 7, 10), day=D(2026, 3, 1))
    # as of 2026-02-10 no term was in the records yet: 31 days since 01-10, overdue since 01-25
    assert status(school.duty("P1", "talk", D(2026, 2, 10))) == ("overdue", "2026-01-10", "2026-01-24", 1)
    # as of 2026-03-05 the terms are known: the holiday 01-17 .. 02-19 did not count
    assert school.duty("P1", "talk", D(2026, 3, 5))["due"] == "2026-02-27"


def test_profile_texts_an_amendment_changed_are_in_the_pupils_file(tmp_path):
    """Registered on 2025-09-01 with family "父母在外打工"; amended on 2025-10-01 to family
    "父母离异" and mental "爱哭" (an amendment holds the texts beside the other fields it
    changes). The file on 2025-09-15 has the first text; on 2025-10-02 both new ones, under
    `profile`, where the registration's are: a leader's archive row shows them."""
    from helpers import OPENED, ScriptedSchool
    from projections.views import archive
    from projections.visibility import viewer_of

    with Store(tmp_path / "s.sqlite", create=True) as store:
        school = ScriptedSchool(store)
        school.do(lambda s, c: C.add_pupil(s, c, "P1", name="小明", gender="M", birth=dt.date(2016, 3, 1), grade=3,
                                           class_=2, profile={"family": "父母在外打工"}), OPENED)
        school.do(lambda s, c: C.amend_pupil(s, c, "P1", changes={"family": "父母离异", "mental": "爱哭"}),
                  dt.date(2025, 10, 1))
        model = saved.load(store, "s1")
        leader = viewer_of(model, "admin")

        def profile(day):
            return next(r for r in archive(model, day, leader)["pupils"] if r["pupil"] == "P1")["profile"]

        assert profile(dt.date(2025, 9, 15)) == {"family": "父母在外打工"}
        assert profile(dt.date(2025, 10, 2)) == {"family": "父母离异", "mental": "爱哭"}
