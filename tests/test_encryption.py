"""Encryption at rest (issue 12 item 6; cli.md "At rest"): what a copy of the store reveals,
what happens without the key or with another, what `verify` checks with and without it, the
files' modes, and the saved read models.

Real stores only: a SQLite file (its WAL too) and a schema on the test PostgreSQL server (read
with the real pg_dump); the CLI through `careterm(...)`.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse, urlunparse

import msgspec
import pytest

from events import chain, keys, saved
from events.store import Store, StoreDamaged
from events.types import ContactMade, PupilRegistered
from helpers import RawDB
from test_cli import careterm

PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump"
NOTE = "家访：马小明的父亲在深圳工地打工，母亲电话13912345678"


def demo(store: str, key_file: Path, *extra: str) -> None:
    run = careterm("demo", *extra, store=store, env={"CARETERM_KEY_FILE": str(key_file)})
    assert run.code == 0, run


def add_note(store: Store) -> None:
    """One more entry written the way careterm writes (a contact with a note), so that the WAL
    holds fresh pages while the store is open."""
    pupil = next(e for _, e in store.read() if isinstance(e, PupilRegistered))
    event = ContactMade(id=uuid.uuid4().hex, school=pupil.school, stream=f"{pupil.school}/note/{uuid.uuid4().hex}",
                        date=dt.date.today(), actor="admin", pupil=pupil.pupil, kind="talk", by="admin",
                        note=NOTE, version=1)
    store.append([event], expected_head=None)


def secrets_of(store: Store) -> set[str]:
    """Every pupil's name, phone, guardian's and parents' names and phones, and every note."""
    found = {NOTE}
    for _, e in store.read():
        if isinstance(e, PupilRegistered):
            found |= {e.name, e.phone}
            for person in ([e.guardian] if e.guardian else []) + list(e.parents):
                found |= {person.name, person.phone, person.workplace}
        found.add(e.note)
    return {s for s in found if len(s.encode()) >= 6}  # two Chinese characters and up


def revealed(blob: bytes, texts: set[str]) -> list[str]:
    """Which texts appear in the bytes, as UTF-8 or hex-encoded (pg_dump writes bytea as hex)."""
    lower = blob.lower()
    return sorted(t for t in texts if t.encode() in blob or t.encode().hex().encode() in lower)


def test_a_copied_sqlite_file_reveals_no_pupil_data(tmp_path):
    """After `demo` and one more entry (still in the WAL while the store is open), neither the
    file nor its WAL holds any pupil's name, phone, family member or note, in any encoding. The
    same search finds them in the plain JSON of the events (the check is not blind)."""
    store_file, key = str(tmp_path / "s.sqlite"), tmp_path / "k" / "careterm.key"
    demo(store_file, key)
    with Store(store_file, key_file=key) as store:
        add_note(store)
        texts = secrets_of(store)
        assert len(texts) > 300  # 202 pupils with names, phones, parents
        raw = Path(store_file).read_bytes()
        wal = Path(store_file + "-wal")
        assert wal.exists() and wal.stat().st_size > 0
        raw += wal.read_bytes()
        plain = b"".join(msgspec.json.encode(e) for _, e in store.read())
    assert revealed(plain, texts) == sorted(texts)
    assert revealed(raw, texts) == []


def test_a_postgresql_dump_reveals_no_pupil_data(tmp_path, pg_url):
    """The same on PostgreSQL, through a real pg_dump of the store's schema (bytea as hex)."""
    key = tmp_path / "careterm.key"
    demo(pg_url, key)
    with Store(pg_url, key_file=key) as store:
        add_note(store)
        texts = secrets_of(store)
    u = urlparse(pg_url)
    schema = parse_qs(u.query)["schema"][0]
    dump = subprocess.run([PG_DUMP, "--schema", schema, urlunparse(u._replace(query=""))],
                          capture_output=True, timeout=120, check=True).stdout
    assert b"careterm_views" in dump and len(dump) > 1_000_000
    assert revealed(dump, texts) == []


