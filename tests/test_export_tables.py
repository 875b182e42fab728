"""The tables (cli.md "Export"; issue 13 items 3 and 4): `export stats|notice|compliance … --out
FILE.xlsx|.csv` (and the notice as .docx), run as the real program on real SQLite stores, each
file re-read with openpyxl, csv (utf-8-sig) or python-docx.

The small school: the base school of tests/test_cli.py, and, built on it once for this module
(`built`), two more pupils:
- XS7788 林小雨, 3-1, left_behind and in_difficulty, born 2016-04-15, phone 13912345678, guardian
  林奶奶 (祖母, 13887654321), parent 林大海 (父亲, 浙江宁波鞋厂, 13711112222), family text
  "父母离异 身份证110101201604151234", mentor T2 from 2026-09-01; a living subsidy of 800 yuan on
  2026-09-15 (fund FUND-SECRET, note NOTE-SECRET) and material aid 冬衣两件 on 2026-10-10: both in
  the semester 2026-2027-1 (the default name: the base school sets no terms).
- D1 赵小东, 4-2, economic_hardship, dropped out on 2026-10-08.

Worked out by hand, as of 2026-11-20 (P5 graduated and P6 transferred: not counted; P1 and P3 are
left-behind without parents on file: incomplete; 林小雨's file is complete):

| class | counted | row totals (pupils, with a mentor, dropouts, incomplete) |
|---|---|---|
| 2-2 | P4 orphan (mentor T3) | 1, 1, 0, 0 |
| 3-1 | 林小雨 left_behind, in_difficulty, so 困境留守 (mentor T2) | 1, 1, 0, 0 |
| 3-2 | P1 left_behind (mentor T1), P2 economic_hardship | 2, 1, 0, 1 |
| 4-2 | P3 left_behind; D1 dropped out | 1, 0, 1, 1 |

grade 3: left_behind 2 (2 with a mentor), in_difficulty 1 (1), economic_hardship 1 (0), 困境留守
1 (1), totals 3, 2, 0, 1; the school: left_behind 3 (2), in_difficulty 1 (1), orphan 1 (1),
economic_hardship 1 (0), 困境留守 1 (1), totals 5, 3, 1, 2. Aid by the date: living subsidies
500 (P2, 2025) + 800 = 1300.00; the material aid has no amount.
The notice of 2026-2027-1: 林小雨 3-1 生活补助 800.00, 林小雨 3-1 物资 实物 1 份.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from careterm.i18n import catalog
from test_cli import School, careterm, school_today, sqlite_base  # noqa: F401 - fixtures are used by name

openpyxl = pytest.importorskip("openpyxl")

DAY = "2026-11-20"
SEMESTER = "2026-2027-1"  # the default name of the semester (the base school sets no terms)
SECRETS = {
    "pupil id": "XS7788", "phone": "13912345678", "guardian's phone": "13887654321", "parent's phone": "13711112222",
    "birth date": "2016-04-15", "birth date (zh)": "2016年4月15日", "birth date (digits)": "20160415",
    "id number": "110101201604151234", "family detail": "父母离异", "workplace": "浙江宁波鞋厂",
    "guardian": "林奶奶", "parent": "林大海", "items": "冬衣两件", "fund": "FUND-SECRET", "note": "NOTE-SECRET",
    "category": "留守", "category (2)": "困境",
}


@pytest.fixture(scope="module")
def built(sqlite_base, tmp_path_factory) -> str:
    url = str(tmp_path_factory.mktemp("tables") / "tables.sqlite")
    shutil.copy(sqlite_base.url, url)
    s = School(url, dict(sqlite_base.ids), None)
    s.write("pupil", "add", "XS7788", "--name", "林小雨", "--gender", "F", "--birth", "2016-04-15", "--grade", "3",
            "--class", "1", "--phone", "13912345678", "--guardian", "林奶奶,祖母,13887654321",
            "--parent", "林大海,父亲,浙江宁波鞋厂,13711112222", "--family", "父母离异 身份证110101201604151234",
            "--category", "left_behind", "--category", "in_difficulty", "--date", "2026-09-01")
    s.write("pair", "T2", "XS7788", "--date", "2026-09-01")
    s.write("fund", "add", "FUND-SECRET", "--budget", "10000", "--date", "2026-09-01")  # the aid procedure: a fund is added first
    s.write("aid", "grant", "XS7788", "--kind", "living_subsidy", "--amount", "800", "--fund", "FUND-SECRET",
            "--basis", "低保家庭", "--note", "NOTE-SECRET", "--date", "2026-09-15")
    s.write("aid", "grant", "XS7788", "--kind", "material", "--items", "冬衣两件", "--date", "2026-10-10")
    s.write("pupil", "add", "D1", "--name", "赵小东", "--gender", "M", "--birth", "2015-03-01", "--grade", "4",
            "--class", "2", "--category", "economic_hardship", "--date", "2026-09-01")
    s.write("dropout", "D1", "--reason", "外出打工", "--date", "2026-10-08")
    return url


@pytest.fixture
def school(built, tmp_path) -> School:
    url = str(tmp_path / "store.sqlite")
    shutil.copy(built, url)
    return School(url)


def export(school: School, what: str, out: Path, *args: str, actor: str = "admin", lang: str | None = None) -> dict:
    run = school("export", what, *args, "--out", str(out), "--json", actor=actor, lang=lang)
    assert run.code == 0, run
    found = run.json()
    assert found["out"] == str(out) and out.exists(), found
    return found


# --- reading the files back ---------------------------------------------------------------------

def sheet_rows(path: Path, sheet: int = 0) -> list[list]:
    wb = openpyxl.load_workbook(path)
    return [list(r) for r in wb.worksheets[sheet].iter_rows(values_only=True)]


def csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a CSV for Excel starts with the UTF-8 BOM"
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def docx_text(path: Path) -> list[str]:
    import docx

    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for row in t.rows for c in row.cells]
    for section in d.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return parts


# --- the statistics table -------------------------------------------------------------------------

CATS = ("left_behind", "in_difficulty", "orphan", "disabled", "economic_hardship", "learning_difficulty",
        "psychological", "other", "left_behind_in_difficulty")


def as_json(rows: list[list], first: int) -> dict:
    """The table's rows back into (grade, class) -> {category: (total, with_mentor)}, totals."""
    found = {}
    for row in rows[first:]:
        grade, class_, *cells = row
        counts = [int(c) for c in cells]
        by_cat = {c: (counts[2 * i], counts[2 * i + 1]) for i, c in enumerate(CATS)}
        total, with_mentor, dropouts, incomplete = counts[2 * len(CATS):]
        found[(str(grade), str(class_ or ""))] = (by_cat, (total, with_mentor, dropouts, incomplete))
    return found


