"""The calendar rules made exact (issue 10): one definition of the semester of a day, used by
the write side and the views. Each case is worked out by hand in its docstring."""

from __future__ import annotations

import datetime as dt

import pytest

from events import commands as C
from events.calendar import Term, semester
from events.errors import Refused
from events.service import Service
from events.store import Store
from helpers import ctx, setup_school
from events import saved
from projections.views import aid_list

D = dt.date
AUTUMN = Term("2025秋", D(2025, 9, 1), D(2026, 1, 15))
SPRING = Term("2026春", D(2026, 2, 20), D(2026, 7, 10))


def test_the_semester_of_a_day():
    """With the autumn term 09-01..01-15 and the spring term 02-20..07-10:
    - 2026-01-10 (in the autumn term) and 2026-01-20 (the holiday after it) are both 2025秋,
      which runs 2025-09-01 to 2026-02-19 (the day before spring starts);
    - 2026-02-25 is 2026春; after its end, 2026-08-01 still belongs to 2026春 (no later term),
      which then runs to that day;
    - 2025-08-20, before the first term, is the default semester 2024-2025-2 (02-01..08-31)."""
    terms = (SPRING, AUTUMN)  # any order
    assert semester(D(2026, 1, 10), terms) == ("2025秋", D(2025, 9, 1), D(2026, 2, 19))
    assert semester(D(2026, 1, 20), terms) == ("2025秋", D(2025, 9, 1), D(2026, 2, 19))
    assert semester(D(2026, 2, 25), terms).name == "2026春"
    assert semester(D(2026, 8, 1), terms) == ("2026春", D(2026, 2, 20), D(2026, 8, 1))
    assert semester(D(2025, 8, 20), terms) == ("2024-2025-2", D(2025, 2, 1), D(2025, 8, 31))


def test_similar_aid_in_the_holiday_after_a_term_is_the_same_semester(tmp_path):
    """Three living subsidies for one pupil decided around the autumn term's end (01-15):
    the one decided 01-10 is approved; 01-20 is in the holiday after the term, so the same
    semester 2025秋: refused (before, the write side used the term's own span and granted it,
    while the views counted it in 2025秋); 02-25 is in 2026春: approved. (Issue 14: similar aid is
    judged at the decision.) Each approval is granted once its notice is over: 01-10 (Saturday)
    → notice Mon 01-12 … Fri 01-16, granted the day after, 01-17; 02-25 (Wednesday) → notice
    02-26 … 03-04, granted 03-05. The ledger then names the semesters 2025秋 and 2026春."""
    from events.aid_rules import grantable_from

    with Store(tmp_path / "s.sqlite", create=True) as store:
        service = Service(store)
        setup_school(service, pupils=["p1"], categories=("economic_hardship",))
        for term in (AUTUMN, SPRING):
            service.execute(lambda s, t=term: C.add_term(s, ctx(D(2025, 9, 1)), name=t.name, start=t.start, end=t.end))

        def decide(day: dt.date) -> str:
            app = service.execute(lambda s: C.apply_aid(s, ctx(day), "p1", kind="living_subsidy", amount="300"))[0].id
            service.execute(lambda s: C.survey_aid(s, ctx(day), app, result="confirmed", method="home_visit"))
            service.execute(lambda s: C.decide_aid(s, ctx(day), app, approve=True))
            return app

        first = decide(D(2026, 1, 10))
        service.execute(lambda s: C.grant_aid(s, ctx(grantable_from(D(2026, 1, 10))), first))
        with pytest.raises(Refused) as refused:
            decide(D(2026, 1, 20))
        assert (refused.value.field, refused.value.code) == ("--kind", "similar_aid_this_semester")
        assert refused.value.params["semester"] == "2025秋"
        second = decide(D(2026, 2, 25))
        service.execute(lambda s: C.grant_aid(s, ctx(grantable_from(D(2026, 2, 25))), second))
        model = saved.load(store, "s1")
        ledger = aid_list(model, D(2026, 6, 30))["grants"]
    assert [g["date"] for g in ledger] == ["2026-01-17", "2026-03-05"]
    assert [g["semester"] for g in ledger] == ["2025秋", "2026春"]


def test_the_school_days_of_a_period(tmp_path):
    """With the autumn term 09-01..01-15 and the spring term 02-20..07-10 (compliance's calendar,
    which decides which periods are owed):
    - August 2026 has no school day (None): never owed;
    - February 2026's school days run 02-20..02-28 (the holiday before them does not count);
    - January 2026's run 01-01..01-15;
    - the school year 2025-09-01..2026-08-31's first is 2025-09-01 and last 2026-07-10."""
    from projections.compliance import Calendar
    from events.calendar import Period, school_year

    with Store(tmp_path / "s.sqlite", create=True) as store:
        service = Service(store)
        setup_school(service)
        for term in (AUTUMN, SPRING):
            service.execute(lambda s, t=term: C.add_term(s, ctx(D(2025, 9, 1)), name=t.name, start=t.start, end=t.end))
        model = saved.load(store, "s1")
    cal = Calendar(model, D(2025, 8, 31), D(2026, 9, 30), D(2026, 9, 30))

    def span(first: dt.date, last: dt.date):
        days = cal.school_span(Period("", first, last))
        return None if days is None else tuple(cal.first + dt.timedelta(days=i) for i in days)

    assert span(D(2026, 8, 1), D(2026, 8, 31)) is None
    assert span(D(2026, 2, 1), D(2026, 2, 28)) == (D(2026, 2, 20), D(2026, 2, 28))
    assert span(D(2026, 1, 1), D(2026, 1, 31)) == (D(2026, 1, 1), D(2026, 1, 15))
    year = school_year(D(2026, 3, 1))
    assert span(year.start, year.end) == (D(2025, 9, 1), D(2026, 7, 10))
