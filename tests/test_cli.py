"""The command line, end to end: the real `careterm` program run as a subprocess on real stores.

Every test runs on a SQLite file and on a PostgreSQL schema (`store_url`). To stay fast, a base
school is built once per backend through the CLI (`base_school`), then copied for each test: the
SQLite file with shutil.copy, the PostgreSQL rows with plain SQL into the test's fresh schema (the
rows are copied byte for byte, so the hash chain and every id stay the same).

Contract: ../shared/cli.md. This module: the success path of every writing command (JSON output,
then visible in `audit` and `history`), audit filters, history, verify, exit codes 2 and 3,
languages, init and demo. The refusals are in test_cli_refusals.py, which imports the machinery
below.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse
from zoneinfo import ZoneInfo

import pytest

from events.store_base import ACCESS_TABLE, CHAIN_TABLE, HEADS_TABLE, SECRETS_TABLE, VIEWS_TABLE

ROOT = Path(__file__).resolve().parent.parent

# --- running the program ---------------------------------------------------------------------


def _program() -> list[str]:
    """The installed console script if there is one next to this Python, else `python -m`."""
    scripts = sysconfig.get_path("scripts")
    found = shutil.which("careterm", path=scripts) if scripts else None
    return [found] if found else [sys.executable, "-m", "careterm.cli"]


PROGRAM = _program()
# never the user's own data dir (nothing is written there: every test names its store)
_XDG = os.path.join(tempfile.gettempdir(), "careterm-cli-tests-xdg")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARETERM_")}
    env.update(XDG_DATA_HOME=_XDG, XDG_STATE_HOME=_XDG + "-state", PYTHONIOENCODING="utf-8")  # sessions too
    env.update(extra or {})
    return env


CJK = re.compile(r"[\u4e00-\u9fff]")
INTERNAL = ("internal error", "程序内部出错")


@dataclass
class Run:
    cmd: list[str]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        try:
            return json.loads(self.out)
        except json.JSONDecodeError as e:  # pragma: no cover - shows what was printed
            raise AssertionError(f"not JSON: {e}\n{self}") from None

    def __str__(self) -> str:
        return f"$ {' '.join(self.cmd[len(PROGRAM):])}\nexit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


# --- signing in: every command but a few needs a signed-in staff member (cli.md) -------------

TEST_PASSWORD = "test-pass-1234"  # the password `init` gets through this helper
NO_SIGNIN = frozenset({"init", "demo", "login", "logout", "verify", "rebuild"})
_GLOBAL_VALUES = frozenset({"--store", "--as", "--lang", "--school"})
_RUN_ID = uuid.uuid4().hex[:12]


def command_word(args: Iterable[Any]) -> str | None:
    """The command of an argument list (its first word that is no global option nor a value)."""
    items = [str(a) for a in args]
    i = 0
    while i < len(items):
        if items[i] in _GLOBAL_VALUES:
            i += 2
        elif items[i].startswith("-"):
            i += 1
        else:
            return items[i]
    return None


def _option(args: list[str], name: str) -> str | None:
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.partition("=")[2]
    return None


def token_for(url: str | None, actor: str, school: str | None = None) -> str | None:
    """A token acting as `actor` on the store at `url` (trusted test code writes its hash into the
    store's side records with careterm.identity, as an admin's `token create` for them would): the
    program then checks it as any token, and refuses it for someone unknown or who has left (exit 4).
    One token text per (test run, school, actor); None when the store cannot be opened (the
    program says why)."""
    from careterm import identity as I
    from events.store import Store, StoreError

    if not url:
        return None
    try:
        with Store(url) as store:
            if school is None:
                try:
                    schools = sorted(store.recorder.school_ids())
                    mine = [sid for sid in store.schools_of_staff(actor) if sid in schools]
                except Exception:  # noqa: BLE001 - a log the test spoilt on purpose: the one school
                    schools, mine = ["s1"], []
                school = mine[0] if len(mine) == 1 else (schools[0] if len(schools) == 1 else None)
            if school is None:
                return None
            token = f"{I.TOKEN_PREFIX}test_{_RUN_ID}_{school}_{actor}"
            key = hashlib.sha256(token.encode()).hexdigest()
            if store.get_secret(I.TOKEN, key) is None:
                record = {"school": school, "staff": actor, "name": f"tests-{_RUN_ID}", "created": "2025-01-01T00:00:00+00:00",
                          "expires": "2999-01-01T00:00:00+00:00"}
                store.put_secret(I.TOKEN, key, json.dumps(record).encode())
            return token
    except (StoreError, Exception):  # noqa: BLE001 - a store the test means to be broken
        return None


def signin_env(args: list[str], store: str | None, actor: str | None, env: dict[str, str] | None) -> dict[str, str]:
    """The environment for a run as `actor`: their token, unless the test gave one or the
    command needs no sign-in."""
    env = dict(env or {})
    actor = actor or env.get("CARETERM_USER")
    if actor is None or "CARETERM_TOKEN" in env or command_word(args) in NO_SIGNIN:
        return env
    url = store or env.get("CARETERM_STORE")
    token = token_for(url, actor, _option(args, "--school") or env.get("CARETERM_SCHOOL"))
    if token is not None:
        env["CARETERM_TOKEN"] = token
    return env


def prepared(words: list[str], store: str | None, actor: str | None, env: dict[str, str] | None,
             input: str | None = None) -> tuple[list[str], dict[str, str], str | None]:
    """(arguments, environment, standard input) of a run as `actor`: their token (signin_env);
    `init` reads TEST_PASSWORD from stdin unless the test gives its own input. For the modules
    that run the program with their own subprocess call."""
    words = list(words)
    if command_word(words) == "init" and input is None and "--help" not in words and "-h" not in words:
        if "--password-stdin" not in words:
            words.append("--password-stdin")
        input = TEST_PASSWORD + "\n"
    return words, signin_env(words, store, actor, env), input


@contextlib.contextmanager
def signed_in(url: str, actor: str, school: str | None = None):
    """In this process (main() called in-process): CARETERM_TOKEN of `actor` while inside."""
    old = os.environ.get("CARETERM_TOKEN")
    token = token_for(url, actor, school)
    if token is not None:
        os.environ["CARETERM_TOKEN"] = token
    try:
        yield token
    finally:
        if old is None:
            os.environ.pop("CARETERM_TOKEN", None)
        else:
            os.environ["CARETERM_TOKEN"] = old


def careterm(
    *args: Any,
    store: str | None = None,
    actor: str | None = None,
    lang: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    input: str | None = None,
    signin: str | None = None,
) -> Run:
    """Run the program. Whatever happens, it must never print a traceback nor an internal error.

    `actor` signs that staff member in (a token of theirs, see token_for) and names them with
    --as; `signin` signs one in without --as; `init` gets --password-stdin and TEST_PASSWORD unless the test gives its own input."""
    cmd = list(PROGRAM)
    if store is not None:
        cmd += ["--store", store]
    if actor is not None:
        cmd += ["--as", actor]
    if lang is not None:
        cmd += ["--lang", lang]
    words, env, input = prepared([str(a) for a in args], store, actor or signin, env, input)
    cmd += words
    p = subprocess.run(
        cmd, capture_output=True, text=True, encoding="utf-8", errors="replace",
        env=clean_env(env), timeout=timeout, cwd=ROOT, input=input,
        **({} if input is not None else {"stdin": subprocess.DEVNULL}),
    )
    run = Run(cmd, p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in run.err, f"a traceback reached the user:\n{run}"
    assert not any(text in run.err for text in INTERNAL), f"an internal error (a bug):\n{run}"
    return run


# --- dates ------------------------------------------------------------------------------------

OPENED = "2025-09-01"


def school_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


FUTURE = (school_today() + dt.timedelta(days=3)).isoformat()  # always after the school's today


# --- the JSON shapes of cli.md -------------------------------------------------------------------

AUDIT_KEYS = frozenset({"seq", "id", "type", "subject", "date", "recorded_at", "actor", "source", "corrects"})


def check_rows(rows: Any, types: Iterable[str], *, actor: str = "admin", date: str | None = None) -> list[dict]:
    """Written events as printed by `--json`: a JSON array, audit keys plus `data`, in log order."""
    assert isinstance(rows, list), rows
    assert [r["type"] for r in rows] == list(types), rows
    for r in rows:
        assert AUDIT_KEYS | {"data"} <= set(r), r
        assert isinstance(r["seq"], int) and r["seq"] > 0, r
        assert isinstance(r["id"], str) and r["id"], r
        assert isinstance(r["data"], dict), r
        assert r["actor"] == actor, r
        assert r["source"] == "cli", r
        dt.date.fromisoformat(r["date"])
        if date is not None:
            assert r["date"] == date, r
        recorded = dt.datetime.fromisoformat(r["recorded_at"])
        assert recorded.utcoffset() == dt.timedelta(0), r  # recording times are UTC, with offset
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs  # one command, one transaction
    assert len({r["recorded_at"] for r in rows}) == 1, rows
    return rows


def audit_part(row: dict) -> dict:
    return {k: row[k] for k in AUDIT_KEYS}


# --- aid through the procedure ---------------------------------------------------------------------
# Before issue 14 `aid grant PUPIL --kind K …` recorded any aid in one step; now every kind but
# emergency and material goes through the procedure (cli.md "The aid procedure"). The tests that
# only need aid granted on a day keep their one line: School.write and School.refused walk it
# through apply, a confirmed survey and an approval by a leader, all eight days before the grant
# (any seven days in between hold the five working days of the notice), then grant the
# application on the day given, as the original actor. What each test asserts is unchanged.

PROCEDURE_DAYS = 8
_GRANT_OPTIONS = ("--kind", "--amount", "--items", "--fund", "--basis")


def one_step_grant(args: tuple) -> dict | None:
    """The options of an old one-step `aid grant PUPIL --kind K …` whose kind now needs the
    procedure, or None (any other command, or a direct emergency / material grant)."""
    from careterm.actions import code_of
    from events import rules

    items = [str(a) for a in args]
    if items[:2] != ["aid", "grant"] or len(items) < 3 or _option(items, "--kind") is None:
        return None
    kind = code_of(_option(items, "--kind"), "aid.", rules.AID_KINDS)
    if kind in rules.DIRECT_AID_KINDS or kind not in rules.AID_KINDS:
        return None
    found = {name: _option(items, name) for name in (*_GRANT_OPTIONS, "--override", "--date", "--note")}
    return {"pupil": items[2], **found}


def procedure_steps(grant: dict) -> list[tuple]:
    """The commands of the procedure for a one-step grant ("{app}": the application's id)."""
    day = dt.date.fromisoformat(grant["--date"]) if grant["--date"] else school_today()
    early = (day - dt.timedelta(days=PROCEDURE_DAYS)).isoformat()
    apply = ["aid", "apply", grant["pupil"]]
    for name in _GRANT_OPTIONS:
        if grant[name] is not None:
            apply += [name, grant[name]]
    decide = ["aid", "decide", "{app}", "--approve", "--date", early]
    if grant["--override"] is not None:
        decide += ["--override", grant["--override"]]
    last = ["aid", "grant", "{app}"] + (["--date", grant["--date"]] if grant["--date"] else [])
    last += ["--note", grant["--note"]] if grant["--note"] is not None else []
    return [
        (*apply, "--date", early),
        ("aid", "survey", "{app}", "--result", "confirmed", "--method", "documents", "--date", early),
        tuple(decide),
        tuple(last),
    ]


# --- a school on a store ----------------------------------------------------------------------


@dataclass
class School:
    """A store holding one school, driven through the CLI."""

    url: str
    ids: dict[str, str] = field(default_factory=dict)
    known: dict | None = None  # `verify --json` as last seen, None once something was written
    reader: str = "admin"  # who reads (every view needs a signed-in staff member)
    leader: str = "admin"  # who applies, surveys and decides when a one-step grant is walked through the procedure

    def __call__(self, *args: Any, actor: str | None = "admin", **kw: Any) -> Run:
        if actor is None:  # no --as: still signed in, as the reader (a view needs someone)
            kw.setdefault("signin", self.reader)
        return careterm(*args, store=self.url, actor=actor, **kw)

    def write(self, *args: Any, actor: str | None = "admin", walk: bool = True, **kw: Any) -> list[dict]:
        """The command's events (`--json`); a one-step grant is walked through the procedure
        unless `walk` is false (tests of the procedure itself)."""
        grant = one_step_grant(args) if walk else None
        if grant is not None:
            *steps, last = self._procedure(grant, actor, kw)
            return self._write(*last, actor=actor, **kw)
        return self._write(*args, actor=actor, **kw)

    def _procedure(self, grant: dict, actor: str | None, kw: dict, *, refused: dict | None = None) -> list[tuple]:
        """Apply, survey and decide for a one-step grant (see `one_step_grant`); the grant's
        command is returned last, for the caller to run. With `refused`, the first step that is
        refused is checked as `refused` says, and nothing more is run."""
        steps = procedure_steps(grant)
        app = ""
        for step in steps[:-1]:
            args = tuple(a.replace("{app}", app) for a in step)
            if refused is not None:
                run = self(*args, "--json", actor=self.leader, **kw)
                if run.code != 0:
                    raise _StepRefused(args)  # noqa: TRY301
                self.known = None
                rows = run.json()
            else:
                rows = self._write(*args, actor=self.leader, **kw)
            app = app or rows[0]["id"]
        return [tuple(a.replace("{app}", app) for a in step) for step in steps]

    def _write(self, *args: Any, actor: str | None = "admin", **kw: Any) -> list[dict]:
        run = self(*args, "--json", actor=actor, **kw)
        self.known = None
        assert run.code == 0, run
        assert run.err == "", run
        return run.json()

    def read(self, *args: Any, actor: str | None = None, **kw: Any) -> Any:
        run = self(*args, "--json", actor=actor or self.reader, **kw)
        assert run.code == 0, run
        return run.json()

    def verify(self) -> dict:
        found = self.read("verify")
        assert set(found) >= {"events", "head"}, found
        self.known = found
        return found

    def audit(self, *filters: str) -> list[dict]:
        found = self.read("audit", *filters)
        assert set(found) >= {"events"}, found
        return found["events"]

    def history(self, pupil: str) -> list[dict]:
        found = self.read("history", pupil)
        assert found["pupil"] == pupil, found
        return found["events"]

    def staff(self) -> dict[str, dict]:
        return {m["staff"]: m for m in self.read("staff", "list")["staff"]}

    def snapshot(self) -> dict:
        """{"events", "head"}: what `verify --json` reports for an intact store, read straight from
        the database (no subprocess: the refusal tables are long). Any write changes it."""
        return pg_snapshot(self.url) if is_pg(self.url) else sqlite_snapshot(self.url)

    def refused(self, *args: Any, field: str, actor: str | None = "admin", code: int = 1, walk: bool = True,
                **kw: Any) -> Run:
        """The command is refused (exit 1), stderr names `field`, and nothing is written. A
        one-step grant is walked through the procedure: the step refused is the one checked (the
        steps before it are written). `walk` false: the command as typed."""
        grant = one_step_grant(args) if walk else None
        if grant is not None:
            try:
                *_, args = self._procedure(grant, actor, kw, refused={})
                return self._refused(*args, field=field, actor=actor, code=code, **kw)
            except _StepRefused as step:
                return self._refused(*step.step, field=field, actor=self.leader, code=code, **kw)
        return self._refused(*args, field=field, actor=actor, code=code, **kw)

    def _refused(self, *args: Any, field: str, actor: str | None = "admin", code: int = 1, **kw: Any) -> Run:
        before = self.known or self.snapshot()
        run = self(*args, actor=actor, **kw)
        assert run.code == code, run
        assert field in run.err, f"stderr does not name {field!r}:\n{run}"
        assert run.out == "", run
        after = self.snapshot()
        self.known = after
        assert after == before, f"something was written by a refused command:\n{run}"
        return run


class _StepRefused(Exception):
    """A step of the procedure before the grant was refused (School.refused runs it again to check it)."""

    def __init__(self, step: tuple):
        super().__init__(step)
        self.step = step


def build_base(url: str) -> School:
    """The base school, through the CLI (actor `admin`, opened on 2025-09-01).

    staff:  admin (admin, leader); T1 T2 T3 teachers; CT class teacher; L1 leader; AU auditor;
            GONE, a teacher who left on 2025-12-31.
    funds:  扶助基金, 100000 yuan, any kind.
    pupils: P1 left_behind, mentor T1 since 2025-09-02, a talk by T1 on 2025-10-10 (`contact`);
            P2 economic_hardship, living_subsidy 500 on 2025-10-01 (`grant`: applied, surveyed and
            approved on 2025-09-23, see `one_step_grant`), an incident on 2025-11-01 (`incident`),
            no mentor;
            P3 left_behind registered 2025-09-10, no mentor, no hardship category, a disciplinary
            record on 2025-11-05 (`conduct`);
            P4 orphan, mentor T2 from 2025-09-02 to 2026-01-31, then T3 since 2026-03-01;
            P5 in_difficulty, graduated on 2026-06-30;
            P6 left_behind, transferred out on 2026-04-01.
    aid:    P1's living subsidy 300 (dibao, 扶助基金) applied for by T1, surveyed by CT and approved
            on 2026-03-02 (`application`: in notice 03-03 … 03-09); P2's free textbooks applied for
            by CT on 2026-03-02 (`applied`).
    """
    s = School(url)
    s.write("init", "--school", "石砚小学", "--name", "校长", "--date", OPENED)
    for staff_id, name, *roles in (
        ("T1", "王老师"), ("T2", "李老师"), ("T3", "赵老师"), ("CT", "陈老师", "class_teacher"),
        ("L1", "刘主任", "leader"), ("AU", "孙督导", "auditor"), ("GONE", "周老师"),
    ):
        extra = [a for r in roles for a in ("--role", r)]
        if staff_id == "CT":
            extra += ["--grade", "3", "--class", "2"]
        s.write("staff", "add", staff_id, "--name", name, *extra, "--date", OPENED)
    s.write("staff", "leave", "GONE", "--date", "2025-12-31")
    s.write("fund", "add", "扶助基金", "--budget", "100000", "--source", "donation", "--date", OPENED)
    for pupil_id, name, gender, birth, grade, category, day in (
        ("P1", "小明", "M", "2016-03-01", "3", "left_behind", OPENED),
        ("P2", "小红", "F", "2016-05-01", "3", "economic_hardship", OPENED),
        ("P3", "小刚", "M", "2015-05-01", "4", "left_behind", "2025-09-10"),
        ("P4", "小芳", "F", "2017-01-20", "2", "orphan", OPENED),
        ("P5", "小军", "M", "2013-07-01", "6", "in_difficulty", OPENED),
        ("P6", "小兰", "F", "2014-02-11", "5", "left_behind", OPENED),
    ):
        s.write("pupil", "add", pupil_id, "--name", name, "--gender", gender, "--birth", birth, "--grade", grade,
                "--class", "2", "--category", category, "--guardian", "张奶奶,祖母,13800000000", "--date", day)
    s.write("pair", "T1", "P1", "--date", "2025-09-02")
    s.write("pair", "T2", "P4", "--date", "2025-09-02")
    s.write("unpair", "P4", "--reason", "学期调整", "--date", "2026-01-31")
    s.write("pair", "T3", "P4", "--date", "2026-03-01")
    s.ids["contact"] = s.write("contact", "P1", "--kind", "talk", "--date", "2025-10-10", actor="T1")[0]["id"]
    s.ids["grant"] = s.write("aid", "grant", "P2", "--kind", "living_subsidy", "--amount", "500",
                             "--date", "2025-10-01")[0]["id"]
    s.ids["incident"] = s.write("incident", "report", "P2", "--need", "supplies", "--description", "房屋受损",
                                "--date", "2025-11-01")[0]["id"]
    s.write("graduate", "P5", "--date", "2026-06-30")
    s.write("transfer", "P6", "--to", "城关小学", "--date", "2026-04-01")
    s.ids["conduct"] = s.write("conduct", "record", "P3", "--note", "课间打架", "--date", "2025-11-05",
                               actor="CT")[0]["id"]
    # the aid procedure (cli.md): P1's living subsidy approved on Monday 2026-03-02, in notice
    # 03-03 … 03-09, grantable from 03-10; P2's free textbooks only applied for
    s.ids["application"] = s.write("aid", "apply", "P1", "--kind", "living_subsidy", "--amount", "300", "--basis",
                                   "dibao", "--fund", "扶助基金", "--date", "2026-03-02", actor="T1")[0]["id"]
    s.write("aid", "survey", s.ids["application"], "--result", "confirmed", "--method", "home_visit", "--date",
            "2026-03-02", actor="CT")
    s.write("aid", "decide", s.ids["application"], "--approve", "--date", "2026-03-02")
    s.ids["applied"] = s.write("aid", "apply", "P2", "--kind", "free_textbooks", "--items", "课本一套", "--date",
                               "2026-03-02", actor="CT")[0]["id"]
    s.verify()
    return s


# --- building the base once, copying it per test ------------------------------------------------

_BASES: dict[str, School] = {}  # shared by the modules that import this machinery


def _schema_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["schema"][0]


def _server_of(url: str) -> str:
    return urlunparse(urlparse(url)._replace(query=""))


def is_pg(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


CHAIN = CHAIN_TABLE
# careterm's own tables beside the events table: the events table is the one that is none of them
SIDE_TABLES = frozenset({CHAIN_TABLE, VIEWS_TABLE, HEADS_TABLE, SECRETS_TABLE, ACCESS_TABLE})


def sqlite_tables(conn) -> tuple[str, str]:
    """(events table, chain table) of a careterm SQLite file."""
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    events = next(n for n in names if n not in SIDE_TABLES)
    return events, CHAIN


def sqlite_snapshot(path: str) -> dict:
    """What `verify --json` reports for an intact SQLite store, read straight from the file:
    the number of stored events and the last link of the chain. Any write changes it."""
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        events, chain = sqlite_tables(conn)
        count, top = conn.execute(f"SELECT COUNT(*), MAX(rowid) FROM {events}").fetchone()
        links, last = conn.execute(f"SELECT COUNT(*), MAX(id) FROM {chain}").fetchone()
        head = conn.execute(f"SELECT hash FROM {chain} WHERE id = ?", (last,)).fetchone()
    finally:
        conn.close()
    assert count == links == (top or 0), (count, links, top)
    return {"events": count, "head": head[0] if head else "0" * 64}


def pg_snapshot(url: str) -> dict:
    """The same two values as sqlite_snapshot, from a PostgreSQL schema."""
    import psycopg
    from psycopg import sql

    schema = _schema_of(url)
    with psycopg.connect(_server_of(url), autocommit=True, connect_timeout=10) as conn:
        names = [n for (n,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))]
        events = next(n for n in names if n not in SIDE_TABLES)
        count, top = conn.execute(sql.SQL("SELECT COUNT(*), MAX(notification_id) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(events))).fetchone()
        links, head = conn.execute(sql.SQL(
            "SELECT (SELECT COUNT(*) FROM {0}.{1}), (SELECT hash FROM {0}.{1} ORDER BY id DESC LIMIT 1)"
        ).format(sql.Identifier(schema), sql.Identifier(CHAIN))).fetchone()
    assert count == links == (top or 0), (count, links, top)
    return {"events": count, "head": head or "0" * 64}


@pytest.fixture(scope="session")
def sqlite_base(tmp_path_factory) -> School:
    """The base school, built once through the CLI on a SQLite file."""
    if "sqlite" not in _BASES:
        _BASES["sqlite"] = build_base(str(tmp_path_factory.mktemp("base") / "base.sqlite"))
    return _BASES["sqlite"]


def copy_to_pg(base: School, url: str) -> None:
    """Copy the base's stored rows and chain links, byte for byte, into the empty schema of `url`.

    The same bytes at the same positions make the same hash chain: the copy verifies to the very
    head the SQLite base has (checked in test_base_copy_is_intact), with the same event ids.
    """
    import sqlite3

    import psycopg
    from psycopg import sql

    from events.store import CHAIN_TABLE, Store

    conn = sqlite3.connect(f"file:{base.url}?mode=ro", uri=True)
    try:
        events, chain = sqlite_tables(conn)
        rows = conn.execute(
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {events} ORDER BY rowid"
        ).fetchall()
        links = conn.execute(f"SELECT id, hash FROM {chain} ORDER BY id").fetchall()
    finally:
        conn.close()
    with Store(url, create=True) as store:  # the tables, as careterm creates them
        table = store.recorder.events_table_name
    schema = sql.Identifier(_schema_of(url))
    with psycopg.connect(_server_of(url), autocommit=True, connect_timeout=10) as pg, pg.transaction():
        with pg.cursor() as cur:
            cur.executemany(
                sql.SQL("INSERT INTO {}.{} (notification_id, originator_id, originator_version, topic, state) "
                        "VALUES (%s, %s, %s, %s, %s)").format(schema, sql.Identifier(table)),
                [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows],
            )
            cur.executemany(sql.SQL("INSERT INTO {}.{} (id, hash) VALUES (%s, %s)").format(
                schema, sql.Identifier(CHAIN_TABLE)), links)
            cur.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), "
                        "(SELECT MAX(notification_id) FROM {}.{}))").format(schema, sql.Identifier(table)),
                (f'"{_schema_of(url)}".{table}',),
            )