def expected_of(stats: dict) -> dict:
    """`stats --json` laid out as the table's rows are (classes, grade subtotals, the school)."""
    def cells(columns):
        return {c: (columns[c]["total"], columns[c]["with_mentor"]) for c in CATS}

    def totals(t):
        return (t["total"], t["with_mentor"], t["dropouts"], t["incomplete"])

    out = {}
    for key, columns in stats["by_class"].items():
        grade, _, class_ = key.partition("-")
        out[(grade, class_)] = (cells(columns), totals(stats["class_totals"][key]))
    for grade, g in stats["by_grade"].items():
        out[(grade, "小计")] = (cells(g["by_category"]), totals(g))
    out[("全校", "")] = (cells(stats["by_category"]), totals(stats["total"]))
    return out


def test_the_statistics_table_of_the_small_school_is_the_hand_worked_one(school, tmp_path):
    """The table of the module docstring, in .xlsx and in .csv, equal to `stats --json`."""
    stats = school.read("stats", "--as-of", DAY)
    zero = {c: (0, 0) for c in CATS}
    hand = {
        ("2", "2"): ({**zero, "orphan": (1, 1)}, (1, 1, 0, 0)),
        ("2", "小计"): ({**zero, "orphan": (1, 1)}, (1, 1, 0, 0)),
        ("3", "1"): ({**zero, "left_behind": (1, 1), "in_difficulty": (1, 1), "left_behind_in_difficulty": (1, 1)}, (1, 1, 0, 0)),
        ("3", "2"): ({**zero, "left_behind": (1, 1), "economic_hardship": (1, 0)}, (2, 1, 0, 1)),
        ("3", "小计"): ({**zero, "left_behind": (2, 2), "in_difficulty": (1, 1), "economic_hardship": (1, 0),
                         "left_behind_in_difficulty": (1, 1)}, (3, 2, 0, 1)),
        ("4", "2"): ({**zero, "left_behind": (1, 0)}, (1, 0, 1, 1)),
        ("4", "小计"): ({**zero, "left_behind": (1, 0)}, (1, 0, 1, 1)),
        ("全校", ""): ({**zero, "left_behind": (3, 2), "in_difficulty": (1, 1), "orphan": (1, 1), "economic_hardship": (1, 0),
                        "left_behind_in_difficulty": (1, 1)}, (5, 3, 1, 2)),
    }
    assert expected_of(stats) == hand
    found = export(school, "stats", tmp_path / "统计表.xlsx", "--as-of", DAY)
    rows = sheet_rows(tmp_path / "统计表.xlsx")
    assert found["rows"] == len(hand) == len(rows) - 3
    assert as_json(rows, 3) == hand
    assert list(as_json(rows, 3)) == list(hand)  # classes in order, each grade's subtotal after them
    assert sheet_rows(tmp_path / "统计表.xlsx", 1)[2:] == [["生活补助", 1300], ["合计", 1300]]
    export(school, "stats", tmp_path / "统计表.csv", "--as-of", DAY)
    rows = csv_rows(tmp_path / "统计表.csv")
    assert rows[0][:4] == ["年级", "班级", "留守儿童（人数）", "留守儿童（已结对）"]
    assert rows[0][-4:] == ["合计（人数）", "合计（已结对）", "辍学未复学", "档案不全"]
    assert as_json(rows, 1) == hand


