"""The Word documents (cli.md "Export"; issue 13 items 3 and 4): `export handbook|report|archive …
--out FILE.docx`, run as the real program on a real SQLite store, each file re-read with
python-docx (and, where LibreOffice is on the machine, converted to PDF and its pages counted).

The school: the base school of tests/test_cli.py (T1 mentors P1, a talk by T1 on 2025-10-10; CT
is the class teacher of 3-2; L1 a leader; AU an auditor; P2 has a living subsidy of 500 and an
incident 房屋受损; P5 graduated on 2026-06-30), and, built on it once for this module
(`mentor_school`): capacity 4 from 2025-09-01; a counselor CO; three more mentees of T1 from
2025-09-03: Q1 (left_behind, 4-1), Q2 (orphan, 3-2: CT's class), Q3 (economic_hardship, 5-1);
Q1's file amended on 2025-09-04 with a family text Q1-FAMILY and a mental state Q1-MENTAL-SECRET;
their contacts, with what was said where `contact` takes it (the other half of issue 13):

| pupil | date | kind | by | summary (SAID) |
|---|---|---|---|---|
| Q1 | 2025-09-15 | talk | T1 | Q1-TALK-SUMMARY … (topics family,thoughts; problem, help given, in person, 30 min, follow-up) |
| Q1 | 2025-12-20 | semester_report | T1 | study Q1-STUDY, thoughts Q1-THOUGHTS, life Q1-LIFE |
| Q2 | 2025-11-20 | home_visit | T1 | Q2-VISIT-SUMMARY |
| Q2 | 2026-01-05 | talk | CT | Q2-CT-SUMMARY |
| Q2 | 2026-05-20 | birthday | T1 | gift Q2-GIFT |
| Q3 | 2026-03-05 | parent_phone_visit | T1 | Q3-PHONE-SUMMARY (phone, 10 min) |
| Q3 | 2026-04-10 | counseling | CO | Q3-COUNSEL-SECRET |
| Q3 | 2026-07-10 | talk | T1 | Q3-OUT-OF-RANGE |

and the inspections of T1's handbook: ok on 2026-01-10 (by L1), needs_improvement on 2026-06-01
(by AU). The handbook's range in these tests: 2025-09-01 to 2026-06-30.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from test_cli import CJK, School, careterm, school_today, sqlite_base  # noqa: F401 - fixtures are used by name

docx = pytest.importorskip("docx")

FROM, TO = "2025-09-01", "2026-06-30"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# (pupil, date, kind, by, said options): what was said goes in only where `contact` takes it
CONTACTS = (
    ("Q1", "2025-09-15", "talk", "T1", ("--summary", "Q1-TALK-SUMMARY 孩子说想念在外打工的妈妈\n第二行", "--topics", "family,thoughts",
                                        "--problem", "Q1-PROBLEM", "--help-given", "Q1-HELP", "--medium", "in_person",
                                        "--minutes", "30", "--follow-up", "Q1-FOLLOW-UP")),
    ("Q1", "2025-12-20", "semester_report", "T1", ("--study", "Q1-STUDY 数学进步明显", "--thoughts", "Q1-THOUGHTS 开朗了许多",
                                                   "--life", "Q1-LIFE 能自己整理床铺")),
    ("Q2", "2025-11-20", "home_visit", "T1", ("--summary", "Q2-VISIT-SUMMARY", "--medium", "in_person", "--minutes", "60")),
    ("Q2", "2026-01-05", "talk", "CT", ("--summary", "Q2-CT-SUMMARY",)),
    ("Q2", "2026-05-20", "birthday", "T1", ("--gift", "Q2-GIFT",)),
    ("Q3", "2026-03-05", "parent_phone_visit", "T1", ("--summary", "Q3-PHONE-SUMMARY", "--medium", "phone", "--minutes", "10")),
    ("Q3", "2026-04-10", "counseling", "CO", ("--summary", "Q3-COUNSEL-SECRET",)),
    ("Q3", "2026-07-10", "talk", "T1", ("--summary", "Q3-OUT-OF-RANGE",)),
)
CATEGORY_WORDS = ("留守", "孤儿", "困境", "残疾", "经济困难", "低保", "学困", "心理困扰", "left-behind", "orphan")


def said_on_cli() -> bool:
    """Whether `contact` takes what was said yet (--summary …: cli.md "What was said")."""
    return "--summary" in careterm("contact", "--help").out


@pytest.fixture(scope="module")
def built(sqlite_base, tmp_path_factory) -> tuple[str, bool]:
    """(the mentor school's file, whether its contacts carry what was said), built once."""
    url = str(tmp_path_factory.mktemp("documents") / "mentors.sqlite")
    shutil.copy(sqlite_base.url, url)
    s = School(url, dict(sqlite_base.ids), None)
    said = said_on_cli()
    s.write("rules", "set", "--capacity", "4", "--date", "2025-09-01")
    s.write("staff", "add", "CO", "--name", "吴老师", "--role", "counselor", "--date", "2025-09-01")
    for pupil, name, category, grade, class_ in (("Q1", "小强", "left_behind", "4", "1"), ("Q2", "小丽", "orphan", "3", "2"),
                                                 ("Q3", "小东", "economic_hardship", "5", "1")):
        s.write("pupil", "add", pupil, "--name", name, "--gender", "M", "--birth", "2016-06-01", "--grade", grade,
                "--class", class_, "--category", category, "--guardian", "王奶奶,祖母,13900000000",
                "--parent", "王大山,父亲,广东东莞电子厂,13700000000", "--date", "2025-09-01")
        s.write("pair", "T1", pupil, "--date", "2025-09-03")
    s.write("pupil", "amend", "Q1", "--family", "Q1-FAMILY 父母在东莞打工", "--mental", "Q1-MENTAL-SECRET", "--date", "2025-09-04")
    for pupil, day, kind, by, options in CONTACTS:
        s.write("contact", pupil, "--kind", kind, "--date", day, *(options if said else ()), actor=by)
    s.write("inspect", "T1", "--result", "ok", "--date", "2026-01-10", actor="L1")
    s.write("inspect", "T1", "--result", "needs_improvement", "--date", "2026-06-01", actor="AU")
    return url, said


@pytest.fixture
def school(built, tmp_path) -> School:
    """A copy of the mentor school for this test (an export adds rows to its access log)."""
    url = str(tmp_path / "store.sqlite")
    shutil.copy(built[0], url)
    return School(url)


@pytest.fixture
def said(built) -> bool:
    return built[1]


def needs_said(said: bool) -> None:
    if not said:
        pytest.skip("`contact` does not take --summary … yet (cli.md 'What was said': the other half of issue 13)")


# --- reading a .docx back ---------------------------------------------------------------------

def cells_text(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def body_text(document) -> str:
    """Every paragraph and every table cell, in order."""
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell for row in cells_text(table) for cell in row]
    return "\n".join(parts)


def export(school: School, *args: str, actor: str = "T1", out: Path, lang: str | None = None) -> dict:
    run = school("export", *args, "--out", str(out), "--json", actor=actor, lang=lang)
    assert run.code == 0, run
    found = run.json()
    assert found["out"] == str(out), found
    assert out.exists()
    return found


def access(school: School) -> list[tuple[str, str, str]]:
    rows = school.read("access", actor="L1")["access"]
    return [(r["actor"], r["pupil"], r["via"]) for r in rows]


# --- the page ---------------------------------------------------------------------------------

def test_the_page_is_a4_in_songti_with_the_school_the_date_and_page_numbers(school, tmp_path):
    """The handbook of T1 for 2025-09-01..2026-06-30: A4 (210 × 297 mm) portrait; margins of
    22–28 mm; the body style Normal in 宋体 for Latin (ascii, hAnsi) and for Chinese (eastAsia);
    headings in black; the header says 石砚小学 and today's date (the school's date, as
    YYYY-MM-DD); the footer holds a PAGE and a NUMPAGES field; every table has single borders
    on all six edges."""
    out = tmp_path / "handbook.docx"
    export(school, "handbook", "T1", "--from", FROM, "--to", TO, out=out)
    d = docx.Document(str(out))
    section = d.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    for margin in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin):
        assert 20 <= margin.mm <= 30, margin.mm
    fonts = d.styles["Normal"].element.rPr.find(f"{W}rFonts")
    assert (fonts.get(f"{W}ascii"), fonts.get(f"{W}hAnsi"), fonts.get(f"{W}eastAsia")) == ("宋体", "宋体", "宋体")
    assert d.styles["Heading 1"].font.color.rgb == docx.shared.RGBColor(0, 0, 0)
    header = section.header.paragraphs[0].text
    assert "石砚小学" in header and school_today().isoformat() in header, header
    footer = section.footer._element.xml
    assert re.search(r"<w:instrText[^>]*> PAGE </w:instrText>", footer), footer
    assert re.search(r"<w:instrText[^>]*> NUMPAGES </w:instrText>", footer), footer
    assert d.tables
    for table in d.tables:
        borders = table._tbl.tblPr.find(f"{W}tblBorders")
        assert borders is not None
        assert {b.tag.removeprefix(W): b.get(f"{W}val") for b in borders} == dict.fromkeys(
            ("top", "left", "bottom", "right", "insideH", "insideV"), "single")


