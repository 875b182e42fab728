"""The tabs' own behaviour, driven by keyboard (Textual's Pilot, 80×24) on the deterministic demo.

The audit (find the late entries, read one entry in full, page through), the compliance rates
(sorted by any column), the queue (why each pair is suggested, a confirmation before pairing),
the pupils list (my pupils), and how rates, money and times are shown.
"""

from __future__ import annotations


import pytest

import tui_support as S
from tui_support import run, head_of, started
from events import commands as C
from events.store import Store



def demo_flags(path) -> dict[str, int]:
    """How many entries of the demo carry each flag, by the audit trail itself (its CLI twin)."""
    ws = S.workspace(path, S.LEADER)
    try:
        from careterm.backend import Backend, When

        rows = Backend(ws).history(None, When())
    finally:
        ws.close()
    return {f: sum(f in r["flags"] for r in rows) for f in ("late", "backfill")}


async def audit_tab(app, pilot):
    from textual.widgets import DataTable

    await S.send_keys(pilot, "6")
    table = app.query_one("#audit-table", DataTable)
    await S.wait_for(pilot, lambda: table.row_count > 0, 10, "the audit table")
    await S.settle(pilot)
    return table


def status_text(app) -> str:
    from textual.widgets import Static

    return str(app.query_one("#audit-status", Static).render())


def column(table, index: int) -> list[str]:
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


def header(table) -> list[str]:
    return [str(c.label) for c in table.columns.values()]


# -- item 10: the auditor finds the late entries -----------------------------------------------------


@pytest.mark.parametrize("flag", ["late", "backfill"])
def test_audit_filters_by_flag_and_finds_every_flagged_entry(facts, store_path, flag):
    """The flag filter (提示: 补记 / 集中补记) keeps only the entries with that flag: its count is the
    trail's (the demo has over 900 late entries), and every row shown says so in the flags column."""
    expected = demo_flags(store_path)[flag]
    assert expected > (900 if flag == "late" else 100), expected

    async def go():
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            table = await audit_tab(app, pilot)
            await S.choose(pilot, "audit-flag", flag)
            word = app.t(f"flag_short.{flag}")
            await S.wait_for(pilot, lambda: f"共 {expected} 条" in status_text(app), 10, "the filtered trail")
            await S.settle(pilot)
            flags = column(table, header(table).index(app.t("col.flags")))
            # a back-filled entry is late too, and shows as the stronger of the two
            allowed = {word} if flag == "backfill" else {word, app.t("flag_short.backfill")}
            assert table.row_count == min(expected, 200) and set(flags) <= allowed and word in flags, (table.row_count, set(flags))
            text = S.screen_text(app)
            assert text.count(word) >= 10, text  # on screen, at 80 columns

    run(go())


def test_audit_flags_and_names_show_at_80_columns(facts, store_path):
    """Was: the flags column was cut off at 80 columns and subjects read `pupil/20240208`. Now the
    flags column is on screen, with 补记 on the late rows, and subjects are pupils' names."""

    async def go():
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await audit_tab(app, pilot)
            await S.choose(pilot, "audit-flag", "late")
            await S.wait_for(pilot, lambda: "补记" in S.screen_text(app), 10, "late rows")
            text = S.screen_text(app)
            lines = text.splitlines()
            head = next(line for line in lines if "序号" in line)
            assert "提示" in head and "记录时间" in head, head
            rows = [line for line in lines[lines.index(head) + 1 :] if line.split()[:1] and line.split()[0].isdigit()]
            assert rows and all("补记" in line for line in rows), text  # 补记 or 集中补记
            assert "pupil/" not in text, text
            names = {name for _, name in app.pupils if name}
            assert all(any(name in line for name in names) for line in rows), text

    run(go())


