"""The recording forms as a new user meets them (issue 9): Enter, Ctrl+S, dates, repeats, retracting,
notes, times and words on screen. Textual's Pilot at 80×24 on a copy of the deterministic demo.
"""

from __future__ import annotations

import asyncio
import datetime as dt


import tui_support as S
from tui_support import run, new_events, head_of, started
from careterm.tui.forms import FormScreen



def errors(form) -> dict[str, str]:
    return {label.id: str(label.render()).strip() for label in form.query(".error") if str(label.render()).strip()}


async def save(pilot) -> None:
    """Ctrl+S, then wait until the form is gone, refuses, or asks to confirm."""
    from careterm.tui.forms import ConfirmScreen

    app = pilot.app
    form = app.screen
    await S.send_keys(pilot, "ctrl+s")

    def done():
        return not isinstance(app.screen, FormScreen) or isinstance(app.screen, ConfirmScreen) or bool(errors(form))

    await S.wait_for(pilot, done, 10, "the form to save, refuse or ask")
    await S.settle(pilot)


async def contact_form(pilot) -> FormScreen:
    await S.send_keys(pilot, "n")
    await S.wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen), 5, "the contact form")
    await pilot.pause(0.1)
    return pilot.app.screen


# -- 4. Enter moves on, Ctrl+S saves; a repeat asks first; the entry just made can be retracted --------


def test_enter_in_a_text_field_moves_to_the_next_field_and_saves_nothing(facts, store_path):
    """Was a bug: Enter in the pupil field saved the whole form at once."""
    before = head_of(store_path)

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            form = await contact_form(pilot)
            await S.type_into(pilot, "f-pupil-id", facts["pupil"])
            await S.send_keys(pilot, "enter")
            await S.settle(pilot)
            assert app.screen is form, "Enter closed the form"
            assert app.focused is form.query_one("#f-kind"), app.focused
            assert head_of(store_path) == before, "Enter wrote something"
            # the visible Save button saves
            assert "保存" in S.screen_text(app)
            form.query_one("#save").press()
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 10, "the button to save")

    run(go())
    [event] = new_events(store_path, before)
    assert (event.type, event.pupil) == ("ContactMade", facts["pupil"])


def test_a_second_identical_contact_asks_before_saving(facts, store_path):
    """The same kind for the same pupil on the same day: the second asks; n writes nothing, y writes it."""
    from careterm.tui.forms import ConfirmScreen

    pupil = facts["pupil"]
    before = head_of(store_path)

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            for answer in (None, "n", "y"):
                form = await contact_form(pilot)
                await S.type_into(pilot, "f-pupil-id", pupil)
                await S.choose(pilot, "f-kind", "talk")
                await save(pilot)
                if answer is None:  # the first: saved at once
                    assert not isinstance(app.screen, FormScreen), errors(form)
                    continue
                assert isinstance(app.screen, ConfirmScreen), S.screen_text(app)
                text = S.screen_text(app)
                assert facts["pupil_name"] in text and "谈心" in text and "2026-11-20" in text, text
                await S.send_keys(pilot, answer)
                await S.settle(pilot)
                if answer == "n":  # back in the form, nothing written
                    assert app.screen is form
                    assert head_of(store_path) == before + 1
                    await S.send_keys(pilot, "escape")
                    await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 5, "the form to close")
                else:
                    await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 10, "the repeat to save")

    run(go())
    events = new_events(store_path, before)
    assert [(e.type, e.pupil, e.kind) for e in events] == [("ContactMade", pupil, "talk")] * 2


def test_just_after_saving_the_entry_can_be_retracted(facts, store_path):
    """The toast says 已记录 and names the key; the key opens the retract form for that entry, with a reason."""
    from careterm.tui.forms import FORMS

    before = head_of(store_path)

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE, notifications=True) as pilot:  # toasts are off by default in tests
            await started(app, pilot)
            await contact_form(pilot)
            await S.type_into(pilot, "f-pupil-id", facts["pupil"])
            await save(pilot)
            await S.wait_for(pilot, lambda: "已记录" in S.screen_text(app), 5, "the toast")
            text = S.screen_text(app)
            assert "撤回" in text and "^z" in text, text
            await S.send_keys(pilot, "ctrl+z")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the retract form")
            form = app.screen
            assert form.form is FORMS["retract"]
            [made] = new_events(store_path, before)
            assert form.query_one("#f-event-id").value == made.id
            assert facts["pupil_name"] in S.screen_text(app), "the form says which entry"
            assert app.focused is form.query_one("#f-reason")
            await save(pilot)
            assert errors(form) == {"f-reason-error": "不能为空"}
            await S.type_into(pilot, "f-reason", "点错了")
            await save(pilot)
            assert not isinstance(app.screen, FormScreen), errors(form)
            # retracted: nothing left to retract
            await S.send_keys(pilot, "ctrl+z")
            await pilot.pause(0.2)
            assert not isinstance(app.screen, FormScreen)

    run(go())
    made, retracted = new_events(store_path, before)
    assert (retracted.type, retracted.corrects, retracted.reason) == ("EntryRetracted", made.id, "点错了")