@pytest.fixture
def school(store_url, sqlite_base) -> School:
    """A copy of the base school on this test's own store (SQLite file or PostgreSQL schema)."""
    if is_pg(store_url):
        copy_to_pg(sqlite_base, store_url)
    else:
        shutil.copy(sqlite_base.url, store_url)
    return School(store_url, dict(sqlite_base.ids), dict(sqlite_base.known))


@pytest.fixture
def pg_school(pg_url, sqlite_base) -> School:
    """A copy of the base school on a PostgreSQL schema only."""
    copy_to_pg(sqlite_base, pg_url)
    return School(pg_url, dict(sqlite_base.ids), dict(sqlite_base.known))


@pytest.fixture
def sqlite_school(sqlite_url, sqlite_base) -> School:
    """A copy of the base school on a SQLite file: for rule flows whose storage side the
    PostgreSQL variants of the other tests already cover."""
    shutil.copy(sqlite_base.url, sqlite_url)
    return School(sqlite_url, dict(sqlite_base.ids), dict(sqlite_base.known))


def test_base_copy_is_intact(school):
    """The copy verifies to the very same head as the base, with the ids the base recorded."""
    base = dict(school.known)
    assert school.verify() == base
    assert school.snapshot() == base
    assert {e["id"] for e in school.audit()} >= set(school.ids.values())