# --- the handbook -----------------------------------------------------------------------------

def test_the_handbook_has_a_part_per_mentee_on_new_pages(school, tmp_path):
    """T1's mentees in the range, by when the pairing began: P1 (since 2025-09-02), then Q1, Q2,
    Q3 (since 2025-09-03). Each has a heading 1 "N. name（id）" that starts a new page, then
    its profile page (name, 学号, categories, guardian 王奶奶 with her phone, the father 王大山
    with his workplace 广东东莞电子厂 and phone), the help plan, the duties and the contacts.
    T1's contacts in the range: P1 1 (the talk of 2025-10-10), Q1 2, Q2 3, Q3 2 (the talk of
    2026-07-10 is after the range): 8. The inspections: 2 (合格, 需改进)."""
    out = tmp_path / "handbook.docx"
    found = export(school, "handbook", "T1", "--from", FROM, "--to", TO, out=out)
    assert (found["mentees"], found["contacts"], found["inspections"]) == (4, 8, 2), found
    assert (found["from"], found["to"]) == (FROM, TO)
    d = docx.Document(str(out))
    paragraphs = d.paragraphs
    mentee_heads = [i for i, p in enumerate(paragraphs) if p.style.name == "Heading 1" and re.match(r"\d\. ", p.text)]
    assert [paragraphs[i].text for i in mentee_heads] == ["1. 小明（P1）", "2. 小强（Q1）", "3. 小丽（Q2）", "4. 小东（Q3）"]
    for i in mentee_heads:
        assert paragraphs[i].paragraph_format.page_break_before, "not on a new page: " + paragraphs[i].text
    text = body_text(d)
    for words in ("王奶奶", "13900000000", "王大山", "广东东莞电子厂", "13700000000", "孤儿", "留守儿童", "帮扶计划", "履职情况",
                  "合格", "需改进", "2026-01-10", "2026-06-01", "刘主任", "孙督导"):
        assert words in text, words