def test_missing_key_is_exit_3_naming_the_key_file(tmp_path):
    """A store opened without its key file: exit 3, the message names the file (both languages);
    nothing is written (the store's bytes unchanged)."""
    store_file, key = str(tmp_path / "s.sqlite"), tmp_path / "careterm.key"
    demo(store_file, key)
    before = Path(store_file).read_bytes()
    gone = tmp_path / "elsewhere" / "careterm.key"
    run = careterm("rebuild", "--key-file", gone, store=store_file)
    assert run.code == 3, run
    assert str(gone) in run.err and "密钥文件" in run.err
    run = careterm("rebuild", store=store_file, lang="en", env={"CARETERM_KEY_FILE": str(gone)})
    assert run.code == 3, run
    assert str(gone) in run.err and "key file" in run.err
    assert Path(store_file).read_bytes() == before


def test_a_key_that_cannot_be_made_is_exit_3_and_leaves_no_store(tmp_path):
    """init with a key file under a regular file (its folder cannot be made): exit 3 saying the
    key file cannot be made there and naming it, no traceback, and no store file left behind."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    key = blocker / "careterm.key"
    store_file = tmp_path / "s.sqlite"
    run = careterm("init", "--school", "石砚小学", "--password-stdin", "--key-file", key, store=str(store_file),
                   actor="admin", input="pass-word-1\n")
    assert run.code == 3, run
    assert str(key) in run.err and "无法" in run.err and "生成密钥文件" in run.err
    assert not any(tmp_path.glob("s.sqlite*"))


def test_wrong_key_is_exit_3(tmp_path):
    """Another careterm key, or a file that holds no key: exit 3 saying it is not this store's key."""
    store_file, key = str(tmp_path / "s.sqlite"), tmp_path / "careterm.key"
    demo(store_file, key)
    other, _ = keys.make_key(tmp_path / "other.key")
    (tmp_path / "junk.key").write_text("not a key\n")
    for wrong in (tmp_path / "other.key", tmp_path / "junk.key"):
        run = careterm("rebuild", "--key-file", wrong, store=store_file, lang="en")
        assert run.code == 3, run
        assert "is not this store's key" in run.err and str(wrong) in run.err
        run = careterm("verify", "--key-file", wrong, store=store_file)
        assert run.code == 3 and "不是这个数据库的密钥" in run.err, run


def _forge(url: str) -> int:
    """What someone with a database client and no key can do: append an event written in plain
    JSON (the old format) copied from a real one, with its chain link recomputed and the
    school's head moved, so that the chain alone holds."""
    with RawDB(url) as db:
        rows = db.rows()
        last = rows[-1]
        seq = last.seq + 1
        state = msgspec.json.encode({"id": "forged", "school": "s1", "stream": last.stream, "date": "2025-09-08",
                                     "actor": "admin", "version": last.version + 1, "pupil": "p1", "kind": "talk",
                                     "by": "admin"})
        row = chain.StoredRow(seq, last.stream, last.version + 1, "ContactMade", state)
        db.insert(*row)
        db.insert_link(seq, chain.link(db.links()[last.seq], row))
        db.sql("UPDATE careterm_heads SET position = ? WHERE school = 's1'", (seq,))
    return seq


def test_a_forged_event_is_caught_by_verify_with_the_key(store_url, tmp_path):
    """Before encryption this forgery passed `verify` (the chain was recomputed). Now: without the
    key `verify` still passes (exit 0, saying only the chain was checked); with the key it fails,
    exit 3, naming the forged event; and reading the store fails on it instead of using it."""
    key = tmp_path / "careterm.key"
    from helpers import setup_school
    from events.service import Service

    with Store(store_url, create=True, key_file=key) as store:
        setup_school(Service(store), staff=["t1"], pupils=["p1"])
        head = store.head()
    seq = _forge(store_url)
    assert seq == head + 1
    nokey = careterm("verify", "--json", "--key-file", tmp_path / "none.key", store=store_url)
    assert nokey.code == 0, nokey
    assert nokey.json()["events"] == seq and str(tmp_path / "none.key") in nokey.err
    run = careterm("verify", "--key-file", key, store=store_url)
    assert run.code == 3, run
    assert f"第 {seq} 条" in run.err and "解密" in run.err
    with Store(store_url, key_file=key) as store, pytest.raises(Exception, match=f"#{seq}"):
        list(store.read())