# --- the success path of every writing command -----------------------------------------------


@dataclass(frozen=True)
class Ok:
    args: tuple[str, ...]
    types: tuple[str, ...]
    subject: str
    data: dict = field(default_factory=dict)  # expected values in the first event's data
    actor: str = "admin"
    pupils: tuple[str, ...] = ()  # whose history must show every event
    date: str | None = None


WRITES = {
    "staff add": Ok(("staff", "add", "T9", "--name", "新老师", "--role", "teacher", "--role", "counselor",
                     "--date", "2026-02-01"), ("StaffJoined",), "staff/T9",
                    {"staff": "T9", "name": "新老师", "roles": ["teacher", "counselor"]}, date="2026-02-01"),
    "staff add class teacher": Ok(("staff", "add", "T8", "--name", "班主任", "--role", "class_teacher", "--grade", "4",
                                   "--class", "1"), ("StaffJoined",), "staff/T8",
                                  {"roles": ["class_teacher"], "grade": 4, "class": 1}),
    "staff amend": Ok(("staff", "amend", "T1", "--name", "王老师", "--role", "teacher", "--role", "class_teacher",
                       "--grade", "3", "--class", "2"), ("StaffAmended",), "staff/T1",
                      {"staff": "T1", "changes": {"name": "王老师", "roles": ["teacher", "class_teacher"], "grade": 3,
                                                  "class": 2}}),
    "staff leave, no mentee": Ok(("staff", "leave", "T2"), ("StaffLeft",), "staff/T2", {"staff": "T2"}),
    "pupil add": Ok(("pupil", "add", "P9", "--name", "小雨", "--gender", "F", "--birth", "2017-09-09", "--grade", "2",
                     "--class", "3", "--category", "left_behind", "--category", "economic_hardship",
                     "--guardian", "李爷爷,祖父,13900000000", "--parent", "李强,父亲,广东东莞,13700000000",
                     "--date", "2026-03-02"),
                    ("PupilRegistered",), "pupil/P9",
                    {"pupil": "P9", "name": "小雨", "gender": "F", "birth": "2017-09-09", "grade": 2, "class": 3,
                     "categories": ["left_behind", "economic_hardship"]},
                    pupils=("P9",), date="2026-03-02"),
    "pupil amend": Ok(("pupil", "amend", "P3", "--grade", "5", "--add-category", "economic_hardship",
                       "--remove-category", "left_behind"),
                      ("PupilAmended", "CategoryAdded", "CategoryRemoved"), "pupil/P3",
                      {"pupil": "P3", "changes": {"grade": 5}}, pupils=("P3",)),
    "pair": Ok(("pair", "T2", "P3"), ("PairingAssigned",), "pupil/P3", {"pupil": "P3", "staff": "T2"},
               pupils=("P3",)),
    "unpair": Ok(("unpair", "P1", "--reason", "教师调岗"), ("PairingEnded",), "pupil/P1",
                 {"pupil": "P1", "staff": "T1", "reason": "教师调岗"}, pupils=("P1",)),
    "contact": Ok(("contact", "P1", "--kind", "parent_call", "--date", "2026-03-03", "--note", "视频通话"),
                  ("ContactMade",), "pupil/P1", {"pupil": "P1", "kind": "parent_call", "by": "T1", "note": "视频通话"},
                  actor="T1", pupils=("P1",), date="2026-03-03"),
    "contact by another": Ok(("contact", "P3", "--kind", "home_visit", "--by", "T3"), ("ContactMade",), "pupil/P3",
                             {"kind": "home_visit", "by": "T3"}, pupils=("P3",)),
    "activity": Ok(("activity", "--kind", "birthday", "--pupils", "P1,P3,P4", "--date", "2026-05-20"),
                   ("CareActivityHeld",), "school", {"kind": "birthday", "pupils": ["P1", "P3", "P4"]},
                   pupils=("P1", "P3", "P4"), date="2026-05-20"),
    "activity holiday visit": Ok(("activity", "--kind", "holiday_visit", "--pupils", "P2"), ("CareActivityHeld",),
                                 "school", {"kind": "holiday_visit", "pupils": ["P2"]}, pupils=("P2",)),
    # the aid procedure (issue 14): a one-step grant is only for emergency and material aid now
    "aid apply": Ok(("aid", "apply", "P2", "--kind", "tuition_waiver", "--amount", "1200", "--fund", "扶助基金",
                     "--reason", "家庭困难"), ("AidApplied",), "pupil/P2",
                    {"pupil": "P2", "kind": "tuition_waiver", "amount": "1200.00", "fund": "扶助基金"}, actor="CT",
                    pupils=("P2",)),
    "aid survey": Ok(("aid", "survey", "{applied}", "--result", "not_confirmed", "--method", "interview"),
                     ("AidSurveyed",), "pupil/P2", {"application": "{applied}", "result": "not_confirmed",
                                                    "method": "interview"}, actor="CT", pupils=("P2",)),
    "aid decide": Ok(("aid", "decide", "{applied}", "--reject"), ("AidDecided",), "pupil/P2",
                     {"application": "{applied}", "approved": False}, actor="L1", pupils=("P2",)),
    "aid object": Ok(("aid", "object", "{application}", "--date", "2026-03-04", "--note", "有家长反映情况不实"),
                     ("AidObjected",), "pupil/P1", {"application": "{application}", "note": "有家长反映情况不实"},
                     actor="T2", pupils=("P1",), date="2026-03-04"),
    "aid grant application": Ok(("aid", "grant", "{application}"), ("AidGranted",), "pupil/P1",
                                {"pupil": "P1", "kind": "living_subsidy", "amount": "300.00", "fund": "扶助基金",
                                 "application": "{application}"}, actor="L1", pupils=("P1",)),
    "aid grant items": Ok(("aid", "grant", "P2", "--kind", "material", "--items", "冬衣两件"), ("AidGranted",),
                          "pupil/P2", {"kind": "material", "items": "冬衣两件", "direct": True}, pupils=("P2",)),
    "aid grant for an incident": Ok(("aid", "grant", "P2", "--kind", "emergency", "--amount", "800", "--incident",
                                     "{incident}"), ("AidGranted",), "pupil/P2",
                                    {"kind": "emergency", "amount": "800.00", "incident": "{incident}"}, pupils=("P2",)),
    "fund add": Ok(("fund", "add", "助学基金", "--budget", "5000", "--kinds", "living_subsidy,grant", "--source",
                    "government"), ("FundAdded",), "school",
                   {"name": "助学基金", "budget": "5000.00", "kinds": ["living_subsidy", "grant"], "origin": "government"},
                   actor="L1"),
    "conduct record": Ok(("conduct", "record", "P1", "--note", "破坏公物"), ("ConductRecorded",), "pupil/P1",
                         {"pupil": "P1", "note": "破坏公物"}, actor="CT", pupils=("P1",)),
    "conduct clear": Ok(("conduct", "clear", "{conduct}", "--reason", "已改正"), ("ConductCleared",), "pupil/P3",
                        {"record": "{conduct}", "reason": "已改正"}, pupils=("P3",)),
    "aid revoke": Ok(("aid", "revoke", "{grant}", "--reason", "重复发放"), ("AidRevoked",), "pupil/P2",
                     {"pupil": "P2", "grant": "{grant}", "reason": "重复发放"}, pupils=("P2",)),
    "graduate": Ok(("graduate", "P3"), ("PupilGraduated",), "pupil/P3", {"pupil": "P3"}, pupils=("P3",)),
    "transfer": Ok(("transfer", "P3", "--to", "城关小学"), ("PupilTransferred",), "pupil/P3",
                   {"pupil": "P3", "to": "城关小学"}, pupils=("P3",)),
    "transfer ends the pairing": Ok(("transfer", "P4", "--to", "城关小学"), ("PupilTransferred", "PairingEnded"),
                                    "pupil/P4", {"pupil": "P4"}, pupils=("P4",)),
    "dropout": Ok(("dropout", "P3", "--reason", "外出打工"), ("PupilDroppedOut",), "pupil/P3",
                  {"pupil": "P3", "reason": "外出打工"}, pupils=("P3",)),
    "return": Ok(("return", "P6"), ("PupilReturned",), "pupil/P6", {"pupil": "P6"}, pupils=("P6",)),
    "inspect": Ok(("inspect", "T1", "--result", "needs_improvement"), ("HandbookInspected",), "staff/T1",
                  {"staff": "T1", "result": "needs_improvement"}, actor="L1"),
    "inspect by auditor": Ok(("inspect", "T3", "--result", "ok"), ("HandbookInspected",), "staff/T3",
                             {"result": "ok"}, actor="AU"),
    "terms add": Ok(("terms", "add", "--name", "2025秋", "--start", "2025-09-01", "--end", "2026-01-20"),
                    ("TermAdded",), "school", {"name": "2025秋", "start": "2025-09-01", "end": "2026-01-20"}),
    "rules set": Ok(("rules", "set", "--capacity", "2", "--duty", "talk=10d", "--duty", "birthday=year",
                     "--late-days", "3"), ("RulesSet",), "school",
                    {"capacity": 2, "late_days": 3, "duties": {"talk": "10d", "birthday": "year"}}),
    "retract": Ok(("retract", "{contact}", "--reason", "重复录入"), ("EntryRetracted",), "pupil/P1",
                  {"reason": "重复录入"}, pupils=("P1",)),
    "correct": Ok(("correct", "{contact}", "--reason", "日期记错", "--to-date", "2025-10-12", "--to-kind",
                   "parent_call", "--to-note", "补记"), ("EntryCorrected",), "pupil/P1",
                  {"reason": "日期记错", "to_date": "2025-10-12", "to_kind": "parent_call", "to_note": "补记"},
                  pupils=("P1",)),
    "plan set": Ok(("plan", "set", "P2", "--goals", "数学及格", "--measures", "每周辅导两次", "--responsible", "T1"),
                   ("HelpPlanSet",), "pupil/P2",
                   {"pupil": "P2", "goals": "数学及格", "measures": "每周辅导两次", "responsible": "T1"}, pupils=("P2",)),
    "plan review": Ok(("plan", "review", "P2", "--result", "有进步"), ("HelpPlanReviewed",), "pupil/P2",
                      {"pupil": "P2", "result": "有进步"}, pupils=("P2",)),
    "incident report": Ok(("incident", "report", "P3", "--need", "accommodation", "--description", "父母外出，无人照看"),
                          ("IncidentReported",), "pupil/P3",
                          {"pupil": "P3", "need": "accommodation", "description": "父母外出，无人照看"}, pupils=("P3",)),
    "incident resolve": Ok(("incident", "resolve", "{incident}", "--resolution", "已安排寄宿"), ("IncidentResolved",),
                           "pupil/P2", {"pupil": "P2", "incident": "{incident}", "resolution": "已安排寄宿"},
                           pupils=("P2",)),
}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_fill(v, ids) for v in value)
    return value