# -- 3. a form's date: today, visibly; a bad one refused beside it, as typed ------------------------


def test_a_forms_date_starts_as_today_and_a_bad_date_is_refused_as_typed(facts, store_path):
    """Was a bug: an empty or mistyped date was saved as today, and 2026/11/1 turned into 2026-11-1- in the
    mask. Expected: the field starts as 2026-11-20 (the demo's today); '', 'abc', '昨天', '2026-11' are each
    refused under the field, quoting what was typed, nothing written; '2026/11/1' stays as typed and is
    saved as 2026-11-01."""
    before = head_of(store_path)

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            form = await contact_form(pilot)
            date = form.query_one("#f-date")
            assert date.value == "2026-11-20"
            await S.type_into(pilot, "f-pupil-id", facts["pupil"])
            await S.focus(pilot, "f-date", limit=6)
            # the date is shown, not only held (once the form is painted: a loaded machine paints late)
            await S.wait_for(pilot, lambda: "2026-11-20" in S.screen_text(app), 5, "the date shown in the form")
            for bad in ("", "abc", "昨天", "2026-11"):
                await S.type_into(pilot, "f-date", bad)
                await save(pilot)
                assert app.screen is form, f"{bad!r} was saved"
                shown = errors(form)
                assert list(shown) == ["f-date-error"], (bad, shown)
                assert (bad or "不能为空") in shown["f-date-error"], (bad, shown)
                assert app.focused is date
            assert head_of(store_path) == before
            await S.type_into(pilot, "f-date", "2026/11/1")
            assert date.value == "2026/11/1"
            await save(pilot)
            assert not isinstance(app.screen, FormScreen), errors(form)

    run(go())
    [event] = new_events(store_path, before)
    assert (event.type, event.date) == ("ContactMade", dt.date(2026, 11, 1))


def test_time_travel_takes_a_date_as_people_write_it(facts, store_path):
    """The as-of date is a plain field read by parse_date: '2026/11/1' is 2026-11-01, 'abc' is refused as typed."""
    from careterm.tui.screens.time_travel import TimeTravelScreen

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "t")
            await S.wait_for(pilot, lambda: isinstance(app.screen, TimeTravelScreen), 5, "the time travel screen")
            await pilot.pause(0.1)
            await S.type_into(pilot, "as-of", "abc")
            await S.send_keys(pilot, "enter")
            await S.settle(pilot)
            assert isinstance(app.screen, TimeTravelScreen)
            assert "abc" in str(app.screen.query_one("#as-of-error").render())
            await S.type_into(pilot, "as-of", "2026/11/1")
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, TimeTravelScreen), 5, "history")
            assert app.when.as_of == dt.date(2026, 11, 1)

    run(go())


# -- 9. notes: several lines in the form, readable in the pupil file --------------------------------


