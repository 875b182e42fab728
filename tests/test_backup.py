"""Backups (issue 15, item 4; cli.md "District and deployment"): `careterm backup FILE` makes a
consistent copy of a live SQLite store while other processes write, verifies it, and reports;
a PostgreSQL store is sent to pg_dump. Real files, real writer processes killed with SIGKILL,
the real program.

The store is a copy of the demo school (about 14,000 entries), built once per module.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli import ROOT, careterm, clean_env, school_today, token_for

TODAY = school_today().isoformat()


def ok(run):
    assert run.code == 0, run
    return run


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("backup-demo") / "demo.sqlite"
    ok(careterm("demo", store=str(path)))
    return path


@pytest.fixture
def store(demo_store, tmp_path) -> str:
    dst = tmp_path / "school.sqlite"
    shutil.copyfile(demo_store, dst)
    return str(dst)


def head(url: str) -> int:
    from events.store import Store

    with Store(url) as s:
        return s.head()


# A writer through the command line's main(), in a loop (a whole command each time: opening the
# store, signing in by token, checking, appending), and a fast one through the write side
# (hundreds of appends a second: a SIGKILL most likely lands inside a transaction).
CLI_WRITER = """
import sys
from careterm.cli import main
store, pupil, day = sys.argv[1:4]
while True:
    main(["--store", store, "contact", pupil, "--kind", "talk", "--date", day])
"""
FAST_WRITER = """
import datetime as dt, sys
from events import commands as C
from events.service import Service
from events.store import Store
store, pupil, day, mentor = sys.argv[1:5]
day = dt.date.fromisoformat(day)
service = Service(Store(store), school="s1")
ctx = C.Context(school="s1", actor="admin", today=day, date=day)
while True:
    service.execute(lambda s: C.contact(s, ctx, pupil, kind="home_visit", by=mentor))
