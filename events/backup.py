"""A consistent copy of a live store, verified before it is kept (`careterm backup FILE`).

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the database in one step
inside one read transaction, so the copy is the store as it stood at one moment, every
transaction in it whole or absent; the store is in WAL mode, so writers go on meanwhile (a
writer killed in the middle of a transaction leaves nothing in the copy: its rows were never
committed). The copy is written beside FILE under a hidden name, then opened as a store and
verified with the key (the hash chain, SQLite's `integrity_check`, the schools' heads, every
event decrypting and naming its row, every saved read model authenticating, the access log's
chain: `Store.verify`), and only then moved into FILE's place. A copy that does not verify is
removed and said (the store itself is then most likely damaged: `careterm verify`).

The copy is one file holding what the store holds (events, chain, read models, side records:
password hashes, sessions, the access log), encrypted as the store is. The key file is never
in it: keep the key's copy apart from the backups (whoever has both has the records).

PostgreSQL: the server's own tools make a consistent copy of a live database (`pg_dump`), and
restore it (`pg_restore`); this command says so and does nothing (Refused, exit 1).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import NamedTuple

from events.errors import Refused
from events.store import Store, StoreDamaged, StoreError, is_postgres

FIELD = "FILE"


class Backup(NamedTuple):
    out: str
    events: int
    head: str
    verified: bool
    copy_seconds: float
    verify_seconds: float


def _is_store_file(path: Path) -> bool:
    """A careterm store (or an earlier backup): its SQLite application_id says so."""
    from events.store_sqlite import APPLICATION_ID

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return False
    try:
        return conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _link_at(path: Path, seq: int | None = None) -> tuple[int, str] | None:
    """A store file's chain link (seq, link): the last one (None: no entries), or the one at
    `seq`. sqlite3.Error if the file cannot be read."""
    from events.store_base import CHAIN_TABLE

    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        if seq is None:
            row = conn.execute(f"SELECT id, hash FROM {CHAIN_TABLE} ORDER BY id DESC LIMIT 1").fetchone()
        else:
            row = conn.execute(f"SELECT id, hash FROM {CHAIN_TABLE} WHERE id = ?", (seq,)).fetchone()
    return (row[0], row[1]) if row else None


def _is_backup_of(source: Path, target: Path) -> bool:
    """The store file `target` holds an earlier moment of the store at `source`: its chain's
    last link is the source's link at the same seq. Each link is a SHA-256 over the one before
    and its row, so one equal link means every row up to it is the same (two queries, whatever
    the size). Another store, even of the same school, has other links from its first row on.
    A store with no entries is nobody's record: replacing it loses nothing of the log."""
    try:
        last = _link_at(target)
        return last is None or _link_at(source, last[0]) == last
    except sqlite3.Error:
        return False


def _check_target(source: Path, target: Path) -> None:
    """FILE may be a new file, or an earlier backup of this store (replaced once the new copy
    verifies); never the store itself, a folder, another store (or its backup), or a file of
    something else."""
    real = os.path.realpath(target)
    if real in {os.path.realpath(f"{source}{suffix}") for suffix in ("", "-wal", "-shm")}:
        raise Refused(FIELD, "backup_is_store", path=str(target))
    if target.is_dir() or not target.parent.is_dir():
        raise Refused(FIELD, "unwritable_file", path=str(target))
    if target.exists() and not _is_store_file(target):
        raise Refused(FIELD, "backup_out_exists", path=str(target))
    if target.exists() and not _is_backup_of(source, target):
        raise Refused(FIELD, "backup_other_store", path=str(target))


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


def backup(url: str, out: str | os.PathLike, *, key_file: str | os.PathLike | None = None) -> Backup:
    """Copy the SQLite store at `url` to `out` and verify the copy (see the module)."""
    if is_postgres(url):
        raise Refused("--store", "backup_postgres")
    source = Path(url).expanduser()
    target = Path(out).expanduser()
    with Store(source, key_file=key_file) as store:  # a careterm store, and its key at hand
        if store.key_problem is not None:
            raise store.key_problem
    _check_target(source, target)
    aside = target.with_name(f".{target.name}.{os.getpid()}.partial")
    _remove(aside)
    started = time.perf_counter()
    try:
        try:
            os.close(os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # 0600 before SQLite writes
        except OSError:
            raise Refused(FIELD, "unwritable_file", path=str(target)) from None
        try:
            with contextlib.closing(sqlite3.connect(str(source), timeout=30)) as src:
                with contextlib.closing(sqlite3.connect(str(aside))) as dst:
                    src.backup(dst)  # every page in one step: one read transaction, one moment
        except sqlite3.Error as e:
            if "locked" in str(e) or "busy" in str(e):
                raise StoreError(f"the store is locked: {e}") from e
            raise Refused(FIELD, "unwritable_file", path=str(target)) from None  # a full disk, say
        copied = time.perf_counter()
        with Store(aside, key_file=key_file) as copy:
            verified = copy.verify()
            bad = copy.verify_access()
            if bad is not None:
                raise StoreDamaged("access", f"#{bad}")
        checked = time.perf_counter()
        with open(aside, "rb") as f:
            os.fsync(f.fileno())
        for suffix in ("-wal", "-shm"):  # an earlier backup's leftovers must not meet the new file
            try:
                os.unlink(f"{target}{suffix}")
            except FileNotFoundError:
                pass
        os.replace(aside, target)
        _sync_folder(target.parent)
    finally:
        _remove(aside)
    return Backup(str(target), verified.events, verified.head, True, round(copied - started, 3), round(checked - copied, 3))


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
