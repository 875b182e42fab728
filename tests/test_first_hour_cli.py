"""Issue 9, "the first hour", the command-line side: what a new user trips on, each through the real
program (a subprocess) on a real SQLite file, on a copy of the base school of test_cli.py.

The base school (test_cli.build_base): P1 小明 left_behind, mentor T1 since 2025-09-02, a talk by
T1 on 2025-10-10; P2 小红 economic_hardship, a living subsidy of 500 on 2025-10-01; ...
"""

from __future__ import annotations

import subprocess

import pytest

from test_cli import (  # noqa: F401 - fixtures are used by name
    CJK,
    PROGRAM,
    ROOT,
    TEST_PASSWORD,
    School,
    careterm,
    clean_env,
    sqlite_base,
    sqlite_school,
)

from test_cli_refusals import catalog


# --- 3. dates as people type them -------------------------------------------------------------


@pytest.mark.parametrize("typed", ["2025-10-20", "2025/10/20", "2025.10.20", "2025年10月20日", " 2025/10/20 "])
def test_a_date_is_understood_as_people_write_it(sqlite_school, typed):
    """`contact P1 --kind talk --date X` for each way of writing 20 October 2025 records the
    date 2025-10-20 (output always YYYY-MM-DD)."""
    rows = sqlite_school.write("contact", "P1", "--kind", "talk", "--date", typed, actor="T1")
    assert rows[0]["date"] == "2025-10-20"


@pytest.mark.parametrize("typed", ["2025-9-1", "2025/9/1", "2025.9.1", "2025年9月1日"])
def test_short_month_and_day_are_understood(sqlite_school, typed):
    """One-digit month and day: 2025-9-1 is 2025-09-01, shown in `audit --as-of`'s answer."""
    found = sqlite_school.read("compliance", "--as-of", typed)
    assert found["as_of"] == "2025-09-01"


@pytest.mark.parametrize(
    "typed, code",
    [
        ("２０２５-10-20", "bad_date"),  # full-width digits: refused, not read as 2025
        ("2025-W43-1", "bad_date"),  # an ISO week date, which fromisoformat would take
        ("20251020", "bad_date"),
        ("2025-10/20", "bad_date"),  # two separators
        ("2025-2-30", "bad_date"),
        ("", "bad_date"),
        ("1899-12-31", "date_out_of_range"),  # years 1900..9998 only
        ("9999-01-01", "date_out_of_range"),
    ],
)
def test_a_date_not_understood_is_refused_naming_the_field(sqlite_school, typed, code):
    """Each is refused, exit 1, naming --date, quoting what was typed, in the catalog's words."""
    run = sqlite_school.refused("contact", "P1", "--kind", "talk", "--date", typed, actor="T1", field="--date")
    assert typed.strip() in run.err or typed == ""
    if code == "date_out_of_range":
        assert "1900" in run.err and "9998" in run.err, run
    head = catalog("zh")[f"refused.{code}"].split("“")[0]
    assert head in run.err, run


# --- 7. no command and no terminal ---------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_command_without_a_terminal_says_what_to_do_and_exits_2(sqlite_school, lang):
    """`careterm` with stdin /dev/null and stdout a pipe does not start the app (it used to wait
    for keys for ever at 70% CPU): it prints the catalog's advice on stderr and exits 2, at once."""
    p = subprocess.run(
        [*PROGRAM, "--store", sqlite_school.url, "--lang", lang], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, encoding="utf-8", env=clean_env(), timeout=20, cwd=ROOT,
    )
    assert p.returncode == 2, p
    assert p.stdout == ""
    assert catalog(lang)["open.no_terminal"] in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    if lang == "zh":
        assert "careterm --help" in p.stderr


# --- 8. rates and money as people read them ------------------------------------------------------


def test_compliance_text_shows_rates_as_percentages_and_never_none(sqlite_school):
    """Worked out from the JSON of the same run (the rates are fractions there): each mentor's
    and class's rate and the school's appear as round percentages (0.2 -> 20%); with nothing
    owed yet (as of the opening day, no pairing) the school's rate is "-", never "None"."""
    data = sqlite_school.read("compliance", "--as-of", "2025-12-01")
    run = sqlite_school("compliance", "--as-of", "2025-12-01", actor=None)
    assert run.code == 0, run
    for mentor in data["mentors"]:
        assert f"{mentor['staff']}\t{mentor['name']}\t{mentor['rate']:.0%}" in run.out, run
    assert f"{data['school']['rate']:.0%}" in run.out.splitlines()[-1]
    assert not any(f"\t{m['rate']}" in run.out for m in data["mentors"] if m["rate"] not in (0, 1)), run
    empty = sqlite_school("compliance", "--as-of", "2025-09-01", actor=None)
    assert "None" not in empty.out, empty
    assert empty.out.splitlines()[-1].endswith("全校完成率 -"), empty