def test_verify_without_the_key_passes_on_a_good_store(tmp_path):
    """An intact store: `verify` passes with the key (everything authenticated) and without it
    (the chain only, said on stderr), with the same count and head."""
    store_file, key = str(tmp_path / "s.sqlite"), tmp_path / "careterm.key"
    demo(store_file, key)
    with_key = careterm("verify", "--json", "--key-file", key, store=store_file)
    without = careterm("verify", "--json", "--key-file", tmp_path / "none.key", store=store_file)
    assert with_key.code == without.code == 0, (with_key, without)
    assert with_key.json() == without.json()
    assert with_key.err == "" and "只检查了哈希链" in without.err


def _mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_store_and_key_files_are_readable_by_their_owner_only(tmp_path):
    """`demo` with no key yet makes the key file 0600 in a 0700 folder and the store 0600 (its WAL
    and shared-memory files too, while open); it says once, on stderr, where the key is and to
    keep a copy, never the key itself. A second store with the same key says nothing more."""
    store_file, key = str(tmp_path / "s.sqlite"), tmp_path / "conf" / "careterm" / "careterm.key"
    os.umask(0o022)
    run = careterm("demo", store=store_file, env={"CARETERM_KEY_FILE": str(key)})
    assert run.code == 0, run
    secret = keys.read_key(key)
    assert _mode(key) == 0o600 and _mode(key.parent) == 0o700
    assert _mode(store_file) == 0o600
    assert str(key) in run.err and "副本" in run.err
    import base64

    assert base64.b64encode(secret).decode() not in run.err + run.out
    with Store(store_file, key_file=key) as store:
        add_note(store)
        for suffix in ("-wal", "-shm"):
            assert _mode(store_file + suffix) == 0o600
    again = careterm("demo", store=str(tmp_path / "t.sqlite"), env={"CARETERM_KEY_FILE": str(key)})
    assert again.code == 0 and "副本" not in again.err, again
    assert keys.read_key(key) == secret  # the key already there is used, never replaced
    assert _mode(tmp_path / "t.sqlite") == 0o600


def test_in_process_store_makes_its_key_at_the_default_place(tmp_path, monkeypatch):
    """`Store(path, create=True)` with no key yet makes it where CARETERM_KEY_FILE says (as init
    does), and a second store uses the same key."""
    key = tmp_path / "cfg" / "careterm.key"
    monkeypatch.setenv("CARETERM_KEY_FILE", str(key))
    with Store(tmp_path / "a.sqlite", create=True) as a:
        assert a.key_made and a.encrypted and a.key_path == key
    with Store(tmp_path / "b.sqlite", create=True) as b:
        assert not b.key_made and b.encrypted
    assert _mode(key) == 0o600