def test_the_handbook_holds_every_contact_of_the_range_with_what_was_said(school, said, tmp_path):
    """Every contact of T1's mentees inside 2025-09-01..2026-06-30 is a row of its mentee's
    contacts table, in date order, with its summary and the rest of what was said: Q1's talk
    (话题 家庭、思想; Q1-PROBLEM; Q1-HELP; 面谈 · 30 分钟; Q1-FOLLOW-UP; both lines of the summary),
    Q1's semester report (Q1-STUDY, Q1-THOUGHTS, Q1-LIFE), Q2's home visit (Q2-VISIT-SUMMARY,
    60 分钟), the class teacher's talk with Q2 (Q2-CT-SUMMARY, recorded by 陈老师), Q2's birthday
    (Q2-GIFT), Q3's phone visit (Q3-PHONE-SUMMARY, 电话). Q3's talk of 2026-07-10 is outside the
    range: not there. Q3's counselling by CO is there as held, its content withheld from T1 (not
    a counselor, not its author): Q3-COUNSEL-SECRET is nowhere; a leader's copy has it."""
    needs_said(said)
    out = tmp_path / "handbook.docx"
    export(school, "handbook", "T1", "--from", FROM, "--to", TO, out=out)
    d = docx.Document(str(out))
    contact_rows = [row for table in d.tables for row in cells_text(table) if re.fullmatch(r"\d{4}-\d\d-\d\d", row[0])
                    and len(row) == 4]
    by_date = {row[0]: row for row in contact_rows}
    assert [r[0] for r in contact_rows if r[0] in {c[1] for c in CONTACTS}] == [
        "2025-09-15", "2025-12-20", "2025-11-20", "2026-01-05", "2026-05-20", "2026-03-05", "2026-04-10"]
    talk = by_date["2025-09-15"]
    for words in ("Q1-TALK-SUMMARY 孩子说想念在外打工的妈妈\n第二行", "Q1-PROBLEM", "Q1-HELP", "Q1-FOLLOW-UP", "家庭", "思想"):
        assert words in talk[2], (words, talk)
    assert "30 分钟" in talk[1] and "谈心" in talk[1], talk
    assert all(w in by_date["2025-12-20"][2] for w in ("Q1-STUDY", "Q1-THOUGHTS", "Q1-LIFE"))
    assert "Q2-VISIT-SUMMARY" in by_date["2025-11-20"][2] and "60 分钟" in by_date["2025-11-20"][1]
    assert "Q2-CT-SUMMARY" in by_date["2026-01-05"][2] and by_date["2026-01-05"][3] == "陈老师"
    assert "Q2-GIFT" in by_date["2026-05-20"][2]
    assert "Q3-PHONE-SUMMARY" in by_date["2026-03-05"][2]
    text = body_text(d)
    assert "Q3-OUT-OF-RANGE" not in text
    assert "Q3-COUNSEL-SECRET" not in text and "心理辅导记录" in by_date["2026-04-10"][2]
    leaders = tmp_path / "leaders.docx"
    export(school, "handbook", "T1", "--from", FROM, "--to", TO, out=leaders, actor="L1")
    assert "Q3-COUNSEL-SECRET" in body_text(docx.Document(str(leaders)))


