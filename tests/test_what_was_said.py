"""What was said in a contact (cli.md "What was said"; issue 13, item 1), end to end.

The real program on a copy of test_cli's base school (SQLite): staff admin (admin, leader), T1
(mentor of P1 since 2025-09-02), CT (class teacher of grade 3 class 2, P1's class), L1 leader;
P1 小明, left-behind, grade 3 class 2. Every contact below is dated after the base's last entry.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import msgspec
import pytest
from rich.cells import cell_len

from test_cli import School, sqlite_base, sqlite_school  # noqa: F401 - fixtures are used by name
from test_codec import write_raw

EMPTY = {"summary": "", "topics": [], "problem": "", "help_given": "", "medium": "", "minutes": None,
         "follow_up": "", "study": "", "thoughts": "", "life": "", "gift": ""}
SAID = tuple(EMPTY)


def said(row: dict) -> dict:
    """What was said of a history or --json row (the names the exports read)."""
    return {k: row["data"][k] for k in SAID}


def test_a_contact_carries_what_was_said(sqlite_school: School):
    """T1 records a talk with P1 on 2026-09-14 with every part. Typed: topics 学习、safety，家庭
    (a Chinese name, a code, a Chinese name; 、 and ， separate as a comma does), medium 电话 (its
    Chinese name), minutes 25, a summary of two lines. Stored, by hand: topics [study, safety,
    family] in the order typed, medium phone, minutes 25 (an int), the summary's two lines, the
    study/thoughts/life/gift parts empty; --note kept as it is. `history --json` shows the same
    under `data`; the text shows each part labelled under the row, the summary's second line
    starting in the same column as its first."""
    s = sqlite_school
    summary = "孩子说想妈妈，晚上睡不好。\n约定每周三和妈妈视频。"
    [row] = s.write("contact", "P1", "--kind", "talk", "--date", "2026-09-14", "--summary", summary,
                    "--topics", "学习、safety，家庭", "--medium", "电话", "--minutes", "25",
                    "--problem", "作业拖欠三次", "--help-given", "讲解错题，送了一本练习册",
                    "--follow-up", "下周一检查作业", "--note", "在办公室", actor="T1")
    expected = {**EMPTY, "summary": summary, "topics": ["study", "safety", "family"], "problem": "作业拖欠三次",
                "help_given": "讲解错题，送了一本练习册", "medium": "phone", "minutes": 25, "follow_up": "下周一检查作业"}
    assert said(row) == expected
    assert row["data"]["note"] == "在办公室" and row["data"]["kind"] == "talk"
    [shown] = [r for r in s.history("P1") if r["id"] == row["id"]]
    assert said(shown) == expected and shown["data"]["note"] == "在办公室"

    text = s("history", "P1", actor="T1")
    assert text.code == 0, text
    lines = text.out.splitlines()
    first = next(i for i, line in enumerate(lines) if "内容摘要：孩子说想妈妈" in line)
    assert lines[first + 1].strip() == "约定每周三和妈妈视频。"
    # the same column on a terminal (a Chinese character is two columns wide)
    assert cell_len(lines[first + 1][:lines[first + 1].index("约")]) == cell_len(lines[first][:lines[first].index("孩")])
    for words in ("方式：电话", "时长：25 分钟", "话题：学习、安全、家庭", "发现的问题：作业拖欠三次",
                  "给予的帮助：讲解错题，送了一本练习册", "后续跟进：下周一检查作业", "备注：在办公室"):
        assert any(line.strip() == words for line in lines), (words, text.out)
    english = s("--lang", "en", "history", "P1", actor="T1")
    assert "how：phone" in english.out and "topics：study, safety, family" in english.out, english


def test_the_semester_report_and_the_birthday_carry_their_own_parts(sqlite_school: School):
    """A semester_report carries 学习、思想、生活情况 (--study, --thoughts, --life, several lines
    each), a birthday its --gift; each stored under its own name, the other parts empty."""
    s = sqlite_school
    [report] = s.write("contact", "P1", "--kind", "semester_report", "--date", "2026-09-15",
                       "--study", "语文有进步。\n数学计算粗心。", "--thoughts", "懂礼貌，乐于助人", "--life", "能自己洗衣服",
                       "--medium", "message", actor="T1")
    assert said(report) == {**EMPTY, "study": "语文有进步。\n数学计算粗心。", "thoughts": "懂礼貌，乐于助人",
                            "life": "能自己洗衣服", "medium": "message"}
    [birthday] = s.write("contact", "P1", "--kind", "birthday", "--date", "2026-09-15", "--gift", "一本《十万个为什么》",
                         "--medium", "in person", actor="T1")  # the English name of in_person
    assert said(birthday) == {**EMPTY, "gift": "一本《十万个为什么》", "medium": "in_person"}
    text = s("history", "P1", actor="T1").out
    for words in ("学习情况：语文有进步。", "思想情况：懂礼貌，乐于助人", "生活情况：能自己洗衣服", "礼物：一本《十万个为什么》"):
        assert words in text, (words, text)


def test_a_contact_without_what_was_said_has_every_part_empty(sqlite_school: School):
    """`contact P1 --kind talk` as before: every part there, empty (minutes null)."""
    [row] = sqlite_school.write("contact", "P1", "--kind", "talk", "--date", "2026-09-14", actor="T1")
    assert said(row) == EMPTY


TALK = ("contact", "P1", "--kind", "talk", "--date", "2026-09-14")
SEMESTER = ("contact", "P1", "--kind", "semester_report", "--date", "2026-09-14")
BIRTHDAY = ("contact", "P1", "--kind", "birthday", "--date", "2026-09-14")


@pytest.mark.parametrize("args, option, words", [
    # the parts of one kind on another (refused.only_for_kind names the kind that carries it)
    (TALK + ("--study", "语文进步"), "--study", "学期反馈"),
    (BIRTHDAY + ("--thoughts", "积极"), "--thoughts", "学期反馈"),
    (TALK + ("--life", "规律"), "--life", "学期反馈"),
    (SEMESTER + ("--gift", "文具"), "--gift", "过生日"),
    # the vocabularies: allowed values said by their names
    (TALK + ("--topics", "学习,跳舞"), "--topics", "“跳舞”"),
    (TALK + ("--topics", "学习、安全、Study,学"), "--topics", "可选：学习、生活、思想、安全、健康、家庭"),
    (TALK + ("--medium", "fax"), "--medium", "可选：面谈、电话、视频、消息"),
    # minutes: ASCII digits, 1 to 600
    (TALK + ("--minutes", "0"), "--minutes", "应在 1 到 600 之间"),
    (TALK + ("--minutes", "601"), "--minutes", "应在 1 到 600 之间"),
    (TALK + ("--minutes", "３０"), "--minutes", "不是数字"),
    (TALK + ("--minutes", "20.5"), "--minutes", "不是数字"),
    (TALK + ("--minutes", "半小时"), "--minutes", "不是数字"),
    # control characters: none anywhere, a line break only in the texts of several lines
    (TALK + ("--summary", "好\x1b[31m红"), "--summary", "控制字符"),
    (TALK + ("--problem", "a\tb"), "--problem", "控制字符"),
    (TALK + ("--help-given", "a\u202eb"), "--help-given", "控制字符"),
    (TALK + ("--follow-up", "a\x07"), "--follow-up", "控制字符"),
    (BIRTHDAY + ("--gift", "文具\n一套"), "--gift", "控制字符"),
    (SEMESTER + ("--life", "a\rb"), "--life", "控制字符"),
])
def test_refusals_name_the_option_and_write_nothing(sqlite_school: School, args, option, words):
    """Exit 1, stderr names the option and says why, the store unchanged (School.refused)."""
    run = sqlite_school.refused(*args, field=option, actor="T1")
    assert words in run.err, run


def test_refusals_in_english_name_the_values(sqlite_school: School):
    run = sqlite_school.refused("--lang", "en", *TALK, "--medium", "传真", field="--medium", actor="T1")
    assert "in person, phone, video, message" in run.err, run
    run = sqlite_school.refused("--lang", "en", *TALK, "--gift", "pens", field="--gift", actor="T1")
    assert "only a birthday contact carries this" in run.err, run


# --- an old contact: stored before what was said existed (ContactMade schema 1) ------------------


def contact_v1(stream: str, version: int) -> bytes:
    """A ContactMade as schema 1 stored it (careterm before issue 13): the envelope, pupil, kind,
    by, and nothing of what was said."""
    return msgspec.json.encode({
        "id": uuid.uuid4().hex, "school": "s1", "stream": stream, "date": "2026-09-10", "actor": "T1",
        "source": "cli", "note": "旧记录：谈了学习", "corrects": None, "version": version,
        "recorded_at": "2026-09-10T09:00:00Z", "pupil": "P1", "kind": "talk", "by": "T1",
    })


def test_an_old_contact_loads_and_shows_with_every_part_empty(sqlite_school: School):
    """A schema-1 ContactMade written into the real SQLite store as careterm then stored it
    (topic `ContactMade`, the state encrypted with the store's key, chained, its school's head
    moved: test_codec.write_raw) next to a new one (topic `ContactMade.v2`). verify accepts the
    log; history reads both: the old one with its note and every part empty, the new one with
    its summary."""
    from helpers import RawDB

    s = sqlite_school
    with RawDB(s.url) as db:
        [(version,)] = db.sql("SELECT MAX(originator_version) FROM {events} WHERE originator_id = ?", ("s1/pupil/P1",))
    seq = write_raw(s.url, "s1/pupil/P1", version + 1, "ContactMade", contact_v1("s1/pupil/P1", version + 1))
    [new] = s.write("contact", "P1", "--kind", "talk", "--date", "2026-09-14", "--summary", "新记录", actor="T1")
    with RawDB(s.url) as db:
        topics = dict(db.sql("SELECT {seq}, topic FROM {events} WHERE {seq} IN (?, ?)", (seq, new["seq"])))
    assert topics == {seq: "ContactMade", new["seq"]: "ContactMade.v2"}
    assert s.verify()["events"] == new["seq"]

    rows = {r["seq"]: r for r in s.history("P1")}
    old = rows[seq]
    assert old["type"] == "ContactMade" and old["date"] == "2026-09-10"
    assert said(old) == EMPTY and old["data"]["note"] == "旧记录：谈了学习"
    assert said(rows[new["seq"]]) == {**EMPTY, "summary": "新记录"}
    text = s("history", "P1", actor="T1").out
    block = text.split(f"\n{seq}\t", 1)[1].split("\n")
    assert block[1].strip() == "备注：旧记录：谈了学习" and re.match(r"^\d+\t", block[2]), text  # the note, no parts


# --- counselling content: what was said of a `counseling` contact is withheld -------------------


def test_what_was_said_in_counselling_is_withheld_from_who_may_not_read_it(sqlite_school: School):
    """T1 (P1's mentor) records a counselling contact and a talk, both with a summary, topics,
    a medium and minutes. projections/visibility.py: counselling content is for counselors,
    leaders, auditors and the author. So, worked out by hand: CT (P1's class teacher, P1 in full
    view) reads the talk in full but the counselling contact only as held (kind, by, date;
    `withheld`, none of the parts); T1 (the author), L1 (a leader) and C1 (a counselor) read it
    in full. The app's rows (visible_event, on the stored event) blank every part for CT."""
    from events.saved import load
    from events.store import Store
    from projections.visibility import viewer_of, visible_event

    s = sqlite_school
    s.write("staff", "add", "C1", "--name", "郑老师", "--role", "counselor", "--date", "2026-09-01")
    content = ("--summary", "聊到父母离婚的事，哭了。", "--topics", "family,thoughts", "--medium", "in_person",
               "--minutes", "40", "--problem", "情绪低落", "--help-given", "倾听，沙盘", "--follow-up", "两周后再约")
    [counselling] = s.write("contact", "P1", "--kind", "counseling", "--date", "2026-09-14", *content, actor="T1")
    [talk] = s.write("contact", "P1", "--kind", "talk", "--date", "2026-09-14", *content, actor="T1")
    full = said(counselling)
    assert full["summary"] and full["topics"] == ["family", "thoughts"] and full["minutes"] == 40

    def seen_by(reader: str) -> dict[str, dict]:
        return {r["id"]: r for r in School(s.url, reader=reader).history("P1")}

    for reader in ("T1", "L1", "C1"):
        rows = seen_by(reader)
        assert said(rows[counselling["id"]]) == full and not rows[counselling["id"]].get("withheld"), reader
    rows = seen_by("CT")
    held = rows[counselling["id"]]
    assert held["withheld"] is True
    assert held["data"] == {"pupil": "P1", "kind": "counseling", "by": "T1"}
    assert said(rows[talk["id"]]) == full  # a talk is not counselling content
    text = School(s.url, reader="CT")("history", "P1", actor="CT").out
    assert "聊到父母离婚" in text and text.count("聊到父母离婚") == 1  # the talk's, not the counselling's

    with Store(s.url) as store:
        model = load(store, "s1")
        event = next(e for _, e in store.read() if e.id == counselling["id"])
    blank, withheld = visible_event(viewer_of(model, "CT"), model, event)
    assert withheld and (blank.kind, blank.by, blank.pupil) == ("counseling", "T1", "P1")
    assert {k: getattr(blank, k) for k in SAID} == EMPTY and blank.note == ""
    same, withheld = visible_event(viewer_of(model, "C1"), model, event)
    assert not withheld and same.summary == "聊到父母离婚的事，哭了。"


def test_what_was_said_in_a_talk_corrected_to_counselling_is_withheld(sqlite_school: School):
    """T1 records a talk with a summary and a note; L1 (a leader) corrects its kind to counselling.
    From then on it is counselling content (visibility.counselling_entry judges by the kind a record
    has now, as well as the kind it was recorded with): CT (P1's class teacher) reads it only as
    held, in `history` and in the stored event the app shows; T1 (the author) still reads it. And
    the other way round: counselling corrected to a talk stays withheld from CT."""
    from events.saved import load
    from events.store import Store
    from projections.visibility import viewer_of, visible_event

    s = sqlite_school
    [talk] = s.write("contact", "P1", "--kind", "talk", "--date", "2026-09-14", "--summary", "SECRET-SAID",
                     "--note", "NOTE-SECRET", actor="T1")
    s.write("correct", talk["id"], "--reason", "其实是心理辅导", "--to-kind", "counseling", actor="L1")
    [counselling] = s.write("contact", "P1", "--kind", "counseling", "--date", "2026-09-15", "--summary",
                            "SECRET-TWO", actor="T1")
    s.write("correct", counselling["id"], "--reason", "记错了类型", "--to-kind", "talk", actor="L1")
    for entry in (talk, counselling):
        rows = {r["id"]: r for r in School(s.url, reader="CT").history("P1")}
        assert rows[entry["id"]].get("withheld") is True, rows[entry["id"]]
        assert "summary" not in rows[entry["id"]]["data"], rows[entry["id"]]
    text = School(s.url, reader="CT")("history", "P1", actor="CT").out
    assert "SECRET" not in text, text
    assert "SECRET-SAID" in School(s.url, reader="T1")("history", "P1", actor="T1").out
    with Store(s.url) as store:
        model = load(store, "s1")
        event = next(e for _, e in store.read() if e.id == talk["id"])
    blank, withheld = visible_event(viewer_of(model, "CT"), model, event)
    assert withheld and blank.summary == "" and blank.note == ""


def test_the_control_characters_refused_are_the_unicode_categories():
    """commands.clean_text finds control characters with one regex (fast over what was said):
    the characters it refuses are exactly those of categories Cc, Zl and Zp and the
    bidirectional controls, over every code point; a line break passes only in texts of several
    lines (summary), never in one line (gift)."""
    import sys
    import unicodedata

    from events import commands as C
    from events.errors import Refused

    every = [chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
    wanted = {c for c in every if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in C.BIDI_CONTROLS}
    assert {c for c in every if C._CONTROL.search(c)} == wanted
    assert {c for c in every if C._CONTROL_BUT_LINE_BREAK.search(c)} == wanted - {"\n"}
    assert C.clean_text("第一行\n第二行", "--summary", multiline=True) == "第一行\n第二行"
    with pytest.raises(Refused) as refused:
        C.clean_text("文具\n一套", "--gift")
    assert (refused.value.field, refused.value.code) == ("--gift", "control_character")


# --- the app: the contact form and the pupil's file (Pilot, 80x24, a copy of the demo) -----------


def test_the_pupil_file_shows_a_multi_line_summary_under_the_cursor(facts, store_path):
    """The mentor records a talk today with a summary of three lines, topics, medium and
    minutes (through the workspace, as the form does); in the pupil's file the newest entry is
    under the cursor, marked ✎, and the panel under the table shows, worked out by hand:
    记录（#N）：方式：面谈　时长：15 分钟　话题：学习、安全 then 内容摘要：第一行 and the two next lines
    each starting in the same column as the first, then 备注（#N）：…. Enter shows the same in a
    window of its own; Esc closes it."""
    import tui_support as S
    from events import commands as C
    from textual.widgets import DataTable

    from careterm.tui.screens.pupil import PupilScreen, SaidScreen

    ws = S.workspace(store_path, facts["mentor"])
    [event] = ws.record(lambda st, ctx: C.contact(
        st, ctx, facts["pupil"], kind="talk", summary="数学作业没写完。\n原因：放学后帮奶奶喂猪。\n约定先写作业再干活。",
        topics=["study", "safety"], medium="in_person", minutes=15), note="课间")
    ws.close()
    seq = S.head_of(store_path)

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            app.push_screen(PupilScreen(facts["pupil"]))
            await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
            table = app.screen.query_one("#pupil-timeline", DataTable)
            await S.wait_for(pilot, lambda: table.row_count > 0, 10, "the timeline")
            await S.settle(pilot)
            assert table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value == event.id
            assert "谈心 ✎" in S.screen_text(app)
            panel = str(app.screen.query_one("#pupil-entry").render()).splitlines()
            assert [line.rstrip() for line in panel] == [
                f"记录（#{seq}）：方式：面谈　时长：15 分钟　话题：学习、安全",
                "内容摘要：数学作业没写完。",
                "          原因：放学后帮奶奶喂猪。",
                "          约定先写作业再干活。",
                f"备注（#{seq}）：课间",
            ], panel
            shown = S.screen_text(app)
            assert "          原因：放学后帮奶奶喂猪。" in shown and "约定先写作业再干活。" in shown
            table.focus()
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: isinstance(app.screen, SaidScreen), 5, "the entry in full")
            assert "          约定先写作业再干活。" in S.screen_text(app)
            await S.send_keys(pilot, "escape")
            await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "back to the file")

    S.run(go())