@pytest.mark.parametrize("case", [pytest.param(c, id=n) for n, c in WRITES.items()])
def test_write_command(sqlite_school, case):
    """exit 0; --json prints the recorded events; they show in `audit` or in each pupil's history.

    One command per test, on SQLite; test_every_command_in_one_journey runs them all on PostgreSQL.
    """
    school = sqlite_school
    case = dataclasses.replace(case, args=_fill(case.args, school.ids), data=_fill(case.data, school.ids))
    before = school.known  # the copy of the base, as verified when it was built
    today = school_today().isoformat()
    rows = check_rows(school.write(*case.args, actor=case.actor), case.types, actor=case.actor,
                      date=case.date or None)
    if case.date is None:
        assert rows[0]["date"] in (today, school_today().isoformat()), rows
    assert rows[0]["subject"] == case.subject, rows
    for key, value in case.data.items():
        assert rows[0]["data"].get(key) == value, (key, rows[0]["data"])
    assert rows[0]["seq"] == before["events"] + 1
    if case.types[0] in ("EntryRetracted", "EntryCorrected"):
        assert rows[0]["corrects"] == school.ids["contact"]
    else:
        assert all(r["corrects"] is None for r in rows)
    if not case.pupils:
        logged = {e["id"]: e for e in school.audit()}
        assert len(logged) == before["events"] + len(rows)
        for r in rows:
            assert audit_part(logged[r["id"]]) == audit_part(r)
    for pupil in case.pupils:
        shown = {e["id"]: e for e in school.history(pupil)}
        for r in rows:
            assert r["id"] in shown, f"{r['type']} missing from the history of {pupil}"
            assert audit_part(shown[r["id"]]) == audit_part(r)
            assert shown[r["id"]]["data"] == r["data"]