def test_enter_on_an_audit_row_shows_the_entry_in_full(facts, store_path):
    """Enter on a contact's row: its fields in words, its note, who recorded it and when (school
    time), and the retraction recorded since, with its reason; Esc goes back to the table."""
    entry_id, seq, pupil, kind, day = facts["contacts"][-1]
    ws = S.workspace(store_path, facts["mentor"])
    ws.record(lambda st, ctx: C.retract(st, ctx, entry_id, reason="记错了学生"))
    ws.close()
    with Store(str(store_path)) as store:
        original = next(e for _, e in store.read() if e.id == entry_id)

    async def go():
        from careterm import shown
        from careterm.tui.screens.entry import EntryScreen

        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            table = await audit_tab(app, pilot)
            await S.type_into(pilot, "audit-pupil", pupil)
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: str(seq) in column(table, 0), 10, "the pupil's trail")
            await S.settle(pilot)
            await S.focus(pilot, "audit-table")
            target = column(table, 0).index(str(seq))
            await S.send_keys(pilot, *["down"] * (target - table.cursor_row), "enter")
            await S.wait_for(pilot, lambda: isinstance(app.screen, EntryScreen), 5, "the entry's detail")
            await S.wait_for(pilot, lambda: "记错了学生" in S.screen_text(app), 10, "the detail to load")
            text = S.screen_text(app)
            t = app.t
            pupil_name = dict(app.pupils)[pupil]
            mentor = f"{facts['mentor_name']}（{facts['mentor']}）"
            expected = [
                f"#{seq}",
                t("type.ContactMade"),
                f"{pupil_name}（{pupil}）",  # the subject by name, with its id
                f"{t('entry.kind')}: {t(f'kind.{kind}')}",
                f"{t('entry.recorded_by')}: {mentor}" if original.actor == facts["mentor"] else t("entry.recorded_by"),
                shown.local_time(original.recorded_at, "Asia/Shanghai"),  # school time, not UTC
                "Asia/Shanghai",
                t("type.EntryRetracted"),
                "记错了学生",
            ]
            missing = [x for x in expected if x not in text]
            assert not missing, (missing, text)
            if original.note:
                assert original.note.splitlines()[0][:10] in text, text
            await S.send_keys(pilot, "escape")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, EntryScreen), 5, "back to the table")

    run(go())


def test_page_down_pages_the_audit_even_from_a_filter_box(facts, store_path):
    """Was: PageDown did nothing while a filter box had the focus. The table lists the newest first,
    so PageDown goes down it, to older entries: from a filter box it moves the table's cursor down
    a screen, and on the page's last row it turns to the older page; PageUp comes back."""

    async def go():
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            table = await audit_tab(app, pilot)
            first = status_text(app)
            newest = column(table, 0)[0]
            await S.focus(pilot, "audit-actor")
            await S.send_keys(pilot, "pagedown")
            assert app.focused.id == "audit-actor"
            assert table.cursor_row > 0, table.cursor_row
            for _ in range(40):  # a screen at a time to the page's last row, then the older page
                await S.send_keys(pilot, "pagedown")
                if status_text(app) != first:
                    break
            assert status_text(app) != first, status_text(app)
            older = column(table, 0)
            assert int(older[0]) < int(newest) and table.cursor_row == 0, (older[0], newest)
            await S.send_keys(pilot, "pageup")  # on the first row of the older page: back to the newer one
            assert status_text(app) == first and table.cursor_row == table.row_count - 1

    run(go())


# -- item 11: the leader ranks mentors, sees why a pair is suggested, confirms before pairing --------


def _rates(table) -> list[tuple[str, ...]]:
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def test_compliance_rates_sort_by_each_column_by_keyboard(facts, store_path):
    """`o` sorts the mentors' rates by the next column (工号 → 姓名 → 完成率, a rate best first),
    `O` turns the order round; the heading of the sorted column carries ▲ or ▼; the keys are in
    the footer and in F1. Rates not owed yet ("-") stay last either way."""

    async def go():
        from textual.widgets import DataTable

        from careterm.tui.search import initials

        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "4")
            table = app.query_one("#compliance-mentors", DataTable)
            await S.wait_for(pilot, lambda: table.row_count > 3, 10, "the mentors' rates")
            await S.settle(pilot)
            footer = S.screen_text(app).splitlines()[-1]
            assert "o 排序" in footer and "O 倒序" in footer, footer
            rows = _rates(table)
            assert [r[0] for r in rows] == sorted(r[0] for r in rows)  # by id at first
            assert "▲" in header(table)[0]

            def pct(r):
                return None if r[2] == "-" else int(r[2].rstrip("%"))

            await S.send_keys(pilot, "o")  # by name (pinyin initials)
            rows = _rates(table)
            keys = [(initials(r[1]), r[1]) for r in rows]
            assert keys == sorted(keys) and "▲" in header(table)[1], rows
            await S.send_keys(pilot, "o")  # by rate, best first
            rows = _rates(table)
            known = [pct(r) for r in rows if pct(r) is not None]
            assert known == sorted(known, reverse=True) and len(set(known)) > 3, rows
            assert all(pct(r) is None for r in rows[len(known):]) and "▼" in header(table)[2]
            await S.send_keys(pilot, "O")  # weakest first
            rows = _rates(table)
            known = [pct(r) for r in rows if pct(r) is not None]
            assert known == sorted(known) and "▲" in header(table)[2], rows
            await S.send_keys(pilot, "f1")
            await S.settle(pilot)
            text = S.screen_text(app)
            assert "排序" in text and "倒序" in text, text

    run(go())