def test_the_table_is_the_record_as_known_at_a_time(school, tmp_path):
    """--known-at just before D1's dropout was recorded: D1 is still an enrolled pupil of 4-2 in
    economic_hardship without a mentor, so 4-2 reads 2 pupils, 0 with a mentor, 0 dropouts, 1
    incomplete (P3); as `stats --json --known-at` says."""
    [event] = [e for e in school.audit("--type", "PupilDroppedOut") if e["subject"] == "pupil/D1"]
    before = (dt.datetime.fromisoformat(event["recorded_at"]) - dt.timedelta(microseconds=1)).isoformat()
    stats = school.read("stats", "--as-of", DAY, "--known-at", before)
    export(school, "stats", tmp_path / "k.csv", "--as-of", DAY, "--known-at", before)
    found = as_json(csv_rows(tmp_path / "k.csv"), 1)
    assert found == expected_of(stats)
    assert found[("4", "2")][1] == (2, 0, 0, 1) and found[("4", "2")][0]["economic_hardship"] == (1, 0)


def test_the_statistics_table_of_the_demo_equals_stats_json(demo, tmp_path):
    """On the demo school (hundreds of pupils, every category): every count of every class,
    grade and the school, and the aid by kind, equal `stats --json` of the same day."""
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo[0], path)
    s = School(str(path))
    stats = s.read("stats", "--as-of", DAY)
    expected = expected_of(stats)
    assert len(expected) > 10 and stats["total"]["total"] > 50
    export(s, "stats", tmp_path / "s.xlsx", "--as-of", DAY)
    assert as_json(sheet_rows(tmp_path / "s.xlsx"), 3) == expected
    aid = sheet_rows(tmp_path / "s.xlsx", 1)[2:]
    words = catalog("zh")
    assert [(k, Decimal(str(v))) for k, v in aid] == [(words[f"aid.{k}"], Decimal(v)) for k, v in stats["aid"].items()] + [
        ("合计", sum(Decimal(v) for v in stats["aid"].values()))]
    export(s, "stats", tmp_path / "s.csv", "--as-of", DAY)
    assert as_json(csv_rows(tmp_path / "s.csv"), 1) == expected


