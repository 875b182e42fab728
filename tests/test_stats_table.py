"""Issue 10, items 7 and 8: the statistics table (弱势群体情况统计表) and the incomplete file.

cli.md, "The statistics table": `stats` counts only pupils in a care category, per class and per
grade, each category, 困境留守 (`left_behind_in_difficulty`: left-behind AND in difficulty), how
many have a mentor, `dropouts` (dropped out and not returned) and `incomplete` (left-behind
pupils missing a guardian, or a parent's workplace or phone), every fact as of --as-of.

The school is written through the real write side (events.service.Service on a SQLite file) and
read through the real views; the command line is the real program as a subprocess. Expected
counts were worked out by hand from the school below before the tests were run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile

import pytest

from test_cli import prepared

from events import commands as C
from events import saved
from events.store import Store
from helpers import ScriptedSchool
from events.types import Person
from projections.completeness import missing
from projections.stats import COLUMNS, stats
from projections.views import archive

D = dt.date
SCHOOL = "s1"
OPENED = D(2025, 9, 1)
TODAY = D(2026, 6, 30)
GUARDIAN = Person(name="张奶奶", relation="祖母", phone="13800000000")
FATHER = Person(name="张三", relation="父亲", workplace="广东东莞", phone="13900000000")
NO_WORKPLACE = Person(name="李四", relation="父亲", phone="13700000000")
ZERO = {"total": 0, "with_mentor": 0}


class School(ScriptedSchool):
    today = TODAY

    def pupil(self, pid, *cats, grade, class_, guardian=None, parents=(), day=OPENED):
        self.do(lambda s, c: C.add_pupil(s, c, pid, name=f"学生{pid}", gender="F", birth=D(2016, 3, 1), grade=grade,
                                         class_=class_, categories=list(cats), guardian=guardian, parents=list(parents)), day)

    def model(self):
        return saved.load(self.store, SCHOOL)


@pytest.fixture
def school(tmp_path):
    """The school of this module (no terms: every day a school day). Staff T1, T2, T3.

    A  left_behind + in_difficulty, 3-1, guardian and a complete parent; mentor T1 from 09-02;
       moved to class 3-2 on 2026-05-01.
    B  left_behind, 3-1, no guardian, no parent; no mentor; a guardian added 2026-06-10 (still
       no parent).
    C  left_behind, 3-2, guardian, a parent with a phone and no workplace (workplace added
       2026-06-10); mentor T2 from 09-02.
    D  orphan, 4-1: dropped out 2026-03-01, never returned.
    E  in no category, 3-1 (never in the table).
    F  learning_difficulty, 4-1: dropped out 2026-02-01, returned 2026-03-10; mentor T3 from
       2026-03-15.
    G  economic_hardship, 5-1: graduated 2026-06-01.
    H  in no category at registration, 4-1, guardian and a complete parent; left_behind from
       2026-04-01.
    """
    with Store(tmp_path / "stats.sqlite", create=True) as store:
        s = School(store)
        for sid in ("T1", "T2", "T3"):
            s.do(lambda st, c, sid=sid: C.add_staff(st, c, sid, name=f"老师{sid}"), OPENED)
        s.pupil("A", "left_behind", "in_difficulty", grade=3, class_=1, guardian=GUARDIAN, parents=[FATHER])
        s.pupil("B", "left_behind", grade=3, class_=1)
        s.pupil("C", "left_behind", grade=3, class_=2, guardian=GUARDIAN, parents=[NO_WORKPLACE])
        s.pupil("D", "orphan", grade=4, class_=1)
        s.pupil("E", grade=3, class_=1)
        s.pupil("F", "learning_difficulty", grade=4, class_=1)
        s.pupil("G", "economic_hardship", grade=5, class_=1)
        s.pupil("H", grade=4, class_=1, guardian=GUARDIAN, parents=[FATHER])
        s.do(lambda st, c: C.pair(st, c, "T1", "A"), D(2025, 9, 2))
        s.do(lambda st, c: C.pair(st, c, "T2", "C"), D(2025, 9, 2))
        s.do(lambda st, c: C.drop_out(st, c, "F", reason="随父母外出"), D(2026, 2, 1))
        s.do(lambda st, c: C.drop_out(st, c, "D", reason="家中无人照看"), D(2026, 3, 1))
        s.do(lambda st, c: C.return_pupil(st, c, "F"), D(2026, 3, 10))
        s.do(lambda st, c: C.pair(st, c, "T3", "F"), D(2026, 3, 15))
        s.do(lambda st, c: C.amend_pupil(st, c, "H", add_categories=["left_behind"]), D(2026, 4, 1))
        s.do(lambda st, c: C.amend_pupil(st, c, "A", changes={"class": 2}), D(2026, 5, 1))
        s.do(lambda st, c: C.graduate(st, c, "G"), D(2026, 6, 1))
        s.do(lambda st, c: C.amend_pupil(st, c, "B", changes={"guardian": GUARDIAN}), D(2026, 6, 10))
        fixed = Person(name="李四", relation="父亲", workplace="浙江义乌", phone="13700000000")
        s.do(lambda st, c: C.amend_pupil(st, c, "C", changes={"parents": [fixed]}), D(2026, 6, 10))
        yield s


def columns(**counts: tuple[int, int]) -> dict:
    """Every column of a row: zero but those named (total, with_mentor)."""
    return {c: ({"total": counts[c][0], "with_mentor": counts[c][1]} if c in counts else ZERO) for c in COLUMNS}


def test_the_table_counts_pupils_in_care_by_class_and_grade_on_2026_06_20(school):
    """As of 2026-06-20, by hand:
    counted enrolled: A (3-2, both categories, mentor), B (3-1, no mentor, incomplete: no parent),
    C (3-2, mentor, complete since 06-10), F (4-1, returned, mentor), H (4-1, left-behind since
    04-01, no mentor); dropout: D (4-1). Not counted: E (no category), G (graduated).
    school: left_behind 4/2 (A B C H / A C), in_difficulty 1/1, 困境留守 1/1 (A),
    learning_difficulty 1/1, orphan 0/0 (D dropped out); total 5, with_mentor 3, dropouts 1,
    incomplete 1 (B).
    3-1: B only (E is in no category): left_behind 1/0; totals 1 0 0 1.
    3-2: A C: left_behind 2/2, in_difficulty 1/1, 困境留守 1/1; totals 2 2 0 0.
    4-1: F H (+ D dropped out): learning_difficulty 1/1, left_behind 1/0; totals 2 1 1 0.
    grade 3: 3 2 0 1; grade 4: 2 1 1 0; no grade 5 (G graduated)."""
    d = stats(school.model(), D(2026, 6, 20))
    assert d["by_category"] == columns(left_behind=(4, 2), in_difficulty=(1, 1), left_behind_in_difficulty=(1, 1),
                                       learning_difficulty=(1, 1))
    assert d["by_class"] == {
        "3-1": columns(left_behind=(1, 0)),
        "3-2": columns(left_behind=(2, 2), in_difficulty=(1, 1), left_behind_in_difficulty=(1, 1)),
        "4-1": columns(learning_difficulty=(1, 1), left_behind=(1, 0)),
    }
    assert d["class_totals"] == {
        "3-1": {"total": 1, "with_mentor": 0, "dropouts": 0, "incomplete": 1},
        "3-2": {"total": 2, "with_mentor": 2, "dropouts": 0, "incomplete": 0},
        "4-1": {"total": 2, "with_mentor": 1, "dropouts": 1, "incomplete": 0},
    }
    grades = {g: {k: v for k, v in row.items() if k != "by_category"} for g, row in d["by_grade"].items()}
    assert grades == {
        "3": {"total": 3, "with_mentor": 2, "dropouts": 0, "incomplete": 1},
        "4": {"total": 2, "with_mentor": 1, "dropouts": 1, "incomplete": 0},
    }
    assert d["by_grade"]["3"]["by_category"] == columns(left_behind=(3, 2), in_difficulty=(1, 1),
                                                        left_behind_in_difficulty=(1, 1))
    assert d["by_grade"]["4"]["by_category"] == columns(learning_difficulty=(1, 1), left_behind=(1, 0))
    assert (d["dropouts"], d["incomplete"]) == (1, 1)
    assert d["total"] == {"total": 5, "with_mentor": 3, "in_care": 5, "dropouts": 1, "incomplete": 1}


def test_the_table_takes_categories_status_class_and_file_as_of_the_date(school):
    """As of 2026-03-05, by hand: A still in 3-1 (moved 05-01); B 3-1 and C 3-2 incomplete (C's
    workplace comes 06-10); D and F dropped out (F returns 03-10); G enrolled in 5-1 (graduates
    06-01); H not yet left-behind (04-01): not counted.
    3-1: A B: left_behind 2/1, in_difficulty 1/1, 困境留守 1/1; totals 2 1 0 1.
    3-2: C: left_behind 1/1; totals 1 1 0 1.
    4-1: D F both dropouts: every column 0; totals 0 0 2 0.
    5-1: G: economic_hardship 1/0; totals 1 0 0 0.
    school: total 4, with_mentor 2, dropouts 2, incomplete 2.
    As of 2026-05-15: A in 3-2; F back (mentor T3); H counted (4-1, complete); B, C incomplete;
    grade 3: 3 2 0 2, grade 4: 2 1 1 0 (F H; D dropped out), grade 5: 1 0 0 0 (G)."""
    march = stats(school.model(), D(2026, 3, 5))
    assert march["by_class"] == {
        "3-1": columns(left_behind=(2, 1), in_difficulty=(1, 1), left_behind_in_difficulty=(1, 1)),
        "3-2": columns(left_behind=(1, 1)),
        "4-1": columns(),
        "5-1": columns(economic_hardship=(1, 0)),
    }
    assert march["class_totals"] == {
        "3-1": {"total": 2, "with_mentor": 1, "dropouts": 0, "incomplete": 1},
        "3-2": {"total": 1, "with_mentor": 1, "dropouts": 0, "incomplete": 1},
        "4-1": {"total": 0, "with_mentor": 0, "dropouts": 2, "incomplete": 0},
        "5-1": {"total": 1, "with_mentor": 0, "dropouts": 0, "incomplete": 0},
    }
    assert march["total"] == {"total": 4, "with_mentor": 2, "in_care": 4, "dropouts": 2, "incomplete": 2}
    may = stats(school.model(), D(2026, 5, 15))
    grades = {g: {k: v for k, v in row.items() if k != "by_category"} for g, row in may["by_grade"].items()}
    assert grades == {
        "3": {"total": 3, "with_mentor": 2, "dropouts": 0, "incomplete": 2},
        "4": {"total": 2, "with_mentor": 1, "dropouts": 1, "incomplete": 0},
        "5": {"total": 1, "with_mentor": 0, "dropouts": 0, "incomplete": 0},
    }
    assert may["by_class"]["3-2"] == columns(left_behind=(2, 2), in_difficulty=(1, 1), left_behind_in_difficulty=(1, 1))


def test_missing_is_the_one_rule_of_an_incomplete_file():
    """By hand: not left-behind -> nothing; left-behind with nothing -> all three; a guardian
    with no name counts as none; no parent -> both parent items; one of two parents without a
    workplace -> parent_workplace only; blanks are missing; complete -> nothing."""
    assert missing(["orphan"], {}) == []
    assert missing(["left_behind"], {}) == ["guardian", "parent_workplace", "parent_phone"]
    assert missing(["left_behind"], {"guardian": {"name": " "}, "parents": [FATHER]}) == ["guardian"]
    assert missing(["left_behind"], {"guardian": GUARDIAN, "parents": []}) == ["parent_workplace", "parent_phone"]
    assert missing(["left_behind"], {"guardian": GUARDIAN, "parents": [FATHER, NO_WORKPLACE]}) == ["parent_workplace"]
    mother = {"name": "王五", "relation": "母亲", "workplace": "上海", "phone": "  "}
    assert missing(["left_behind", "orphan"], {"guardian": GUARDIAN, "parents": [mother]}) == ["parent_phone"]
    assert missing(["left_behind"], {"guardian": GUARDIAN, "parents": [FATHER]}) == []


def test_the_archive_says_what_each_file_lacks_as_of_the_date(school):
    """archive rows carry `incomplete`: on 2026-03-05 B lacks all three, C parent_workplace,
    A, H (not left-behind yet), D (dropped out) and E nothing; on 2026-06-20 B lacks the parent's
    workplace and phone (guardian added 06-10), C nothing."""
    march = {r["pupil"]: r["incomplete"] for r in archive(school.model(), D(2026, 3, 5))["pupils"]}
    assert march == {"A": [], "B": ["guardian", "parent_workplace", "parent_phone"], "C": ["parent_workplace"],
                     "D": [], "E": [], "F": [], "G": [], "H": []}
    june = {r["pupil"]: r["incomplete"] for r in archive(school.model(), D(2026, 6, 20))["pupils"]}
    assert june["B"] == ["parent_workplace", "parent_phone"] and june["C"] == []


# --- the command line ------------------------------------------------------------------------

_XDG = tempfile.mkdtemp(prefix="careterm-stats-tests-")


def careterm(url: str, *args: str, lang: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARETERM_")}
    env.update(XDG_DATA_HOME=_XDG, PYTHONIOENCODING="utf-8")
    argv = [sys.executable, "-m", "careterm.cli", "--store", url, "--as", "admin"] + (["--lang", lang] if lang else [])
    words, signin, stdin = prepared(list(args), url, "admin", {})  # signed in as admin (test_cli)
    env.update(signin)
    done = subprocess.run(argv + words, capture_output=True, text=True, env=env, timeout=120, input=stdin,
                          **({} if stdin is not None else {"stdin": subprocess.DEVNULL}))
    assert done.returncode == 0, done
    return done


@pytest.fixture
def cli_school(tmp_path):
    """Through the program: 小明 (P1) left-behind in 3-2, registered with no guardian and no
    parent; 小红 (P2) left-behind and in difficulty in 3-2, guardian and parent complete; 小刚 (P3)
    in no category."""
    url = str(tmp_path / "cli.sqlite")
    careterm(url, "init", "--school", "石砚小学", "--name", "校长", "--date", "2025-09-01")
    common = ("--gender", "M", "--birth", "2016-03-01", "--grade", "3", "--class", "2", "--date", "2025-09-01")
    careterm(url, "pupil", "add", "P1", "--name", "小明", "--category", "left_behind", *common)
    careterm(url, "pupil", "add", "P2", "--name", "小红", "--category", "left_behind", "--category", "in_difficulty",
             "--guardian", "张奶奶,祖母,13800000000", "--parent", "张三,父亲,广东东莞,13900000000", *common)
    careterm(url, "pupil", "add", "P3", "--name", "小刚", *common)
    return url


def test_an_incomplete_file_is_said_where_the_file_is_shown_and_listed(cli_school):
    """`history P1` says 档案不全 and names the three missing items (JSON: "incomplete" with the
    three codes); P2's file says nothing (JSON []). `archive --incomplete` lists P1 only, with the
    missing items by their names; `stats` counts incomplete 1 and the class 3-2 has 2 pupils (P3
    is in no category), 困境留守 1."""
    url = cli_school
    p1 = json.loads(careterm(url, "history", "P1", "--json", "--as-of", "2026-01-10").stdout)
    assert p1["incomplete"] == ["guardian", "parent_workplace", "parent_phone"]
    assert json.loads(careterm(url, "history", "P2", "--json", "--as-of", "2026-01-10").stdout)["incomplete"] == []
    text = careterm(url, "history", "P1", "--as-of", "2026-01-10").stdout
    assert "档案不全" in text and "监护人、父母务工地址、父母联系电话" in text, text
    assert "档案不全" not in careterm(url, "history", "P2", "--as-of", "2026-01-10").stdout
    english = careterm(url, "history", "P1", "--as-of", "2026-01-10", lang="en").stdout
    assert "File incomplete" in english and "guardian, parents' workplace, parents' phone" in english, english

    listed = json.loads(careterm(url, "archive", "--incomplete", "--json", "--as-of", "2026-01-10").stdout)
    assert [(r["pupil"], r["incomplete"]) for r in listed["pupils"]] == [("P1", ["guardian", "parent_workplace", "parent_phone"])]
    shown = careterm(url, "archive", "--incomplete", "--as-of", "2026-01-10").stdout
    assert "小明" in shown and "小红" not in shown and "父母务工地址" in shown and "parent_workplace" not in shown, shown

    d = json.loads(careterm(url, "stats", "--json", "--as-of", "2026-01-10").stdout)
    assert d["incomplete"] == 1 and d["dropouts"] == 0
    assert d["class_totals"] == {"3-2": {"total": 2, "with_mentor": 0, "dropouts": 0, "incomplete": 1}}
    assert d["by_class"]["3-2"]["left_behind_in_difficulty"] == {"total": 1, "with_mentor": 0}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_stats_text_is_readable_at_80_columns(cli_school, lang):
    """Every line of `stats`, tabs expanded to 8 and CJK counted as two columns, fits in 80; the
    categories, 困境留守 and the counts of dropouts and incomplete files are said in words
    (no code such as left_behind_in_difficulty)."""
    import unicodedata

    def columns_of(line: str) -> int:  # a terminal's: tab stops every 8 columns, CJK two wide
        at = 0
        for ch in line:
            at = (at // 8 + 1) * 8 if ch == "\t" else at + (2 if unicodedata.east_asian_width(ch) in "WF" else 1)
        return at

    out = careterm(cli_school, "stats", "--as-of", "2026-01-10", lang=lang).stdout
    for line in out.splitlines():
        assert columns_of(line) <= 80, (columns_of(line), line)
    assert "left_behind" not in out and "dropouts" not in out, out
    words = ("困境留守儿童", "辍学未复学", "档案不全：1 人") if lang == "zh" else ("left-behind in difficulty", "Dropped out", "file incomplete: 1")
    assert all(w in out for w in words), out


# --- the app's pupil file ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_apps_pupil_file_says_it_is_incomplete_and_what_it_lacks(cli_school, lang):
    """The app (Pilot, 80×24) opens 小明's file (P1: left-behind, no guardian, no parent): it
    says 档案不全 with 监护人、父母务工地址、父母联系电话 (English: "File incomplete" and
    "guardian, parents' workplace, parents' phone"); 小红's file (P2, complete) says nothing of it."""
    from pathlib import Path

    import tui_support as S
    from careterm.tui.screens.pupil import PupilScreen

    said = {"zh": ("档案不全", "监护人、父母务工地址、父母联系电话"),
            "en": ("File incomplete", "guardian, parents' workplace, parents' phone")}[lang]

    async def profile_of(app, pilot, pupil: str) -> str:
        app.open_pupil(pupil)
        await S.wait_for(pilot, lambda: isinstance(app.screen, PupilScreen), 5, "the pupil file")
        await S.settle(pilot)
        text = str(app.screen.query_one("#pupil-profile").render())
        app.pop_screen()
        await S.settle(pilot)
        return text

    async def scenario() -> tuple[str, str]:
        app = S.make_app(Path(cli_school), "admin", lang)
        async with app.run_test(size=S.SIZE) as pilot:
            # the first load (S.started waits for my duties too: this admin mentors nobody)
            await S.wait_for(pilot, lambda: app.seen_head >= 0 and not S._busy(app), 15, "the first load")
            return await profile_of(app, pilot, "P1"), await profile_of(app, pilot, "P2")

    incomplete, complete = S.run(scenario())
    assert all(w in incomplete.replace("\n", "") for w in said), incomplete
    assert said[0] not in complete, complete
