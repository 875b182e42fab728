"""The pupils tab's roster import (`i`), driven by keyboard only (Textual's Pilot, 80×24) on the
deterministic demo school (tests/tui_support.py), signed in as its leader.

The report is on the screen before anything is written (the store's head has not moved), a
report with a bad row cannot be written (Ctrl+S writes nothing), and Ctrl+S on a clean report
writes it whole: the new pupils' registrations and the amendment of the pupil already there,
recorded from the app (source tui).
"""

from __future__ import annotations

import datetime as dt

import openpyxl

import tui_support as S
from tui_support import head_of, new_events, run, started

HEADERS = ["学号", "姓名", "性别", "出生日期", "年级", "班级", "类别", "身份证号", "联系电话"]
ID_NUMBER = "11010520170301123X"  # a well-formed resident ID number (its check digit is right)


def roster(path, rows) -> str:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return str(path)


def screen_of(app) -> str:
    return S.screen_text(app)


def report_text(app) -> str:
    from textual.widgets import Static

    return str(app.screen.query_one("#import-report-text", Static).render())


def test_the_report_is_shown_before_writing_and_ctrl_s_writes_it(facts, store_path, tmp_path, monkeypatch):
    """Hand-worked: the good file has two new pupils (N1 王小丽 girl born 2017-03-01, N2 李小刚 boy
    born 2017-05-06 as typed, both grade 3 class 1) and the demo's pupil `facts["pupil"]` with a
    new phone 13900001111 -> added N1, N2; amended that pupil in 联系电话; the 身份证号 column
    ignored. The bad file's row 3 says 2017-02-30 -> one error on row 3, column 出生日期."""
    from careterm.tui.screens.import_roster import ImportRosterScreen

    exports = tmp_path / "exports"
    exports.mkdir()
    monkeypatch.setenv("CARETERM_EXPORT_DIR", str(exports))
    known = facts["pupil"]
    bad = roster(exports / "bad.xlsx", [
        ["N1", "王小丽", "女", dt.datetime(2017, 3, 1), "三年级", "1班", "留守儿童", ID_NUMBER, ""],
        ["N2", "李小刚", "男", "2017-02-30", "3", "1", "", "", ""],
    ])
    good = roster(exports / "good.xlsx", [
        ["N1", "王小丽", "女", dt.datetime(2017, 3, 1), "三年级", "1班", "留守儿童", ID_NUMBER, ""],
        ["N2", "李小刚", "男", "2017年5月6日", "3", "1", "家庭经济困难", "", ""],
        [known, None, None, None, None, None, None, None, "13900001111"],
    ])
    before = head_of(store_path)

    async def go():
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "2")
            await pilot.pause(0.3)
            await S.send_keys(pilot, "i")
            await S.wait_for(pilot, lambda: isinstance(app.screen, ImportRosterScreen), 5, "the import screen")
            screen = app.screen
            await S.wait_for(pilot, lambda: screen.files, 5, "the folder's files")
            text = screen_of(app)
            assert "good.xlsx" in text and "bad.xlsx" in text, text
            assert str(exports) in screen.query_one("#import-path").value

            # the bad file, its path typed
            await S.type_into(pilot, "import-path", bad)
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: screen.report is not None, 10, "the bad file's report")
            assert [(p.row, p.column, p.code) for p in screen.report.errors] == [(3, "出生日期", "bad_date")]
            shown = report_text(app)
            assert "第 3 行「出生日期」“2017-02-30”" in shown, shown
            assert "身份证号" in shown  # listed under the columns not imported
            await S.send_keys(pilot, "ctrl+s")
            await S.settle(pilot)
            assert isinstance(app.screen, ImportRosterScreen)
            assert head_of(store_path) == before  # nothing written

            # the good file, picked from the folder's list with the arrows
            await S.focus(pilot, "import-files")
            names = [p.name for p in screen.files]
            target = names.index("good.xlsx")
            current = screen.query_one("#import-files").highlighted or 0
            await S.send_keys(pilot, *["down" if target > current else "up"] * abs(target - current), "enter")
            await S.wait_for(pilot, lambda: screen.report is not None and screen.path == good, 10, "the good file's report")
            report = screen.report
            assert (report.added, report.amended, report.errors) == (["N1", "N2"], [known], [])
            assert report.changed == {known: ["phone"]}
            shown = report_text(app)
            assert "新增2个：N1、N2" in shown and f"修改1个：{known}（联系电话）" in shown, shown
            assert "Ctrl+S" in screen_of(app)
            assert head_of(store_path) == before  # shown, not written

            await S.send_keys(pilot, "ctrl+s")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, ImportRosterScreen), 15, "the write")
            await S.settle(pilot)

    run(go())
    written = new_events(store_path, before)
    assert [(e.type, e.pupil) for e in written] == [("PupilRegistered", "N1"), ("PupilRegistered", "N2"),
                                                   ("PupilAmended", known)]
    assert {e.source for e in written} == {"tui"} and {e.actor for e in written} == {S.LEADER}
    n1, n2, amended = written
    assert (n1.name, n1.gender, n1.birth, n1.grade, n1.class_, n1.categories) == (
        "王小丽", "F", dt.date(2017, 3, 1), 3, 1, ["left_behind"])
    assert (n2.birth, n2.categories) == (dt.date(2017, 5, 6), ["economic_hardship"])
    assert amended.changes == {"phone": "13900001111"}
    assert ID_NUMBER not in repr(written)


def test_the_import_screen_at_80x24_in_chinese(facts, store_path, tmp_path, monkeypatch):
    """Every part of the screen is in sight at 80×24: the title, the path, the folder's list, the
    report area and the two buttons; no English words of Textual's own."""
    from careterm.tui.screens.import_roster import ImportRosterScreen

    exports = tmp_path / "exports"
    exports.mkdir()
    monkeypatch.setenv("CARETERM_EXPORT_DIR", str(exports))
    roster(exports / "三年级一班.xlsx", [])

    async def go():
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            await S.send_keys(pilot, "2")
            await pilot.pause(0.3)
            await S.send_keys(pilot, "i")
            await S.wait_for(pilot, lambda: isinstance(app.screen, ImportRosterScreen) and app.screen.files, 5, "the screen")
            await S.settle(pilot)
            return screen_of(app)

    text = run(go())
    for words in ("导入学生名单", "三年级一班.xlsx", "写入 (Ctrl+S)", "取消 (Esc)", "检查只是读取表格"):
        assert words in text, text