def test_the_handbook_reads_what_was_said_by_its_names_and_missing_ones_are_empty(school, said):
    """The handbook's data, gathered without Word (handbook.gather over the real store, as T1):
    P1's talk of 2025-10-10 was recorded without anything said: its `said` is {} and its note
    empty; with what was said on the command line, Q2's home visit carries exactly summary,
    medium and minutes (60), and nothing else."""
    from careterm.paperwork import handbook as H
    from careterm.paperwork import records as R
    from careterm.workspace import Workspace
    from projections.visibility import viewer_of

    ws = Workspace(school.url, actor="T1")
    try:
        model, day = ws.model_as_of(None, None)
        start, end = dt.date.fromisoformat(FROM), dt.date.fromisoformat(TO)
        pupils = H.mentee_ids(model, "T1", start, end)
        assert pupils == ["P1", "Q1", "Q2", "Q3"]
        rows = R.said_rows(ws.store(), ws.school_id(), pupils)
        h = H.gather(model, day, viewer_of(model, "T1"), "T1", start, end, rows)
    finally:
        ws.close()
    [p1_talk] = h.mentees[0].contacts
    assert (p1_talk.date, p1_talk.kind, p1_talk.by, p1_talk.said, p1_talk.note) == (dt.date(2025, 10, 10), "talk", "T1", {}, "")
    if said:
        visit = next(c for c in h.mentees[2].contacts if c.kind == "home_visit")
        assert visit.said == {"summary": "Q2-VISIT-SUMMARY", "medium": "in_person", "minutes": 60}


def test_the_default_range_is_the_current_school_year(school, tmp_path):
    """Without --from and --to: from 1 September of the current school year to today."""
    today = school_today()
    first = dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    found = export(school, "handbook", "T1", out=tmp_path / "h.docx")
    assert (found["from"], found["to"]) == (first.isoformat(), today.isoformat()), found


def test_a_teacher_may_export_only_their_own_handbook(school, tmp_path):
    """T2 asking for T1's handbook: refused (exit 1) naming STAFF_ID, no file, nothing in the
    access log. T1 themselves, the leader L1 and the auditor AU may: one "export" row per
    mentee each (P1, Q1, Q2, Q3), in that order, by who exported."""
    out = tmp_path / "theirs.docx"
    run = school("export", "handbook", "T1", "--from", FROM, "--to", TO, "--out", str(out), actor="T2")
    assert run.code == 1, run
    assert "STAFF_ID" in run.err and "T1" in run.err and CJK.search(run.err), run
    assert not out.exists()
    assert access(school) == []
    for actor in ("T1", "L1", "AU"):
        export(school, "handbook", "T1", "--from", FROM, "--to", TO, out=tmp_path / f"{actor}.docx", actor=actor)
    assert access(school) == [(actor, pupil, "export") for actor in ("T1", "L1", "AU") for pupil in ("P1", "Q1", "Q2", "Q3")]