def test_money_is_shown_in_yuan_in_aid_list_and_stats(sqlite_school):
    """P2's living subsidy of 500 (base school) reads "500.00 元" with its kind's name 生活补助,
    in `aid list` and in `stats`; JSON keeps "500.00" and the code."""
    assert sqlite_school.read("aid", "list")["grants"][0]["amount"] == "500.00"
    for view in (("aid", "list"), ("stats",)):
        run = sqlite_school(*view, actor=None)
        assert "生活补助\t500.00 元" in run.out or ("生活补助" in run.out and "500.00 元" in run.out), run
        assert "living_subsidy" not in run.out, run


# --- 5. recording times in the school's time zone ----------------------------------------------------


def _shanghai(recorded_at: str) -> str:
    import datetime as dt
    from zoneinfo import ZoneInfo

    return dt.datetime.fromisoformat(recorded_at).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


def test_audit_and_history_show_recording_times_in_the_schools_zone(sqlite_school):
    """The base school is in Asia/Shanghai (UTC+8). A talk recorded now: JSON keeps ISO 8601 UTC
    with its offset; the text of audit and history shows that moment plus 8 hours, as
    YYYY-MM-DD HH:MM, and never the UTC time."""
    row = sqlite_school.write("contact", "P1", "--kind", "talk", "--date", "2025-10-20", actor="T1")[0]
    assert row["recorded_at"].endswith("+00:00")
    local, utc = _shanghai(row["recorded_at"]), row["recorded_at"][:16].replace("T", " ")
    for view in (("audit", "--pupil", "P1"), ("history", "P1")):
        run = sqlite_school(*view, actor=None)
        line = next(l for l in run.out.splitlines() if l.startswith(f"{row['seq']}\t"))
        assert f"\t{local}\t" in line, line
        assert utc not in line and "T" not in line.split("\t")[4], line


# --- 9. notes in history ------------------------------------------------------------------------


def test_history_shows_each_entrys_note_with_its_lines(sqlite_school):
    """A talk with a note of two lines: `history P1` prints it under the entry's row, labelled
    备注, each line starting in the same column."""
    row = sqlite_school.write("contact", "P1", "--kind", "talk", "--date", "2025-10-20", "--note", "谈了学习\n也谈了家里", actor="T1")[0]
    out = sqlite_school("history", "P1", actor=None).out.splitlines()
    at = next(i for i, l in enumerate(out) if l.startswith(f"{row['seq']}\t"))
    assert out[at + 1] == "    备注：谈了学习"
    assert out[at + 2] == " " * len("    ") + " " * 6 + "也谈了家里"  # 备注： is 6 columns wide


# --- 10. the audit's flag filter, names beside ids -----------------------------------------------


def test_audit_filters_by_flag(sqlite_school):
    """Every entry of the base school was recorded at test time, months after its date (late:
    more than 7 days). A talk dated today is not late. So `--flag late` lists every entry but
    that talk, each carrying `late`; `--flag backfill` lists none (no inspection); in log order."""
    from test_cli import school_today

    today = school_today().isoformat()
    fresh = sqlite_school.write("contact", "P1", "--kind", "talk", "--date", today, actor="T1")[0]
    every = sqlite_school.audit()
    late = sqlite_school.audit("--flag", "late")
    assert [e["id"] for e in late] == [e["id"] for e in every if e["id"] != fresh["id"]]
    assert all("late" in e["flags"] for e in late)
    assert sqlite_school.audit("--flag", "backfill") == []
    run = sqlite_school.refused("audit", "--flag", "lately", field="--flag", actor=None)
    assert "补记" in run.err  # the allowed values, by name


def test_audit_and_history_name_the_pupil_beside_its_id(sqlite_school):
    """The subject column reads 小明（P1）, not pupil/P1; JSON keeps pupil/P1."""
    assert {e["subject"] for e in sqlite_school.audit("--pupil", "P1")} == {"pupil/P1"}
    for view in (("audit", "--pupil", "P1"), ("history", "P1")):
        out = sqlite_school(*view, actor=None).out
        assert "\t小明（P1）\t" in out and "pupil/P1" not in out, out


