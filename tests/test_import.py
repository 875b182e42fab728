"""`import pupils|staff FILE` and `export template` (cli.md "Import"), through the real program on
a copy of test_cli.py's base school (a real SQLite file).

The base school (test_cli.build_base): staff admin (admin, leader), T1 T2 T3 teachers, CT class
teacher of grade 3 class 2, L1 leader, AU auditor, GONE (left); pupils P1 小明 (M, born
2016-03-01, grade 3 class 2, left_behind, guardian 张奶奶,祖母,13800000000), P2 .. P6, all of
class 2. Every roster here is made by the test with openpyxl (or written as CSV bytes), so each
expected value below is what the test itself put in the cells.

"Nothing written" is the store's event count and chain head before and after (the rows of the
events table, read straight from the file).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import msgspec
import openpyxl
import pytest

from test_cli import CJK, School, careterm, school, sqlite_base, sqlite_school  # noqa: F401 - fixtures are used by name

LOCALE = Path(__file__).resolve().parent.parent / "careterm" / "locale"
ZH_HEADERS = ["学号", "姓名", "性别", "出生日期", "年级", "班级", "类别", "联系电话", "监护人", "监护人关系", "监护人电话",
              "父亲", "父亲务工地址", "父亲电话", "母亲", "母亲务工地址", "母亲电话"]
EN_HEADERS = ["pupil", "Name", "GENDER", "birth", "grade", "class", "categories", "phone", "guardian", "Guardian Relation",
              "guardian-phone", "father", "father_workplace", "father_phone", "mother", "mother_workplace", "mother_phone"]
# the national registration form (农村留守儿童基本情况登记表), with columns careterm does not keep
FORM_HEADERS = ["学籍号", "姓名", "性别", "出生年月", "年级", "班级", "类别", "联系电话", "委托监护人姓名", "与儿童关系",
                "委托监护人联系电话", "父亲姓名", "父亲务工地点", "父亲联系电话", "母亲姓名", "母亲务工地点", "母亲联系电话"]
FORM_EXTRA = ["民族", "身份证号", "户籍地址"]
# a well-formed resident ID number: the check digit of 11010520160301123 is X (GB 11643)
ID_NUMBER = "11010520160301123X"


def catalog(lang: str) -> dict[str, str]:
    return json.loads((LOCALE / f"{lang}.json").read_text(encoding="utf-8"))


def xlsx(path: Path, headers: list, rows: list[list], *, title: str | None = None, above: list | None = None) -> str:
    """A workbook as a teacher's Excel writes it: dates as date cells where given as datetimes."""
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.title = title
    if above:
        sheet.append(above)
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return str(path)


def stored_events(url: str) -> list:
    from events.store import Store

    with Store(url) as store:
        return [e for _, e in store.read()]


def new_events(url: str, before: int) -> list:
    return stored_events(url)[before:]


def imported(school: School, path: str, *extra: str, actor: str = "admin", code: int = 0) -> dict:
    run = school("import", "pupils", path, "--json", *extra, actor=actor)
    assert run.code == code, run
    return run.json()


def problems(report: dict) -> list[tuple]:
    return [(e["row"], e["column"], e["code"]) for e in report["errors"]]


# --- every header variant, real Excel date cells, every way a value is written ---------------------