def test_refusals_name_the_option_or_value(school, tmp_path):
    """Exit 1, the option or value named on stderr, no file, nothing logged: --out not .docx
    (handbook.doc, report.pdf, archive.xlsx); an unknown staff id (NOBODY); an unknown pupil (P9);
    an unknown semester (2019-2020-1: the school opened in 2025); --to before --from."""
    cases = (
        (("handbook", "T1", "--out", str(tmp_path / "handbook.doc")), "--out"),
        (("report", "Q1", "--semester", "2025-2026-1", "--out", str(tmp_path / "report.pdf")), "--out"),
        (("archive", "Q1", "--out", str(tmp_path / "archive.xlsx")), "--out"),
        (("handbook", "NOBODY", "--out", str(tmp_path / "a.docx")), "NOBODY"),
        (("report", "P9", "--semester", "2025-2026-1", "--out", str(tmp_path / "b.docx")), "P9"),
        (("archive", "P9", "--out", str(tmp_path / "c.docx")), "P9"),
        (("report", "Q1", "--semester", "2019-2020-1", "--out", str(tmp_path / "d.docx")), "2019-2020-1"),
        (("handbook", "T1", "--from", "2026-01-01", "--to", "2025-12-01", "--out", str(tmp_path / "e.docx")), "--to"),
    )
    for args, named in cases:
        run = school("export", *args, actor="L1")
        assert run.code == 1 and named in run.err and run.out == "", run
    assert list(tmp_path.glob("*.doc*")) == [] and not list(tmp_path.glob("*.pdf")) and not list(tmp_path.glob("*.xlsx"))
    assert access(school) == []


# --- the semester sheet -----------------------------------------------------------------------

def test_the_semester_sheet_holds_the_three_parts_and_nothing_the_parents_should_not_see(school, said, tmp_path):
    """Q1 (left_behind, guardian 王奶奶 13900000000, father at 广东东莞电子厂) in semester
    2025-2026-1 (no terms: 2025-09-01 to 2026-01-31), exported by T1: the sheet names Q1 (小强),
    4 年级 1 班, the semester and the mentor 王老师, and the headings 学习情况, 思想情况, 生活情况
    hold the semester report's Q1-STUDY, Q1-THOUGHTS, Q1-LIFE (with what was said on the command
    line). No category word, no phone, no workplace, no other contact's words (Q1-TALK-SUMMARY).
    One "export" row for Q1 by T1."""
    out = tmp_path / "sheet.docx"
    found = export(school, "report", "Q1", "--semester", "2025-2026-1", out=out)
    assert (found["semester"], found["from"], found["to"], found["reports"]) == ("2025-2026-1", "2025-09-01", "2026-01-31", 1)
    d = docx.Document(str(out))
    text = body_text(d) + "\n".join(p.text for p in d.sections[0].header.paragraphs)
    for words in ("小强", "4 年级 1 班", "2025-2026-1", "王老师", "学习情况", "思想情况", "生活情况", "家长意见"):
        assert words in text, words
    for words in (*CATEGORY_WORDS, "13900000000", "13700000000", "广东东莞电子厂", "王大山", "Q1-TALK-SUMMARY", "Q1-PROBLEM"):
        assert words not in text, words
    if said:
        headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
        boxes = [t.rows[0].cells[0].text for t in d.tables if len(t.rows) == 1 and len(t.columns) == 1]
        parts = dict(zip(headings[-4:-1], boxes[:3]))
        assert parts == {"学习情况": "Q1-STUDY 数学进步明显", "思想情况": "Q1-THOUGHTS 开朗了许多", "生活情况": "Q1-LIFE 能自己整理床铺"}, parts
    assert access(school) == [("T1", "Q1", "export")]


def test_the_semester_is_found_by_the_schools_names(school, tmp_path):
    """With terms: `terms add --name 2026春季学期 --start 2026-03-02 --end 2026-07-03` makes that name
    a semester running to the day before the next term (none: at least to its end), and the
    default names before the first term still resolve (2025-2026-1)."""
    school.write("terms", "add", "--name", "2026春季学期", "--start", "2026-03-02", "--end", "2026-07-03", "--date", "2026-02-20")
    found = export(school, "report", "Q2", "--semester", "2026春季学期", out=tmp_path / "s.docx", actor="L1")
    assert (found["from"], found["semester"]) == ("2026-03-02", "2026春季学期"), found
    assert found["to"] >= "2026-07-03"
    found = export(school, "report", "Q2", "--semester", "2025-2026-1", out=tmp_path / "t.docx", actor="L1")
    assert (found["from"], found["to"]) == ("2025-09-01", "2026-01-31"), found


# --- the pupil's archive ----------------------------------------------------------------------

