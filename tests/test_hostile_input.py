"""Hostile values where they enter (issue 11): numbers out of range, implausible dates, control
characters in text, the last administrator leaving. Each is refused naming the option (exit 1),
nothing is written, and the views still answer afterwards.

Runs the real `careterm` on a copy of test_cli.py's base school (admin is its only administrator).
"""

from __future__ import annotations

import pytest

from test_cli import sqlite_base, sqlite_school  # noqa: F401 - fixtures are used by name
from test_cli_refusals import No, check_refusal, p9

ESC_NAME = "\x1b]0;HACKED\x07\x1b[2J李雷"

HOSTILE = {
    # ranges: classes 1-99, capacity 1-10, late days 1-365 (rules.CLASSES, CAPACITIES, LATE_DAYS)
    "class 100": No(p9(class_="100"), "--class", "out_of_range"),
    "class of 23 digits": No(p9(class_="99999999999999999999999"), "--class", "out_of_range"),
    "staff class of 23 digits": No(("staff", "add", "T9", "--name", "x", "--class", "99999999999999999999999"),
                                   "--class", "out_of_range"),
    "amend class of 23 digits": No(("pupil", "amend", "P1", "--class", "99999999999999999999999"), "--class",
                                   "out_of_range"),
    "capacity 11": No(("rules", "set", "--capacity", "11"), "--capacity", "out_of_range"),
    "capacity of 23 digits": No(("rules", "set", "--capacity", "99999999999999999999999"), "--capacity",
                                "out_of_range"),
    "late days 0": No(("rules", "set", "--late-days", "0"), "--late-days", "out_of_range"),
    "late days 366": No(("rules", "set", "--late-days", "366"), "--late-days", "out_of_range"),
    # numbers as Python's int() reads them, but not as a person types a class number
    "full-width class": No(p9(class_="３"), "--class", "bad_number"),
    "Arabic-Indic class": No(p9(class_="٣"), "--class", "bad_number"),
    "class +2": No(p9(class_="+2"), "--class", "bad_number"),
    "class 1_0": No(p9(class_="1_0"), "--class", "bad_number"),
    # registered on 2026-06-30 (the tests' today), born 1900-01-01: 126 years old, not 3 to 20
    "birth 1900": No(p9(birth="1900-01-01"), "--birth", "implausible_birth"),
    # born 2024-01-01, registered 2026-06-30: 2 years old, one below the lowest age
    "birth two years before": No(p9(birth="2024-01-01"), "--birth", "implausible_birth"),
    "amend birth 1900": No(("pupil", "amend", "P1", "--birth", "1900-01-01"), "--birth", "implausible_birth"),
    # control characters: a terminal escape in a name, a tab in a guardian, a bidi override in a note
    "escape codes in a name": No(p9(name=ESC_NAME), "--name", "control_character"),
    "tab in a guardian": No(p9(guardian="张\t三,祖母,138"), "--guardian", "control_character"),
    "escape in a parent's workplace": No(p9(parent="李大,父亲,东莞\x1b[31m厂,139"), "--parent", "control_character"),
    "bidi override in a note": No(("contact", "P1", "--kind", "talk", "--note", "好\u202e看"), "--note",
                                  "control_character", actor="T1"),
    "escape in an amended name": No(("pupil", "amend", "P1", "--name", ESC_NAME), "--name", "control_character"),
    "bell in a family profile": No(("pupil", "amend", "P1", "--family", "父母\x07离异"), "--family",
                                   "control_character"),
    "escape in aid items": No(("aid", "grant", "P2", "--kind", "material", "--items", "冬衣\x1b[2J"), "--items",
                              "control_character"),
    # the school keeps an administrator: admin is the only one in the base school
    "the last admin leaves": No(("staff", "leave", "admin"), "STAFF_ID", "last_admin"),
    "the last admin drops the role": No(("staff", "amend", "admin", "--role", "leader"), "--role", "last_admin"),
}