def _unpaired(store_path, facts) -> str:
    pupil = facts["other_pupils"][0]
    ws = S.workspace(store_path, S.LEADER)
    ws.record(lambda st, ctx: C.unpair(st, ctx, pupil, reason="教师调离"))
    ws.close()
    return pupil


def test_each_suggested_pair_says_why(facts, store_path):
    """The queue's suggestions have a 理由 column: the reasons of views.queue's `why`, by name."""
    _unpaired(store_path, facts)
    ws = S.workspace(store_path, S.LEADER)
    from projections.views import queue

    model, day = ws.model_as_of(None, None)
    suggestions = queue(model, day)["suggestions"]
    ws.close()
    assert suggestions and all(s["why"] for s in suggestions)

    async def go():
        from textual.widgets import DataTable

        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "3")
            table = app.query_one("#queue-suggestions", DataTable)
            await S.wait_for(pilot, lambda: table.row_count == len(suggestions), 10, "the suggestions")
            assert header(table)[-1] == "理由"
            shown_why = [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]
            assert shown_why == ["、".join(app.t(f"why.{w}") for w in s["why"]) for s in suggestions]
            text = S.screen_text(app)
            assert shown_why[0] in text, text  # whole, at 80 columns

    run(go())


def test_y_asks_before_pairing_and_no_records_nothing(facts, store_path):
    """Was: `y` paired at once. Now it asks "将 X 与 Y 结对？" by name; n (or Esc) records nothing;
    y then y records the pairing."""
    pupil = _unpaired(store_path, facts)
    before = head_of(store_path)

    async def go():
        from textual.widgets import DataTable

        from careterm.tui.panes import PairConfirm

        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "3")
            table = app.query_one("#queue-suggestions", DataTable)
            await S.wait_for(pilot, lambda: table.row_count > 0, 10, "a suggested pair")
            keys = [str(k.value) for k in table.rows]
            target = next(i for i, k in enumerate(keys) if k.endswith("|" + pupil))
            await S.focus(pilot, "queue-suggestions")
            await S.send_keys(pilot, *["down"] * (target - table.cursor_row))
            staff = keys[target].split("|")[0]
            for no in ("n", "escape"):
                await S.send_keys(pilot, "y")
                await S.wait_for(pilot, lambda: isinstance(app.screen, PairConfirm), 5, "the confirmation")
                text = S.screen_text(app)
                pupil_name = dict(app.pupils)[pupil]
                assert f"{pupil_name}（{pupil}）" in text and f"（{staff}）" in text and "结对？" in text, text
                await S.send_keys(pilot, no)
                await S.wait_for(pilot, lambda: not isinstance(app.screen, PairConfirm), 5, "the confirmation to close")
                await S.settle(pilot)
                assert head_of(store_path) == before
            await S.send_keys(pilot, "y")
            await S.wait_for(pilot, lambda: isinstance(app.screen, PairConfirm), 5, "the confirmation")
            await S.send_keys(pilot, "y")
            await S.wait_for(pilot, lambda: head_of(store_path) > before, 10, "the pairing to be stored")
            return staff

    staff = run(go())
    with Store(str(store_path)) as store:
        [event] = [e for _, e in store.read(before)]
    assert (event.type, event.staff, event.pupil) == ("PairingAssigned", staff, pupil)


# -- item 12: the birthday to aim for, my pupils, rates and money as people read them ----------------