def test_the_archive_holds_the_whole_file_for_who_may_see_the_pupil(school, tmp_path):
    """P2 (economic_hardship; living subsidy 500.00 on 2025-10-01; incident 生活用品 房屋受损 on
    2025-11-01, open; no mentor) exported by L1: its profile, category 家庭经济困难 since
    2025-09-01, the grant (生活补助, 500.00 元), the incident, and the contacts section. P5's
    archive has its graduation of 2026-06-30. T1 may not export P2's (not in T1's view): exit 1
    naming P2, nothing logged for it."""
    out = tmp_path / "p2.docx"
    found = export(school, "archive", "P2", out=out, actor="L1")
    assert (found["grants"], found["incidents"]) == (1, 1), found
    text = body_text(docx.Document(str(out)))
    for words in ("小红", "家庭经济困难", "生活补助", "500.00 元", "2025-10-01", "生活用品", "房屋受损", "未解决", "专项个人档案"):
        assert words in text, words
    found = export(school, "archive", "P5", out=tmp_path / "p5.docx", actor="L1")
    assert found["exits"] == 1
    p5 = body_text(docx.Document(str(tmp_path / "p5.docx")))
    assert "2026-06-30" in p5 and "毕业" in p5
    run = school("export", "archive", "P2", "--out", str(tmp_path / "no.docx"), actor="T1")
    assert run.code == 1 and "P2" in run.err, run
    assert access(school) == [("L1", "P2", "export"), ("L1", "P5", "export")]


def test_english_documents_speak_english(school, tmp_path):
    """With --lang en the handbook's own words are English (its title, the headings, "Page …
    of …" in the footer); the names and what people wrote stay as written."""
    out = tmp_path / "en.docx"
    export(school, "handbook", "T1", "--from", FROM, "--to", TO, out=out, lang="en")
    d = docx.Document(str(out))
    text = body_text(d)
    assert "Mentor's care handbook" in text and "The pupil" in text and "Contacts (" in text
    assert "Page" in "".join(p.text for p in d.sections[0].footer.paragraphs)
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading") and not re.match(r"\d\. ", p.text)]
    assert headings and not any(CJK.search(h) for h in headings), headings


# --- on paper: through LibreOffice -------------------------------------------------------------

def pdf_pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not on this machine")
def test_each_document_converts_to_a_sane_number_of_a4_pages(school, tmp_path):
    """LibreOffice converts each document to PDF: the handbook of 4 mentees over the range is
    at least 6 pages (a cover, a part per mentee starting on a new page, the inspections) and at
    most 30; the semester sheet one page; P2's archive 1 to 10 pages."""
    files = {
        "handbook": export(school, "handbook", "T1", "--from", FROM, "--to", TO, out=tmp_path / "handbook.docx")["out"],
        "report": export(school, "report", "Q1", "--semester", "2025-2026-1", out=tmp_path / "report.docx")["out"],
        "archive": export(school, "archive", "P2", out=tmp_path / "archive.docx", actor="L1")["out"],
    }
    profile = tmp_path / "lo-profile"  # its own LibreOffice profile: another running soffice does not lock it
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path / "pdf"), *files.values()], check=True, capture_output=True, timeout=240)
    pages = {name: pdf_pages(tmp_path / "pdf" / f"{name}.pdf") for name in files}
    assert 6 <= pages["handbook"] <= 30, pages
    assert pages["report"] == 1, pages
    assert 1 <= pages["archive"] <= 10, pages
    for name in files:  # A4: 595 × 842 points
        assert re.search(rb"/MediaBox\s*\[\s*0\s+0\s+595\.\d+\s+841\.\d+", (tmp_path / "pdf" / f"{name}.pdf").read_bytes()), name


# --- in the app ---------------------------------------------------------------------------------