# --- 12. whose history it is ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang, first", [("zh", "小明（P1）的全部记录"), ("en", "Everything recorded about 小明 (P1)")])
def test_history_starts_by_saying_whose_it_is(sqlite_school, lang, first):
    run = sqlite_school("history", "P1", actor=None, lang=lang)
    assert run.out.splitlines()[0] == first, run


# --- 12. names that cannot be confused; a district without --school; `schools` -------------------


def test_the_two_calls_with_parents_have_distinct_names_and_one_wording_everywhere():
    """The weekly parent_call (the pupil calls the parents) and the monthly parent_phone_visit
    (the school calls the parents) read differently in English; a duty, a kind and a column
    of the same code have the same Chinese name (学期反馈 throughout, never 学期信息反馈)."""
    from events.rules import CONTACT_KINDS, DUTIES

    en, zh = catalog("en"), catalog("zh")
    def words(key: str) -> set[str]:
        return set(en[key].replace("(", " ").replace(")", " ").split())

    # "call with parents" and "call to parents" shared every word that matters: no word in common
    for prefix in ("kind.", "duty.", "col."):
        assert not words(prefix + "parent_call") & words(prefix + "parent_phone_visit"), prefix
        # a duty's name fits a table column at 80 columns (the Home table, the pupil file)
        assert prefix == "kind." or len(en[prefix + "parent_phone_visit"]) <= 24
    for duty in DUTIES:
        assert zh[f"duty.{duty}"] == zh[f"col.{duty}"], duty
        if duty in CONTACT_KINDS:  # not `inspection`: a handbook inspection meets it, no contact
            assert zh[f"kind.{duty}"] == zh[f"duty.{duty}"], duty
    for lang in ("zh", "en"):
        assert not any("学期信息反馈" in v for v in catalog(lang).values())


def _district(tmp_path) -> str:
    """Two schools in one store: s1 石砚小学 and s2 城关小学, each opened by `zhang` on
    2025-09-01 (one staff member each), one pupil P1 registered in s1."""
    url = str(tmp_path / "district.sqlite")
    for sid, name in (("s1", "石砚小学"), ("s2", "城关小学")):
        run = careterm("init", "--id", sid, "--school", name, "--date", "2025-09-01", store=url, actor="zhang")
        assert run.code == 0, run
    run = careterm("--school", "s1", "pupil", "add", "P1", "--name", "小明", "--gender", "M", "--birth", "2016-03-01",
                   "--grade", "3", "--class", "2", "--date", "2025-09-01", store=url, actor="zhang")
    assert run.code == 0, run
    return url


def test_a_district_without_school_says_how_to_list_the_schools(tmp_path):
    """`login` on a store of two schools, no --school and a staff id in both: refused naming
    --school, saying how many schools there are and how to list them, not listing their ids.
    (Before sign-in this was `archive --as zhang`; now whoever is signed in belongs to one school,
    so the question is asked when they sign in.)"""
    url = _district(tmp_path)
    run = careterm("login", "zhang", "--password-stdin", store=url, input=TEST_PASSWORD + "\n")
    assert run.code == 1 and "--school" in run.err, run
    assert "careterm schools" in run.err and "2" in run.err
    assert "s1" not in run.err and "s2" not in run.err, run


def test_schools_lists_each_school_with_its_counts(tmp_path):
    """`schools --json`: s1 with 1 pupil and 1 staff member (zhang), s2 with 0 and 1; last_entry
    an ISO 8601 recording time with offset. The text lists the ids and names."""
    import datetime as dt

    url = _district(tmp_path)
    found = careterm("--school", "s1", "schools", "--json", store=url, signin="zhang")
    assert found.code == 0, found
    schools = found.json()["schools"]
    assert [(r["school"], r["name"], r["pupils"], r["staff"]) for r in schools] == [
        ("s1", "石砚小学", 1, 1), ("s2", "城关小学", 0, 1)]
    for r in schools:
        assert set(r) == {"school", "name", "pupils", "staff", "last_entry"}
        assert dt.datetime.fromisoformat(r["last_entry"]).utcoffset() == dt.timedelta(0)
    text = careterm("--school", "s1", "schools", store=url, signin="zhang").out
    assert "s1\t石砚小学\t1\t1\t" in text and "s2\t城关小学\t0\t1\t" in text, text


# --- 4. the same contact twice on one day -----------------------------------------------------------