# (headers, two rows, extra columns' cells): N1 and N2 written in this header set's way
VARIANTS = {
    "chinese": (ZH_HEADERS, [
        ["N1", "王小丽", "女", dt.datetime(2016, 3, 1), "三年级", "2班", "留守儿童、家庭经济困难", "13700000001",
         "王奶奶", "祖母", "13700000002", "王大山", "广东东莞", 13700000003, "李春花", "浙江义乌", "13700000004"],
        ["N2", "赵小刚", "男", "2016/5/1", 3, 2, "孤儿，残疾儿童", None, "赵爷爷", "祖父", "13700000005",
         None, None, None, None, None, None],
    ], []),
    "english": (EN_HEADERS, [
        ["N1", "王小丽", "F", "2016.3.1", "3", "(2)班", "left_behind;economic hardship", "13700000001",
         "王奶奶", "祖母", "13700000002", "王大山", "广东东莞", "13700000003", "李春花", "浙江义乌", "13700000004"],
        ["N2", "赵小刚", "M", "2016年5月1日", "三年级", "二班", "orphan/disabled", None, "赵爷爷", "祖父", "13700000005",
         None, None, None, None, None, None],
    ], []),
    "national_form": (FORM_HEADERS + FORM_EXTRA, [
        ["N1", "王小丽", "女", "2016-03", "三年级", "2班", "留守儿童,家庭经济困难", "13700000001",
         "王奶奶", "祖母", "13700000002", "王大山", "广东东莞", "13700000003", "李春花", "浙江义乌", "13700000004",
         "汉族", ID_NUMBER, "湖南省某县某村"],
        ["N2", "赵小刚", "男", "201605", "3", "2", "孤儿、残疾儿童", None, "赵爷爷", "祖父", "13700000005",
         None, None, None, None, None, None, "苗族", "110105201605011235", "湖南省某县某村"],
    ], FORM_EXTRA),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_header_variant_is_read_into_the_same_pupils(sqlite_school, tmp_path, variant):
    """Hand-worked for each header set: N1 王小丽, F, born 2016-03-01 (an Excel date cell;
    "2016.3.1"; 出生年月 "2016-03" is the 1st), grade 3 class 2, left_behind + economic_hardship,
    phone 13700000001 (a number cell in one file: no ".0"), guardian 王奶奶 祖母 13700000002, father
    王大山 广东东莞 13700000003, mother 李春花 浙江义乌 13700000004; N2 赵小刚, M, born 2016-05-01
    ("2016/5/1", "2016年5月1日", "201605"), grade 3 class 2, orphan + disabled, guardian 赵爷爷 祖父
    13700000005, no parents. The form's 民族, 身份证号, 户籍地址 are ignored."""
    headers, rows, extra = VARIANTS[variant]
    school = sqlite_school
    before = school.snapshot()["events"]
    report = imported(school, xlsx(tmp_path / f"{variant}.xlsx", headers, rows))
    assert report["errors"] == [] and report["rows"] == 2, report
    assert (report["added"], report["amended"], report["unchanged"]) == (["N1", "N2"], [], [])
    assert report["ignored"] == extra
    n1, n2 = new_events(school.url, before)
    assert (n1.type, n1.pupil, n1.name, n1.gender, n1.birth, n1.grade, n1.class_) == (
        "PupilRegistered", "N1", "王小丽", "F", dt.date(2016, 3, 1), 3, 2)
    assert n1.categories == ["left_behind", "economic_hardship"] and n1.phone == "13700000001"
    assert msgspec.to_builtins(n1.guardian) == {"name": "王奶奶", "relation": "祖母", "phone": "13700000002", "workplace": ""}
    assert msgspec.to_builtins(n1.parents) == [
        {"name": "王大山", "relation": "父亲", "phone": "13700000003", "workplace": "广东东莞"},
        {"name": "李春花", "relation": "母亲", "phone": "13700000004", "workplace": "浙江义乌"},
    ]
    assert (n2.name, n2.gender, n2.birth, n2.grade, n2.class_, n2.categories, n2.phone, n2.parents) == (
        "赵小刚", "M", dt.date(2016, 5, 1), 3, 2, ["orphan", "disabled"], "", [])
    assert (n2.guardian.name, n2.guardian.relation, n2.guardian.phone) == ("赵爷爷", "祖父", "13700000005")
    assert {e.source for e in (n1, n2)} == {"cli"} and {e.actor for e in (n1, n2)} == {"admin"}


def test_the_national_forms_title_row_above_the_headers(sqlite_school, tmp_path):
    """The form prints its title in row 1 and the headers in row 2: the header row is found, and
    the rows keep the numbers Excel shows (the bad birth month is on row 3)."""
    path = xlsx(tmp_path / "form.xlsx", FORM_HEADERS, [
        ["N1", "王小丽", "女", "2016-13", "三年级", "2班", "留守儿童"] + [None] * 10,
    ], above=["农村留守儿童基本情况登记表"])
    report = imported(sqlite_school, path, "--dry-run", code=1)
    assert problems(report) == [(3, "出生年月", "bad_month")]


# --- bad rows: each reported, nothing written --------------------------------------------------------


def test_every_bad_row_is_reported_with_its_row_and_column_and_nothing_is_written(school, tmp_path):
    """Rows as Excel numbers them (headers row 1):
    2 N1 good -> would be added;  3 N2 born 2016-02-30 -> 出生日期 bad_date;
    4 N3 类别 外星人 -> 类别 unknown_value;  5 N1 again -> 学号 duplicate_in_file (first on row 2);
    6 P1 with a new phone -> an amendment, not an error;  7 P3 (exists) in grade 9 -> 年级 bad_grade
    (pupil amend's own check);  8 N4 with no name -> 姓名 empty.
    One bad row is enough: the store is exactly as before (SQLite and PostgreSQL)."""
    rows = [
        ["N1", "王小丽", "女", dt.datetime(2016, 3, 1), 3, 2, "留守儿童"],
        ["N2", "赵小刚", "男", "2016-02-30", 3, 2, ""],
        ["N3", "钱小芳", "女", "2016-04-01", 3, 2, "外星人"],
        ["N1", "王小丽", "女", dt.datetime(2016, 3, 1), 3, 2, "留守儿童"],
        ["P1", "小明", "男", "2016-03-01", 3, 2, "留守儿童", "13911112222"],
        ["P3", "小刚", "男", "2015-05-01", 9, 2, "留守儿童"],
        ["N4", None, "女", "2016-04-01", 3, 2, ""],
    ]
    path = xlsx(tmp_path / "bad.xlsx", ["学号", "姓名", "性别", "出生日期", "年级", "班级", "类别", "联系电话"], rows)
    before = school.snapshot()
    run = school("import", "pupils", path, "--json")
    assert run.code == 1, run
    report = run.json()
    assert problems(report) == [
        (3, "出生日期", "bad_date"),
        (4, "类别", "unknown_value"),
        (5, "学号", "duplicate_in_file"),
        (7, "年级", "bad_grade"),
        (8, "姓名", "empty"),
    ]
    assert report["added"] == ["N1"] and report["amended"] == ["P1"] and report["written"] == 0
    values = {e["row"]: e["value"] for e in report["errors"]}
    assert values == {3: "2016-02-30", 4: "外星人", 5: "N1", 7: "9", 8: ""}
    zh = catalog("zh")
    reasons = {e["row"]: e["reason"] for e in report["errors"]}
    assert reasons[8] == zh["refused.empty"]
    assert reasons[5] == zh["refused.duplicate_in_file"].format(id="N1", first=2)
    assert "外星人" in reasons[4] and "留守儿童" in reasons[4]  # the allowed ones by name
    assert school.snapshot() == before
    assert "什么都没有写入" in run.err

    text = school("import", "pupils", path)  # in words: every bad row, with its row and column
    assert text.code == 1, text
    for line in ("第 3 行「出生日期」“2016-02-30”", "第 4 行「类别」“外星人”", "第 5 行「学号」“N1”",
                 "第 7 行「年级」“9”", "第 8 行「姓名」"):
        assert line in text.out, text
    assert school.snapshot() == before


def test_a_changed_cell_is_an_amendment_and_a_blank_one_changes_nothing(sqlite_school, tmp_path):
    """P1 (on record: 小明, M, 2016-03-01, grade 3 class 2, left_behind, guardian 张奶奶 祖母
    13800000000) in a file that says class 2 again, categories 留守儿童、孤儿, phone 13911112222,
    guardian phone 13800000009 and leaves the name and birth cells blank -> one PupilAmended with
    {phone, guardian: 张奶奶 祖母 13800000009} and one CategoryAdded orphan; nothing else."""
    school = sqlite_school
    path = xlsx(tmp_path / "p1.xlsx", ["学号", "姓名", "出生日期", "班级", "类别", "联系电话", "监护人电话"],
                [["P1", None, None, "2班", "留守儿童、孤儿", "13911112222", "13800000009"]])
    before = school.snapshot()["events"]
    report = imported(school, path)
    assert (report["added"], report["amended"], report["unchanged"]) == ([], ["P1"], [])
    amended, added = new_events(school.url, before)
    assert amended.type == "PupilAmended" and added.type == "CategoryAdded" and added.category == "orphan"
    assert {k: msgspec.to_builtins(v) for k, v in amended.changes.items()} == {
        "phone": "13911112222", "guardian": {"name": "张奶奶", "relation": "祖母", "phone": "13800000009", "workplace": ""}}
    pupil = next(p for p in school.read("archive")["pupils"] if p["pupil"] == "P1")
    assert (pupil["name"], pupil["categories"]) == ("小明", ["left_behind", "orphan"])


# --- the same file twice; a dry run ---------------------------------------------------------------------


def _good_roster(tmp_path: Path) -> str:
    return xlsx(tmp_path / "good.xlsx", ZH_HEADERS, VARIANTS["chinese"][1] + [
        ["P1", "小明", "男", dt.datetime(2016, 3, 1), 3, 2, "留守儿童", None, "张奶奶", "祖母", "13800000000"],
        ["P2", "小红", "女", "2016-05-01", 3, 2, "家庭经济困难", "13955556666"],
    ])


def test_the_same_file_imported_twice_writes_once(school, tmp_path):
    """First: N1 and N2 added (2 registrations), P2's phone amended (1), P1 as recorded
    (unchanged): 3 events. Second: all four unchanged, 0 events, the chain head as it was.
    On SQLite and on PostgreSQL."""
    path = _good_roster(tmp_path)
    start = school.snapshot()
    first = imported(school, path)
    assert (first["added"], first["amended"], first["unchanged"], first["written"]) == (["N1", "N2"], ["P2"], ["P1"], 3)
    after_first = school.snapshot()
    assert after_first["events"] == start["events"] + 3
    second = imported(school, path)
    assert (second["added"], second["amended"], second["unchanged"], second["written"]) == ([], [], ["N1", "N2", "P1", "P2"], 0)
    assert school.snapshot() == after_first
    words = school("import", "pupils", path)
    assert words.code == 0 and catalog("zh")["import.nothing"] in words.out, words


def test_a_dry_run_reports_and_writes_nothing(sqlite_school, tmp_path):
    school = sqlite_school
    path = _good_roster(tmp_path)
    before = school.snapshot()
    report = imported(school, path, "--dry-run")
    assert (report["added"], report["amended"], report["unchanged"], report["dry_run"], report["written"]) == (
        ["N1", "N2"], ["P2"], ["P1"], True, 0)
    assert school.snapshot() == before
    words = school("import", "pupils", path, "--dry-run")
    assert words.code == 0 and "--dry-run" in words.out and school.snapshot() == before


def test_the_rows_are_written_in_one_transaction(sqlite_school, tmp_path):
    """The import is one command: its three events have consecutive places in the log and one
    recording time (a single append under the head guard)."""
    school = sqlite_school
    before = school.snapshot()["events"]
    imported(school, _good_roster(tmp_path))
    mine = [e for e in school.audit() if e["seq"] > before]
    assert [e["type"] for e in mine] == ["PupilRegistered", "PupilRegistered", "PupilAmended"]
    assert [e["seq"] for e in mine] == [before + 1, before + 2, before + 3]
    assert len({e["recorded_at"] for e in mine}) == 1, mine


# --- ID numbers ------------------------------------------------------------------------------------


def test_an_id_number_column_is_ignored_and_never_in_the_store(sqlite_school, tmp_path):
    """身份证号 is listed under "ignored"; the number appears nowhere: not in the events (decrypted),
    not in the saved read models, not in the store file's bytes (nor its WAL), not in what
    careterm printed, not in `audit` or `history`."""
    school = sqlite_school
    path = xlsx(tmp_path / "ids.xlsx", ["学号", "姓名", "性别", "出生日期", "年级", "班级", "身份证号", "民族"],
                [["N1", "王小丽", "女", dt.datetime(2016, 3, 1), 3, 2, ID_NUMBER, "汉族"]])
    run = school("import", "pupils", path, "--json")
    assert run.code == 0, run
    assert run.json()["ignored"] == ["身份证号", "民族"]
    assert ID_NUMBER not in run.out + run.err
    for event in stored_events(school.url):
        assert ID_NUMBER not in msgspec.json.encode(event).decode(), event
    for suffix in ("", "-wal"):
        file = Path(school.url + suffix)
        if file.exists():
            data = file.read_bytes()
            assert ID_NUMBER.encode() not in data and ID_NUMBER.encode("utf-16-le") not in data
    from events import saved
    from events.store import Store

    with Store(school.url) as store:
        model = saved.load(store, "s1")
        assert ID_NUMBER not in msgspec.json.encode(model).decode()
    assert ID_NUMBER not in json.dumps(school.read("audit"), ensure_ascii=False)
    assert ID_NUMBER not in json.dumps(school.read("history", "N1"), ensure_ascii=False)


def test_an_id_number_in_a_kept_cell_is_a_bad_row_and_is_not_quoted(sqlite_school, tmp_path):
    """An ID number where careterm keeps text (the phone, or as the pupil's id — a 学籍号 that is
    G + the ID number) is refused on its row and column, quoted back masked."""
    school = sqlite_school
    path = xlsx(tmp_path / "ids.xlsx", ["学籍号", "姓名", "性别", "出生日期", "年级", "班级", "联系电话"], [
        ["N1", "王小丽", "女", dt.datetime(2016, 3, 1), 3, 2, ID_NUMBER],
        ["G" + ID_NUMBER, "赵小刚", "男", dt.datetime(2016, 5, 1), 3, 2, None],
    ])
    before = school.snapshot()
    run = school("import", "pupils", path, "--json")
    assert run.code == 1, run
    report = run.json()
    assert problems(report) == [(2, "联系电话", "id_number_cell"), (3, "学籍号", "id_number_cell")]
    assert report["errors"][0]["value"] == "1101************3X"
    assert ID_NUMBER not in run.out + run.err
    assert school.snapshot() == before


# --- CSV in the encodings Chinese Excel writes --------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_a_csv_in_gb18030_or_utf8_is_read(sqlite_school, tmp_path, encoding):
    """The same two rows as the Chinese workbook (N1, N2: see the header-variant test), written as
    CSV text in each encoding; a quoted cell with a comma in it (the categories) stays one cell."""
    school = sqlite_school
    lines = [",".join(ZH_HEADERS[:8]),
             'N1,王小丽,女,2016-03-01,三年级,2班,"留守儿童,家庭经济困难",13700000001',
             "N2,赵小刚,男,2016/5/1,3,2,孤儿、残疾儿童,"]
    data = "\r\n".join(lines).encode(encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really not UTF-8: the reader had to know GB18030
    path = tmp_path / "roster.csv"
    path.write_bytes(data)
    before = school.snapshot()["events"]
    report = imported(school, str(path))
    assert report["added"] == ["N1", "N2"] and report["errors"] == [], report
    n1, n2 = new_events(school.url, before)
    assert (n1.name, n1.birth, n1.grade, n1.class_, n1.categories, n1.phone) == (
        "王小丽", dt.date(2016, 3, 1), 3, 2, ["left_behind", "economic_hardship"], "13700000001")
    assert (n2.name, n2.birth, n2.categories) == ("赵小刚", dt.date(2016, 5, 1), ["orphan", "disabled"])


# --- who may import ------------------------------------------------------------------------------------


def test_a_class_teacher_imports_their_own_class_only(sqlite_school, tmp_path):
    """CT teaches grade 3 class 2: N1 in 3-2 may be added; N2 in 4-2 may not (班级: not their
    class), so nothing is written; without N2 the file is written, as CT."""
    school = sqlite_school
    rows = [["N1", "王小丽", "女", "2016-03-01", 3, 2], ["N2", "赵小刚", "男", "2015-05-01", 4, 2]]
    headers = ["学号", "姓名", "性别", "出生日期", "年级", "班级"]
    before = school.snapshot()
    report = imported(school, xlsx(tmp_path / "two.xlsx", headers, rows), actor="CT", code=1)
    assert problems(report) == [(3, "班级", "not_your_class")]
    assert school.snapshot() == before
    report = imported(school, xlsx(tmp_path / "one.xlsx", headers, rows[:1]), actor="CT")
    assert report["added"] == ["N1"]
    assert stored_events(school.url)[-1].actor == "CT"


def test_a_class_teacher_learns_nothing_of_another_class_from_unchanged_rows(sqlite_school, tmp_path):
    """P3 (小刚, M, 2015-05-01, grade 4 class 2) is not CT's pupil: a row with exactly P3's recorded
    values is not "unchanged" for CT (that would confirm what P3's file holds) but refused on
    班级, as `pupil amend P3` is; for the leader the same row is unchanged."""
    school = sqlite_school
    path = xlsx(tmp_path / "p3.xlsx", ["学号", "姓名", "性别", "出生日期", "年级", "班级"],
                [["P3", "小刚", "男", "2015-05-01", 4, 2]])
    report = imported(school, path, "--dry-run", actor="CT", code=1)
    assert problems(report) == [(2, "班级", "not_your_class")] and report["unchanged"] == []
    assert imported(school, path, "--dry-run")["unchanged"] == ["P3"]


def test_a_teacher_without_the_permission_is_refused_before_any_row(sqlite_school, tmp_path):
    """T1 is a plain teacher (no class): refused naming --as, as `pupil add` refuses them; a class
    teacher may not import staff (the staff permission)."""
    school = sqlite_school
    path = xlsx(tmp_path / "one.xlsx", ["学号", "姓名", "性别", "出生日期", "年级", "班级"], [["N1", "王小丽", "女", "2016-03-01", 3, 2]])
    school.refused("import", "pupils", path, field="--as", actor="T1")
    staff = xlsx(tmp_path / "staff.xlsx", ["工号", "姓名"], [["N9", "新老师"]])
    run = school.refused("import", "staff", staff, field="--as", actor="CT")
    assert "管理员" in run.err  # the roles that may, by name


# --- staff ----------------------------------------------------------------------------------------------


def test_staff_roster_adds_and_amends(sqlite_school, tmp_path):
    """工号 N1 李老师, 身份 班主任, 三年级 1班 -> StaffJoined [class_teacher] 3-1; T1 王老师 (a teacher)
    with 身份 教师、心理辅导教师 -> StaffAmended roles [teacher, counselor]; T2 as recorded -> unchanged."""
    school = sqlite_school
    path = xlsx(tmp_path / "staff.xlsx", ["工号", "姓名", "身份", "年级", "班级"], [
        ["N1", "李老师", "班主任", "三年级", "1班"],
        ["T1", "王老师", "教师、心理辅导教师", None, None],
        ["T2", "李老师", "教师", None, None],
    ])
    before = school.snapshot()["events"]
    run = school("import", "staff", path, "--json")
    assert run.code == 0, run
    report = run.json()
    assert (report["added"], report["amended"], report["unchanged"]) == (["N1"], ["T1"], ["T2"])
    joined, amended = new_events(school.url, before)
    assert (joined.type, joined.staff, joined.name, joined.roles, joined.grade, joined.class_) == (
        "StaffJoined", "N1", "李老师", ["class_teacher"], 3, 1)
    assert (amended.type, amended.staff, amended.changes) == ("StaffAmended", "T1", {"roles": ["teacher", "counselor"]})


def test_each_row_is_checked_against_the_school_after_the_rows_before_it(sqlite_school, tmp_path):
    """The school must keep an admin. Row 2 adds A2 as admin, row 3 makes admin a leader only:
    allowed, because after row 2 there is another admin. The same two rows the other way round:
    row 2 would leave no admin (last_admin on 身份), so nothing is written."""
    school = sqlite_school
    headers = ["工号", "姓名", "身份"]
    add, demote = ["A2", "新管理员", "管理员"], ["admin", "校长", "学校领导"]
    before = school.snapshot()
    report = json.loads(school("import", "staff", xlsx(tmp_path / "b.xlsx", headers, [demote, add]), "--json").out)
    assert problems(report) == [(2, "身份", "last_admin")]
    assert school.snapshot() == before
    report = json.loads(school("import", "staff", xlsx(tmp_path / "a.xlsx", headers, [add, demote]), "--json").out)
    assert report["errors"] == [] and report["added"] == ["A2"] and report["amended"] == ["admin"]


# --- the file itself -------------------------------------------------------------------------------------


def test_files_careterm_cannot_read_are_refused_naming_the_file(sqlite_school, tmp_path):
    school = sqlite_school
    old = tmp_path / "roster.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0 an old Excel file")
    school.refused("import", "pupils", str(old), field="文件")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    school.refused("import", "pupils", str(broken), field="文件")
    school.refused("import", "pupils", str(tmp_path / "missing.xlsx"), field="文件")
    no_ids = xlsx(tmp_path / "no_ids.xlsx", ["姓名", "性别"], [["王小丽", "女"]])
    run = school.refused("import", "pupils", no_ids, field="文件")
    assert "学号" in run.err
    utf16 = tmp_path / "unicode.csv"
    utf16.write_bytes("学号,姓名\r\nN1,王小丽".encode("utf-16"))
    school.refused("import", "pupils", str(utf16), field="文件")


def test_the_sheet_option_picks_a_sheet_and_an_unknown_one_lists_them(sqlite_school, tmp_path):
    school = sqlite_school
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["这张表是说明"])
    sheet = book.create_sheet("三年级二班")
    sheet.append(["学号", "姓名", "性别", "出生日期", "年级", "班级"])
    sheet.append(["N1", "王小丽", "女", "2016-03-01", 3, 2])
    path = tmp_path / "book.xlsx"
    book.save(path)
    report = imported(school, str(path), "--sheet", "三年级二班", "--dry-run")
    assert report["added"] == ["N1"] and report["sheet"] == "三年级二班"
    run = school.refused("import", "pupils", str(path), "--sheet", "四年级", field="--sheet")
    assert "说明" in run.err and "三年级二班" in run.err
    school.refused("import", "pupils", str(path), field="文件")  # the first sheet has no 学号