@pytest.mark.parametrize("case", [pytest.param(c, id=n) for n, c in HOSTILE.items()])
def test_hostile_value_refused(sqlite_school, case):
    check_refusal(sqlite_school, case)


def test_views_answer_after_refusals(sqlite_school):
    """After a refused 23-digit class, every view still answers (nothing was stored)."""
    check_refusal(sqlite_school, HOSTILE["class of 23 digits"])
    for view in (("archive",), ("stats",), ("queue",), ("compliance",), ("aid", "list"), ("staff", "list")):
        assert isinstance(sqlite_school.read(*view), dict)


def test_several_lines_in_a_note_are_kept(sqlite_school):
    """A note may hold several lines (a line break is no control character there)."""
    event = sqlite_school.write("contact", "P1", "--kind", "talk", "--note", "第一行\n第二行", actor="T1")[0]
    assert event["data"]["note"] == "第一行\n第二行"
    [stored] = [e for e in sqlite_school.history("P1") if e["id"] == event["id"]]
    assert stored["data"]["note"] == "第一行\n第二行"


def test_an_admin_can_leave_once_another_is_named(sqlite_school):
    """With T1 made an administrator, admin may leave: the school still has one (T1)."""
    sqlite_school.write("staff", "amend", "T1", "--role", "teacher", "--role", "admin")
    sqlite_school.write("staff", "leave", "admin", actor="T1")
    sqlite_school.reader = "T1"  # admin, gone, can no longer sign in to read
    assert sqlite_school.staff()["admin"]["active"] is False


# --- a saved read model is an optimisation: it can neither fail nor poison a read --------------


def _sql(url: str, *statements: str) -> None:
    import sqlite3

    with sqlite3.connect(url) as db:
        for statement in statements:
            db.execute(statement)


def _rewrite_states(url: str, old: str, new: str) -> int:
    """Replace `old` by `new` in the JSON of every stored event holding it, behind careterm's
    back but as careterm stores a state (encrypted with the store's key, bound to its topic:
    events.keys); returns how many were rewritten."""
    from helpers import RawDB

    from events.keys import event_aad
    from events.store import Store

    with Store(url) as store:
        cipher = store.mapper.cipher
    done = 0
    with RawDB(url) as db:
        for row in db.rows():
            plain = cipher.decrypt(row.state, event_aad(row.topic)) if cipher else row.state
            if old.encode() in plain:
                state = plain.replace(old.encode(), new.encode())
                db.set_state(row.seq, cipher.encrypt(state, event_aad(row.topic)) if cipher else state)
                done += 1
    return done


def test_a_read_answers_when_its_model_cannot_be_saved(sqlite_school):
    """Saving the views fails as on a full disk (a trigger raises SQLite's own "database or disk
    is full" on every write to careterm_views): `archive` still answers with all six pupils, and
    once saving works again the next read saves its model."""
    url = sqlite_school.url
    _sql(url, "DELETE FROM careterm_views")  # the next read must fold and save
    _sql(url, "CREATE TRIGGER full_disk BEFORE INSERT ON careterm_views BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END")
    pupils = {p["pupil"] for p in sqlite_school.read("archive")["pupils"]}
    assert pupils == {"P1", "P2", "P3", "P4", "P5", "P6"}
    _sql(url, "DROP TRIGGER full_disk")
    assert {p["pupil"] for p in sqlite_school.read("archive")["pupils"]} == pupils
    import sqlite3

    with sqlite3.connect(url) as db:
        assert db.execute("SELECT count(*) FROM careterm_views WHERE name <> 'directory'").fetchone()[0] == 1


