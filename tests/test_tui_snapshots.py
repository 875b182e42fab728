"""Screenshots of the terminal app at 80×24, in Chinese and in English (pytest-textual-snapshot).

The demo school is built with a fixed seed and a fixed clock, so every screen is the same on every
run. After a deliberate change of the screens: `pytest tests/test_tui_snapshots.py --snapshot-update`,
look at the new SVGs, commit them.
"""

from __future__ import annotations

import pytest

import tui_support as S
from events import commands as C

LANGS = ["zh", "en"]



def app_for(store_path, actor: str, lang: str):
    return S.make_app(store_path, actor, lang=None if lang == "zh" else lang)


def steps(*actions):
    """run_before: wait for the first load, then each action (keys to send, or a coroutine function)."""

    async def run_before(pilot):
        await S.wait_for(pilot, lambda: S.loaded(pilot.app), 15, "the first load")
        await repaint(pilot)
        for action in actions:
            if callable(action):
                await action(pilot)
            else:
                await S.send_keys(pilot, *action)
            await S.settle(pilot)
        await S.steady(pilot)

    return run_before


def tab_loaded(table_id: str):
    async def wait(pilot):
        from textual.widgets import DataTable

        await S.wait_for(pilot, lambda: pilot.app.screen.query_one(table_id, DataTable).row_count > 0, 10, table_id)

    return wait


async def repaint(pilot):
    """Load the shown tab (or pupil file) once more, now that it is laid out.

    A table filled before its pane was first laid out sometimes keeps its columns squeezed to the
    width of their headings (reported); a screenshot must not depend on that race.
    """
    await S.settle(pilot)
    pilot.app.reload_visible()
    await S.settle(pilot)


def on_tab(key: str, tab: str, table_id: str):
    """The tab key, then wait until that tab is shown, loaded, and stays shown for half a second."""

    async def go(pilot):
        import asyncio

        from textual.widgets import TabbedContent

        await S.send_keys(pilot, key)
        tabs = pilot.app.query_one("#tabs", TabbedContent)
        await tab_loaded(table_id)(pilot)
        for _ in range(5):
            await asyncio.sleep(0.1)
            assert tabs.active == f"tab-{tab}", f"key {key} showed {tab}, then {tabs.active}"
        await repaint(pilot)

    return go


@pytest.mark.parametrize("lang", LANGS)
def test_home_mentor(snap_compare, store_path, facts, lang):
    assert snap_compare(app_for(store_path, facts["mentor"], lang), terminal_size=S.SIZE, run_before=steps())


@pytest.mark.parametrize("lang", LANGS)
def test_home_leader(snap_compare, store_path, lang):
    assert snap_compare(app_for(store_path, S.LEADER, lang), terminal_size=S.SIZE, run_before=steps())


@pytest.mark.parametrize("lang", LANGS)
def test_pupils(snap_compare, store_path, lang):
    assert snap_compare(app_for(store_path, S.LEADER, lang), terminal_size=S.SIZE, run_before=steps(on_tab("2", "pupils", "#pupil-table")))


@pytest.mark.parametrize("lang", LANGS)
def test_queue_with_a_suggestion(snap_compare, store_path, facts, lang):
    ws = S.workspace(store_path, S.LEADER)
    ws.record(lambda st, ctx: C.unpair(st, ctx, facts["other_pupils"][0], reason="教师调离"))
    ws.close()
    assert snap_compare(
        app_for(store_path, S.LEADER, lang), terminal_size=S.SIZE, run_before=steps(on_tab("3", "queue", "#queue-suggestions"))
    )


@pytest.mark.parametrize("lang", LANGS)
def test_compliance(snap_compare, store_path, lang):
    assert snap_compare(
        app_for(store_path, S.LEADER, lang), terminal_size=S.SIZE, run_before=steps(on_tab("4", "compliance", "#compliance-table"))
    )


@pytest.mark.parametrize("lang", LANGS)
def test_aid(snap_compare, store_path, lang):
    assert snap_compare(app_for(store_path, S.LEADER, lang), terminal_size=S.SIZE, run_before=steps(on_tab("5", "aid", "#aid-table")))


@pytest.mark.parametrize("lang", LANGS)
def test_audit(snap_compare, store_path, lang):
    assert snap_compare(app_for(store_path, S.LEADER, lang), terminal_size=S.SIZE, run_before=steps(on_tab("6", "audit", "#audit-table")))


@pytest.mark.parametrize("lang", LANGS)
def test_pupil_file(snap_compare, store_path, facts, lang):
    """学生 tab, Tab to the search, the pupil's id, Enter (to the table), Enter (the file)."""

    async def open_file(pilot):
        from careterm.tui.screens.pupil import PupilScreen

        await S.type_into(pilot, "pupil-search", facts["pupil"])
        await S.send_keys(pilot, "enter")
        await S.send_keys(pilot, "enter")
        await S.wait_for(pilot, lambda: isinstance(pilot.app.screen, PupilScreen), 5, "the pupil file")
        await tab_loaded("#pupil-timeline")(pilot)
        await repaint(pilot)

    assert snap_compare(
        app_for(store_path, facts["mentor"], lang), terminal_size=S.SIZE, run_before=steps("2", tab_loaded("#pupil-table"), open_file)
    )


@pytest.mark.parametrize("lang", LANGS)
def test_form_with_a_refusal(snap_compare, store_path, facts, lang):
    """The contact form, a date in the future, Ctrl+S: the refusal beside the date."""

    async def refused(pilot):
        from careterm.tui.forms import FormScreen

        await S.wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen), 5, "the contact form")
        await S.type_into(pilot, "f-pupil-id", facts["pupil"])
        await S.choose(pilot, "f-kind", "talk")
        await S.type_into(pilot, "f-date", "2026-12-25")
        await S.send_keys(pilot, "ctrl+s")
        form = pilot.app.screen
        await S.wait_for(pilot, lambda: str(form.query_one("#f-date-error").render()).strip(), 5, "the refusal")

    assert snap_compare(app_for(store_path, facts["mentor"], lang), terminal_size=S.SIZE, run_before=steps("n", refused))


@pytest.mark.parametrize("lang", LANGS)
def test_record_menu(snap_compare, store_path, facts, lang):
    assert snap_compare(app_for(store_path, facts["mentor"], lang), terminal_size=S.SIZE, run_before=steps("r"))


@pytest.mark.parametrize("lang", LANGS)
def test_help(snap_compare, store_path, facts, lang):
    assert snap_compare(app_for(store_path, facts["mentor"], lang), terminal_size=S.SIZE, run_before=steps("f1"))


@pytest.mark.parametrize("lang", LANGS)
def test_time_travel_banner(snap_compare, store_path, facts, lang):
    """`t`, Tab to the date, 2026-03-01, Enter: the views as of that day, the header says so."""

    async def travel(pilot):
        from careterm.tui.screens.time_travel import TimeTravelScreen

        await S.wait_for(pilot, lambda: isinstance(pilot.app.screen, TimeTravelScreen), 5, "the time travel screen")
        await S.type_into(pilot, "as-of", "2026-03-01")
        await S.send_keys(pilot, "enter")
        await S.wait_for(pilot, lambda: pilot.app.when.is_history, 5, "history")

    assert snap_compare(app_for(store_path, facts["mentor"], lang), terminal_size=S.SIZE, run_before=steps("t", travel))