def test_every_command_in_one_journey(pg_school):
    """Every writing command in turn on one PostgreSQL store (test_write_command runs each one on
    SQLite): each prints its events, and in the end every one of them is in `audit`, in log order,
    and in its pupils' histories."""
    school = pg_school
    ids, base_events = school.ids, school.known["events"]
    steps: list[tuple[tuple[str, ...], str, tuple[str, ...], tuple[str, ...]]] = [
        # (args, actor, expected types, pupils whose history shows them)
        (("staff", "add", "T9", "--name", "新老师", "--role", "counselor"), "admin", ("StaffJoined",), ()),
        (("staff", "amend", "T9", "--name", "新老师甲", "--role", "teacher", "--role", "counselor"), "admin",
         ("StaffAmended",), ()),
        # who may record (cli.md): CT registers into CT's own class (grade 3 class 2); P3 (grade 4
        # class 2, no class teacher) is amended by a leader
        (("pupil", "add", "P9", "--name", "小雨", "--gender", "F", "--birth", "2017-09-09", "--grade", "3", "--class",
          "2", "--category", "left_behind", "--parent", "李强,父亲,广东东莞,13700000000", "--date", "2026-03-02"),
         "CT", ("PupilRegistered",), ("P9",)),
        (("pupil", "amend", "P3", "--grade", "5", "--add-category", "economic_hardship", "--remove-category",
          "left_behind"), "L1", ("PupilAmended", "CategoryAdded", "CategoryRemoved"), ("P3",)),
        (("pair", "T2", "P3"), "L1", ("PairingAssigned",), ("P3",)),
        (("contact", "P1", "--kind", "parent_call"), "T1", ("ContactMade",), ("P1",)),
        # an activity for pupils who are not all one's mentees: a class teacher (T3 mentors only P4)
        (("activity", "--kind", "birthday", "--pupils", "P1,P3,P4"), "CT", ("CareActivityHeld",), ("P1", "P3", "P4")),
        (("aid", "apply", "P2", "--kind", "tuition_waiver", "--amount", "1200.5"), "CT", ("AidApplied",), ("P2",)),
        (("aid", "survey", ids["applied"], "--result", "confirmed", "--method", "documents"), "CT", ("AidSurveyed",),
         ("P2",)),
        (("aid", "decide", ids["applied"], "--approve"), "L1", ("AidDecided",), ("P2",)),
        # an objection during P1's notice holds it until a new decision (cli.md "The aid procedure")
        (("aid", "object", ids["application"], "--date", "2026-03-04", "--note", "有异议"), "T2", ("AidObjected",),
         ("P1",)),
        (("aid", "decide", ids["application"], "--approve", "--date", "2026-03-05"), "L1", ("AidDecided",), ("P1",)),
        (("aid", "grant", ids["application"]), "L1", ("AidGranted",), ("P1",)),
        (("aid", "grant", "P2", "--kind", "emergency", "--amount", "200", "--incident", ids["incident"]), "L1",
         ("AidGranted",), ("P2",)),
        (("fund", "add", "助学基金", "--budget", "5000"), "L1", ("FundAdded",), ()),
        (("conduct", "record", "P1", "--note", "破坏公物"), "CT", ("ConductRecorded",), ("P1",)),
        (("conduct", "clear", ids["conduct"], "--reason", "已改正"), "L1", ("ConductCleared",), ("P3",)),
        (("aid", "revoke", ids["grant"], "--reason", "重复"), "L1", ("AidRevoked",), ("P2",)),
        (("plan", "set", "P2", "--goals", "数学及格", "--responsible", "T1"), "T1", ("HelpPlanSet",), ("P2",)),
        (("plan", "review", "P2", "--result", "有进步"), "T1", ("HelpPlanReviewed",), ("P2",)),
        (("incident", "report", "P3", "--need", "custody"), "T2", ("IncidentReported",), ("P3",)),
        (("incident", "resolve", ids["incident"], "--resolution", "已安置"), "admin", ("IncidentResolved",), ("P2",)),
        (("inspect", "T1", "--result", "ok"), "AU", ("HandbookInspected",), ()),
        (("terms", "add", "--name", "2026秋", "--start", "2026-09-01", "--end", "2027-01-20"), "admin", ("TermAdded",),
         ()),
        (("rules", "set", "--capacity", "2", "--duty", "talk=10d"), "L1", ("RulesSet",), ()),
        (("correct", ids["contact"], "--reason", "日期", "--to-date", "2025-10-12", "--to-kind", "counseling"), "T1",
         ("EntryCorrected",), ("P1",)),
        (("unpair", "P1", "--reason", "调整"), "L1", ("PairingEnded",), ("P1",)),
        (("staff", "leave", "T2"), "admin", ("StaffLeft", "PairingEnded"), ()),
        (("transfer", "P4", "--to", "城关小学"), "CT", ("PupilTransferred", "PairingEnded"), ("P4",)),
        (("return", "P6"), "CT", ("PupilReturned",), ("P6",)),
        (("graduate", "P1"), "CT", ("PupilGraduated",), ("P1",)),
        (("dropout", "P9", "--reason", "随父母外出"), "CT", ("PupilDroppedOut",), ("P9",)),
    ]
    written: list[dict] = []
    shows: dict[str, set[str]] = {}
    for args, actor, types, pupils in steps:
        rows = check_rows(school.write(*args, actor=actor), types, actor=actor)
        assert rows[0]["seq"] == base_events + len(written) + 1
        written += rows
        for pupil in pupils:
            shows.setdefault(pupil, set()).update(r["id"] for r in rows)
    # the retraction of an activity that names three pupils shows in each one's history
    activity = next(r for r in written if r["type"] == "CareActivityHeld")
    rows = check_rows(school.write("retract", activity["id"], "--reason", "活动取消", actor="CT"), ["EntryRetracted"],
                      actor="CT")
    written += rows
    for pupil in ("P1", "P3", "P4"):
        shows[pupil].add(rows[0]["id"])
    # who is at the keyboard (issue 12): a password, a token and an SSH key, each set and undone
    rows = check_rows(school.write("staff", "password", "T1", "--once", "--password-stdin", input="journey-pass-1\n"),
                      ["PasswordSet"], actor="admin")
    written += rows
    run = school("token", "create", "--name", "journey", "--json", actor="T1")  # prints the token, not events
    assert run.code == 0, run
    assert (run.json()["name"], run.json()["staff"]) == ("journey", "T1"), run
    [made] = school.audit("--type", "TokenCreated")
    assert (made["seq"], made["actor"]) == (base_events + len(written) + 1, "T1"), made
    written.append(made)
    written += check_rows(school.write("token", "revoke", "journey", actor="T1"), ["TokenRevoked"], actor="T1")
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL+C+4dChlz6DWW9AegYZsAJdRSr/2ZO1j+2G2iKmbdy journey"
    rows = check_rows(school.write("keys", "add", "T1", "--key", key), ["KeyAdded"], actor="admin")
    assert rows[0]["data"]["fingerprint"] == "SHA256:PJjUihy3sEjT+bqvVJIVd3fjMRDQEx5r5+3M7v1ZwqQ"  # ssh-keygen -lf
    written += rows
    written += check_rows(school.write("keys", "revoke", rows[0]["data"]["fingerprint"]), ["KeyRevoked"], actor="admin")
    amount = next(r for r in written if r["type"] == "AidApplied")["data"]["amount"]
    assert amount == "1200.50"
    # every event type a command can record (all but the school's opening, see the init tests, and
    # the acceptance of a pupil another school of the store sent: tests/test_district_transfer.py)
    from events.types import EVENT_TYPES

    assert {r["type"] for r in written} == {cls.__name__ for cls in EVENT_TYPES} - {"SchoolOpened", "TransferAccepted"}

    logged = school.audit()
    assert [e["seq"] for e in logged] == list(range(1, len(logged) + 1))
    by_id = {e["id"]: e for e in logged}
    assert [by_id[r["id"]]["seq"] for r in written] == [r["seq"] for r in written]
    assert [audit_part(e) for e in logged[-len(written):]] == [audit_part(r) for r in written]
    for pupil, expected in shows.items():
        shown = {e["id"]: e for e in school.history(pupil)}
        assert expected <= set(shown), pupil
        for r in written:
            if r["id"] in expected:
                assert shown[r["id"]]["data"] == r["data"]
    assert school.verify()["events"] == len(logged)