def test_a_note_holds_several_lines_and_the_pupil_file_shows_it(facts, store_path):
    """Was a bug: the note was one line (Enter saved the form) and the pupil file never showed it.
    Expected: Enter in the note starts a new line, Tab leaves it, Ctrl+S saves 第一行\\n第二行; in the pupil
    file the new record (the first row) shows both lines, each on its own line."""
    from textual.widgets import DataTable

    from careterm.tui.screens.pupil import PupilScreen

    before = head_of(store_path)

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            form = await contact_form(pilot)
            await S.type_into(pilot, "f-pupil-id", facts["pupil"])
            await S.focus(pilot, "f-note", limit=8)
            await S.send_keys(pilot, *"第一行", "enter", *"第二行")
            await S.settle(pilot)
            assert app.screen is form, "Enter in the note saved the form"
            note = form.query_one("#f-note")
            assert note.value == "第一行\n第二行"
            await S.send_keys(pilot, "tab")
            assert app.focused is not note, "Tab stays in the note"
            await save(pilot)
            assert not isinstance(app.screen, FormScreen), errors(form)
            app.open_pupil(facts["pupil"])
            await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
            timeline = app.screen.query_one("#pupil-timeline", DataTable)
            await S.wait_for(pilot, lambda: timeline.row_count > 0, 5, "the timeline")
            await S.wait_for(pilot, lambda: "第二行" in S.screen_text(app), 5, "the note")
            lines = S.screen_text(app).splitlines()
            first = next(i for i, line in enumerate(lines) if "第一行" in line)
            assert "第二行" in lines[first + 1] and "第一行" not in lines[first + 1], "\n".join(lines)

    run(go())
    [event] = new_events(store_path, before)
    assert event.note == "第一行\n第二行"


# -- 5. recording times in the school's time zone -----------------------------------------------------


def test_recording_times_are_shown_in_the_schools_time_zone(facts, store_path):
    """Was a bug: shown in UTC. The store's clock says 2026-11-20 02:00 UTC; the school is in Asia/Shanghai
    (UTC+8), so the entry just made shows 记录时间 2026-11-20 10:00. A known-at typed without an offset,
    2026-11-01 18:00, is school time: 10:00 UTC, and the banner says 18:00."""
    from textual.widgets import DataTable

    from careterm.tui.screens.pupil import PupilScreen
    from careterm.tui.screens.time_travel import TimeTravelScreen

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await contact_form(pilot)
            await S.type_into(pilot, "f-pupil-id", facts["pupil"])
            await save(pilot)
            app.open_pupil(facts["pupil"])
            await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
            timeline = app.screen.query_one("#pupil-timeline", DataTable)
            await S.wait_for(pilot, lambda: timeline.row_count > 0, 5, "the timeline")
            assert str(timeline.get_row_at(0)[0]) == "2026-11-20"
            assert str(timeline.get_row_at(0)[4]) == "2026-11-20 10:00"
            await S.send_keys(pilot, "escape")
            await S.send_keys(pilot, "t")
            await S.wait_for(pilot, lambda: isinstance(app.screen, TimeTravelScreen), 5, "the time travel screen")
            await S.type_into(pilot, "known-at", "2026-11-01 18:00")
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: app.when.is_history, 5, "history")
            assert app.when.known_at == dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.timezone.utc)
            assert "2026-11-01 18:00" in S.screen_text(app)

    run(go())


# -- 6. no English and no raw codes on a Chinese screen -----------------------------------------------

ENGLISH = ("Press", "quit", "Quit", "Theme", "Keys", "Screenshot", "palette", "Search for", "No matches", "leader", "--as")


def test_ctrl_c_says_how_to_quit_in_chinese(facts, store_path):
    """Was: Textual's 'Do you want to quit? Press ^q to quit the app'."""

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE, notifications=True) as pilot:
            await started(app, pilot)
            await S.focus(pilot, "home-mine")
            await S.send_keys(pilot, "ctrl+c")
            await S.wait_for(pilot, lambda: app._notifications, 5, "the toast")
            await pilot.pause(0.2)
            text = S.screen_text(app)
            assert "^q" in text and "退出" in text, text
            assert not [w for w in ENGLISH if w in text], text

    run(go())


def test_the_command_palette_speaks_chinese(facts, store_path):
    """Its built-in commands (theme, quit…), its placeholder, 'no matches' and the footer key, from the catalog."""

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            assert not [w for w in ENGLISH if w in S.screen_text(app)], S.screen_text(app)
            await S.send_keys(pilot, "ctrl+p")
            # the palette gathers its commands in the background: wait for them, not a fixed time
            await S.wait_for(pilot, lambda: "主题" in S.screen_text(app) and "退出" in S.screen_text(app), 10, "the palette")
            text = S.screen_text(app)
            assert not [w for w in ENGLISH if w in text], text
            await S.send_keys(pilot, *"qqqqqq")
            await S.wait_for(pilot, lambda: "没有" in S.screen_text(app), 10, "no matches")
            text = S.screen_text(app)
            assert not [w for w in ENGLISH if w in text], text

    run(go())