def test_reasons_in_english(sqlite_school, tmp_path):
    school = sqlite_school
    path = xlsx(tmp_path / "bad.xlsx", ["pupil", "name", "gender", "birth", "grade", "class"],
                [["N1", "Li Ming", "M", "2016-02-30", 3, 2]])
    run = school("import", "pupils", path, "--lang", "en")
    assert run.code == 1, run
    assert "Row 2, column “birth”, value “2016-02-30”" in run.out, run
    assert not CJK.search(run.out + run.err), run


# --- the template ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["pupils", "staff"])
def test_the_template_holds_the_headers_and_the_allowed_values_and_imports_back(sqlite_school, tmp_path, what):
    """Sheet 1: the Chinese headers careterm reads, nothing else; sheet 2: the genders, grades and
    categories (or roles) by name. Filled in with one row, it imports."""
    from careterm.paperwork.roster import FIELDS

    school = sqlite_school
    out = tmp_path / f"{what}.xlsx"
    run = school("export", "template", what, "--out", str(out))
    assert run.code == 0 and str(out) in run.out, run
    book = openpyxl.load_workbook(out)
    roster_sheet, values = book.worksheets
    headers = [c.value for c in roster_sheet[1]]
    assert headers == [f.zh[0] for f in FIELDS[what]]
    assert roster_sheet.max_row == 1 or all(c.value is None for row in roster_sheet.iter_rows(min_row=2) for c in row)
    listed = {c.value for row in values.iter_rows() for c in row if c.value}
    zh = catalog("zh")
    if what == "pupils":
        assert {"男", "女", "一年级", "六年级"} <= listed
        assert {zh[f"category.{c}"] for c in ("left_behind", "orphan", "economic_hardship")} <= listed
        roster_sheet.append(["N1", "王小丽", "女", dt.datetime(2016, 3, 1), "三年级", "2班", "留守儿童"])
    else:
        assert {zh[f"role.{r}"] for r in ("teacher", "class_teacher", "leader")} <= listed
        roster_sheet.append(["N1", "李老师", "班主任", "三年级", "1班"])
    book.save(out)
    run = school("import", what, str(out), "--json")
    assert run.code == 0 and run.json()["added"] == ["N1"], run