def test_write_without_json_says_what_was_recorded(sqlite_school):
    school = sqlite_school
    run = school("contact", "P1", "--kind", "talk", actor="T1")
    assert run.code == 0, run
    last = school.audit()[-1]
    assert last["type"] == "ContactMade"
    assert f"#{last['seq']}" in run.out and last["id"] in run.out
    assert CJK.search(run.out)  # the store's language: Chinese


def test_actor_and_store_from_the_environment(school):
    run = careterm("contact", "P1", "--kind", "talk", "--json", env={"CARETERM_STORE": school.url, "CARETERM_USER": "T1"})
    assert run.code == 0, run
    check_rows(run.json(), ["ContactMade"], actor="T1")
    assert school.audit("--actor", "T1")[-1]["id"] == run.json()[0]["id"]


# --- rules that a success path must show --------------------------------------------------------


def test_staff_leave_ends_the_pairing_atomically(school):
    rows = check_rows(school.write("staff", "leave", "T1", "--date", "2026-07-15"), ["StaffLeft", "PairingEnded"],
                      date="2026-07-15")
    left, ended = rows
    assert left["subject"] == "staff/T1" and left["data"]["staff"] == "T1"
    assert ended["subject"] == "pupil/P1"
    assert ended["data"]["reason"] == "mentor_left"
    assert (ended["data"]["pupil"], ended["data"]["staff"]) == ("P1", "T1")
    staff = school.staff()
    assert staff["T1"]["active"] is False and staff["T1"]["mentees"] == []
    assert [e["id"] for e in school.audit("--type", "PairingEnded")][-1] == ended["id"]
    assert ended["id"] in {e["id"] for e in school.history("P1")}
    # the pupil is owed a new mentor: pairing again is allowed from the day the mentor left
    check_rows(school.write("pair", "T2", "P1", "--date", "2026-07-15"), ["PairingAssigned"])


def test_graduation_ends_the_pairing_and_frees_the_mentor(school):
    rows = check_rows(school.write("graduate", "P1", "--date", "2026-06-30"), ["PupilGraduated", "PairingEnded"])
    assert rows[1]["data"]["reason"] == "graduated"
    assert (rows[1]["data"]["pupil"], rows[1]["data"]["staff"]) == ("P1", "T1")
    assert school.staff()["T1"]["mentees"] == []
    # the mentor is owed a new pupil: capacity 1, and free again
    check_rows(school.write("pair", "T1", "P3"), ["PairingAssigned"])
    assert school.staff()["T1"]["mentees"] == ["P3"]


def test_dropout_ends_the_pairing(school):
    rows = check_rows(school.write("dropout", "P4", "--reason", "随父母外出"), ["PupilDroppedOut", "PairingEnded"])
    assert rows[1]["data"]["reason"] == "dropped_out"
    assert rows[1]["data"]["staff"] == "T3"


def test_back_dated_pairing_between_two_pairings(sqlite_school):
    """P4: T2 until 2026-01-31, T3 since 2026-03-01. A pairing on 2026-02-01 would run into T3's."""
    school = sqlite_school
    school.refused("pair", "CT", "P4", "--date", "2026-02-01", field="PUPIL_ID")
    # ended before T3's starts: fine, then nothing overlaps
    school.write("unpair", "P4", "--reason", "换人")
    check_rows(school.write("pair", "CT", "P4"), ["PairingAssigned"])


def test_capacity_rule_in_force_from_its_date(sqlite_school):
    school = sqlite_school
    school.refused("pair", "T1", "P3", field="STAFF_ID")
    check_rows(school.write("rules", "set", "--capacity", "2"), ["RulesSet"])
    # the rule holds from today: a pairing back-dated to before it still counts against capacity 1
    school.refused("pair", "T1", "P3", "--date", "2026-03-01", field="STAFF_ID")
    check_rows(school.write("pair", "T1", "P3"), ["PairingAssigned"])
    assert sorted(school.staff()["T1"]["mentees"]) == ["P1", "P3"]
    school.refused("pair", "T1", "P2", field="STAFF_ID")  # two is the limit now


def test_contact_refused_while_away_and_allowed_after_return(sqlite_school):
    school = sqlite_school
    school.refused("contact", "P6", "--kind", "talk", field="PUPIL_ID")
    check_rows(school.write("return", "P6", "--date", "2026-05-01"), ["PupilReturned"])
    check_rows(school.write("contact", "P6", "--kind", "talk", "--date", "2026-05-02"), ["ContactMade"])
    # still refused on a day inside the time away
    school.refused("contact", "P6", "--kind", "talk", "--date", "2026-04-15", field="PUPIL_ID")
    # and a new exit cannot be dated before that contact
    school.refused("graduate", "P6", "--date", "2026-05-01", field="--date")
    check_rows(school.write("graduate", "P6", "--date", "2026-05-02"), ["PupilGraduated"])