def test_the_contact_form_records_what_was_said_and_shows_a_kinds_own_parts(facts, store_path):
    """`n` on Home, at 80x24: the form scrolls. With the kind a talk, the semester report's
    学习、思想、生活 fields are hidden; chosen semester_report, they show, typed, and a gift field
    never shows. Tab from the first field goes down the form to the note, Save and Cancel last
    (docked buttons used to come third). Topics ticked with Space, the summary of two lines
    (Enter is a new line there), minutes typed; Ctrl+S at the bottom of the scrolled form saves one
    ContactMade with exactly these parts."""
    import tui_support as S
    from careterm.tui.forms import FormScreen

    before = S.head_of(store_path)

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            await S.send_keys(pilot, "n")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the contact form")
            form = app.screen
            await S.settle(pilot)
            await S.type_into(pilot, "f-pupil-id", facts["pupil"])
            await S.choose(pilot, "f-kind", "talk")
            hidden = {f"f-{name}": form.query_one(f"#f-{name}").display for name in ("study", "thoughts", "life", "gift")}
            assert hidden == dict.fromkeys(hidden, False)
            chain = [w.id for w in form.focus_chain]
            assert chain[-2:] == ["save", "cancel"] and chain.index("f-note") == len(chain) - 3, chain
            await S.choose(pilot, "f-kind", "semester_report")
            assert [form.query_one(f"#f-{n}").display for n in ("study", "thoughts", "life", "gift")] == [True, True, True, False]
            await S.choose(pilot, "f-medium", "phone")
            await S.type_into(pilot, "f-minutes", "20")
            await S.focus(pilot, "f-topics")
            for key in ("space", "down", "down", "space"):  # 学习, 思想 (one key at a time, as a person ticks)
                await S.send_keys(pilot, key)
            await S.focus(pilot, "f-summary")
            await S.send_keys(pilot, *"电话反馈", "enter", *"家长满意")
            await S.focus(pilot, "f-study", 10)
            await S.send_keys(pilot, *"语文进步")
            await S.focus(pilot, "f-life", 10)
            await S.send_keys(pilot, *"按时睡觉")
            assert form.query_one("#form").scroll_y > 0  # the form had to scroll to get here
            await S.send_keys(pilot, "ctrl+s")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 10, "the form to save")

    S.run(go())
    [event] = S.new_events(store_path, before)
    assert (event.type, event.pupil, event.kind) == ("ContactMade", facts["pupil"], "semester_report")
    assert {k: getattr(event, k) for k in SAID} == {
        **EMPTY, "medium": "phone", "minutes": 20, "topics": ["study", "thoughts"], "summary": "电话反馈\n家长满意",
        "study": "语文进步", "life": "按时睡觉"}