def test_the_template_must_be_an_xlsx(sqlite_school, tmp_path):
    sqlite_school.refused("export", "template", "pupils", "--out", str(tmp_path / "t.csv"), field="--out")


# --- cells into values (pure) -------------------------------------------------------------------------------


@pytest.mark.parametrize("cell, month, expected", [
    (dt.datetime(2016, 3, 1), False, dt.date(2016, 3, 1)),
    ("2016-03-01", False, dt.date(2016, 3, 1)),
    ("2016/3/1", False, dt.date(2016, 3, 1)),
    ("2016.3.1", False, dt.date(2016, 3, 1)),
    ("2016年3月1日", False, dt.date(2016, 3, 1)),
    ("２０１６年３月１日", False, dt.date(2016, 3, 1)),  # full-width digits
    ("2016-03-01 00:00:00", False, dt.date(2016, 3, 1)),  # a date cell saved as CSV
    ("2016-03", True, dt.date(2016, 3, 1)),
    ("201603", True, dt.date(2016, 3, 1)),
    (201603, True, dt.date(2016, 3, 1)),
    ("2016年3月", True, dt.date(2016, 3, 1)),
    (2016.03, True, dt.date(2016, 3, 1)),
    (2016.12, True, dt.date(2016, 12, 1)),
    (2016.2, True, dt.date(2016, 2, 1)),
])
def test_a_day_as_written(cell, month, expected):
    from careterm.paperwork.roster_values import day

    assert day(cell, "birth", month=month) == expected