def test_home_shows_the_childs_birthday_as_the_day_to_aim_for(facts, store_path):
    """Was: the birthday duty's date was 2027-08-31 (the school year's end) for every pupil. Now
    the Home table shows each child's own birthday in the school year (compliance's `aim`)."""
    from projections.compliance import compliance

    ws = S.workspace(store_path, S.LEADER)
    model, day = ws.model_as_of(None, None)
    comp = compliance(model, day)
    ws.close()
    pending = [(p["staff"], p["pupil"], p["duties"]["birthday"]) for p in comp["pairings"]
               if p["duties"].get("birthday", {}).get("status") == "pending"]
    by_staff: dict[str, list] = {}
    for staff, pupil, duty in pending:
        by_staff.setdefault(staff, []).append((pupil, duty))
    staff, mine = max(by_staff.items(), key=lambda kv: len(kv[1]))
    assert all(d["due"] == "2027-08-31" and d["aim"] and d["aim"] != d["due"] for _, d in mine), mine

    async def go():
        from textual.widgets import DataTable

        app = S.make_app(store_path, staff)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            table = app.query_one("#home-mine", DataTable)
            due = header(table).index(app.t("col.due"))
            shown_rows = {}
            for i, key in enumerate(table.rows):
                pupil, duty, _ = str(key.value).split("|")
                if duty == "birthday":
                    shown_rows[pupil] = str(table.get_row_at(i)[due])
            assert shown_rows == {p: app.t("home.birthday_on", date=d["aim"]) for p, d in mine}, shown_rows
            assert "2027-08-31" not in S.screen_text(app)

    run(go())


def test_m_in_the_pupils_tab_shows_only_my_pupils(facts, store_path):
    """A plain teacher presses m on 学生: only the pupils they mentor, and a line saying so; m
    again: everyone."""
    mentor = facts["mentor"]

    async def go():
        from textual.widgets import DataTable

        app = S.make_app(store_path, mentor)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "2")
            table = app.query_one("#pupil-table", DataTable)
            await S.wait_for(pilot, lambda: table.row_count > 10, 10, "the pupil list")
            everyone = table.row_count
            await S.settle(pilot)
            assert "m 我的学生" in S.screen_text(app).splitlines()[-1]
            await S.send_keys(pilot, "m")
            assert sorted(str(k.value) for k in table.rows) == facts["mentor_pupils"]
            assert app.t("pupils.mine_only") in S.screen_text(app)
            await S.send_keys(pilot, "m")
            assert table.row_count == everyone
            assert app.t("pupils.mine_only") not in S.screen_text(app)

    run(go())


def test_rates_and_money_read_as_people_read_them(facts, store_path):
    """Rates through shown.rate (86%, or - when nothing was owed), money through shown.money
    (250.00 元): the compliance tab's summary and tables, the aid tab's totals, ledger and notice."""
    from careterm import shown
    from projections.compliance import compliance
    from projections.views import aid_list

    ws = S.workspace(store_path, S.LEADER)
    model, day = ws.model_as_of(None, None)
    comp, ledger = compliance(model, day), aid_list(model, day)
    ws.close()

    async def go():
        from textual.widgets import DataTable, Static

        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "4")
            mentors = app.query_one("#compliance-mentors", DataTable)
            await S.wait_for(pilot, lambda: mentors.row_count > 0, 10, "the compliance tab")
            summary = str(app.query_one("#compliance-summary", Static).render())
            assert shown.rate(comp["school"]["rate"]) in summary
            assert [str(mentors.get_row_at(i)[2]) for i in range(mentors.row_count)] == [shown.rate(m["rate"]) for m in comp["mentors"]]
            await S.send_keys(pilot, "5")
            aid = app.query_one("#aid-table", DataTable)
            await S.wait_for(pilot, lambda: aid.row_count > 0, 10, "the aid tab")
            await S.settle(pilot)
            totals = str(app.query_one("#aid-totals", Static).render())
            for kind, total in ledger["totals"].items():
                assert f"{app.t(f'aid.{kind}')}: {shown.money(total)}" in totals, totals
            newest = ledger["grants"][-1]
            expected = shown.money(newest["amount"]) if newest["amount"] else newest["items"]
            assert str(aid.get_row_at(0)[3]) == expected
            notice = app.query_one("#aid-notice", DataTable)
            amounts = [str(notice.get_row_at(i)[3]) for i in range(notice.row_count)]
            assert any(a.endswith(" 元") for a in amounts) and not any(a.replace(".", "").isdigit() for a in amounts), amounts

    run(go())