def test_a_damaged_saved_model_is_folded_again_and_replaced(sqlite_school):
    """The saved model's bytes are garbage (a half-written or edited row): `archive` answers as
    before from the log, and the garbage is replaced by a good copy (the next read decodes it)."""
    url = sqlite_school.url
    before = sqlite_school.read("archive")
    _sql(url, "UPDATE careterm_views SET state = x'c1ff00' WHERE name <> 'directory'")
    assert sqlite_school.read("archive") == before
    import sqlite3

    with sqlite3.connect(url) as db:
        states = [bytes(r[0]) for r in db.execute("SELECT state FROM careterm_views WHERE name <> 'directory'")]
    assert states and all(state != b"\xc1\xff\x00" for state in states)
    assert sqlite_school.read("archive") == before


# --- careterm writes only into its own stores -----------------------------------------------


def _tables(path) -> set[str]:
    import sqlite3

    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.parametrize("command", [("archive",), ("verify",), ("contact", "P1", "--kind", "talk"), ("audit",)])
def test_another_programs_database_is_not_written(tmp_path, command):
    """A read, `verify` and a write on another program's SQLite file (a table `grades`) exit 3,
    and the file still holds only its own table; the same on an empty file (0 bytes), which
    stays empty."""
    from test_cli import careterm

    other = tmp_path / "grades.sqlite"
    import sqlite3

    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE grades (pupil TEXT, score INTEGER)")
    run = careterm(*command, store=str(other), actor="admin")
    assert run.code == 3, run
    assert _tables(other) == {"grades"}
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    run = careterm(*command, store=str(empty), actor="admin")
    assert run.code == 3, run
    assert empty.stat().st_size == 0


def test_init_refuses_another_programs_database(tmp_path):
    """`init` does not turn someone else's database into a store either (exit 3, untouched)."""
    from test_cli import careterm
    import sqlite3

    other = tmp_path / "grades.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE grades (pupil TEXT, score INTEGER)")
    run = careterm("init", "--school", "石砚小学", store=str(other), actor="admin")
    assert run.code == 3, run
    assert _tables(other) == {"grades"}


def test_a_store_carries_the_marker_and_an_old_store_is_marked(sqlite_school):
    """A new store has careterm's application_id ("CTRM" = 0x4354524D); a store made before the
    marker (application_id 0, careterm's tables) still opens and gets the marker."""
    import sqlite3

    url = sqlite_school.url
    with sqlite3.connect(url) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x4354524D
        db.execute("PRAGMA application_id = 0")
    assert sqlite_school.read("archive")["pupils"]
    with sqlite3.connect(url) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x4354524D


# --- a damaged file or bookkeeping fails `verify` -------------------------------------------


def _checkpointed(url: str) -> int:
    """Move the WAL into the main file (so pages can be overwritten there); its page size."""
    import sqlite3

    with sqlite3.connect(url) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return db.execute("PRAGMA page_size").fetchone()[0]


def test_overwritten_pages_fail_verify(sqlite_school):
    """Eight pages at the end of the file overwritten with zeros and garbage: `verify` exits 3
    (the database file's own check, not only the chain), saying the store is damaged."""
    url = sqlite_school.url
    page = _checkpointed(url)
    import os

    size = os.path.getsize(url)
    with open(url, "r+b") as f:
        for k in range(1, 9):
            f.seek(size - k * page)
            f.write((b"\x00\xde\xad" * page)[:page])
    run = sqlite_school("verify", actor=None)
    assert run.code == 3, run
    assert "损坏" in run.err, run


def test_a_head_moved_by_hand_fails_verify(sqlite_school):
    """`update careterm_heads set position=1` (the guard of every write of the school): `verify`
    exits 3 naming the heads, where before it said intact and every write then waited 5 s."""
    _sql(sqlite_school.url, "UPDATE careterm_heads SET position = 1")
    run = sqlite_school("verify", actor=None)
    assert run.code == 3, run
    assert "损坏" in run.err, run


# --- a killed rebuild leaves nothing running --------------------------------------------------