def test_a_part_of_another_kind_typed_then_hidden_is_not_given(facts, store_path):
    """Typed in 学习情况 while the kind was semester_report, then the kind changed to talk: the
    field hides and the talk is saved without it (not refused for a part the form no longer shows)."""
    import tui_support as S
    from careterm.tui.forms import FormScreen

    before = S.head_of(store_path)

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            await S.send_keys(pilot, "n")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the contact form")
            await S.type_into(pilot, "f-pupil-id", facts["pupil"])
            await S.choose(pilot, "f-kind", "semester_report")
            await S.focus(pilot, "f-study", 15)
            await S.send_keys(pilot, *"语文进步")
            await S.choose(pilot, "f-kind", "talk")
            await S.send_keys(pilot, "ctrl+s")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 10, "the form to save")

    S.run(go())
    [event] = S.new_events(store_path, before)
    assert (event.kind, event.study) == ("talk", "")


def test_the_audit_entry_in_full_names_what_was_said():
    """The audit's entry in full (Enter on the trail: screens/entry.field_words) shows what was
    said by names, never by codes: 方式 电话, 时长 20 分钟, 话题 学习、安全, 内容摘要 as typed; in
    English phone, 20 min, study, safety. The empty parts are left out."""
    import datetime as dt

    from careterm.i18n import Translator
    from careterm.tui.screens.entry import field_words
    from events.types import ContactMade

    event = ContactMade(id="e1", school="s1", stream="s1/pupil/P1", date=dt.date(2026, 9, 14), actor="T1",
                        pupil="P1", kind="talk", by="T1", summary="谈了学习", topics=["study", "safety"],
                        medium="phone", minutes=20)
    names = {"pupil": {"P1": "小明"}, "staff": {"T1": "王老师"}}
    zh = dict(field_words(Translator("zh"), event, names, {}))
    assert {k: zh[k] for k in ("方式", "时长", "话题", "内容摘要")} == {
        "方式": "电话", "时长": "20 分钟", "话题": "学习、安全", "内容摘要": "谈了学习"}
    assert not {"问题", "发现的问题", "礼物", "学习情况"} & set(zh)
    en = dict(field_words(Translator("en"), event, names, {}))
    assert (en["how"], en["length"], en["topics"]) == ("phone", "20 min", "study, safety")