"""


def _writers(url: str, pupil: str, mentor: str, token: str) -> list[subprocess.Popen]:
    env = clean_env({"CARETERM_TOKEN": token, "CARETERM_KEY_FILE": os.environ["CARETERM_KEY_FILE"]})
    scripts = [(CLI_WRITER, ()), (CLI_WRITER, ()), (FAST_WRITER, (mentor,)), (FAST_WRITER, (mentor,))]
    return [
        subprocess.Popen([sys.executable, "-c", script, url, pupil, TODAY, *extra], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for script, extra in scripts
    ]


def _paired(url: str) -> tuple[str, str]:
    """An enrolled pupil and their mentor."""
    pupils = ok(careterm("archive", "--json", store=url, signin="admin")).json()["pupils"]
    found = next(p for p in pupils if p["status"] == "enrolled" and p["mentor"])
    return found["pupil"], found["mentor"]


def test_a_backup_of_a_store_being_written_while_writers_are_killed_verifies_and_opens(store, tmp_path):
    """Three rounds: four writer processes (two looping `careterm contact`, two appending through
    the write side as fast as they can) write into the store; `careterm backup FILE --json` runs,
    and while it runs each writer is killed with SIGKILL, one after another. Each backup exits 0
    with {"out","events","head","verified":true}, holds at least the entries there were when it
    started and at most those there were at the end, and its copy verifies on its own (`verify
    --json` gives the same count and head) and opens (`archive --json` answers, with the store's
    pupils). Rounds 2 and 3 replace the earlier backup. The store itself verifies afterwards: the
    killed writers' half-done transactions are nowhere."""
    pupil, mentor = _paired(store)
    token = token_for(store, "admin")
    out = tmp_path / "backups" / "school-backup.sqlite"
    out.parent.mkdir()
    pupils = ok(careterm("archive", "--json", store=store, signin="admin")).json()["pupils"]
    for round_ in range(3):
        writers = _writers(store, pupil, mentor, token)
        try:
            start = head(store)
            deadline = time.monotonic() + 60
            while head(store) < start + 30 and time.monotonic() < deadline:  # all of them writing
                time.sleep(0.05)
            assert all(w.poll() is None for w in writers), "a writer stopped on its own"
            at_start = head(store)
            backup = subprocess.Popen(
                [sys.executable, "-m", "careterm.cli", "--store", store, "backup", str(out), "--json"],
                cwd=ROOT, env=clean_env({"CARETERM_KEY_FILE": os.environ["CARETERM_KEY_FILE"]}),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            killed_while_running = 0
            for writer in writers:
                time.sleep(0.1)
                if backup.poll() is None:
                    killed_while_running += 1
                writer.send_signal(signal.SIGKILL)
            stdout, stderr = backup.communicate(timeout=120)
        finally:
            for writer in writers:
                writer.kill()
                writer.wait()
        assert killed_while_running >= 1, "no writer was killed while the backup ran"
        assert backup.returncode == 0, stderr
        assert "Traceback" not in stderr
        at_end = head(store)
        done = __import__("json").loads(stdout)
        assert set(done) == {"out", "events", "head", "verified"} and done["verified"] is True, done
        assert done["out"] == str(out)
        assert at_start <= done["events"] <= at_end, (at_start, done, at_end)
        assert at_end > at_start  # they wrote while the backup ran
        copy = ok(careterm("verify", "--json", store=str(out))).json()
        assert (copy["events"], copy["head"]) == (done["events"], done["head"])
        archive = ok(careterm("archive", "--json", store=str(out), env={"CARETERM_TOKEN": token})).json()
        assert [p["pupil"] for p in archive["pupils"]] == [p["pupil"] for p in pupils]
        assert oct(out.stat().st_mode & 0o777) == oct(0o600)
        assert not list(out.parent.glob(".*partial*")), list(out.parent.iterdir())
        ok(careterm("verify", store=store))


def test_a_restored_backup_is_the_store_as_it_was(store, tmp_path):
    """Restoring, as the README says: the backup file copied back in the store's place (its
    -wal and -shm removed): `verify` gives the count and head the backup reported, and a contact
    recorded after the backup is gone while one recorded before is there."""
    pupil, _ = _paired(store)
    ok(careterm("contact", pupil, "--kind", "talk", "--date", TODAY, "--note", "备份前", store=store, signin="admin"))
    out = tmp_path / "backup.sqlite"
    done = ok(careterm("backup", str(out), "--json", store=store)).json()
    ok(careterm("contact", pupil, "--kind", "talk", "--date", TODAY, "--note", "备份后", store=store, signin="admin"))
    for suffix in ("-wal", "-shm"):
        if os.path.exists(store + suffix):
            os.remove(store + suffix)
    shutil.copyfile(out, store)
    restored = ok(careterm("verify", "--json", store=store)).json()
    assert (restored["events"], restored["head"]) == (done["events"], done["head"])
    notes = [e.get("data", {}).get("note") for e in ok(careterm("history", pupil, "--json", store=store, signin="admin")).json()["events"]]
    assert "备份前" in str(notes) and "备份后" not in str(notes)


@pytest.mark.postgres
def test_a_postgresql_store_is_sent_to_pg_dump(pg_url, tmp_path):
    """`backup` on a PostgreSQL store: exit 1, naming pg_dump, and no file."""
    ok(careterm("init", "--school", "石砚小学", "--date", "2025-09-01", actor="admin", store=pg_url))
    run = careterm("backup", str(tmp_path / "b.sqlite"), store=pg_url)
    assert run.code == 1 and "pg_dump" in run.err, run
    assert not (tmp_path / "b.sqlite").exists()


def test_backup_never_overwrites_the_store_nor_another_file(store, tmp_path):
    """FILE naming the store itself, an existing file that is not a careterm store, a folder, or
    a place whose folder does not exist: exit 1 naming the file, nothing changed. A missing
    store is exit 3."""
    size = os.path.getsize(store)
    run = careterm("backup", store, store=store)
    assert run.code == 1 and "school.sqlite" in run.err, run
    assert os.path.getsize(store) == size
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me", encoding="utf-8")
    run = careterm("backup", str(notes), store=store)
    assert run.code == 1 and "notes.txt" in run.err, run
    assert notes.read_text(encoding="utf-8") == "keep me"
    for place in (tmp_path, tmp_path / "no" / "such" / "folder.sqlite"):
        run = careterm("backup", str(place), store=store)
        assert run.code == 1 and "文件" in run.err, run
    assert not (tmp_path / "no").exists()
    run = careterm("backup", str(tmp_path / "b.sqlite"), store=str(tmp_path / "missing.sqlite"))
    assert run.code == 3 and not (tmp_path / "b.sqlite").exists(), run
    ok(careterm("verify", store=store))


def test_backup_replaces_its_own_earlier_backup_but_never_another_store(store, tmp_path):
    """An earlier backup of this store (then two talks recorded: its chain is the store's first
    N links) is replaced: exit 0, the file now holds N + 2 entries. Another store, made with
    init (one school, 2 entries: a careterm file with the same application_id), is refused:
    exit 1 naming it, its bytes unchanged, its school still there; so is the backup of the store
    once the store has gone another way (a copy of the store with one more talk: same first
    entries, but its last link is not the store's link at that seq)."""
    earlier = tmp_path / "earlier.sqlite"
    ok(careterm("backup", str(earlier), store=store))
    first = head(str(earlier))
    pupils = ok(careterm("archive", "--json", store=store, signin="admin")).json()["pupils"]
    pupil = next(p["pupil"] for p in pupils if p["status"] == "enrolled")
    for _ in range(2):
        ok(careterm("contact", pupil, "--kind", "talk", "--date", TODAY, store=store, signin="admin"))
    ok(careterm("backup", str(earlier), store=store))
    assert head(str(earlier)) == first + 2 == head(store)

    other = tmp_path / "other.sqlite"
    ok(careterm("init", "--school", "别的学校", "--name", "校长", actor="boss", store=str(other)))
    before = other.read_bytes()
    run = careterm("backup", str(other), store=store)
    assert run.code == 1 and "other.sqlite" in run.err, run
    assert other.read_bytes() == before
    assert [s["name"] for s in ok(careterm("schools", "--json", store=str(other), signin="boss")).json()["schools"]] == ["别的学校"]

    ahead = tmp_path / "ahead.sqlite"
    ok(careterm("backup", str(ahead), store=store))
    ok(careterm("contact", pupil, "--kind", "talk", "--date", TODAY, store=str(ahead), signin="admin"))
    ok(careterm("contact", pupil, "--kind", "home_visit", "--date", TODAY, store=store, signin="admin"))
    size = ahead.read_bytes()
    run = careterm("backup", str(ahead), store=store)
    assert run.code == 1 and "ahead.sqlite" in run.err, run
    assert ahead.read_bytes() == size


def test_a_copy_that_does_not_verify_is_not_kept(store, tmp_path):
    """A store whose chain was edited by hand (one link changed in the file): the copy does not
    verify, so `backup` exits 3 saying so (and pointing at `verify`), keeps no file, and an
    earlier good backup at that place stays as it was."""
    import sqlite3

    out = tmp_path / "backup.sqlite"
    good = ok(careterm("backup", str(out), "--json", store=store)).json()
    with sqlite3.connect(store) as db:
        db.execute("UPDATE careterm_chain SET hash = ? WHERE id = 100", ("0" * 64,))
    run = careterm("backup", str(out), store=store)
    assert run.code == 3 and "verify" in run.err and "100" in run.err, run
    assert ok(careterm("verify", "--json", store=str(out))).json()["head"] == good["head"]
    assert not list(tmp_path.glob(".*partial*"))


def test_a_backup_beside_the_key_file_says_to_keep_them_apart(store, tmp_path):
    """The key file's folder as the backup's: the backup is made, and stderr says to keep the
    key's copy apart from the backups; the key file is not in the backup (its text is nowhere in
    the copy's bytes)."""
    key_dir = tmp_path / "keys"
    key_dir.mkdir()
    key = key_dir / "careterm.key"
    shutil.copyfile(os.environ["CARETERM_KEY_FILE"], key)
    out = key_dir / "backup.sqlite"
    run = ok(careterm("backup", str(out), "--key-file", str(key), store=store))
    assert "分开" in run.err, run
    secret = [line for line in key.read_text().splitlines() if not line.startswith("#")][0]
    assert secret.encode() not in out.read_bytes()