def test_aid_rules_flow(sqlite_school):
    """Similar aid once per semester; another semester is fine; a revoked or retracted grant no longer counts."""
    school = sqlite_school
    school.refused("aid", "grant", "P2", "--kind", "scholarship", "--amount", "200", "--date", "2025-12-01",
                   field="--kind")
    check_rows(school.write("aid", "grant", "P2", "--kind", "grant", "--amount", "300", "--date", "2026-03-01"),
               ["AidGranted"])
    # a leader may override, with a reason
    rows = school.write("aid", "grant", "P2", "--kind", "scholarship", "--amount", "200", "--date", "2025-12-01",
                        "--override", "家庭特别困难", actor="L1")
    check_rows(rows, ["AidGranted"], actor="L1")
    assert rows[0]["data"]["override"] == "家庭特别困难"
    # a policy waiver needs no hardship basis; a living subsidy does, unless --basis
    check_rows(school.write("aid", "grant", "P3", "--kind", "tuition_waiver", "--amount", "300"), ["AidGranted"])
    check_rows(school.write("aid", "grant", "P3", "--kind", "free_textbooks", "--items", "课本一套"), ["AidGranted"])
    school.refused("aid", "grant", "P3", "--kind", "living_subsidy", "--amount", "100", field="--basis")
    rows = school.write("aid", "grant", "P3", "--kind", "living_subsidy", "--amount", "100", "--basis", "dibao")
    assert rows[0]["data"]["basis"] == "dibao"
    # a grant is revoked once, not twice
    school.write("aid", "revoke", school.ids["grant"], "--reason", "核实后不符合")
    school.refused("aid", "revoke", school.ids["grant"], "--reason", "again", field="EVENT_ID")
    # P4 (orphan) in the first semester: grant, retract it, grant again
    first = school.write("aid", "grant", "P4", "--kind", "grant", "--amount", "100", "--date", "2025-10-01")[0]
    school.refused("aid", "grant", "P4", "--kind", "grant", "--amount", "100", "--date", "2025-11-01", field="--kind")
    # (issue 14) the grant is an application's last step: retracting the application takes the
    # grant with it, and the approval no longer counts as the semester's similar aid
    school.write("retract", first["data"]["application"], "--reason", "录错学生")
    check_rows(school.write("aid", "grant", "P4", "--kind", "grant", "--amount", "100", "--date", "2025-11-01"),
               ["AidGranted"])


def test_retract_and_correct_once(sqlite_school):
    school = sqlite_school
    contact = school.ids["contact"]
    check_rows(school.write("correct", contact, "--reason", "类型记错", "--to-kind", "counseling", actor="T1"),
               ["EntryCorrected"], actor="T1")
    check_rows(school.write("retract", contact, "--reason", "重复"), ["EntryRetracted"])
    school.refused("retract", contact, "--reason", "again", field="EVENT_ID")
    school.refused("correct", contact, "--reason", "again", "--to-note", "x", field="EVENT_ID")
    incident = school.ids["incident"]
    school.write("incident", "resolve", incident)
    school.refused("incident", "resolve", incident, field="EVENT_ID")


# --- audit, history, verify ----------------------------------------------------------------------


def test_audit_lists_every_event_in_log_order(school):
    events = school.audit()
    assert [e["seq"] for e in events] == list(range(1, school.known["events"] + 1))
    for e in events:
        assert AUDIT_KEYS <= set(e), e
        assert "data" not in e
    assert events[0]["type"] == "SchoolOpened" and events[0]["subject"] == "school"
    assert events[1]["type"] == "StaffJoined" and events[1]["subject"] == "staff/admin"


def test_audit_filters(school):
    events = school.audit()
    by_t1 = school.audit("--actor", "T1")
    assert by_t1 and all(e["actor"] == "T1" for e in by_t1)
    assert [e["id"] for e in by_t1] == [e["id"] for e in events if e["actor"] == "T1"]

    pairings = school.audit("--type", "PairingAssigned")
    assert [e["id"] for e in pairings] == [e["id"] for e in events if e["type"] == "PairingAssigned"]
    assert len(pairings) == 3
    both = school.audit("--type", "PairingAssigned", "--type", "PairingEnded")
    assert {e["type"] for e in both} == {"PairingAssigned", "PairingEnded"}
    assert [e["seq"] for e in both] == sorted(e["seq"] for e in both)

    p4 = school.audit("--pupil", "P4")
    assert [e["type"] for e in p4] == ["PupilRegistered", "PairingAssigned", "PairingEnded", "PairingAssigned"]
    ids = lambda rows: [e["id"] for e in rows]  # noqa: E731
    assert ids(school.audit("--pupil", "P4", "--type", "PairingAssigned")) == ids([p4[1], p4[3]])
    assert ids(school.audit("--pupil", "P1", "--actor", "T1")) == ids(e for e in by_t1 if e["subject"] == "pupil/P1")


def test_history_includes_corrections_retractions_and_activities(school):
    activity = school.write("activity", "--kind", "birthday", "--pupils", "P1,P3", "--date", "2026-05-20")[0]
    retraction = school.write("retract", activity["id"], "--reason", "活动取消")[0]
    correction = school.write("correct", school.ids["contact"], "--reason", "日期", "--to-date", "2025-10-11")[0]
    grant = school.write("aid", "grant", "P3", "--kind", "tuition_waiver", "--amount", "80")[0]
    revoked = school.write("aid", "revoke", grant["id"], "--reason", "重复")[0]
    undone = school.write("retract", revoked["id"], "--reason", "撤销有误")[0]

    p1 = {e["id"]: e for e in school.history("P1")}
    assert {activity["id"], retraction["id"], correction["id"], school.ids["contact"]} <= set(p1)
    assert p1[correction["id"]]["corrects"] == school.ids["contact"]
    assert p1[correction["id"]]["data"]["to_date"] == "2025-10-11"
    assert p1[retraction["id"]]["corrects"] == activity["id"]
    for e in p1.values():
        assert AUDIT_KEYS | {"data"} <= set(e)

    p3 = {e["id"] for e in school.history("P3")}
    assert {activity["id"], retraction["id"], grant["id"], revoked["id"], undone["id"]} <= p3
    assert correction["id"] not in p3 and school.ids["contact"] not in p3

    p2 = {e["id"] for e in school.history("P2")}
    assert p2.isdisjoint({activity["id"], retraction["id"], correction["id"], grant["id"]})
    assert {school.ids["grant"], school.ids["incident"]} <= p2
    seqs = [e["seq"] for e in school.history("P3")]
    assert seqs == sorted(seqs)

    via_audit = {e["id"] for e in school.audit("--pupil", "P3")}
    assert via_audit == p3


def test_verify_and_earlier_head(school):
    first = school.verify()
    assert first["events"] == len(school.audit())
    assert re.fullmatch(r"[0-9a-f]{64}", first["head"])
    school.write("contact", "P1", "--kind", "talk", actor="T1")
    second = school.verify()
    assert second["events"] == first["events"] + 1 and second["head"] != first["head"]
    run = school("verify", "--head", first["head"], "--json", actor=None)
    assert run.code == 0, run
    assert run.json() == second
    run = school("verify", "--head", second["head"], actor=None)
    assert run.code == 0 and second["head"] in run.out, run
    run = school("verify", "--head", "ab" * 32, actor=None)
    assert run.code == 3, run
    assert run.err


@pytest.mark.parametrize("damage", ["altered", "removed"])
def test_verify_names_the_tampered_event(school, damage):
    from helpers import RawDB

    p1 = next(e for e in school.audit("--pupil", "P1") if e["type"] == "PupilRegistered")
    seq = p1["seq"]
    with RawDB(school.url) as db:
        if damage == "altered":
            state = db.row(seq).state  # encrypted (events.keys): a forger can only change its bytes
            forged = state[:40] + bytes([state[40] ^ 1]) + state[41:]
            assert forged != state
            db.set_state(seq, forged)
        else:
            db.delete(seq)
    run = school("verify", actor=None, lang="en")
    assert run.code == 3, run
    assert f"#{seq}" in run.err, run
    assert damage in run.err, run
    run = school("verify", actor=None)
    assert run.code == 3 and re.search(rf"\b{seq}\b", run.err), run


def test_verify_tampered_sqlite_file_with_sqlite3(sqlite_school):
    """The brief's own scenario: someone edits the SQLite file with the sqlite3 module."""
    import sqlite3

    conn = sqlite3.connect(sqlite_school.url)
    try:
        table = next(name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                     if name not in ("careterm_chain", "careterm_views"))
        # the states are encrypted (events.keys): the forger finds the aid grant by its topic and
        # changes a byte of its content (before encryption: "500.00" -> "5000.00")
        seq, state = conn.execute(
            f"SELECT rowid, state FROM {table} WHERE topic LIKE 'AidGranted%' ORDER BY rowid LIMIT 1").fetchone()
        state = bytes(state)
        conn.execute(f"UPDATE {table} SET state = ? WHERE rowid = ?", (state[:-3] + bytes([state[-3] ^ 1]) + state[-2:], seq))
        conn.commit()
    finally:
        conn.close()
    run = sqlite_school("verify", "--json", actor=None, lang="en")
    assert run.code == 3, run
    assert f"#{seq}" in run.err and run.out == "", run


