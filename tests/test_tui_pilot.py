"""The terminal app driven by keyboard only (Textual's Pilot, 80×24) on a deterministic demo school.

Every recording form is opened from the record menu (`r`, arrows, Enter), filled by Tab and typing,
and saved with Ctrl+S; the test then reads the store to see the event with the right fields.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pytest

import tui_support as S
from tui_support import run, new_events, head_of, started
from careterm.tui.forms import FORMS, FormScreen
from events import commands as C
from events.store import Store



async def save_form(pilot) -> None:
    """Ctrl+S, then wait until the form is gone (saved) or shows a refusal."""
    app = pilot.app
    form = app.screen
    await S.send_keys(pilot, "ctrl+s")

    def done():
        if not isinstance(app.screen, FormScreen):
            return True
        return any(str(label.render()).strip() for label in form.query(".error"))

    await S.wait_for(pilot, done, 10, "the form to save or refuse")
    await S.settle(pilot)


def errors(form) -> dict[str, str]:
    return {label.id: str(label.render()).strip() for label in form.query(".error") if str(label.render()).strip()}


# -- every recording form ------------------------------------------------------------------------
#
# Two sessions, one for a plain teacher (the mentor) and one for a leader; each form in turn, on the
# same store, so a form's prerequisites are recorded by the forms before it (unpair, then pair the
# pupil again; report an incident, then resolve it; set a plan, then review it).


def form_cases(f: dict) -> dict:
    """form key -> (group, steps(seen), check(event, seen)); `seen` maps event type -> last stored."""
    mentor, pupil, others = f["mentor"], f["pupil"], f["other_pupils"]
    contact_id = f["contacts"][-1][0]
    corrected_id = f["contacts"][-2][0]
    return {
        # the mentor
        "contact": (
            "mentor",
            lambda x: [("type", "f-pupil-id", pupil), ("choose", "f-kind", "home_visit"), ("type", "f-note", "家访 和爷爷谈了学习")],
            lambda e, x: (e.type, e.pupil, e.kind, e.by, e.note) == ("ContactMade", pupil, "home_visit", mentor, "家访 和爷爷谈了学习"),
        ),
        "activity": (
            "mentor",
            lambda x: [("choose", "f-kind", "holiday_visit"), ("type", "f-pupils", ",".join(f["mentor_pupils"][:2]))],
            lambda e, x: e.type == "CareActivityHeld" and e.kind == "holiday_visit" and e.pupils == f["mentor_pupils"][:2],
        ),
        # the aid procedure (issue 14): a mentor applies for their pupil, and objects to a notice
        "aid_apply": (
            "mentor",
            lambda x: [("type", "f-pupil-id", pupil), ("choose", "f-kind", "tuition_waiver"), ("type", "f-amount", "300"),
                       ("type", "f-reason", "家庭困难")],
            lambda e, x: (e.type, e.pupil, e.kind, e.amount, e.reason) == ("AidApplied", pupil, "tuition_waiver", "300.00", "家庭困难"),
        ),
        "aid_object": (
            "mentor",
            lambda x: [("type", "f-application-id", f["in_notice"]), ("type", "f-note", "听说家里新盖了房")],
            lambda e, x: (e.type, e.application, e.note) == ("AidObjected", f["in_notice"], "听说家里新盖了房"),
        ),
        "incident": (
            "mentor",
            lambda x: [("type", "f-pupil-id", pupil), ("choose", "f-need", "accommodation"), ("type", "f-description", "房屋漏雨")],
            lambda e, x: (e.type, e.pupil, e.need, e.description) == ("IncidentReported", pupil, "accommodation", "房屋漏雨"),
        ),
        "incident_resolve": (
            "mentor",
            lambda x: [("type", "f-event-id", x["IncidentReported"].id), ("type", "f-resolution", "已由姑姑托管")],
            lambda e, x: (e.type, e.incident, e.resolution) == ("IncidentResolved", x["IncidentReported"].id, "已由姑姑托管"),
        ),
        "plan": (
            "mentor",
            lambda x: [("type", "f-pupil-id", pupil), ("type", "f-goals", "提高作文水平"), ("type", "f-measures", "每周面批一篇"),
                       ("type", "f-responsible", mentor)],
            lambda e, x: (e.type, e.pupil, e.goals, e.measures, e.responsible) == ("HelpPlanSet", pupil, "提高作文水平", "每周面批一篇", mentor),
        ),
        "plan_review": (
            "mentor",
            lambda x: [("type", "f-pupil-id", pupil), ("type", "f-result", "作业按时完成")],
            lambda e, x: (e.type, e.pupil, e.result) == ("HelpPlanReviewed", pupil, "作业按时完成"),
        ),
        "retract": (
            "mentor",
            lambda x: [("type", "f-event-id", contact_id), ("type", "f-reason", "记错了学生")],
            lambda e, x: (e.type, e.corrects, e.reason) == ("EntryRetracted", contact_id, "记错了学生"),
        ),
        "correct": (
            "mentor",
            lambda x: [("type", "f-event-id", corrected_id), ("type", "f-reason", "类型选错"), ("choose", "f-to-kind", "talk"),
                       ("type", "f-to-date", "2026-11-01")],
            lambda e, x: (e.type, e.corrects, e.reason, e.to_kind, e.to_date)
            == ("EntryCorrected", corrected_id, "类型选错", "talk", dt.date(2026, 11, 1)),
        ),
        # a leader
        "unpair": (
            "leader",
            lambda x: [("type", "f-pupil-id", others[1]), ("type", "f-reason", "教师调岗")],
            lambda e, x: (e.type, e.pupil, e.reason) == ("PairingEnded", others[1], "教师调岗"),
        ),
        "pair": (
            "leader",
            lambda x: [("type", "f-staff-id", f["free_mentors"][0]), ("type", "f-pupil-id", others[1])],
            lambda e, x: (e.type, e.staff, e.pupil) == ("PairingAssigned", f["free_mentors"][0], others[1]),
        ),
        "aid": (
            "leader",
            lambda x: [("type", "f-pupil-id", f["hardship"][0]), ("choose", "f-kind", "emergency"), ("type", "f-amount", "300"),
                       ("type", "f-fund", "爱心企业捐助"), ("choose", "f-basis", "illness_or_accident")],
            lambda e, x: (e.type, e.pupil, e.kind, e.amount, e.fund, e.basis)
            == ("AidGranted", f["hardship"][0], "emergency", "300.00", "爱心企业捐助", "illness_or_accident"),
        ),
        # the aid procedure (issue 14): a survey, a disciplinary record and its clearing
        "aid_survey": (
            "leader",
            lambda x: [("type", "f-application-id", f["applied"]), ("choose", "f-result", "confirmed"),
                       ("choose", "f-method", "home_visit")],
            lambda e, x: (e.type, e.application, e.result, e.method) == ("AidSurveyed", f["applied"], "confirmed", "home_visit"),
        ),
        "conduct": (
            "leader",
            lambda x: [("type", "f-pupil-id", others[5]), ("type", "f-note", "课堂上打闹")],
            lambda e, x: (e.type, e.pupil, e.note) == ("ConductRecorded", others[5], "课堂上打闹"),
        ),
        "conduct_clear": (
            "leader",
            lambda x: [("type", "f-event-id", x["ConductRecorded"].id), ("type", "f-reason", "已改正")],
            lambda e, x: (e.type, e.record, e.reason) == ("ConductCleared", x["ConductRecorded"].id, "已改正"),
        ),
        "aid_revoke": (
            "leader",
            lambda x: [("type", "f-event-id", f["grant"]), ("type", "f-reason", "重复发放")],
            lambda e, x: (e.type, e.grant, e.reason) == ("AidRevoked", f["grant"], "重复发放"),
        ),
        "graduate": (
            "leader",
            lambda x: [("type", "f-pupil-id", others[2])],
            lambda e, x: (e.type, e.pupil) == ("PupilGraduated", others[2]),
        ),
        "transfer": (
            "leader",
            lambda x: [("type", "f-pupil-id", others[3]), ("type", "f-to", "县实验小学")],
            lambda e, x: (e.type, e.pupil, e.to) == ("PupilTransferred", others[3], "县实验小学"),
        ),
        "dropout": (
            "leader",
            lambda x: [("type", "f-pupil-id", others[4]), ("type", "f-reason", "随父母外出务工")],
            lambda e, x: (e.type, e.pupil, e.reason) == ("PupilDroppedOut", others[4], "随父母外出务工"),
        ),
        "return": (
            "leader",
            lambda x: [("type", "f-pupil-id", f["away"][0])],
            lambda e, x: (e.type, e.pupil) == ("PupilReturned", f["away"][0]),
        ),
        "inspect": (
            "leader",
            lambda x: [("type", "f-staff-id", mentor), ("choose", "f-result", "needs_improvement")],
            lambda e, x: (e.type, e.staff, e.result) == ("HandbookInspected", mentor, "needs_improvement"),
        ),
    }


# forms that need a second school in the store, driven in their own test: accepting a pupil another
# school sent (tests/test_district_transfer.py, from the receiving leader's Home)
DISTRICT_FORMS = {"transfer_accept"}


def test_every_form_is_driven(facts):
    assert set(form_cases(facts)) | DISTRICT_FORMS == set(FORMS)


@pytest.mark.parametrize("group", ["mentor", "leader"])
def test_record_every_form_by_keyboard(group, facts, store_path):
    """Open each form from the record menu, fill it by Tab and typing, Ctrl+S; the store has the event."""
    actor = facts["mentor"] if group == "mentor" else S.LEADER
    cases = {k: c for k, c in form_cases(facts).items() if c[0] == group}
    done: list[str] = []

    async def go():
        app = S.make_app(store_path, actor)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            seen: dict = {}
            for key, (_, steps, check) in cases.items():
                before = head_of(store_path)
                await S.open_form(pilot, key)
                form = app.screen
                for how, wid, value in steps(seen):
                    if how == "type":
                        await S.type_into(pilot, wid, value)
                    else:
                        await S.choose(pilot, wid, value)
                await save_form(pilot)
                assert not isinstance(app.screen, FormScreen), f"form {key} refused: {errors(form)}\n{S.screen_text(app)}"
                events = new_events(store_path, before)
                assert events, f"form {key}: nothing was written"
                for e in events:
                    seen[e.type] = e
                main = next((e for e in events if check(e, seen)), None)
                assert main is not None, f"form {key}: {events}"
                assert (main.actor, main.source, main.recorded_at) == (actor, "tui", S.NOW), main
                assert main.date == S.UNTIL, main
                done.append(key)

    run(go())
    assert done == list(cases)


# -- refusals shown beside the field, nothing written ----------------------------------------------


def test_refusals_shown_beside_the_field(facts, store_path):
    """Unknown pupil, empty field, a date in the future (then fixed and saved), a role one lacks."""
    before = head_of(store_path)

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "n")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the contact form")
            form = app.screen
            # an unknown pupil
            await S.type_into(pilot, "f-pupil-id", "99999999")
            await save_form(pilot)
            assert app.screen is form
            assert errors(form) == {"f-pupil-id-error": "找不到学生 99999999"}
            assert app.focused is form.query_one("#f-pupil-id")
            # an empty required field
            await S.type_into(pilot, "f-pupil-id", "")
            await save_form(pilot)
            assert errors(form) == {"f-pupil-id-error": "不能为空"}
            # a date in the future: the message beside #f-date, in Chinese, and the focus on it
            await S.type_into(pilot, "f-pupil-id", facts["pupil"])
            await S.type_into(pilot, "f-date", "2026-12-25")
            assert form.query_one("#f-date").value == "2026-12-25"
            await save_form(pilot)
            assert app.screen is form, "the form closed: something was recorded"
            assert errors(form) == {"f-date-error": "日期 2026-12-25 在今天（2026-11-20）之后，不能记录未来的事"}
            assert app.focused is form.query_one("#f-date")
            assert head_of(store_path) == before
            # fixed, it saves
            await S.type_into(pilot, "f-date", "2026-11-19")
            await save_form(pilot)
            assert not isinstance(app.screen, FormScreen), errors(form)
            # a plain teacher may not inspect handbooks (the form opened from the palette, Ctrl+P)
            await S.send_keys(pilot, "ctrl+p")
            await pilot.pause(0.2)
            await S.send_keys(pilot, *list("检查帮扶手册"))
            await S.wait_for(pilot, lambda: _palette_has_hits(app), 5, "palette hits")
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the inspect form")
            form = app.screen
            assert form.form.key == "inspect"
            await S.type_into(pilot, "f-staff-id", facts["mentor"])
            await save_form(pilot)
            assert app.screen is form
            shown = errors(form)
            assert list(shown) == ["form-error"], shown
            # the role by its name (was the code `leader`, and the option `--as`: issue 9)
            assert facts["mentor"] in shown["form-error"] and app.t("role.leader") in shown["form-error"], shown
            assert "leader" not in shown["form-error"] and "--as" not in shown["form-error"], shown

    run(go())
    [event] = new_events(store_path, before)
    assert (event.type, event.pupil, event.date) == ("ContactMade", facts["pupil"], dt.date(2026, 11, 19))


def _palette_has_hits(app) -> bool:
    from textual.command import CommandList

    return app.screen.query_one(CommandList).option_count > 0


def test_a_form_opens_ready_to_type(facts, store_path):
    """Was a bug: a form (and the time travel screen) opened with the focus on its scroll container, so what
    a teacher typed before pressing Tab went nowhere. Prefilled fields are skipped."""
    async def go():
        from careterm.tui.screens.time_travel import TimeTravelScreen

        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "n")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the contact form")
            await pilot.pause(0.2)
            assert app.focused is app.screen.query_one("#f-pupil-id"), app.focused
            await S.send_keys(pilot, *list(facts["pupil"]))
            assert app.screen.query_one("#f-pupil-id").value == facts["pupil"]
            await S.send_keys(pilot, "escape")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 5, "the form to close")
            # prefilled pupil (Enter on a row of 我的待办): the focus skips to the next empty field
            await S.focus(pilot, "home-mine")
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the prefilled form")
            await pilot.pause(0.2)
            assert app.screen.query_one("#f-pupil-id").value
            assert app.focused is not None and app.focused.id not in ("f-pupil-id", "f-kind", "form"), app.focused
            await S.send_keys(pilot, "escape")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 5, "the form to close")
            await S.send_keys(pilot, "t")
            await S.wait_for(pilot, lambda: isinstance(app.screen, TimeTravelScreen), 5, "the time travel screen")
            await pilot.pause(0.2)
            assert app.focused is app.screen.query_one("#as-of"), app.focused

    run(go())


# -- the mentor's day: a talk from the Home tab, the duty turns ok --------------------------------


def test_talk_from_home_turns_the_duty_ok(facts, store_path):
    pupil = facts["pupil"]
    before = head_of(store_path)

    async def go():
        from textual.widgets import DataTable

        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "4")
            table = app.query_one("#compliance-table", DataTable)
            await S.wait_for(pilot, lambda: table.row_count > 0, 10, "the compliance table")
            assert _talk_status(app, pupil) == "overdue"
            await S.send_keys(pilot, "1")
            await S.settle(pilot)
            # Enter on the overdue talk in 我的待办 opens the form for that pupil and duty
            mine = app.query_one("#home-mine", DataTable)
            await S.focus(pilot, "home-mine")
            keys = [str(k.value) for k in mine.rows]
            target = next(i for i, k in enumerate(keys) if k.startswith(f"{pupil}|talk|"))
            await S.send_keys(pilot, *["down"] * (target - mine.cursor_row))
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the prefilled form")
            form = app.screen
            assert (form.query_one("#f-pupil-id").value, form.query_one("#f-kind").value) == (pupil, "talk")
            await S.send_keys(pilot, "escape")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 5, "the form to close")
            # a few keystrokes: n, the pupil (Tab, id), the kind (Tab, Enter, arrows, Enter), Ctrl+S
            await S.send_keys(pilot, "n")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the contact form")
            await S.type_into(pilot, "f-pupil-id", pupil)
            await S.choose(pilot, "f-kind", "talk")
            await save_form(pilot)
            assert not isinstance(app.screen, FormScreen)
            await S.send_keys(pilot, "4")
            await S.wait_for(pilot, lambda: _talk_status(app, pupil) == "ok", 10, "the talk to turn ok")

    run(go())
    [event] = new_events(store_path, before)
    assert (event.type, event.pupil, event.kind, event.by) == ("ContactMade", pupil, "talk", facts["mentor"])


def test_open_tab_refreshes_after_recording(facts, store_path, monkeypatch):
    """After one's own record the open tab repaints (the timer poll is slowed down here so that only the
    refresh that recording asks for can repaint it). Was a bug: `_changed` took seen_head=-2 for the first load."""
    import careterm.tui.app as tui_app

    monkeypatch.setattr(tui_app, "POLL_SECONDS", 3600)
    pupil = facts["pupil"]

    async def go():
        from textual.widgets import DataTable

        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            mine = app.query_one("#home-mine", DataTable)
            assert _home_has(mine, pupil, "talk")
            await S.send_keys(pilot, "n")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the contact form")
            await S.type_into(pilot, "f-pupil-id", pupil)
            await S.choose(pilot, "f-kind", "talk")
            await save_form(pilot)
            assert not isinstance(app.screen, FormScreen)
            await S.wait_for(pilot, lambda: not _home_has(mine, pupil, "talk"), 3, "home to drop the recorded talk")

    run(go())


def _talk_status(app, pupil: str) -> str | None:
    from textual.widgets import DataTable

    from events.rules import DUTIES

    table = app.query_one("#compliance-table", DataTable)
    talk_col = 2 + list(DUTIES).index("talk")
    for row_key in table.rows:
        if row_key.value == pupil:
            text = str(table.get_row(row_key)[talk_col])
            return {"✓": "ok", "✗": "overdue", "!": "due_soon"}.get(text[:1], text)
    return None


def _home_has(table, pupil: str, duty: str) -> bool:
    return any(str(k.value).startswith(f"{pupil}|{duty}|") for k in table.rows)


# -- the queue: `y` confirms a suggested pair --------------------------------------------------------


def test_queue_y_confirms_a_suggested_pair(facts, store_path):
    pupil = facts["other_pupils"][0]
    ws = S.workspace(store_path, S.LEADER)
    ws.record(lambda st, ctx: C.unpair(st, ctx, pupil, reason="教师调离"))
    ws.close()
    before = head_of(store_path)

    async def go():
        from textual.widgets import DataTable

        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "3")
            table = app.query_one("#queue-suggestions", DataTable)
            await S.wait_for(pilot, lambda: table.row_count > 0, 10, "a suggested pair")
            suggested = [str(k.value) for k in table.rows]
            assert any(s.endswith("|" + pupil) for s in suggested), suggested
            target = next(i for i, s in enumerate(suggested) if s.endswith("|" + pupil))
            await S.focus(pilot, "queue-suggestions")
            await S.send_keys(pilot, *["down"] * (target - table.cursor_row))
            await S.send_keys(pilot, "y")  # asks first (issue 9, item 11): y again says yes
            from careterm.tui.panes import PairConfirm

            await S.wait_for(pilot, lambda: isinstance(app.screen, PairConfirm), 5, "the confirmation")
            await S.send_keys(pilot, "y")
            await S.wait_for(pilot, lambda: head_of(store_path) > before, 10, "the pairing to be stored")
            await S.send_keys(pilot, "2")  # the tab is refreshed when shown again
            await S.send_keys(pilot, "3")
            await S.wait_for(pilot, lambda: not any(str(k.value).endswith("|" + pupil) for k in table.rows), 10, "the queue to refresh")
            return suggested[target].split("|")[0]

    staff = run(go())
    [event] = new_events(store_path, before)
    assert (event.type, event.staff, event.pupil, event.source) == ("PairingAssigned", staff, pupil, "tui")


def test_pane_keys_work_right_after_switching_tab(facts, store_path):
    """After a tab key the pane's own keys work at once: `/` on 学生 goes to the search field, and on
    结对 the suggestions table has the focus (so `y` confirms)."""

    async def go():
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "2")
            await pilot.pause(0.3)
            await S.send_keys(pilot, "slash")
            assert app.focused is not None and app.focused.id == "pupil-search", app.focused
            await S.send_keys(pilot, "enter")  # from the search to the table
            assert app.focused is not None and app.focused.id == "pupil-table", app.focused
            await S.send_keys(pilot, "3")
            await pilot.pause(0.3)
            assert app.focused is not None and app.focused.id == "queue-suggestions", app.focused

    run(go())


_TAB_KEYS: list = []


def _tab_keys(store_path) -> list:
    """Press 2..6 then 1; for each: the tabs shown (sampled every 0.1 s for 0.6 s) and the panes loaded.

    Run once for the two tests below (it takes a while)."""
    if not _TAB_KEYS:
        _TAB_KEYS.extend(_press_tab_keys(store_path))
    return _TAB_KEYS


def _press_tab_keys(store_path) -> list:
    from careterm.tui import panes

    reloads: dict[str, int] = {}
    original = panes.Pane.reload

    def counting(self):
        reloads[self.id] = reloads.get(self.id, 0) + 1
        return original(self)

    async def go():
        from textual.widgets import TabbedContent

        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            tabs = app.query_one("#tabs", TabbedContent)
            seen = []
            for key, tab in (("2", "pupils"), ("3", "queue"), ("4", "compliance"), ("5", "aid"), ("6", "audit"), ("1", "home")):
                reloads.clear()
                await S.send_keys(pilot, key)
                shown = []
                for _ in range(6):
                    await asyncio.sleep(0.1)
                    shown.append(tabs.active.removeprefix("tab-"))
                await S.settle(pilot)
                seen.append((key, tab, shown, dict(reloads)))
            return seen

    panes.Pane.reload = counting
    try:
        return run(go())
    finally:
        panes.Pane.reload = original


def test_tab_keys_1_to_6_show_their_tab_and_it_stays(facts, store_path):
    """Each tab key shows its tab, which stays shown. Was a bug (b7c7a5e): focusing the new pane from
    TabActivated set off activations of the old and new tabs in turn, the screen flipping between them."""
    seen = _tab_keys(store_path)
    problems = [f"{key}: shown {' '.join(shown)}" for key, tab, shown, _ in seen if set(shown) != {tab}]
    assert not problems, "\n".join(problems)


def test_a_tab_key_loads_that_tab_once(facts, store_path):
    seen = _tab_keys(store_path)
    problems = [f"{key}: loads {loads}" for key, tab, _, loads in seen if loads != {f"pane-{tab}": 1}]
    assert not problems, "\n".join(problems)


# -- time travel --------------------------------------------------------------------------------------


def test_time_travel_banner_read_only_and_back(facts, store_path):
    before = head_of(store_path)

    async def go():
        from careterm.tui.screens.time_travel import TimeTravelScreen

        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE, notifications=True) as pilot:
            await started(app, pilot)
            now_subtitle = app.sub_title
            await S.send_keys(pilot, "t")
            await S.wait_for(pilot, lambda: isinstance(app.screen, TimeTravelScreen), 5, "the time travel screen")
            screen = app.screen
            # a bad date is refused on the screen
            await S.type_into(pilot, "as-of", "2026-13-40")
            await S.send_keys(pilot, "enter")
            assert app.screen is screen
            assert str(screen.query_one("#as-of-error").render()).strip()
            # a good one goes back in time
            await S.type_into(pilot, "as-of", "2026-03-01")
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, TimeTravelScreen), 5, "back to the tabs")
            await S.settle(pilot)
            assert app.when.is_history and app.when.as_of == dt.date(2026, 3, 1)
            banner = app.query_one("#history-banner")
            assert banner.display and "历史：截至 2026-03-01" in str(banner.render()) and "只读" in str(banner.render())
            assert "历史" in app.sub_title, app.sub_title
            assert app.screen.has_class("history")
            summary = str(app.query_one("#home-summary").render())
            assert "2026-03-01" in summary, summary
            # recording is refused while in history: no form opens, a warning says why
            for key in ("n", "r"):
                await S.send_keys(pilot, key)
                await pilot.pause()
                assert not isinstance(app.screen, FormScreen)
                assert app._notifications and "不能记录" in list(app._notifications)[-1].message
            # Esc comes back to now
            await S.send_keys(pilot, "escape")
            await S.settle(pilot)
            assert not app.when.is_history
            assert app.sub_title == now_subtitle
            assert not app.screen.has_class("history")
            assert not app.query_one("#history-banner").display

    run(go())
    assert new_events(store_path, before) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_history_banner_shows_the_date_at_80_columns(facts, store_path, lang):
    """Was a bug: the header cut the banner short ('历史：截至 2026-03-0…'); now a line of its own, in full."""
    async def go():
        from careterm.tui.screens.time_travel import TimeTravelScreen

        app = S.make_app(store_path, facts["mentor"], lang=None if lang == "zh" else lang)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "t")
            await S.wait_for(pilot, lambda: isinstance(app.screen, TimeTravelScreen), 5, "the time travel screen")
            await S.type_into(pilot, "as-of", "2026-03-01")
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: app.when.is_history, 5, "history")
            await pilot.pause(0.2)
            screen = S.screen_text(app)
            banner = "历史：截至 2026-03-01" if lang == "zh" else "HISTORY: as of 2026-03-01"
            assert any(banner in line and line.rstrip().endswith((")", "）")) for line in screen.splitlines()), screen
            assert ("今天是" if lang == "zh" else "today is") not in screen, "history must not be called today"

    run(go())


# -- help, tabs, keymap, language ----------------------------------------------------------------------


def test_help_and_a_user_keymap(facts, store_path):
    """F1 opens help (F1 or Esc closes it); a keymap rebinds record.contact to Ctrl+N. (Tabs 1-6: above.)"""
    from careterm.tui.screens.help import HelpScreen

    async def go():
        app = S.make_app(store_path, S.LEADER, keymap={"record.contact": "ctrl+n"})
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            for close in ("f1", "escape"):
                await S.send_keys(pilot, "f1")
                await S.wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), 5, "help")
                text = S.screen_text(app)
                assert "今日" in text and "记录联系" in text, text
                assert "^n" in text, "help shows the rebound key"
                await S.send_keys(pilot, close)
                await S.wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), 5, f"help to close ({close})")
            await S.send_keys(pilot, "ctrl+n")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "ctrl+n to open the contact form")
            assert app.screen.form.key == "contact"
            await S.send_keys(pilot, "escape")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 5, "the form to close")

    run(go())


def test_f1_in_a_form_explains_the_form_and_its_fields(facts, store_path):
    from careterm.tui.forms import FormHelp

    async def go():
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            app.action_record("aid")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the aid form")
            await S.send_keys(pilot, "f1")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormHelp), 5, "the form's help")
            text = S.screen_text(app)
            assert "Ctrl+S" in text and "（可不填）" in text, text
            assert app.t("form.aid") in text and app.t("field.amount") in text, text
            await S.send_keys(pilot, "escape")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "back to the form")
            assert app.screen.form.key == "aid"

    run(go())


def test_pupil_file_shows_records_first_and_the_profile_on_enter(facts, store_path):
    from textual.widgets import Collapsible, DataTable

    from careterm.tui.screens.pupil import PupilScreen

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            app.open_pupil(facts["pupil"])
            await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
            timeline = app.screen.query_one("#pupil-timeline", DataTable)
            await S.wait_for(pilot, lambda: timeline.row_count > 0, 5, "the timeline")
            more = app.screen.query_one("#pupil-more", Collapsible)
            assert more.collapsed
            assert timeline.region.y + 5 < S.SIZE[1], "several records show at once, under the summary"
            more.query_one("CollapsibleTitle").focus()
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: not more.collapsed, 5, "the profile to open")
            assert app.t("profile.family") in S.screen_text(app)

    run(go())


def test_user_keymap_frees_the_old_key(facts, store_path):
    """Rebound to Ctrl+N, `n` no longer opens the form (was a bug: Home bound `n` again under its own id)."""

    async def go():
        app = S.make_app(store_path, facts["mentor"], keymap={"record.contact": "ctrl+n"})
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.focus(pilot, "home-mine")
            await S.send_keys(pilot, "n")
            await pilot.pause(0.3)
            assert not isinstance(app.screen, FormScreen)

    run(go())


def test_english(facts, store_path):
    async def go():
        app = S.make_app(store_path, facts["mentor"], lang="en")
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            text = S.screen_text(app)
            for name in ("1 Today", "2 Pupils", "3 Pairing", "4 Compliance", "5 Aid", "6 Audit"):
                assert name in text, text
            assert "今日" not in text
            await S.send_keys(pilot, "n")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the contact form")
            await S.type_into(pilot, "f-pupil-id", "99999999")
            await save_form(pilot)
            assert errors(app.screen) == {"f-pupil-id-error": "no pupil 99999999"}

    run(go())


# -- another process records: the open app shows it without restart -----------------------------


def test_a_second_writer_shows_up_without_restart(facts, store_path):
    pupil = facts["pupil"]

    async def go():
        from textual.widgets import DataTable

        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            mine = app.query_one("#home-mine", DataTable)
            assert _home_has(mine, pupil, "talk")

            def other_writer():
                ws = S.workspace(store_path, facts["mentor"])
                try:
                    ws.record(lambda st, ctx: C.contact(st, ctx, pupil, kind="talk"), note="from another terminal")
                finally:
                    ws.close()

            writer = threading.Thread(target=other_writer)
            writer.start()
            await asyncio.get_running_loop().run_in_executor(None, writer.join)
            start = time.monotonic()
            await S.wait_for(pilot, lambda: not _home_has(mine, pupil, "talk"), 5, "the other writer's talk to show")
            assert time.monotonic() - start < 3.0
            # the audit tab is for leaders and auditors (cli.md): the mentor's says so
            await S.send_keys(pilot, "6")
            status = app.query_one("#audit-status")
            await S.wait_for(pilot, lambda: "只有学校领导和督导" in str(status.render()), 5, "the audit tab's refusal")

    async def as_leader():
        from textual.widgets import DataTable

        from careterm.i18n import Translator

        INCIDENT = Translator("zh")("type_short.IncidentReported")

        # a leader's app open while another terminal records: the entry is the newest of the audit tab
        app = S.make_app(store_path, facts["leaders"][0])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "6")
            table = app.query_one("#audit-table", DataTable)
            await S.wait_for(pilot, lambda: table.row_count > 0, 5, "the audit tab")
            ws = S.workspace(store_path, facts["mentor"])
            try:
                ws.record(lambda st, ctx: C.report_incident(st, ctx, pupil, need="other"), note="from another terminal")
            finally:
                ws.close()
            await S.wait_for(pilot, lambda: _newest_audit_type(table) == INCIDENT, 5, "the other writer's entry on the audit tab")

    run(go())
    run(as_leader())


def test_the_app_saves_a_read_model_it_folded_when_idle(facts, store_path):
    # a store whose saved read model is gone: the first screen is folded from the log and shown
    # first; the model is saved afterwards, by the idle poll (so the next start only catches up)
    with Store(str(store_path)) as store:
        store.drop_views()

    async def go():
        from textual.widgets import DataTable

        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            assert app.query_one("#home-mine", DataTable).row_count > 0

            def saved() -> bool:
                with Store(str(store_path)) as store:
                    found = store.load_view(f"school:{S.SCHOOL}")
                    return found is not None and found[1] == store.head()

            await S.wait_for(pilot, saved, 5, "the idle poll to save the read model")

    run(go())


def _newest_audit_type(table) -> str:
    """The short type name of the audit's first row (the newest entry: the table lists newest first)."""
    return str(table.get_row_at(0)[1])


