"""Everything a person typed is drawn as text, never as markup (issue 11, item 1): pupils named
`[/]李雷`, `[bold red]王芳`, `[@click=app.quit]赵强` and `[link=x]孙丽`, with the guardian `[/]张`,
are drawn as typed on the leader's Home, the pupils tab, each pupil's file and the audit, and
the app keeps running. Pilot at 80×24 on a copy of the demo school."""

from __future__ import annotations

import asyncio

import pytest

import tui_support as S
from events import commands as C
from events.service import Service
from events.store import Store
from events.types import Person

NAMES = {"X1": "[/]李雷", "X2": "[bold red]王芳", "X3": "[@click=app.quit]赵强", "X4": "[link=x]孙丽"}


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    demo, _ = S.demo_store(tmp_path_factory)
    path = S.copy_store(demo, tmp_path_factory.mktemp("hostile"))
    with Store(str(path), clock=S.fixed_clock) as store:
        service = Service(store)
        ctx = C.Context(school=S.SCHOOL, actor=S.LEADER, today=S.UNTIL, date=S.UNTIL)
        for pupil, name in NAMES.items():
            service.execute(
                lambda st, p=pupil, n=name: C.add_pupil(
                    st, ctx, p, name=n, gender="F", birth=S.UNTIL.replace(year=S.UNTIL.year - 9), grade=3, class_=1,
                    categories=["orphan"], guardian=Person(name="[/]张", relation="[b]祖母", phone="138"),
                )
            )
    return path


def test_names_with_markup_are_drawn_as_typed(hostile_store):
    async def scenario() -> None:
        app = S.make_app(hostile_store, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await S.wait_for(pilot, lambda: S.loaded(app), 15, "the first load")
            await S.settle(pilot)
            # the leader's Home lists the pupils waiting for a mentor (below the fold at 80×24)
            from textual.widgets import DataTable

            table = app.query_one("#home-school", DataTable)
            cells = {str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)}
            for pupil, name in NAMES.items():
                assert f"{name} ({pupil})" in cells, sorted(cells)
            await S.send_keys(pilot, "2")
            await S.settle(pilot)
            for pupil, name in NAMES.items():
                app.open_pupil(pupil)
                await S.settle(pilot)
                shown = S.screen_text(app)
                assert name in shown, shown
                assert "[/]张" in shown or "Enter" in shown, shown
                await S.send_keys(pilot, "escape")
                await S.settle(pilot)
            await S.send_keys(pilot, "6")
            await S.settle(pilot)
            assert app.is_running
            assert app.return_code is None

    asyncio.run(scenario())