OWNER_SCRIPT = r"""
import multiprocessing, sys, time
from projections.rebuild_workers import die_with

def worker(owner):
    die_with(owner, every=0.2)
    time.sleep(60)  # a long fold

if __name__ == "__main__":
    import os
    context = multiprocessing.get_context("forkserver")
    process = context.Process(target=worker, args=(os.getpid(),))
    process.start()
    print(process.pid, flush=True)
    time.sleep(60)
"""


def test_a_worker_ends_when_its_owner_is_killed(tmp_path):
    """A rebuild's worker is forked by the fork server, so the kernel does not end it with the
    `careterm rebuild` that started it: `die_with` does. The owner is killed (SIGKILL, as
    `kill -9`); its worker, which would sleep 60 s, is gone within a few seconds."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "owner.py"
    script.write_text(OWNER_SCRIPT)
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = int(owner.stdout.readline())
    os.kill(worker, 0)  # running
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        try:  # a zombie has ended: reaped by nobody we own, it shows as state Z
            if open(f"/proc/{worker}/stat").read().split(") ")[1].startswith("Z"):
                return
        except FileNotFoundError:
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    raise AssertionError("the worker outlived its owner by 5 s")


def test_a_killed_demo_leaves_no_half_built_store(tmp_path):
    """`demo --schools 3` killed (SIGKILL) while it builds: the store holds no event (not a
    half-built school that `verify` would call intact), a second `demo` builds the whole
    demo, and the killed build's hidden file is gone."""
    import os
    import signal
    import subprocess
    import time

    from test_cli import PROGRAM, careterm, clean_env

    store = tmp_path / "demo.sqlite"
    proc = subprocess.Popen([*PROGRAM, "--store", str(store), "demo", "--schools", "3"], env=clean_env(None),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".demo.sqlite.building-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # well into the build
    assert proc.poll() is None, "the demo ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert careterm("verify", "--json", store=str(store)).json()["events"] == 0
    built = careterm("demo", "--json", store=str(store))
    assert built.code == 0, built
    assert careterm("verify", "--json", store=str(store)).json()["events"] == built.json()["events"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_demo_schools_are_bounded(tmp_path):
    """`demo --schools 99999999999999999999999` is refused naming --schools (1 to 1000)."""
    from test_cli import careterm

    run = careterm("demo", "--schools", "99999999999999999999999", store=str(tmp_path / "d.sqlite"))
    assert run.code == 1 and "--schools" in run.err, run


def test_recording_times_never_go_backwards(tmp_path):
    """The machine's clock is set back 3 days between two entries: the second entry's recording
    time is the first's (2026-06-30 08:00 UTC), not 2026-06-27, so `--known-at 2026-06-28`
    cannot show an entry that did not exist then. A clock that runs on again is used as it is."""
    import datetime as dt

    from events import commands as C
    from events.service import Service
    from events.store import Store
    from helpers import ctx, setup_school

    now = [dt.datetime(2026, 6, 30, 8, 0, tzinfo=dt.timezone.utc)]
    with Store(tmp_path / "s.sqlite", create=True, clock=lambda: now[0]) as store:
        service = Service(store)
        setup_school(service, staff=["t1"], pupils=["p1"])
        now[0] -= dt.timedelta(days=3)
        service.execute(lambda s: C.contact(s, ctx(), "p1", kind="talk", by="t1"))
        now[0] = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.timezone.utc)
        service.execute(lambda s: C.contact(s, ctx(), "p1", kind="talk", by="t1"))
        times = [e.recorded_at for _, e in store.read()]
    assert times[-2] == dt.datetime(2026, 6, 30, 8, 0, tzinfo=dt.timezone.utc)
    assert times[-1] == dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.timezone.utc)
    assert times == sorted(times)