def test_the_xlsx_prints_on_a4_in_songti_with_its_title_headings_and_borders(school, tmp_path):
    """The statistics table is wide (24 columns): A4 landscape, fitted to one page wide, the
    title row and both heading rows repeated on every page; the title names the school and the
    day it is read as of, the page header the school and the day it is printed; every cell of the table in 宋体 with borders; the footer counts pages; counts are
    numbers. The compliance rates fit a portrait page; their rates are fractions shown as 0%."""
    export(school, "stats", tmp_path / "s.xlsx", "--as-of", DAY)
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx").worksheets[0]
    assert ws["A1"].value == f"石砚小学 弱势群体情况统计表（截至 {DAY}）"
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "landscape"
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows in ("1:3", "$1:$3")
    # the header: the day it is printed (the documents' rule); the title: the day it is read as of
    assert "石砚小学" in ws.oddHeader.left.text and ws.oddHeader.right.text == school_today().isoformat()
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert "A2:A3" in {str(r) for r in ws.merged_cells.ranges}  # 年级 down both heading rows
    assert [ws.cell(2, 3).value, ws.cell(3, 3).value, ws.cell(3, 4).value] == ["留守儿童", "人数", "已结对"]
    from openpyxl.cell.cell import MergedCell

    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell, MergedCell):  # the rest of a merged heading: openpyxl reads no style of its own
                continue
            assert cell.font.name == "宋体", cell.coordinate
            assert cell.border.left.style == "thin" and cell.border.bottom.style == "thin", cell.coordinate
    assert ws["A1"].font.name == "宋体" and ws["A1"].font.bold
    assert isinstance(ws.cell(4, 3).value, int) and ws.cell(4, 3).number_format == "0"
    export(school, "compliance", tmp_path / "c.xlsx", "--as-of", DAY)
    rates = openpyxl.load_workbook(tmp_path / "c.xlsx").worksheets[0]
    assert rates.page_setup.orientation == "portrait" and int(rates.page_setup.paperSize) == 9
    rate_cells = [r[5] for r in rates.iter_rows(min_row=3) if isinstance(r[5].value, float)]
    assert rate_cells and all(c.number_format == "0%" for c in rate_cells)


# --- the public notice ----------------------------------------------------------------------------

def test_the_notice_holds_name_class_kind_and_amount_and_nothing_else(school, tmp_path):
    """In .xlsx, .docx and .csv: the two rows of the docstring, and none of the pupil's id,
    phones, birth date, id number, family detail, guardian or parent, categories, the items, the
    fund or the note, in any cell, paragraph, header or footer. In .xlsx the amount is a number
    with two decimals; in .csv as the view gives it. The view's rows also say when each stood in
    notice (issue 14): the subsidy granted 2026-09-15 was approved on Monday 09-07 (the test
    helper walks a grant through the procedure, approving 8 days before), so it stood the 5
    working days 09-08 (Tue) to 09-14 (Mon); the material aid was granted directly (no notice)."""
    run = school("aid", "notice", "--semester", SEMESTER, "--json", actor="admin")
    assert run.code == 0 and run.json()["notice"] == [
        {"name": "林小雨", "class": "3-1", "kind": "living_subsidy", "amount": "800.00",
         "start": "2026-09-08", "end": "2026-09-14"},
        {"name": "林小雨", "class": "3-1", "kind": "material", "amount": None, "start": None, "end": None}], run
    texts: dict[str, list[str]] = {}
    for ext in ("xlsx", "docx", "csv"):
        out = tmp_path / f"公示.{ext}"
        assert export(school, "notice", out, "--semester", SEMESTER, "--as-of", DAY)["rows"] == 2
    xlsx = sheet_rows(tmp_path / "公示.xlsx")
    assert xlsx[0][0] == f"石砚小学 {SEMESTER} 资助公示"
    assert xlsx[1:] == [["姓名", "班级", "类型", "金额（元）"], ["林小雨", "3-1", "生活补助", 800], ["林小雨", "3-1", "物资", "实物 1 份"]]
    assert openpyxl.load_workbook(tmp_path / "公示.xlsx").worksheets[0]["D3"].number_format == "0.00"
    texts["xlsx"] = [str(v) for row in xlsx for v in row if v is not None]
    csv_found = csv_rows(tmp_path / "公示.csv")
    assert csv_found == [["姓名", "班级", "类型", "金额（元）"], ["林小雨", "3-1", "生活补助", "800.00"], ["林小雨", "3-1", "物资", "实物 1 份"]]
    texts["csv"] = [v for row in csv_found for v in row]
    texts["docx"] = docx_text(tmp_path / "公示.docx")
    assert {"林小雨", "3-1", "生活补助", "800.00", "物资", "实物 1 份"} <= set(texts["docx"])
    for ext, found in texts.items():
        for what, secret in SECRETS.items():
            assert not any(secret in text for text in found), f"the {ext} notice holds the {what}: {secret}"
    raw = (tmp_path / "公示.xlsx").read_bytes() + (tmp_path / "公示.docx").read_bytes()
    assert b"XS7788" not in raw  # not hidden in a property or a comment either (the files are zipped:
    # the search above reads every cell, paragraph, header and footer)