@pytest.mark.parametrize("cell, month, code", [
    ("2016-02-30", False, "bad_date"),
    ("2016-03", False, "bad_date"),  # a month alone only under 出生年月
    ("20160301", False, "bad_date"),
    ("2016-13", True, "bad_month"),
    (2016.1, True, "ambiguous_month"),  # January or October (2016.10 lost its 0)?
    (dt.datetime(1850, 1, 1), False, "date_out_of_range"),
])
def test_a_day_not_understood(cell, month, code):
    from careterm.paperwork.roster_values import day
    from events.errors import Refused

    with pytest.raises(Refused) as refused:
        day(cell, "birth", month=month)
    assert refused.value.code == code


def test_grades_classes_and_lists_as_written():
    from careterm.paperwork import roster_values as V
    from events.errors import Refused

    assert [V.grade(c, "grade") for c in (3, 3.0, "3", "三年级", "3年级", "六", "３")] == [3, 3, 3, 3, 3, 6, 3]
    assert [V.class_number(c, "class") for c in (2, "2", "2班", "(2)班", "（2）班", "二班", "十二班")] == [2, 2, 2, 2, 2, 2, 12]
    for bad in ("三年级二班", "3.5", 3.5, "a"):
        with pytest.raises(Refused):
            V.grade(bad, "grade")
    assert V.categories("留守儿童、孤儿，disabled,economic_hardship;学困生/心理困扰", "categories") == [
        "left_behind", "orphan", "disabled", "economic_hardship", "learning_difficulty", "psychological"]
    assert V.categories("困境留守儿童", "categories") == ["left_behind", "in_difficulty"]
    assert [V.gender(g, "gender") for g in ("男", "女", "M", "F", "f")] == ["M", "F", "M", "F", "F"]
    assert V.text(13800138000.0) == "13800138000"
    assert V.masked(f"G{ID_NUMBER}") == "G1101************3X"
    assert V.id_numbers("110105201603011231") == []  # a wrong check digit: not an ID number