def test_the_app_exports_from_the_pupil_file_and_home(facts, store_path, tmp_path, monkeypatch):
    """The demo's mentor in the app (Textual Pilot, 80x24), export folder CARETERM_EXPORT_DIR:
    on their pupil's file `e` writes 弱势群体学生专项个人档案-NAME-2026-11-20.docx and `p` the
    学期信息表 of the current semester (2026秋季学期 on the demo's 2026-11-20); on Home `h` writes
    their own 帮扶工作手册-MENTOR-2026-11-20.docx. Each is a Word file naming the pupil or the
    mentor; the toast says the path; the access log has the two pupil exports and one per mentee
    of the handbook."""
    import tui_support as S
    from careterm.tui.screens.pupil import PupilScreen

    folder = tmp_path / "exports"
    monkeypatch.setenv("CARETERM_EXPORT_DIR", str(folder))
    mentor, pupil, name = facts["mentor"], facts["pupil"], facts["pupil_name"]
    said: list[str] = []

    def files() -> list[str]:
        return sorted(p.name for p in folder.glob("*.docx")) if folder.exists() else []

    async def scenario() -> None:
        app = S.make_app(store_path, mentor)
        notify = app.notify
        app.notify = lambda message, **kw: (said.append(str(message)), notify(message, **kw))[1]
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            app.open_pupil(pupil)
            await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
            await S.settle(pilot)
            await S.send_keys(pilot, "e")
            await S.wait_for(pilot, lambda: len(files()) == 1, 30, "the archive")
            await S.send_keys(pilot, "p")
            await S.wait_for(pilot, lambda: len(files()) == 2, 30, "the semester sheet")
            await S.send_keys(pilot, "escape")
            await S.settle(pilot)
            app.query_one("#home-mine").focus()
            await S.send_keys(pilot, "h")
            await S.wait_for(pilot, lambda: len(files()) == 3, 60, "the handbook")
            await S.settle(pilot)

    S.run(scenario())
    day = S.UNTIL.isoformat()
    assert files() == sorted([f"弱势群体学生专项个人档案-{name}-{day}.docx", f"学期信息表-{name}-{day}.docx",
                              f"帮扶工作手册-{facts['mentor_name']}-{day}.docx"]), files()
    sheet = body_text(docx.Document(str(folder / f"学期信息表-{name}-{day}.docx")))
    assert name in sheet and "2026秋季学期" in sheet
    handbook = body_text(docx.Document(str(folder / f"帮扶工作手册-{facts['mentor_name']}-{day}.docx")))
    assert facts["mentor_name"] in handbook and name in handbook
    assert any(str(folder) in m for m in said), said
    rows = [(a, p, via) for a, p, via, _ in logged_openings(store_path, facts) if via == "export"]
    assert rows[:2] == [(mentor, pupil, "export")] * 2, rows
    assert {p for _, p, _ in rows[2:]} >= set(facts["mentor_pupils"]) and {a for a, _, _ in rows} == {mentor}, rows


def logged_openings(store_path, facts) -> list[tuple]:
    from test_access_log import logged

    return logged(store_path, facts)


def test_a_former_mentee_shows_only_what_the_mentor_may_still_see(school, tmp_path):
    """T2 mentored P4 (orphan, guardian 张奶奶 13800000000) from 2025-09-02 until 2026-01-31;
    since 2026-03-01 T3 does. T2's own handbook for 2025-09-01..2026-06-30 has P4 as its one
    mentee, but as T2 may see a former mentee: name, grade, class and status, the entries T2
    recorded (none), no family, no category, no plan, no duties. A leader's copy of T2's
    handbook has P4's guardian and category."""
    out = tmp_path / "t2.docx"
    found = export(school, "handbook", "T2", "--from", FROM, "--to", TO, out=out, actor="T2")
    assert (found["mentees"], found["contacts"]) == (1, 0), found
    text = body_text(docx.Document(str(out)))
    assert "小芳" in text and "P4" in text and "只列本人记录的内容" in text
    for words in ("张奶奶", "13800000000", "孤儿", "帮扶计划", "履职情况"):
        assert words not in text, words
    leaders = tmp_path / "l1.docx"
    export(school, "handbook", "T2", "--from", FROM, "--to", TO, out=leaders, actor="L1")
    text = body_text(docx.Document(str(leaders)))
    assert "张奶奶" in text and "13800000000" in text and "孤儿" in text


def test_stored_control_characters_print_as_escapes():
    """A name stored before careterm refused escape codes ("小\\x1b[31m明\\x07"): XML cannot hold
    them, so the document shows them as text (小\\x1b[31m明\\x07), as a screen does; a line break
    stays a line break; None is empty."""
    from careterm.paperwork.documents import clean

    assert clean("小\x1b[31m明\x07") == "小\\x1b[31m明\\x07"
    assert clean("一\n二") == "一\n二" and clean(None) == ""


def test_the_handbook_benchmark_runs_and_reports_its_figures():
    """benchmarks/handbook.py, one run: the demo built, its busiest mentor's handbook exported
    as a whole process; every figure reported, times and memory above zero."""
    import json
    import sys

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "benchmarks/handbook.py", "--runs", "1", "--json"], cwd=root,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["mentees"] >= 1 and figures["contacts"] > 0, figures
    assert figures["wall_median_s"] > 0 and 0 < figures["peak_rss_mb"] < 1000 and figures["docx_kb"] > 0, figures