def test_the_notice_docx_is_on_the_documents_page(school, tmp_path):
    """A4, 宋体, the school's name and the day it is printed in the header, page N of M as fields."""
    import docx

    export(school, "notice", tmp_path / "n.docx", "--semester", SEMESTER, "--as-of", DAY)
    d = docx.Document(str(tmp_path / "n.docx"))
    section = d.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    header = "".join(p.text for p in section.header.paragraphs)
    assert "石砚小学" in header and school_today().isoformat() in header  # the day it is printed
    footer = section.footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer
    fonts = d.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "宋体"


def test_a_name_that_looks_like_a_formula_stays_text(school, tmp_path):
    """A pupil named "=HYPERLINK(…)" (stored as typed): a text cell in .xlsx, "'=HYPERLINK(…)" in
    .csv, never a formula that Excel would run."""
    name = '=HYPERLINK("http://x.example","点我")'
    school.write("pupil", "add", "F1", "--name", name, "--gender", "M", "--birth", "2016-01-01", "--grade", "2",
                 "--class", "1", "--category", "economic_hardship", "--date", "2026-09-01")
    school.write("aid", "grant", "F1", "--kind", "grant", "--amount", "300", "--basis", "低保家庭", "--date", "2026-09-20")
    export(school, "notice", tmp_path / "f.xlsx", "--semester", SEMESTER, "--as-of", DAY)
    export(school, "notice", tmp_path / "f.csv", "--semester", SEMESTER, "--as-of", DAY)
    cell = next(c for row in openpyxl.load_workbook(tmp_path / "f.xlsx").worksheets[0].iter_rows() for c in row if c.value == name)
    assert cell.data_type == "s"
    assert ["'" + name, "2-1", "助学金", "300.00"] in csv_rows(tmp_path / "f.csv")


# --- the compliance table -------------------------------------------------------------------------

def test_the_compliance_table_equals_compliance_json(demo, tmp_path):
    """On the demo: every mentor's, class's and the school's owed, met and rate equal
    `compliance --json` (in .xlsx the rate itself, in .csv as shown.rate prints it), and the
    duties sheet has one row per pairing and duty with its status, last, due and missed."""
    from careterm import shown

    path = tmp_path / "demo.sqlite"
    shutil.copy(demo[0], path)
    s = School(str(path))
    view = s.read("compliance", "--as-of", DAY)
    expected = [("教师", m["staff"], m["name"], m["owed"], m["met"], m["rate"]) for m in view["mentors"]]
    expected += [("班级", f"{c['grade']}-{c['class']}", f"{c['grade']} 年级 {c['class']} 班", c["owed"], c["met"], c["rate"])
                 for c in view["classes"]]
    expected.append(("全校", None, "石砚小学", view["school"]["owed"], view["school"]["met"], view["school"]["rate"]))
    found = export(s, "compliance", tmp_path / "c.xlsx", "--as-of", DAY)
    assert found["rows"] == len(expected) and found["pairings"] == len(view["pairings"])
    rows = sheet_rows(tmp_path / "c.xlsx")
    assert rows[0][0] == f"石砚小学 帮扶工作考核表（{view['from']} 至 {view['to']}，截至 {DAY}）"
    assert rows[1] == ["范围", "编号", "名称", "应履行", "已履行", "完成率"]
    assert [tuple(r) for r in rows[2:]] == [tuple(shown.NONE if v is None and i == 5 else v for i, v in enumerate(e))
                                            for e in expected]
    duties = sheet_rows(tmp_path / "c.xlsx", 1)
    assert duties[1] == ["工号", "教师姓名", "学号", "学生姓名", "结对日期", "职责", "状态", "上次", "到期", "未完成次数"]
    words = {"ok": "正常", "due_soon": "快到期", "overdue": "已超期", "met": "已完成", "pending": "待完成"}
    pairs = {(r[0], r[2], r[5]): (r[6], r[7], r[8], r[9]) for r in duties[2:]}
    names = {"parent_call": "与父母通话", "talk": "谈心", "parent_phone_visit": "电话访父母", "semester_report": "学期反馈",
             "birthday": "过生日"}
    want = {(p["staff"], p["pupil"], names[d]): (words[r["status"]], r["last"], r["due"], r["missed"])
            for p in view["pairings"] for d, r in p["duties"].items()}
    assert len(duties) - 2 == len(want) and pairs == want
    export(s, "compliance", tmp_path / "c.csv", "--as-of", DAY)
    rows = csv_rows(tmp_path / "c.csv")
    assert rows[0] == ["范围", "编号", "名称", "应履行", "已履行", "完成率"]
    assert rows[1:] == [[e[0], e[1] or "", e[2] or "", str(e[3]), str(e[4]), shown.rate(e[5])] for e in expected]