def test_a_second_identical_contact_is_recorded_and_reported(sqlite_school):
    """The base school has T1's talk with P1 on 2025-10-10. The same talk again: exit 0, the
    entry is recorded (one more ContactMade in P1's history), and stderr says, in the catalog's
    words, that 小明（P1） already has a 谈心 entry that day, naming the earlier entry's id.
    A talk on another day, or another kind that day, says nothing."""
    first = sqlite_school.ids["contact"]
    before = len(sqlite_school.history("P1"))
    run = sqlite_school("contact", "P1", "--kind", "talk", "--date", "2025-10-10", "--json", actor="T1")
    assert run.code == 0, run
    assert run.json()[0]["type"] == "ContactMade"
    assert len(sqlite_school.history("P1")) == before + 1
    assert first in run.err and "小明（P1）" in run.err and "谈心" in run.err and "2025-10-10" in run.err, run
    assert catalog("zh")["contact.same_day"].split("{")[0] in run.err
    for other in (("--kind", "talk", "--date", "2025-10-11"), ("--kind", "home_visit", "--date", "2025-10-10")):
        sqlite_school.write("contact", "P1", *other, actor="T1")  # asserts an empty stderr


# --- 6. one language at a time ----------------------------------------------------------------------

ENGLISH_ARGPARSE = ("usage:", "the following arguments are required", "invalid choice", "unrecognized arguments",
                    "show this help message", "positional arguments", "options:")


@pytest.mark.parametrize("args, key", [
    (("pair",), "argparse.required"),
    (("frobnicate",), "argparse.invalid_choice"),
    (("archive", "--bogus"), "argparse.unrecognized"),
])
def test_usage_errors_are_in_chinese(sqlite_school, args, key):
    """argparse's own messages come from the catalog: exit 2, the Chinese words, no English."""
    run = sqlite_school(*args, actor=None)
    assert run.code == 2, run
    assert catalog("zh")[key].split("%")[0] in run.err, run
    assert not any(text in run.err for text in ENGLISH_ARGPARSE), run
    english = sqlite_school(*args, actor=None, lang="en")
    assert catalog("en")[key].split("%")[0] in english.err and not CJK.search(english.err), english


def test_the_language_of_usage_errors_comes_from_the_environment_or_the_store(tmp_path):
    """CARETERM_LANG=en, or a store whose school speaks English (init --lang en), gives English
    usage errors without --lang."""
    run = careterm("pair", store=str(tmp_path / "none.sqlite"), env={"CARETERM_LANG": "en"})
    assert run.code == 2 and "the following arguments are required" in run.err, run
    url = str(tmp_path / "english.sqlite")
    assert careterm("init", "--school", "Hill School", "--lang", "en", "--date", "2025-09-01", store=url, actor="head").code == 0
    run = careterm("pair", store=url)
    assert run.code == 2 and "the following arguments are required" in run.err and not CJK.search(run.err), run


def _help_paths() -> list[list[str]]:
    import argparse

    from careterm.cli import build_parser

    found: list[list[str]] = [[]]

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append(path + [name])
                    walk(sub, path + [name])

    walk(build_parser(), [])
    return found


def test_every_help_text_is_in_the_chosen_language():
    """Every command's --help, in Chinese: no argparse English, every option with its Chinese
    help, the command's own words as its description; in English: no Chinese."""
    import contextlib
    import io

    from careterm.cli import build_parser
    from careterm.i18n import Translator

    zh = catalog("zh")
    for lang in ("zh", "en"):
        for path in _help_paths():
            parser = build_parser(Translator(lang))
            out = io.StringIO()
            with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
                parser.parse_args([*path, "--help"])
            text = out.getvalue()
            if lang == "zh":
                assert not any(t in text for t in ENGLISH_ARGPARSE), (path, text)
                assert zh[f"cmd.{' '.join(path) or 'careterm'}"] in text, path
                for line in text.splitlines():  # an option's line: the option, its placeholder, its words
                    if line.startswith("  --"):
                        assert CJK.search(line) or "zh|en" in line, (path, line)
            else:
                assert not CJK.search(text), (path, text)


def test_help_through_the_program_is_chinese(sqlite_school):
    run = sqlite_school("pupil", "add", "--help", actor=None)
    assert run.code == 0 and catalog("zh")["cmd.pupil add"] in run.out and "usage:" not in run.out, run