# -- bindings have ids ------------------------------------------------------------------------------


def _binding_classes():
    """Every class of the TUI's modules that declares key bindings (new screens included)."""
    import importlib
    import inspect
    import pkgutil

    import careterm.tui

    # every module of the package, one screen or pane per file (a list by hand missed new ones)
    modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(careterm.tui.__path__, "careterm.tui.")]
    found = []
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and cls.__dict__.get("BINDINGS"):
                found.append(cls)
    assert {"CaretermApp", "FormScreen", "PupilsPane", "QueuePane"} <= {c.__name__ for c in found}
    return found


def test_every_binding_has_an_id():
    from textual.binding import Binding

    missing, ids = [], []
    for cls in _binding_classes():
        for b in cls.__dict__.get("BINDINGS", []):
            if not isinstance(b, Binding) or not b.id:
                missing.append((cls.__name__, b))
            else:
                ids.append(b.id)
    assert not missing, missing
    assert len(ids) == len(set(ids)), sorted(ids)


def test_every_binding_id_has_a_description_in_both_catalogs():
    import json
    from importlib import resources

    ids = [b.id for cls in _binding_classes() for b in cls.__dict__.get("BINDINGS", [])]
    for lang in ("zh", "en"):
        catalog = json.loads(resources.files("careterm").joinpath(f"locale/{lang}.json").read_text(encoding="utf-8"))
        assert not [i for i in ids if f"key.{i}" not in catalog], lang


# -- what `careterm` (no command) hands to the app --------------------------------------------------


def test_the_program_records_from_the_tui_as_source_tui(demo, monkeypatch):
    """Was a bug (seen end to end in tmux): `careterm` handed its Session (source 'cli') to the app."""
    import careterm.tui.app as tui_app
    from careterm import cli

    handed = {}
    monkeypatch.setattr(tui_app, "run", lambda workspace, keymap=None: handed.setdefault("ws", workspace) and 0)
    monkeypatch.setenv("CARETERM_USER", demo[1]["mentor"])
    # as from a terminal: without one `careterm` now says what to do and exits 2 (issue 9, item 7)
    import sys

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert cli.main(["--store", str(demo[0])]) == 0
    assert handed["ws"].source == "tui"