def test_each_reader_exports_the_compliance_they_may_see(school, tmp_path):
    """No role is refused these tables (domain.md: counts and the notice are for everyone;
    compliance shows each reader their part): T1, a plain teacher, gets their own rate and their
    one pairing (P1) and the school's rate; the admin of a store is also its leader and gets
    every mentor. The statistics table is the same whoever asks."""
    mine = school.read("compliance", "--as-of", DAY, actor="T1")
    export(school, "compliance", tmp_path / "t1.xlsx", "--as-of", DAY, actor="T1")
    rows = sheet_rows(tmp_path / "t1.xlsx")
    assert [r[1] for r in rows[2:]] == ["T1", None] and [m["staff"] for m in mine["mentors"]] == ["T1"]
    assert [r[2] for r in sheet_rows(tmp_path / "t1.xlsx", 1)[2:]] == ["P1"] * len(mine["pairings"][0]["duties"])
    every = school.read("compliance", "--as-of", DAY)
    export(school, "compliance", tmp_path / "all.xlsx", "--as-of", DAY)
    assert [r[1] for r in sheet_rows(tmp_path / "all.xlsx")[2:] if r[0] == "教师"] == [m["staff"] for m in every["mentors"]]
    export(school, "stats", tmp_path / "t1s.csv", "--as-of", DAY, actor="T1")
    export(school, "stats", tmp_path / "s.csv", "--as-of", DAY)
    assert (tmp_path / "t1s.csv").read_bytes() == (tmp_path / "s.csv").read_bytes()


def test_who_is_not_signed_in_gets_no_table(school, tmp_path):
    """GONE left on 2025-12-31: not signed in (exit 4), no file."""
    for what, extra in (("stats", ()), ("notice", ("--semester", SEMESTER)), ("compliance", ())):
        out = tmp_path / f"{what}.xlsx"
        run = school("export", what, *extra, "--out", str(out), actor="GONE")
        assert run.code == 4 and not out.exists(), run


# --- refusals -------------------------------------------------------------------------------------

@pytest.mark.parametrize("what,extra,bad", [
    ("stats", (), "s.docx"), ("stats", (), "s.pdf"), ("notice", ("--semester", SEMESTER), "n.pdf"),
    ("compliance", (), "c.docx"), ("compliance", (), "c"),
])
def test_a_wrong_extension_is_refused_naming_out_and_nothing_is_written(school, tmp_path, what, extra, bad):
    out = tmp_path / bad
    run = school.refused("export", what, *extra, "--out", str(out), field="--out")
    allowed = ".xlsx / .docx / .csv" if what == "notice" else ".xlsx / .csv"
    assert allowed in run.err and str(out) in run.err, run
    assert {p.name for p in tmp_path.iterdir()} <= {"store.sqlite", "store.sqlite-wal", "store.sqlite-shm"}


def test_other_refusals_name_their_option(school, tmp_path):
    """An unknown semester names --semester; a range that ends before it starts names --to."""
    run = school.refused("export", "notice", "--semester", "1999秋季学期", "--out", str(tmp_path / "n.xlsx"), field="--semester")
    assert "1999秋季学期" in run.err and not (tmp_path / "n.xlsx").exists()
    run = school.refused("export", "compliance", "--from", "2026-10-01", "--to", "2026-09-01", "--out", str(tmp_path / "c.xlsx"),
                         field="--to")
    assert not (tmp_path / "c.xlsx").exists()