def test_the_import_benchmark_runs_and_reports_its_figures(tmp_path):
    """A seconds-long run of benchmarks/import_roster.py (20 rows, one run): it runs from a
    checkout and reports every figure (the figures themselves are measurements, see the README)."""
    import subprocess
    import sys

    out = tmp_path / "figures.json"
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "benchmarks/import_roster.py", "--rows", "20", "--runs", "1", "--json", str(out)],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["rows"] == 20 and figures["events_written"] == 20
    for key in ("import_s", "import_peak_mb", "again_s", "again_peak_mb", "dry_run_s", "dry_run_peak_mb"):
        assert figures[f"{key}_median"] > 0, key
    assert "| import into a fresh store, s |" in done.stdout


def test_an_id_number_in_any_cell_is_never_quoted_back_in_full(sqlite_school, tmp_path):
    """An ID number (110105201603071232, a valid one; and ID_NUMBER) typed into each kind of cell
    a pupil or staff roster reads — 性别, 出生日期, 出生年月, 年级, 班级, 类别, 身份 — is a bad row (one
    per row: 5 pupils' rows, 1 of the form, 2 staff rows), and neither the report in words nor
    --json (value and reason) holds the number in full: only 1101************32 / …3X."""
    school = sqlite_school
    digits = "110105201603071232"
    pupils = xlsx(tmp_path / "ids.xlsx", ["学号", "姓名", "性别", "出生日期", "年级", "班级", "类别"], [
        ["N1", "王小丽", digits, dt.datetime(2016, 3, 1), 3, 2, "留守儿童"],
        ["N2", "赵小刚", "男", digits, 3, 2, "留守儿童"],
        ["N3", "钱小芳", "女", dt.datetime(2016, 3, 1), ID_NUMBER, 2, "留守儿童"],
        ["N5", "李小兵", "男", dt.datetime(2016, 3, 1), 3, digits, "留守儿童"],
        ["N6", "周小花", "女", dt.datetime(2016, 3, 1), 3, 2, f"留守儿童、{ID_NUMBER}"],
    ])
    form = xlsx(tmp_path / "form.xlsx", ["学籍号", "姓名", "性别", "出生年月", "年级", "班级"], [
        ["N7", "吴小军", "男", digits, 3, 2],
    ])
    staff = xlsx(tmp_path / "staff.xlsx", ["工号", "姓名", "身份", "年级", "班级"], [
        ["S1", "王老师", ID_NUMBER, 3, 2],
        ["S2", "李老师", "班主任", digits, 2],
    ])
    before = school.snapshot()
    for kind, path, rows in (("pupils", pupils, 5), ("pupils", form, 1), ("staff", staff, 2)):
        for extra in (("--json",), ()):
            run = school("import", kind, path, *extra)
            assert run.code == 1, run
            said = run.out + run.err
            assert digits not in said and ID_NUMBER not in said, said
            if extra:
                errors = run.json()["errors"]
                assert len({e["row"] for e in errors}) == rows, errors
                assert all(e["value"] in ("1101************32", "1101************3X", "留守儿童、1101************3X")
                           for e in errors), errors
    assert school.snapshot() == before