# --- init ---------------------------------------------------------------------------------------


def test_init_makes_the_actor_admin_and_leader(store_url):
    s = School(store_url, reader="boss")
    rows = check_rows(s.write("init", "--school", "石砚小学", "--name", "校长", actor="boss"),
                      ["SchoolOpened", "StaffJoined"], actor="boss", date=school_today().isoformat())
    assert rows[0]["data"]["name"] == "石砚小学"
    assert rows[0]["subject"] == "school"
    assert rows[1]["subject"] == "staff/boss"
    assert sorted(rows[1]["data"]["roles"]) == ["admin", "leader"]
    staff = s.staff()
    assert set(staff) == {"boss"}
    assert staff["boss"]["name"] == "校长"
    assert sorted(staff["boss"]["roles"]) == ["admin", "leader"]
    assert staff["boss"]["active"] is True and staff["boss"]["mentees"] == []
    assert s.verify()["events"] == 2
    assert [e["id"] for e in s.audit()] == [r["id"] for r in rows]
    # admin: may add staff; leader: may pair
    s.write("staff", "add", "T1", "--name", "王老师", actor="boss")
    s.write("pupil", "add", "P1", "--name", "小明", "--gender", "M", "--birth", "2016-01-01", "--grade", "1",
            "--class", "1", actor="boss")
    check_rows(s.write("pair", "T1", "P1", actor="boss"), ["PairingAssigned"], actor="boss")
    s.refused("init", "--school", "又一所", actor="boss", field="--store")


def test_init_from_environment_with_date_and_english(sqlite_url):
    run = careterm("init", "--school", "Stone Hill", "--lang", "en", "--date", "2025-09-01", "--json",
                   env={"CARETERM_STORE": sqlite_url, "CARETERM_USER": "head"})
    assert run.code == 0, run
    rows = check_rows(run.json(), ["SchoolOpened", "StaffJoined"], actor="head", date="2025-09-01")
    assert rows[0]["data"]["lang"] == "en"
    # the store's language is English: messages in English without --lang
    s = School(sqlite_url)
    run = s("contact", "PX", "--kind", "talk", actor="head")
    assert run.code == 1 and "PUPIL_ID" in run.err and not CJK.search(run.err), run
    run = s("contact", "PX", "--kind", "talk", actor="head", lang="zh")
    assert run.code == 1 and CJK.search(run.err), run


# --- exit codes 2 and 3 ---------------------------------------------------------------------------

USAGE = {
    "unknown command": ("frobnicate",),
    "unknown subcommand": ("staff", "hire", "T9"),
    "unknown option": ("contact", "P1", "--kind", "talk", "--frob", "1"),
    "unknown global option": ("--frob", "audit"),
    "missing argument": ("contact", "--kind", "talk"),
    "missing required option": ("contact", "P1"),
    "missing subcommand": ("aid",),
    "missing option value": ("contact", "P1", "--kind"),
    "pupil add without gender": ("pupil", "add", "P9", "--name", "x", "--birth", "2016-01-01", "--grade", "1",
                                 "--class", "1"),
    "verify with an unknown option": ("verify", "--deep"),
    "verify --head without a value": ("verify", "--head"),
    "history without a pupil": ("history",),
    "aid revoke without --reason": ("aid", "revoke", "{grant}"),
}


@pytest.mark.parametrize("args", list(USAGE.values()), ids=list(USAGE))
def test_bad_usage_exits_2_and_writes_nothing(sqlite_school, args):
    run = sqlite_school.refused(*_fill(args, sqlite_school.ids), field="", code=2)
    assert "usage" in run.err.lower() or "careterm" in run.err, run


def test_bad_usage_exits_2_on_postgres_too(school):
    school.refused("contact", "P1", "--kind", "talk", "--frob", field="--frob", code=2)
    school.refused("frobnicate", field="frobnicate", code=2)


def test_writing_without_signing_in_is_exit_4(school):
    """No session, no token, no key: exit 4 saying how to sign in, nothing written (before sign-in
    existed, a write without --as was bad usage, exit 2)."""
    run = school.refused("contact", "P1", "--kind", "talk", actor=None, field="login", code=4,
                         env={"CARETERM_TOKEN": ""})
    assert "CARETERM_TOKEN" in run.err


@pytest.mark.parametrize(
    "args",
    [("audit",), ("verify",), ("history", "P1"), ("staff", "list"), ("contact", "P1", "--kind", "talk"),
     ("staff", "add", "T9", "--name", "x")],
    ids=lambda a: " ".join(a),
)
def test_missing_sqlite_store_exits_3_and_creates_nothing(tmp_path, args):
    path = tmp_path / "nowhere" / "store.sqlite"
    run = careterm(*args, store=str(path), actor="admin")
    assert run.code == 3, run
    assert str(path) in run.err, run
    assert not path.exists() and not path.parent.exists()


def test_missing_store_in_environment_exits_3(tmp_path):
    path = tmp_path / "store.sqlite"
    run = careterm("audit", "--json", env={"CARETERM_STORE": str(path)})
    assert run.code == 3 and run.out == "", run
    assert not path.exists()


@pytest.mark.parametrize("kind", ["not a database", "a directory"])
def test_damaged_sqlite_store_exits_3(tmp_path, kind):
    path = tmp_path / "store.sqlite"
    if kind == "a directory":
        path.mkdir()
    else:
        path.write_bytes(b"hello, this is not SQLite\n" * 100)
    for args in (("audit",), ("verify",), ("contact", "P1", "--kind", "talk")):
        run = careterm(*args, store=str(path), actor="admin")
        assert run.code == 3, run
        assert run.err, run


def test_unreachable_postgres_exits_3():
    run = careterm("audit", "--json", store="postgresql://postgres@127.0.0.1:1/careterm", timeout=60)
    assert run.code == 3, run
    assert run.out == "" and run.err, run


# --- languages --------------------------------------------------------------------------------------


def test_messages_are_chinese_by_default(sqlite_school):
    school = sqlite_school
    run = school.refused("contact", "P1", "--kind", "chat", field="--kind")
    assert CJK.search(run.err), run
    run = school.refused("contact", "PX", "--kind", "talk", field="PUPIL_ID")
    assert "找不到学生" in run.err, run


@pytest.mark.parametrize("how", ["--lang before", "--lang after", "CARETERM_LANG"])
def test_messages_in_english(sqlite_school, how):
    school = sqlite_school
    args = ("contact", "PX", "--kind", "talk")
    if how == "--lang before":
        run = school.refused(*args, lang="en", field="PUPIL_ID")
    elif how == "--lang after":
        run = school.refused(*args, "--lang", "en", field="PUPIL_ID")
    else:
        run = school.refused(*args, env={"CARETERM_LANG": "en"}, field="PUPIL_ID")
    assert "no pupil PX" in run.err, run
    assert not CJK.search(run.err), run
    assert "Not recorded" in run.err, run


def test_english_for_reads_and_store_errors(sqlite_school, tmp_path):
    school = sqlite_school
    run = school("verify", actor=None, lang="en")
    assert run.code == 0 and "intact" in run.out and not CJK.search(run.out), run
    run = school("verify", actor=None)
    assert run.code == 0 and CJK.search(run.out), run
    run = careterm("audit", store=str(tmp_path / "none.sqlite"), env={"CARETERM_LANG": "en"})
    assert run.code == 3 and "no store" in run.err and not CJK.search(run.err), run


def test_unknown_language_is_refused(sqlite_school):
    school = sqlite_school
    school.refused("audit", lang="fr", field="--lang")
    school.refused("contact", "P1", "--kind", "talk", env={"CARETERM_LANG": "xx"}, field="--lang")


# --- demo --------------------------------------------------------------------------------------------


def _demo_importable() -> bool:
    try:
        return importlib.util.find_spec("careterm.demo") is not None and bool(
            __import__("careterm.demo", fromlist=["build_demo"]).build_demo
        )
    except Exception:
        return False


@pytest.mark.skipif(not _demo_importable(), reason="careterm.demo does not import yet")
def test_demo_on_an_empty_sqlite_store(sqlite_url):
    run = careterm("demo", "--json", store=sqlite_url, timeout=600)
    assert run.code == 0, run
    summary = run.json()
    assert isinstance(summary, dict), summary
    run = careterm("verify", "--json", store=sqlite_url)
    assert run.code == 0, run
    assert run.json()["events"] > 0
    assert careterm("demo", store=sqlite_url).code == 1
    # a reader that goes away early (`careterm audit | head`): no traceback, no error
    proc = subprocess.Popen([*PROGRAM, "--store", sqlite_url, "audit"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=clean_env(signin_env(["audit"], sqlite_url, "admin", {})), cwd=ROOT)
    assert proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.wait(timeout=120)
    assert "Traceback" not in err and proc.returncode in (0, 141, -13), (proc.returncode, err)