def test_a_leader_exports_the_handbook_of_the_mentor_on_an_overdue_row(facts, store_path, tmp_path, monkeypatch):
    """The demo's leader (admin) on Home, in the school's overview, the cursor on its first row
    (an overdue duty of some mentor M): `h` writes M's handbook (帮扶工作手册-M's name-2026-11-20),
    its cover naming M, and logs the export of M's mentees by admin."""
    import tui_support as S
    from textual.widgets import DataTable

    folder = tmp_path / "exports"
    monkeypatch.setenv("CARETERM_EXPORT_DIR", str(folder))
    picked: dict[str, str] = {}

    async def scenario() -> None:
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            table = app.query_one("#home-school", DataTable)
            table.focus()
            await S.settle(pilot)
            kind, staff, _ = str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value).split("|")
            assert kind == "staff", "the overview's first row is not an overdue duty"
            picked.update(staff=staff, name=dict(app.staff)[staff])
            await S.send_keys(pilot, "h")
            await S.wait_for(pilot, lambda: folder.exists() and any(folder.glob("*.docx")), 60, "the handbook")
            await S.settle(pilot)

    S.run(scenario())
    [path] = folder.glob("*.docx")
    assert path.name == f"帮扶工作手册-{picked['name']}-{S.UNTIL.isoformat()}.docx", path.name
    cover = cells_text(docx.Document(str(path)).tables[0])
    assert [picked["name"] + f"（{picked['staff']}）"] == [row[1] for row in cover if row[0] == "帮扶教师"], cover
    exports = [(a, via) for a, _, via, _ in logged_openings(store_path, facts) if via == "export"]
    assert exports and set(exports) == {(S.LEADER, "export")}, exports


def test_the_profile_texts_are_there_and_the_mental_state_only_for_who_may_read_it(school, tmp_path):
    """Q1's texts were written by `pupil amend` (beside the other fields, not under `profile`):
    T1's handbook has 家庭情况 Q1-FAMILY 父母在东莞打工 and not the mental state (T1 is no
    counselor); L1's copy has 心理状况 Q1-MENTAL-SECRET too, and so has CO's archive of Q1 (a
    counselor sees every pupil's profile)."""
    mine, leaders, counselor = tmp_path / "t1.docx", tmp_path / "l1.docx", tmp_path / "co.docx"
    export(school, "handbook", "T1", "--from", FROM, "--to", TO, out=mine)
    export(school, "handbook", "T1", "--from", FROM, "--to", TO, out=leaders, actor="L1")
    export(school, "archive", "Q1", out=counselor, actor="CO")
    text = "\n".join(p.text for p in docx.Document(str(mine)).paragraphs)
    assert "家庭情况：Q1-FAMILY 父母在东莞打工" in text and "Q1-MENTAL-SECRET" not in body_text(docx.Document(str(mine)))
    for path in (leaders, counselor):
        assert "心理状况：Q1-MENTAL-SECRET" in "\n".join(p.text for p in docx.Document(str(path)).paragraphs), path


@pytest.mark.parametrize("out", ["/proc/x.docx", "/nonexistent-dir/x.docx"])
def test_a_place_that_cannot_be_written_is_refused_naming_out(school, out):
    """The handbook to /proc (no new files there, even for root) or into a folder that does not
    exist (not made): exit 1 naming --out and the path, no traceback, no internal error, nothing
    written there."""
    run = school("export", "handbook", "T1", "--from", FROM, "--to", TO, "--out", out, actor="L1")
    assert run.code == 1, run
    assert "--out" in run.err and out in run.err and "Traceback" not in run.err and "程序内部出错" not in run.err, run
    assert run.out == "" and not Path(out).exists() and not Path("/nonexistent-dir").exists(), run


def test_what_was_said_reads_as_history_says_it(school, said, tmp_path):
    """The handbook's "what was said" cell is worded by careterm/said.py, as `history` and the
    pupil file word it: its labels, its order (topics, then the summary, then problem, help given,
    follow-up), the topics by name; how it was held and how long are in the "how" cell. Q1's talk
    of 2025-09-15, by hand:
    话题：家庭、思想 / 内容摘要：Q1-TALK-SUMMARY 孩子说想念在外打工的妈妈 / 第二行 / 发现的问题：Q1-PROBLEM /
    给予的帮助：Q1-HELP / 后续跟进：Q1-FOLLOW-UP; how: 谈心 / 面谈 · 30 分钟."""
    needs_said(said)
    out = tmp_path / "handbook.docx"
    export(school, "handbook", "T1", "--from", FROM, "--to", TO, out=out)
    [talk] = [row for table in docx.Document(str(out)).tables for row in cells_text(table)
              if len(row) == 4 and row[0] == "2025-09-15"]
    assert talk[1] == "谈心\n面谈 · 30 分钟", talk
    assert talk[2] == ("话题：家庭、思想\n内容摘要：Q1-TALK-SUMMARY 孩子说想念在外打工的妈妈\n第二行\n"
                       "发现的问题：Q1-PROBLEM\n给予的帮助：Q1-HELP\n后续跟进：Q1-FOLLOW-UP"), talk
