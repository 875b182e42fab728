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


# --- every stored string, drawn (issue 11: the TUI side of the fuzz test) -----------------------


def _school_holding(path, strings: list[str]) -> list[str]:
    """A school (leader `admin`) whose pupils hold the strings as name, guardian and profile texts,
    each as the commands accept it (a string they refuse, such as one with an escape code, is not
    stored: the refusal is test_fuzz_commands's); returns the ids of the pupils stored."""
    from events.errors import Refused

    ctx = C.Context(school=S.SCHOOL, actor=S.LEADER, today=S.UNTIL, date=S.UNTIL)
    stored = []
    with Store(str(path), create=True, clock=S.fixed_clock) as store:
        service = Service(store)
        service.execute(lambda st: C.init(st, ctx, name="石砚小学", admin_name="校长"))
        for i, text in enumerate(strings):
            pupil = f"H{i}"
            try:
                service.execute(lambda st, p=pupil, x=text: C.add_pupil(
                    st, ctx, p, name=x, gender="M", birth=S.UNTIL.replace(year=S.UNTIL.year - 9), grade=2,
                    class_=1, categories=["left_behind"], guardian=Person(name=x, relation=x, phone="138"),
                    profile={"family": x, "mental": x}))
            except Refused:
                continue
            stored.append(pupil)
    return stored


def _drawn_strings():
    from hypothesis import strategies as st

    from test_fuzz_commands import texts

    return st.lists(texts, min_size=6, max_size=6)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_app_draws_every_stored_string(tmp_path_factory):
    """Hypothesis draws hostile strings (test_fuzz_commands's: markup, escapes, bidi, BOM, other
    scripts, 400-character texts); those the commands accept are stored as pupils' names,
    guardians and profiles; the leader's app draws Home, the pupils tab, each pupil's file and the
    audit (Pilot, 80×24) without an exception and keeps running. One example given, four drawn."""
    from hypothesis import HealthCheck, example, given, settings

    @settings(max_examples=4, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @example(["[/]", "[bold]x", "\u202e李", "", " ", "{name}"])
    @given(_drawn_strings())
    def draws(strings: list[str]) -> None:
        path = tmp_path_factory.mktemp("drawn") / "s.sqlite"
        stored = _school_holding(path, strings)

        async def scenario() -> None:
            app = S.make_app(path, S.LEADER)
            async with app.run_test(size=S.SIZE) as pilot:
                await S.wait_for(pilot, lambda: app.seen_head >= 0, 15, "the first load")
                await S.settle(pilot)
                await S.send_keys(pilot, "2")
                await S.settle(pilot)
                for pupil in stored:
                    app.open_pupil(pupil)
                    await S.settle(pilot)
                    await S.send_keys(pilot, "escape")
                    await S.settle(pilot)
                await S.send_keys(pilot, "6")
                await S.settle(pilot)
                assert app.is_running and app.return_code is None

        asyncio.run(scenario())

    draws()