def test_a_refusal_at_the_form_top_names_roles_and_fields_by_name(facts, store_path):
    """A plain teacher inspects a handbook: refused naming the roles (学校领导…) and 记录人, not leader / --as."""

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            app.action_record("inspect")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the inspect form")
            form = app.screen
            await S.type_into(pilot, "f-staff-id", facts["mentor"])
            await save(pilot)
            shown = errors(form)
            assert list(shown) == ["form-error"], shown
            message = shown["form-error"]
            assert app.t("role.leader") in message and facts["mentor"] in message, message
            assert not [w for w in ENGLISH if w in message], message

    run(go())


def test_the_pupil_file_shows_names_not_codes(facts, store_path):
    """Gender as 男/女 (not M/F); an aid record as 物资 (not material), its items beside it."""
    from textual.widgets import DataTable

    from careterm.tui.screens.pupil import PupilScreen
    from careterm.tui.forms import FORMS

    pupil = facts["hardship"][0]

    async def go():
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            build = FORMS["aid"].build({"PUPIL_ID": pupil, "--kind": "material", "--items": "书包一个", "--basis": "illness_or_accident"})
            await asyncio.to_thread(app.backend.record, build)
            app.open_pupil(pupil)
            await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
            timeline = app.screen.query_one("#pupil-timeline", DataTable)
            await S.wait_for(pilot, lambda: timeline.row_count > 0, 5, "the timeline")
            row = [str(c) for c in timeline.get_row_at(0)]
            assert row[2] == "物资 书包一个", row
            profile = str(app.screen.query_one("#pupil-profile").render())
            first = profile.splitlines()[0]
            assert ("男" in first or "女" in first) and " M " not in first and " F " not in first, first

    run(go())


# -- 12. the palette by pinyin initials; phone numbers whole; one name for a duty -----------------------


def test_the_palette_finds_forms_and_tabs_by_pinyin_initials(facts, store_path):
    """As the pupil search does: jlbflx -> 记录帮扶联系 (the contact form); sj -> 审计 (the audit tab)."""
    from careterm.tui.palette import Palette

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "ctrl+p")
            await S.wait_for(pilot, lambda: isinstance(app.screen, Palette), 5, "the palette")
            await S.send_keys(pilot, *"jlbflx")
            await S.wait_for(pilot, lambda: "记录帮扶联系" in S.screen_text(app), 5, "the hit")
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the contact form")
            assert app.screen.form.key == "contact"
            await S.send_keys(pilot, "escape")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 5, "the form to close")
            await S.send_keys(pilot, "ctrl+p")
            await S.wait_for(pilot, lambda: isinstance(app.screen, Palette), 5, "the palette")
            await S.send_keys(pilot, *"sj")
            await S.wait_for(pilot, lambda: "审计" in S.screen_text(app).split("🔎", 1)[-1], 5, "the hit")
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: app.query_one("#tabs").active == "tab-audit", 5, "the audit tab")

    run(go())


def test_phone_numbers_do_not_break_across_lines_in_the_pupil_file(facts, store_path):
    """Was a bug: at 80 columns the mother's number of the demo's pupil read 18697 / 382891 on two lines."""
    from careterm.tui.screens.pupil import PupilScreen

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            app.open_pupil(facts["pupil"])
            await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
            await S.settle(pilot)
            p = (await asyncio.to_thread(app.backend.pupil_file, facts["pupil"], app.when))["pupil"]
            phones = [x["phone"] for x in p["parents"]] + [(p.get("guardian") or {}).get("phone")]
            phones = [x for x in phones if x]
            assert len(phones) >= 2
            text = S.screen_text(app)
            assert not [x for x in phones if x not in text], text

    run(go())


def test_the_pupil_file_names_duties_as_the_form_names_them(facts, store_path):
    """Was: 学期反馈 in the pupil file's duties, 学期信息反馈 in the contact form's kinds and records."""
    from textual.widgets import Select

    from careterm.tui.screens.pupil import PupilScreen

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            form = await contact_form(pilot)
            kinds = [str(label) for label, _ in form.query_one("#f-kind", Select)._options]
            await S.send_keys(pilot, "escape")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 5, "the form to close")
            app.open_pupil(facts["pupil"])
            await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
            await S.settle(pilot)
            duties = str(app.screen.query_one("#pupil-duties").render())
            named = [part.split(":")[0].strip() for part in duties.split("  ") if ":" in part]
            assert len(named) >= 4 and not [d for d in named if d not in kinds], (named, kinds)

    run(go())