def test_english_tables_speak_english(school, tmp_path):
    export(school, "stats", tmp_path / "s.csv", "--as-of", DAY, lang="en")
    head = csv_rows(tmp_path / "s.csv")[0]
    assert head[:4] == ["grade", "class", "left-behind (total)", "left-behind (with mentor)"], head
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in "".join(head)), head
    export(school, "notice", tmp_path / "n.xlsx", "--semester", SEMESTER, "--as-of", DAY, lang="en")
    rows = sheet_rows(tmp_path / "n.xlsx")
    assert rows[0][0] == f"石砚小学: public notice of aid, {SEMESTER}" and rows[1][3] == "Amount (yuan)"
    assert rows[3][3] == "1 in kind"


def test_text_output_says_where_the_file_is(school, tmp_path):
    out = tmp_path / "s.xlsx"
    run = school("export", "stats", "--out", str(out), "--as-of", DAY, actor="admin")
    assert run.code == 0 and str(out) in run.out and "8 行" in run.out, run


# --- the app --------------------------------------------------------------------------------------

def test_the_apps_export_keys_write_the_tables_into_the_export_folder(facts, store_path, tmp_path, monkeypatch):
    """The demo's leader in the app (Textual Pilot, 80x24), export folder CARETERM_EXPORT_DIR:
    on the compliance tab `x` writes 帮扶工作考核表-2026-11-20.xlsx, on the aid tab `x` the notice
    previewed (资助公示-2026秋季学期-2026-11-20.docx), on Home `x` 弱势群体情况统计表-2026-11-20.xlsx;
    each toast says the file's full path; the statistics file holds the numbers of the stats view."""
    import tui_support as S
    from projections.stats import stats

    folder = tmp_path / "exports"
    monkeypatch.setenv("CARETERM_EXPORT_DIR", str(folder))
    said: list[str] = []

    def files() -> list[str]:
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    async def scenario() -> None:
        app = S.make_app(store_path, S.LEADER)
        notify = app.notify
        app.notify = lambda message, **kw: (said.append(str(message)), notify(message, **kw))[1]
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            for tab, table, count in (("4", "#compliance-table", 1), ("5", "#aid-notice", 2), ("1", "#home-mine", 3)):
                await S.send_keys(pilot, tab)
                await S.wait_for(pilot, lambda: app.query_one(table).row_count > 0, 15, table)
                await S.settle(pilot)
                app.query_one(table).focus()
                await S.send_keys(pilot, "x")
                await S.wait_for(pilot, lambda: len(files()) == count, 60, f"the export from {table}")
                await S.settle(pilot)

    S.run(scenario())
    day = S.UNTIL.isoformat()
    assert files() == sorted([f"帮扶工作考核表-{day}.xlsx", f"资助公示-2026秋季学期-{day}.docx", f"弱势群体情况统计表-{day}.xlsx"])
    for name in files():
        assert any(str(folder / name) in m for m in said), (name, said)
    ws = S.workspace(store_path, S.LEADER)
    model, today = ws.model_as_of(None, None)
    counted = stats(model, today)
    rows = sheet_rows(folder / f"弱势群体情况统计表-{day}.xlsx")
    assert rows[-1][:4] == ["全校", None, counted["by_category"]["left_behind"]["total"],
                            counted["by_category"]["left_behind"]["with_mentor"]]
    assert rows[-1][-4:] == [counted["total"][k] for k in ("total", "with_mentor", "dropouts", "incomplete")]


@pytest.mark.parametrize("out", ["/proc/x.xlsx", "/proc/x.csv", "/nonexistent-dir/x.xlsx", "folder.xlsx"])
def test_a_place_that_cannot_be_written_is_refused_naming_out(school, tmp_path, out):
    """--out where no file can be written — /proc (no new files there, even for root), a folder
    that does not exist (not made: a mistyped one would hide the export), a path that is a folder —
    is exit 1 naming --out and the path, no traceback, no internal error, no file and no
    temporary file left beside it."""
    if out == "folder.xlsx":
        out = str(tmp_path / out)
        Path(out).mkdir()
    run = school("export", "stats", "--out", out)
    assert run.code == 1, run
    assert "--out" in run.err and out in run.err and "Traceback" not in run.err and "程序内部出错" not in run.err, run
    assert run.out == "", run
    assert not Path("/nonexistent-dir").exists()
    assert {p.name for p in tmp_path.iterdir()} <= {"store.sqlite", "store.sqlite-wal", "store.sqlite-shm", "folder.xlsx"}
    assert Path(out).is_dir() if "folder" in out else not Path(out).exists()