def test_an_escape_code_stored_before_it_was_refused_is_never_printed(sqlite_school):
    """A name holding an escape code, as an older careterm stored it (put in the log by direct
    SQL here), is printed by `archive` and `history` as the visible text `\\x1b`, never as the
    byte that clears another person's screen; JSON keeps it escaped as JSON does. The stored
    state is rewritten as careterm stores every state: encrypted with the store's key."""
    url = sqlite_school.url
    assert _rewrite_states(url, '"name":"小明"', '"name":"\\u001b[2J小明"') >= 1  # P1 registered as 小明
    _sql(url, "DELETE FROM careterm_views")  # the views fold the rewritten log again
    for view in (("archive",), ("history", "P1")):
        run = sqlite_school(*view, actor=None)
        assert run.code == 0, run
        assert "\x1b" not in run.out, run
        assert "\\x1b[2J小明" in run.out, run
    assert "\\u001b[2J小明" in sqlite_school(("archive"), "--json", actor=None).out


def test_an_empty_store_option_is_bad_usage(tmp_path):
    """`--store ""` (an unset variable in a script) is bad usage, exit 2, saying so in Chinese;
    it no longer opens the default store."""
    from test_cli import CJK, careterm

    run = careterm("archive", store="", env={"HOME": str(tmp_path)})
    assert run.code == 2, run
    assert "--store" in run.err and CJK.search(run.err), run


def test_free_text_never_reaches_the_public_notice(sqlite_school):
    """Material aid whose items say '低保户，父亲服刑，电话13800001111' appears in the notice of its
    semester as name, class, kind and '实物 1 份' (JSON: amount null), never with that text."""
    secret = "低保户，父亲服刑，电话13800001111"
    sqlite_school.write("aid", "grant", "P2", "--kind", "material", "--items", secret, "--date", "2026-03-02")
    notice = sqlite_school.read("aid", "notice", "--semester", "2025-2026-2")
    [row] = [r for r in notice["notice"] if r["kind"] == "material"]
    assert row == {"name": "小红", "class": "3-2", "kind": "material", "amount": None, "start": None, "end": None}
    text = sqlite_school("aid", "notice", "--semester", "2025-2026-2", actor=None)
    assert text.code == 0 and "实物 1 份" in text.out, text
    assert "13800001111" not in text.out + str(notice) and "服刑" not in text.out + str(notice)


def test_rebuild_repairs_a_head_moved_by_hand(sqlite_school):
    """After `update careterm_heads set position=1`, `verify` fails; `rebuild` sets each head
    from the log again, then `verify` passes and a contact is recorded at once."""
    _sql(sqlite_school.url, "UPDATE careterm_heads SET position = 1")
    assert sqlite_school("verify", actor=None).code == 3
    sqlite_school.write("rebuild")
    assert sqlite_school("verify", actor=None).code == 0
    sqlite_school.write("contact", "P1", "--kind", "talk", actor="T1")


def test_verify_reports_recording_times_a_wrong_clock_made(tmp_path):
    """Entries stored with the times their machines gave (the bulk path keeps them): after the
    school's setup entries at 2026-06-30 08:00 UTC, one at 06-27 (a clock 3 days slow: earlier
    than the one before) and one at 2027-01-15 (ahead of the verifying clock, 2026-07-01): `verify`
    passes (the chain is whole) and names exactly those two seqs (the last two); the CLI says so."""
    import datetime as dt

    import msgspec

    from events import commands as C
    from events.service import Service
    from events.store import Store
    from helpers import ctx, setup_school
    from test_cli import careterm

    utc = dt.timezone.utc
    path = tmp_path / "s.sqlite"
    with Store(path, create=True, clock=lambda: dt.datetime(2026, 6, 30, 8, tzinfo=utc)) as store:
        service = Service(store)
        setup_school(service, staff=["t1"], pupils=["p1", "p2"])
        head = store.head()
        made = [C.contact(service.models, ctx(), pupil, kind="talk", by="t1")[0] for pupil in ("p1", "p2")]
        stamped = [msgspec.structs.replace(made[0], recorded_at=dt.datetime(2026, 6, 27, 8, tzinfo=utc)),
                   msgspec.structs.replace(made[1], recorded_at=dt.datetime(2027, 1, 15, 8, tzinfo=utc))]
        seqs = store.append_stamped(stamped, expected_head=head)
    with Store(path, clock=lambda: dt.datetime(2026, 7, 1, 8, tzinfo=utc)) as store:
        assert store.verify().clock == tuple(seqs)
    run = careterm("verify", "--json", store=str(path))
    assert run.code == 0 and run.json()["clock"] == seqs, run
    assert "时钟" in run.err, run