@pytest.mark.parametrize("out", ["/proc/x.xlsx", "/nonexistent-dir/x.xlsx"])
def test_the_template_to_a_place_that_cannot_be_written_is_refused_naming_out(sqlite_school, out):
    """/proc takes no new file (even for root); a missing folder is not made: exit 1 naming --out
    and the path, no traceback, no internal error, nothing written."""
    run = sqlite_school.refused("export", "template", "pupils", "--out", out, field="--out")
    assert out in run.err and "Traceback" not in run.err and "程序内部出错" not in run.err, run
    assert not Path(out).exists() and not Path("/nonexistent-dir").exists()


def test_a_csv_over_the_limits_is_refused_without_being_read_whole(sqlite_school, tmp_path):
    """A CSV is read as far as the row limit only, like a workbook: 25,000 pupils' rows under the
    header are refused at row 20,000 + 10 (the header search) + 1,000 (blank rows) + 1 = 21,011,
    said as "21011+" rows (read whole, it would say 25000). A CSV over 32 MB (one header and one
    33 MB cell) is refused by its size before it is decoded, naming the file. Nothing written."""
    school = sqlite_school
    before = school.snapshot()
    long = tmp_path / "long.csv"
    long.write_text("学号,姓名\n" + "".join(f"N{i},王{i}\n" for i in range(25_000)), encoding="utf-8")
    run = school.refused("import", "pupils", str(long), field="文件")
    assert "21011+" in run.err and "20000" in run.err and "25000" not in run.err, run
    big = tmp_path / "big.csv"
    big.write_bytes("学号,姓名\nN1,".encode() + b"x" * (33 * 1024 * 1024))
    run = school.refused("import", "pupils", str(big), field="文件")
    assert "big.csv" in run.err and "32 MB" in run.err, run
    assert school.snapshot() == before
