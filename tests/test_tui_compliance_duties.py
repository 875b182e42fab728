"""The compliance tab names the duties a school switched on (issue 10, item 6): Textual's Pilot
on a small real store, in Chinese and in English."""

from __future__ import annotations

import datetime as dt

import pytest

import tui_support as S
from events import commands as C
from events.service import Service
from events.store import Store

D = dt.date


def small_school(path, *, more: dict[str, str]) -> None:
    """s1 opened 2025-09-01 by admin; T1 mentors P1 (learning difficulty) from that day; the
    cadences `more` from 2025-11-01 (none: the five duties only)."""
    today = D(2026, 6, 30)
    with Store(path, create=True) as store:
        service = Service(store)

        def do(build, day):
            context = C.Context(school="s1", actor="admin", today=today, date=day)
            service.execute(lambda s: build(s, context))

        opened = D(2025, 9, 1)
        do(lambda s, c: C.init(s, c, name="石砚小学", admin_name="校长"), opened)
        do(lambda s, c: C.add_staff(s, c, "T1", name="王老师"), opened)
        do(lambda s, c: C.add_pupil(s, c, "P1", name="小明", gender="M", birth=D(2016, 3, 1), grade=3, class_=2,
                                    categories=["learning_difficulty"]), opened)
        do(lambda s, c: C.pair(s, c, "T1", "P1"), opened)
        if more:
            do(lambda s, c: C.set_rules(s, c, duties=more), D(2025, 11, 1))


async def headings(path, lang: str) -> list[str]:
    from textual.widgets import DataTable

    app = S.make_app(path, "admin", lang)
    async with app.run_test(size=(140, 30)) as pilot:
        # the admin mentors no one: Home's own table stays empty (S.started waits for it)
        await S.wait_for(pilot, lambda: app.seen_head >= 0 and not S._busy(app), 15, "the first load")
        await S.send_keys(pilot, "4")
        table = app.query_one("#compliance-table", DataTable)
        await S.wait_for(pilot, lambda: table.row_count > 0, 10, "the compliance table")
        await S.settle(pilot)
        return [str(c.label) for c in table.columns.values()]


@pytest.mark.parametrize(
    "lang, five, added",
    [
        ("zh", ["与父母通话", "谈心", "电话访父母", "学期反馈", "过生日"], ["家访", "手册检查"]),
        ("en", ["calls home", "talk", "phones parents", "report", "birthday"], ["home visit", "inspection"]),
    ],
)
def test_the_compliance_tab_names_the_duties_switched_on(tmp_path, lang, five, added):
    """Without more cadences the table has the staff, the pupil's name and the five duties
    (nothing of the other six). With home_visit=month and inspection=month the same seven and
    then 家访 and 手册检查 (en: home visit, inspection), in events.rules.DUTIES' order; tutoring
    stays off and has no column. (Before: the table had a column for each of the five only.)"""
    plain, more = tmp_path / "plain.sqlite", tmp_path / "more.sqlite"
    small_school(plain, more={})
    small_school(more, more={"home_visit": "month", "inspection": "month"})
    assert S.run(headings(plain, lang))[2:] == five
    assert S.run(headings(more, lang))[2:] == five + added


async def enter_on_the_inspection(path) -> tuple[list[str], str, list[str]]:
    """T1's Home: the duties of their own table, then Enter on the inspection row; returns the
    row keys, the screen then on top and the notifications' texts."""
    from textual.widgets import DataTable

    app = S.make_app(path, "T1", "zh")
    async with app.run_test(size=(140, 30)) as pilot:
        await S.started(app, pilot)
        table = app.query_one("#home-mine", DataTable)
        keys = [str(k.value) for k in table.rows]
        table.focus()
        table.move_cursor(row=next(i for i, k in enumerate(keys) if "|inspection|" in k))
        await S.send_keys(pilot, "enter")
        await S.settle(pilot)
        return keys, type(app.screen).__name__, [n.message for n in app._notifications]


def test_enter_on_the_inspection_duty_says_who_records_it(tmp_path):
    """With inspection=month, T1's own Home lists an inspection duty for P1 beside the contact
    duties. Enter on it opens no contact form (before: the contact form on 谈心, as if a talk met
    it) and says, in Chinese, that the supervision group records it."""
    path = tmp_path / "s.sqlite"
    small_school(path, more={"inspection": "month"})
    keys, screen, notes = S.run(enter_on_the_inspection(path))
    assert any("|inspection|" in k for k in keys) and any("|talk|" in k for k in keys)
    assert screen != "FormScreen"
    assert any("手册检查" in n and "督导组" in n for n in notes), notes