# --- a clock that ran ahead (issue 11, item 12) ------------------------------------------------

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
needs_faketime = pytest.mark.skipif(not __import__("os").path.exists(FAKETIME_LIB),
                                    reason="libfaketime (Debian package faketime) is not installed")


def _clock_off(offset: str) -> dict[str, str]:
    """The program's environment with its clock moved by `offset` ("+3d", "-30d"): libfaketime
    changes what the process's clock says, nothing else (the real program, the real store)."""
    return {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def _days_from_now(days: int) -> str:
    import datetime as dt
    from zoneinfo import ZoneInfo

    return (dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(days=days)).date().isoformat()


@needs_faketime
def test_a_write_dated_by_a_clock_that_ran_ahead_is_refused(sqlite_school):
    """The base school's entries were recorded today (yesterday, in a test run that crossed the
    school's midnight since: the day is read from the store). With the machine's clock 3 days ahead, a
    contact without --date would be dated, and stamped, 3 days in the future: refused naming
    --date (3 days is more than the 1 allowed), nothing written. With --date (the person has
    looked at the day) it is recorded. One day ahead is not suspect (a write after midnight)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from events.store import Store

    with Store(sqlite_school.url) as store:  # today, unless the run crossed the school's midnight since
        last_day = store.last_recorded_at().astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert last_day >= dt.date.fromisoformat(_days_from_now(-1))
    run = sqlite_school.refused("contact", "P1", "--kind", "talk", field="--date", actor="T1", env=_clock_off("+3d"))
    assert _days_from_now(3) in run.err and last_day.isoformat() in run.err, run
    run = sqlite_school("contact", "P1", "--kind", "talk", "--date", _days_from_now(3), actor="T1",
                        env=_clock_off("+3d"))
    assert run.code == 0, run
    run = sqlite_school("contact", "P1", "--kind", "home_visit", actor="T1", env=_clock_off("+4d"))
    assert run.code == 0, run  # one day past the latest entry, recorded on "+3d"


@needs_faketime
@pytest.mark.postgres
def test_on_postgresql_the_recording_time_is_the_servers(pg_url):
    """A district store on PostgreSQL: a school PC whose clock is 30 days ahead records a contact
    dated today (--date given). Its recording time is the server's clock (now, within a minute),
    not the PC's (30 days ahead), so `--known-at` and the lateness flags stay true."""
    import datetime as dt

    from test_cli import careterm

    today = _days_from_now(0)
    assert careterm("init", "--school", "石砚小学", "--date", today, store=pg_url, actor="admin").code == 0
    for words in (("staff", "add", "T1", "--name", "王老师", "--date", today),
                  ("pupil", "add", "P1", "--name", "小明", "--gender", "M", "--birth", "2016-03-01",
                   "--grade", "3", "--class", "2", "--date", today),
                  ("pair", "T1", "P1", "--date", today)):
        assert careterm(*words, store=pg_url, actor="admin").code == 0
    run = careterm("contact", "P1", "--kind", "talk", "--date", today, "--json", store=pg_url, actor="T1",
                   env=_clock_off("+30d"))
    assert run.code == 0, run
    recorded = dt.datetime.fromisoformat(run.json()[0]["recorded_at"])
    assert abs(recorded - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1), recorded
