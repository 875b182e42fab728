"""Hostile input through every write command (issue 11): hypothesis drives the real command line
(in this process: `careterm.cli.main`, on a real SQLite file) with hostile text, numbers and
dates, and checks after each run:

- the exit code is 0, 1 or 2 (never 3: a bad value is no store problem), and no traceback;
- on 1 or 2 nothing was written (the log's count and head are as before);
- afterwards every view still answers (exit 0) and the store verifies.
"""

from __future__ import annotations

import contextlib
import io
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careterm.cli import main
from test_cli import signed_in, sqlite_base  # noqa: F401 - the base school, built once

# Text a person (or an attacker) might type: markup, escapes, control characters, other scripts.
NASTY = ["[/]", "[bold red]", "[@click=app.quit]", "[link=x]", "\x1b]0;HACKED\x07", "\x1b[2J", "\t", "\n",
         "\r", "\x00", "\u202e", "\ufeff", "李雷", "O'Brien", '"', "\\", "%s", "{name}", "", " ", "/", ","]
texts = st.one_of(
    st.sampled_from(NASTY),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=4).map("".join),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=400),
)
numbers = st.one_of(
    st.integers(min_value=-10**25, max_value=10**25).map(str),
    st.sampled_from(["３", "٣", "+2", "1_0", " 2", "2.0", "1e3", "0x10", "", "-0", "99999999999999999999999"]),
)
dates = st.one_of(
    st.dates().map(str),
    st.sampled_from(["9999-12-31", "0001-01-01", "2025-W40-1", "2025-02-30", "2025/9/1", "2025年9月1日",
                     "昨天", "abc", "", "2025-9", "9999-12-31T23:59:59", "1900-01-01"]),
)
kinds = st.one_of(st.sampled_from(["talk", "parent_call", "谈心", "birthday"]), texts)


def commands():
    """(argv) of every write command, with hostile values in their fields."""
    return st.one_of(
        st.tuples(st.just("pupil"), st.just("add"), texts, st.just("--name"), texts, st.just("--gender"),
                  st.sampled_from(["M", "F", "男", "X", ""]), st.just("--birth"), dates, st.just("--grade"), numbers,
                  st.just("--class"), numbers),
        st.tuples(st.just("pupil"), st.just("add"), st.just("PX"), st.just("--name"), st.just("小雨"),
                  st.just("--gender"), st.just("F"), st.just("--birth"), st.just("2016-03-01"), st.just("--grade"),
                  st.just("2"), st.just("--class"), st.just("1"), st.just("--guardian"), texts, st.just("--parent"),
                  texts, st.just("--family"), texts),
        st.tuples(st.just("pupil"), st.just("amend"), st.just("P1"), st.sampled_from(["--name", "--family", "--phone"]),
                  texts),
        st.tuples(st.just("pupil"), st.just("amend"), st.just("P1"), st.sampled_from(["--class", "--grade"]), numbers),
        st.tuples(st.just("staff"), st.just("add"), texts, st.just("--name"), texts, st.just("--class"), numbers),
        st.tuples(st.just("contact"), st.just("P1"), st.just("--kind"), kinds, st.just("--note"), texts,
                  st.just("--date"), dates),
        st.tuples(st.just("activity"), st.just("--kind"), kinds, st.just("--pupils"), texts),
        st.tuples(st.just("aid"), st.just("grant"), st.just("P2"), st.just("--kind"), st.just("material"),
                  st.just("--items"), texts),
        st.tuples(st.just("aid"), st.just("grant"), st.just("P2"), st.just("--kind"), st.just("tuition_waiver"),
                  st.just("--amount"), numbers),
        st.tuples(st.just("rules"), st.just("set"), st.sampled_from(["--capacity", "--late-days"]), numbers),
        st.tuples(st.just("terms"), st.just("add"), st.just("--name"), texts, st.just("--start"), dates,
                  st.just("--end"), dates),
        st.tuples(st.just("incident"), st.just("report"), st.just("P2"), st.just("--need"), st.just("other"),
                  st.just("--description"), texts),
        st.tuples(st.just("plan"), st.just("set"), st.just("P1"), st.just("--goals"), texts),
        st.tuples(st.just("dropout"), st.just("P3"), st.just("--reason"), texts, st.just("--date"), dates),
        st.tuples(st.sampled_from(["archive", "compliance", "stats", "queue"]), st.just("--as-of"), dates),
        st.tuples(st.just("audit"), st.just("--known-at"), st.one_of(dates, texts)),
        st.tuples(st.just("compliance"), st.just("--from"), dates),
    )


def run(url: str, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with signed_in(url, "admin"), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--store", url, "--as", "admin", *argv])
        except SystemExit as done:  # argparse's usage errors
            code = done.code
    return code, out.getvalue(), err.getvalue()


def count_and_head(url: str) -> tuple[int, str]:
    import sqlite3

    with sqlite3.connect(url) as db:
        count = db.execute("SELECT count(*) FROM stored_events").fetchone()[0]
        head = db.execute("SELECT hash FROM careterm_chain ORDER BY id DESC LIMIT 1").fetchone()
    return count, head[0] if head else ""


@pytest.fixture(scope="module")
def fuzzed_store(sqlite_base, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "store.sqlite"
    shutil.copy(sqlite_base.url, path)
    return str(path)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(argv=commands())
def test_hostile_commands(fuzzed_store, argv):
    before = count_and_head(fuzzed_store)
    code, out, err = run(fuzzed_store, *argv)
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err and "内部出错" not in err, (argv, err)
    if code != 0:
        assert count_and_head(fuzzed_store) == before, (argv, "wrote on a refusal")
    # no control character of stored text reaches a person's terminal
    assert "\x1b" not in err and "\x1b" not in out


def test_every_view_answers_after_the_fuzz(fuzzed_store):
    """Runs after the fuzz in this module (same store): every view answers and the log verifies."""
    for view in (("archive",), ("stats",), ("queue",), ("compliance",), ("aid", "list"), ("staff", "list"),
                 ("audit",), ("history", "P1"), ("verify",), ("rebuild",), ("archive",)):
        code, _, err = run(fuzzed_store, *view, "--json") if view[0] != "verify" else run(fuzzed_store, "verify")
        assert code == 0, (view, err)
