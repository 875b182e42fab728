"""The SQLite recorder (the default store: one file) and the checks of the file before the
library opens it (a careterm store's marker, WAL mode)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from events import chain
from events.store_base import (
    CHAIN_TABLE,
    HEADS_TABLE,
    REPLACE_VIEW_SQL,
    SAVE_VIEW_SQL,
    SCHOOL_INDEX,
    VIEWS_TABLE,
    ACCESS_TABLE,
    SECRETS_TABLE,
    access_link,
    HeadMoved,
    NotAStore,
    StoreError,
    StoreMissing,
    school_heads,
)

SQLITE_SCHOOL_OF = "substr(originator_id, 1, instr(originator_id, '/') - 1)"


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (id INTEGER PRIMARY KEY, hash TEXT NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {VIEWS_TABLE} (name TEXT PRIMARY KEY, schema INTEGER NOT NULL,"
            " position INTEGER NOT NULL, state BLOB NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {HEADS_TABLE} (school TEXT PRIMARY KEY, position INTEGER NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {SECRETS_TABLE} (kind TEXT NOT NULL, key TEXT NOT NULL,"
            " value BLOB NOT NULL, PRIMARY KEY (kind, key))"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {ACCESS_TABLE} (id INTEGER PRIMARY KEY, state BLOB NOT NULL, hash TEXT NOT NULL)"
        )
        # one school's events in log order (an index also holds the rowid): a view's first fold,
        # the write side's, a school's audit trail. Built once when an older store is opened.
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {SCHOOL_INDEX} ON {self.events_table_name} ({SQLITE_SCHOOL_OF})"
        )
        return statements

    def load_view(self, name: str) -> tuple[int, int, bytes] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT schema, position, state FROM {VIEWS_TABLE} WHERE name = ?", (name,))
            row = c.fetchone()
        return (row[0], row[1], bytes(row[2])) if row else None

    def save_view(self, name: str, schema: int, position: int, state: bytes, replace: bool = False) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute((REPLACE_VIEW_SQL if replace else SAVE_VIEW_SQL).replace("%s", "?"), (name, schema, position, state))

    def views(self) -> list[tuple[str, int, int, bytes]]:
        """Every saved read model: (name, schema, position, state)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT name, schema, position, state FROM {VIEWS_TABLE} ORDER BY name")
            return [(r[0], r[1], r[2], bytes(r[3])) for r in c.fetchall()]

    def drop_views(self, keep: Sequence[str] = ()) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {VIEWS_TABLE} WHERE name NOT IN ({', '.join('?' * len(keep))})", tuple(keep))

    # -- side records: secrets, the access log ------------------------------------------------

    def get_secret(self, kind: str, key: str) -> bytes | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT value FROM {SECRETS_TABLE} WHERE kind = ? AND key = ?", (kind, key))
            row = c.fetchone()
        return bytes(row[0]) if row else None

    def secrets(self, kind: str) -> list[tuple[str, bytes]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT key, value FROM {SECRETS_TABLE} WHERE kind = ? ORDER BY key", (kind,))
            return [(row[0], bytes(row[1])) for row in c.fetchall()]

    def put_secret(self, kind: str, key: str, value: bytes) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {SECRETS_TABLE} (kind, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
                (kind, key, value),
            )

    def drop_secret(self, kind: str, key: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {SECRETS_TABLE} WHERE kind = ? AND key = ?", (kind, key))

    def log_access(self, state: bytes) -> int:
        with self.datastore.get_connection(commit=True) as conn:
            raw: sqlite3.Connection = conn._sqlite_conn
            try:
                raw.execute("BEGIN IMMEDIATE")  # the last link read and the new one written together
                row = raw.execute(f"SELECT hash FROM {ACCESS_TABLE} ORDER BY id DESC LIMIT 1").fetchone()
                link = access_link(row[0] if row else chain.GENESIS, state)
                cur = raw.execute(f"INSERT INTO {ACCESS_TABLE} (state, hash) VALUES (?, ?)", (state, link))
                raw.commit()
                return cur.lastrowid
            except BaseException:
                raw.rollback()
                raise

    def access_rows(self) -> list[tuple[int, bytes, str]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT id, state, hash FROM {ACCESS_TABLE} ORDER BY id")
            return [(row[0], bytes(row[1]), row[2]) for row in c.fetchall()]

    def insert_events(  # type: ignore[override]
        self,
        stored_events: Sequence[StoredEvent],
        *,
        expected_head: int | None = None,
        school: str | None = None,
        **_: Any,
    ) -> Sequence[int]:
        with self.datastore.get_connection(commit=True) as conn:
            raw: sqlite3.Connection = conn._sqlite_conn
            try:
                # IMMEDIATE takes the write lock before we read the head, so the check holds.
                raw.execute("BEGIN IMMEDIATE")
                if school is not None:  # the school's own head: other schools' writes don't conflict
                    row = raw.execute(f"SELECT position FROM {HEADS_TABLE} WHERE school = ?", (school,)).fetchone()
                    head = row[0] if row else 0
                else:
                    head = raw.execute(self.select_max_notification_id_statement).fetchone()[0] or 0
                if expected_head is not None and head != expected_head:
                    raise HeadMoved(head)
                row = raw.execute(f"SELECT hash FROM {CHAIN_TABLE} ORDER BY id DESC LIMIT 1").fetchone()
                prev = row[0] if row else chain.GENESIS
                ids, links = [], []
                for s in stored_events:
                    cur = raw.execute(
                        self.insert_events_statement,
                        (s.originator_id, s.originator_version, s.topic, s.state),
                    )
                    seq = cur.lastrowid
                    prev = chain.link(
                        prev, chain.StoredRow(seq, s.originator_id, s.originator_version, s.topic, s.state)
                    )
                    ids.append(seq)
                    links.append((seq, prev))
                raw.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?, ?)", links)
                raw.executemany(
                    f"INSERT INTO {HEADS_TABLE} VALUES (?, ?) ON CONFLICT (school) DO UPDATE SET position = excluded.position",
                    list(school_heads(stored_events, ids).items()),
                )
                raw.commit()
                return ids
            except BaseException as e:
                raw.rollback()
                if isinstance(e, sqlite3.IntegrityError):
                    raise IntegrityError(e) from e
                if isinstance(e, sqlite3.OperationalError):
                    raise OperationalError(e) from e
                raise

    def select_rows(self, after: int, upto: int | None, limit: int, school: str | None = None) -> list[tuple]:
        """(seq, topic, state) in log order, of one school's streams if given. Plain tuples
        straight from sqlite3: the bulk path of catch-up."""
        where = "rowid > ? AND rowid <= ?"
        params: list[Any] = [after, upto if upto is not None else 2**62]
        if school is not None:
            where += f" AND {SQLITE_SCHOOL_OF} = ?"  # the school index, in log order
            params.append(school)
        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn._sqlite_conn.cursor()
            cursor.row_factory = None
            cursor.execute(
                f"SELECT rowid, topic, state FROM {self.events_table_name} WHERE {where} ORDER BY rowid LIMIT ?",
                (*params, limit),
            )
            return cursor.fetchall()

    def stream_span(self, after: int, upto: int, span: tuple[str, str], batch: int) -> Iterator[list[tuple]]:
        """Batches of (seq, topic, state) of the streams in `span`, from one query (a rebuild's
        pass over the log, filtered in SQLite's C code, in log order)."""
        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn._sqlite_conn.cursor()
            cursor.row_factory = None
            # `+originator_id`: the planner stays on the rowid scan (log order), no index
            cursor.execute(
                f"SELECT rowid, topic, state FROM {self.events_table_name} WHERE rowid > ? AND rowid <= ? "
                "AND +originator_id >= ? AND +originator_id < ? ORDER BY rowid",
                (after, upto, *span),
            )
            while rows := cursor.fetchmany(batch):
                yield rows

    def school_ids(self) -> list[str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT school FROM {HEADS_TABLE}")
            return [r[0] for r in c.fetchall()]

    def heads(self) -> dict[str, int]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT school, position FROM {HEADS_TABLE}")
            return {r[0]: r[1] for r in c.fetchall()}

    def repair_heads(self) -> None:
        """Each school's head set again from the log (under the write lock): `rebuild` mends a
        heads table edited by hand, which `verify` reports."""
        with self.datastore.get_connection(commit=True) as conn:
            raw: sqlite3.Connection = conn._sqlite_conn
            raw.execute("BEGIN IMMEDIATE")
            try:
                raw.execute(f"DELETE FROM {HEADS_TABLE}")
                raw.execute(
                    f"INSERT INTO {HEADS_TABLE} SELECT substr(originator_id, 1, "
                    f"instr(originator_id, '/') - 1), MAX(rowid) FROM {self.events_table_name} GROUP BY 1"
                )
                raw.commit()
            except BaseException:
                raw.rollback()
                raise

    def file_problems(self) -> list[str]:
        """SQLite's own check of the database file (pages, indexes): empty when intact."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("PRAGMA integrity_check")
            found = [r[0] for r in c.fetchall()]
        return [] if found == ["ok"] else found

    def first_streams_ending(self, suffix: str) -> list[str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_id FROM {self.events_table_name} WHERE originator_version = 1 "
                "AND substr(originator_id, -?) = ?",
                (len(suffix), suffix),
            )
            return [r[0] for r in c.fetchall()]

    def create_table(self) -> None:
        super().create_table()
        # stores made before the heads table: fill it from the log once. Read first (many
        # processes open a store at once); write only when needed, under an immediate lock.
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT (SELECT COUNT(*) FROM {HEADS_TABLE}), EXISTS (SELECT 1 FROM {self.events_table_name})"
            )
            heads, events = c.fetchone()
        if heads == 0 and events:
            with self.datastore.get_connection(commit=True) as conn:
                raw: sqlite3.Connection = conn._sqlite_conn
                raw.execute("BEGIN IMMEDIATE")
                try:
                    raw.execute(
                        f"INSERT OR IGNORE INTO {HEADS_TABLE} SELECT substr(originator_id, 1, "
                        f"instr(originator_id, '/') - 1), MAX(rowid) FROM {self.events_table_name} GROUP BY 1"
                    )
                    raw.commit()
                except BaseException:
                    raw.rollback()
                    raise

    def scan(self, after: int, upto: int) -> tuple[list[tuple], list[tuple]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                f"{self.events_table_name} WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
                (after, upto),
            )
            rows = [tuple(r) for r in c.fetchall()]
            c.execute(f"SELECT id, hash FROM {CHAIN_TABLE} WHERE id > ? AND id <= ? ORDER BY id", (after, upto))
            links = [tuple(r) for r in c.fetchall()]
        return rows, links

    def max_ids(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT MAX(COALESCE((SELECT MAX(rowid) FROM {self.events_table_name}), 0),"
                f" COALESCE((SELECT MAX(id) FROM {CHAIN_TABLE}), 0))"
            )
            return c.fetchone()[0]

    # -- bundles (events/bundle.py): one school's rows as stored, with their chain links --------

    def school_rows(self, school: str, after: int, upto: int, limit: int) -> list[tuple]:
        """(seq, stream, version, topic, state, link or None) of one school's rows, in log order."""
        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn._sqlite_conn.cursor()
            cursor.row_factory = None
            cursor.execute(
                f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, c.hash "
                f"FROM {self.events_table_name} e LEFT JOIN {CHAIN_TABLE} c ON c.id = e.rowid "
                f"WHERE {SQLITE_SCHOOL_OF.replace('originator_id', 'e.originator_id')} = ? "
                "AND e.rowid > ? AND e.rowid <= ? ORDER BY e.rowid LIMIT ?",
                (school, after, upto, limit),
            )
            return [(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in cursor.fetchall()]

    def seq_of_link(self, link: str) -> int | None:
        """The seq whose chain link is `link` (a head someone wrote down), or None."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT id FROM {CHAIN_TABLE} WHERE hash = ? ORDER BY id LIMIT 1", (link,))
            row = c.fetchone()
        return row[0] if row else None

    def link_before(self, seq: int) -> str:
        """The chain link of the row before `seq` (GENESIS before the first)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT hash FROM {CHAIN_TABLE} WHERE id < ? ORDER BY id DESC LIMIT 1", (seq,))
            row = c.fetchone()
        return row[0] if row else chain.GENESIS


# SQLite's application_id of a careterm store ("CTRM"): a file without it is someone else's.
APPLICATION_ID = 0x4354524D


def _check_marker(path: Path, *, create: bool) -> None:
    """Refuse (NotAStore) a file that is not a careterm store, before anything writes to it.

    A careterm store carries APPLICATION_ID. A store made before the marker existed is known by
    its hash-chain table and is marked now. A file that does not exist yet, or an empty one, may
    only become a store by `create` (init, demo).
    """
    if not path.exists():
        return
    if path.stat().st_size == 0:
        if create:
            return
        raise NotAStore(str(path))
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
    except sqlite3.Error:
        raise NotAStore(str(path)) from None
    try:
        try:
            mark = conn.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError:  # "file is not a database"
            raise NotAStore(str(path)) from None
        if mark == APPLICATION_ID:
            return
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if mark == 0 and CHAIN_TABLE in tables:  # an older careterm store: mark it
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.commit()
            return
        if not (create and mark == 0 and not tables):  # only an empty database may become a store
            raise NotAStore(str(path))
    finally:
        conn.close()


def _mark(path: Path) -> None:
    conn = sqlite3.connect(path, timeout=30)
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.commit()
    finally:
        conn.close()


def _set_wal(path: Path, wait: float = 30.0) -> None:
    """Put a (new) SQLite file in WAL mode before the library opens it.

    Changing the journal mode does not wait for other connections' locks: processes creating
    one new file at once failed with "database is locked" in the library's own PRAGMA. Once the
    file is in WAL mode the library only reads the mode.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            conn = sqlite3.connect(path, timeout=wait)
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                return
            finally:
                conn.close()
        except sqlite3.Error as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise StoreError(f"cannot open the store {path}: {e}") from e
            time.sleep(0.01)


def _new_private_file(path: Path) -> None:
    """A new store file is made 0600 before SQLite opens it (SQLite gives its -wal and -shm
    files the main file's permissions): a store holds minors' records."""
    import os

    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    os.chmod(path, 0o600)  # whatever the umask


def sqlite_env(path: Path, *, create: bool) -> dict[str, str]:
    """The library's settings for the SQLite file at `path` (checked to be a careterm store;
    with `create`, made and put in WAL mode first)."""
    if not create and not path.exists():
        raise StoreMissing(str(path))
    _check_marker(path, create=create)
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _new_private_file(path)
        except OSError as e:  # a place where no file can be made (/proc, a read-only folder)
            raise StoreError(f"cannot open the store {path}: {e}") from e
        _set_wal(path)
        _mark(path)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "APPLICATION_RECORDER_TOPIC": "events.store_sqlite:ChainedSQLiteRecorder",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "30",
    }