def test_a_hand_edited_saved_model_is_not_served(store_url, tmp_path):
    """A saved model whose bytes were edited, or an older saved copy put back under a newer
    position (it would silently hide the events since), does not authenticate: `verify` with the
    key reports it (StoreDamaged "views"), and `load` folds the model again from the log and
    saves it in its place: the view is the true one, never the edited one."""
    from events.service import Service
    from helpers import ctx, setup_school
    from events import commands as C

    key = tmp_path / "careterm.key"
    with Store(store_url, create=True, key_file=key) as store:
        service = Service(store)
        setup_school(service, staff=["t1"], pupils=["p1", "p2"])
        saved.load(store, "s1", save_from=1)
        old = RawDB(store_url)
        old_state, old_position = old.sql("SELECT state, position FROM careterm_views WHERE name = 'school:s1'")[0]
        old.close()
        service.execute(lambda s: C.pair(s, ctx(dt.date(2025, 9, 2)), "t1", "p1"))
        truth = saved.load(store, "s1", save_from=1)
        truth_bytes = saved.encoder.encode(truth)
        head = store.head()
        assert head > old_position
    with RawDB(store_url) as db:  # the older copy, relabelled as current
        db.sql("UPDATE careterm_views SET state = ?, position = ? WHERE name = 'school:s1'", (bytes(old_state), head))
    with Store(store_url, key_file=key) as store:
        with pytest.raises(StoreDamaged) as damaged:
            store.verify()
        assert damaged.value.part == "views" and "school:s1" in damaged.value.detail
        assert store.load_view("school:s1")[2] is None
        model = saved.load(store, "s1")
        assert saved.encoder.encode(model) == truth_bytes
        assert store.load_view("school:s1") == (store.load_view("school:s1")[0], head, truth_bytes)  # replaced
        store.verify()
    with RawDB(store_url) as db:  # one flipped byte of the ciphertext
        state = bytearray(db.sql("SELECT state FROM careterm_views WHERE name = 'school:s1'")[0][0])
        state[40] ^= 1
        db.sql("UPDATE careterm_views SET state = ? WHERE name = 'school:s1'", (bytes(state),))
    with Store(store_url, key_file=key) as store:
        assert saved.encoder.encode(saved.load(store, "s1")) == truth_bytes


def test_a_store_from_before_encryption_is_still_readable(sqlite_url, tmp_path):
    """A store whose events are plain JSON and that holds no key check value was written before
    careterm encrypted: it is read (and written) as it is, and `verify` says it is not
    encrypted. An encrypted store whose key check value was deleted is damage, not an old store
    (else new events would be written in the clear)."""
    key = tmp_path / "careterm.key"
    with Store(sqlite_url, create=True, key_file=key):
        pass
    with RawDB(sqlite_url) as db:
        db.sql("DELETE FROM careterm_secrets WHERE kind = 'store'")
        state = msgspec.json.encode({"id": "e1", "school": "s1", "stream": "s1/school", "date": "2025-09-01",
                                     "actor": "admin", "version": 1, "name": "石砚小学"})
        row = chain.StoredRow(1, "s1/school", 1, "SchoolOpened", state)
        db.insert(*row)
        db.insert_link(1, chain.link(chain.GENESIS, row))
        db.sql("INSERT INTO careterm_heads VALUES ('s1', 1)")
    with Store(sqlite_url, key_file=key) as store:
        assert store.encrypted is False
        assert [e.name for _, e in store.read()] == ["石砚小学"]
    run = careterm("verify", store=sqlite_url, env={"CARETERM_KEY_FILE": str(key)})
    assert run.code == 0 and "没有加密" in run.err, run

    encrypted = str(tmp_path / "e.sqlite")
    demo(encrypted, key)
    with RawDB(encrypted) as db:
        db.sql("DELETE FROM careterm_secrets WHERE kind = 'store'")
    with pytest.raises(StoreDamaged) as damaged:
        Store(encrypted, key_file=key)
    assert damaged.value.part == "cipher"


def test_rebuild_workers_use_the_callers_key_file(tmp_path, monkeypatch):
    """A district's rebuild folds its runs of schools in worker processes: they open the store
    with the key file the caller named (before, they looked at the default place and failed)."""
    from projections.readmodel import rebuild

    store_file, key = str(tmp_path / "s.sqlite"), tmp_path / "mine.key"
    demo(store_file, key, "--schools", "2")
    monkeypatch.setenv("CARETERM_KEY_FILE", str(tmp_path / "not-here.key"))
    with Store(store_file, key_file=key) as store:
        counted = rebuild(store, workers=2)
        assert sorted(counted) == ["s1", "s2"] and all(counted.values())
        store.verify()