def test_recording_without_signing_in_says_so_in_chinese(sqlite_school):
    """Not signed in (no session, no token): exit 4 in Chinese (before sign-in: no --as, exit 2)."""
    run = sqlite_school("contact", "P1", "--kind", "talk", actor=None, env={"CARETERM_TOKEN": ""})
    assert run.code == 4 and catalog("zh")["signin.none"] in run.err, run


def test_a_store_that_cannot_be_opened_is_said_in_chinese(tmp_path):
    """A store under /proc cannot be created: a Chinese sentence naming the place, exit 3, none
    of the library's English ("cannot open the store", "unable to open database file")."""
    run = careterm("init", "--school", "x", store="/proc/careterm-test.sqlite", actor="a")
    assert run.code == 3, run
    assert "/proc/careterm-test.sqlite" in run.err and CJK.search(run.err), run
    assert "cannot open" not in run.err and "unable to open" not in run.err, run


def test_a_store_under_a_file_is_said_in_chinese(tmp_path):
    """--store a/x.sqlite where `a` is a file: its folder cannot be made, the same sentence as
    for /proc (exit 3, naming the place), never an internal error."""
    (tmp_path / "a").write_text("not a folder")
    place = str(tmp_path / "a" / "x.sqlite")
    run = careterm("init", "--school", "x", store=place, actor="a")
    assert run.code == 3 and place in run.err and CJK.search(run.err), run
    assert "cannot open" not in run.err and "unable to open" not in run.err, run


@pytest.mark.parametrize("kind", ["谈心", "talk", "Talk", " 谈心 "])
def test_a_contact_kind_by_its_name(sqlite_school, kind):
    rows = sqlite_school.write("contact", "P1", "--kind", kind, "--date", "2025-10-21", actor="T1")
    assert rows[0]["data"]["kind"] == "talk"


def test_enumerated_options_by_name_in_either_language(sqlite_school):
    """Names from zh.json or en.json are taken for their codes: 班主任 / "school leader" roles,
    gender 男, category 留守儿童, basis 低保家庭, need 生活用品, result 合格, audit --type 帮扶联系
    and --flag 补记 (every base entry is late, see test_audit_filters_by_flag)."""
    s = sqlite_school
    staff = s.write("staff", "add", "T8", "--name", "钱老师", "--role", "班主任", "--role", "school leader",
                    "--grade", "3", "--class", "2", "--date", "2025-09-01")
    assert staff[0]["data"]["roles"] == ["class_teacher", "leader"]
    pupil = s.write("pupil", "add", "P8", "--name", "小八", "--gender", "男", "--birth", "2016-1-1", "--grade", "3",
                    "--class", "2", "--category", "留守儿童", "--date", "2025-09-01")
    assert (pupil[0]["data"]["gender"], pupil[0]["data"]["categories"]) == ("M", ["left_behind"])
    aid = s.write("aid", "grant", "P8", "--kind", "生活补助", "--amount", "100", "--basis", "低保家庭", "--date", "2025-10-01")
    assert (aid[0]["data"]["kind"], aid[0]["data"]["basis"]) == ("living_subsidy", "dibao")
    assert s.write("incident", "report", "P8", "--need", "生活用品")[0]["data"]["need"] == "supplies"
    assert s.write("inspect", "T1", "--result", "合格")[0]["data"]["result"] == "ok"
    assert {e["type"] for e in s.audit("--type", "帮扶联系")} == {"ContactMade"}
    assert s.audit("--flag", "补记") == s.audit("--flag", "late")


def test_text_output_shows_enumerated_values_by_name(sqlite_school):
    """archive: 小明 is 男 and 小红 女 (base school), never M/F; staff list: roles by name."""
    archive = sqlite_school("archive", actor=None).out
    assert "\t小明\t男\t" in archive and "\t小红\t女\t" in archive, archive
    staff = sqlite_school("staff", "list", actor=None).out
    assert "管理员" in staff and "学校领导" in staff and "class_teacher" not in staff and "leader" not in staff, staff


def test_a_refusal_names_the_role_by_its_name(sqlite_school):
    """T1, a teacher, may not pair: the refusal names the role the action needs as 学校领导
    and the option as 操作人 --as, never the code "leader"."""
    run = sqlite_school.refused("pair", "T1", "P3", actor="T1", field="--as")
    assert "学校领导" in run.err and "操作人" in run.err and "leader" not in run.err, run


def test_an_unknown_value_lists_the_allowed_ones_by_name(sqlite_school):
    run = sqlite_school.refused("contact", "P1", "--kind", "chat", actor="T1", field="--kind")
    assert "谈心" in run.err and "parent_call" not in run.err, run
