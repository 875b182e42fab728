"""The event store: an eventsourcing Application over SQLite (default) or PostgreSQL.

What we add to the library's recorders, in the same transaction as the insert:
- a guard on the log head: a command is checked against the log up to position P and is
  stored only if nothing was appended after P; otherwise `HeadMoved` is raised and the caller
  catches up, checks again and retries. That makes every rule check serialisable across
  processes, including rules that span streams (a pairing touches a pupil and a mentor);
- the hash chain (`events.chain`) in a side table `careterm_chain`.
All the events of one command are inserted in one transaction: they land together or not at all.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence
from urllib.parse import parse_qs, unquote, urlparse

import msgspec
from eventsourcing.application import Application
from eventsourcing.persistence import (
    IntegrityError,
    MapperDeserialisationError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder

from events import chain
from events.codec import MsgspecMapper, NullTranscoder
from events.types import Event

CHAIN_TABLE = "careterm_chain"
HEADS_TABLE = "careterm_heads"  # each school's last seq: the guard of a school's commands
VIEWS_TABLE = "careterm_views"  # persisted read models: state and the log position it reached
# One row holds a read model and its position, so both are written in one statement; a slower
# reader never moves a newer saved position back.
SAVE_VIEW_SQL = (
    f"INSERT INTO {VIEWS_TABLE} (name, schema, position, state) VALUES (%s, %s, %s, %s) "
    f"ON CONFLICT (name) DO UPDATE SET schema = excluded.schema, position = excluded.position, "
    f"state = excluded.state WHERE excluded.position > {VIEWS_TABLE}.position "
    f"OR excluded.schema <> {VIEWS_TABLE}.schema"
)


# The school of an event row (its stream's first part), as the school index is made on it
SCHOOL_INDEX = "careterm_school_log"
SQLITE_SCHOOL_OF = "substr(originator_id, 1, instr(originator_id, '/') - 1)"
PG_SCHOOL_OF = "split_part(originator_id, '/', 1)"

# A rebuild's save: the fold from zero replaces whatever was saved
REPLACE_VIEW_SQL = (
    f"INSERT INTO {VIEWS_TABLE} (name, schema, position, state) VALUES (%s, %s, %s, %s) "
    f"ON CONFLICT (name) DO UPDATE SET schema = excluded.schema, position = excluded.position, "
    f"state = excluded.state"
)


class StoreError(Exception):
    """The store cannot be reached or is damaged (exit code 3)."""


class StoreMissing(StoreError):
    """There is no store at that place (nothing was created)."""


class NotAStore(StoreError):
    """The file exists but is not a careterm store (an empty file, another program's database):
    nothing is written into it."""

    def __init__(self, path: str):
        super().__init__(f"{path} is not a careterm store")
        self.path = path


class _Stamp(msgspec.Struct):
    recorded_at: dt.datetime | None = None


_stamp_decoder = msgspec.json.Decoder(_Stamp)


class _ClockCheck:
    """Recording times that went backwards, or lie ahead of `now` (more than five minutes): a
    machine's clock that was set back or ran fast when they were recorded."""

    AHEAD = dt.timedelta(minutes=5)

    def __init__(self, now: dt.datetime):
        self.now = now
        self.last: dt.datetime | None = None
        self.odd: list[int] = []

    def see(self, seq: int, state: bytes) -> None:
        try:
            moment = _stamp_decoder.decode(state).recorded_at
        except (msgspec.DecodeError, msgspec.ValidationError):
            return  # not plain JSON (an encrypted store): the chain alone is checked
        if moment is None:
            return
        if (self.last is not None and moment < self.last) or moment > self.now + self.AHEAD:
            self.odd.append(seq)
        self.last = moment if self.last is None else max(self.last, moment)


class StoreDamaged(StoreError):
    """The database file or careterm's bookkeeping in it is damaged: restore the backup."""

    def __init__(self, part: str, detail: str):
        super().__init__(f"the store is damaged ({part}): {detail}")
        self.part = part  # file | heads
        self.detail = detail


def damage_of(error: BaseException) -> "StoreDamaged | None":
    """SQLite's "database disk image is malformed" (and its kin), however wrapped, as damage;
    None for anything else (a lock held too long is no damage)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, StoreDamaged):
            return seen
        if isinstance(seen, sqlite3.DatabaseError) and not isinstance(seen, sqlite3.OperationalError):
            return StoreDamaged("file", str(seen))
        seen = seen.__cause__ or seen.__context__
    return None


class HeadMoved(Exception):
    """Someone appended after the position a command was checked against."""


def school_of_stream(stream: str) -> str:
    return stream.partition("/")[0]


def prefix_end(prefix: str) -> str:
    """The first string after every string that starts with `prefix` (its key range's end)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def span_of(schools: Sequence[str]) -> tuple[str, str]:
    """The key range [lo, hi) holding the streams of these schools. It holds the streams of
    every school whose `id/` sorts between theirs too: callers give a run of `by_prefix` order."""
    prefixes = sorted(f"{school}/" for school in schools)
    return prefixes[0], prefix_end(prefixes[-1])


def by_prefix(schools: Sequence[str]) -> list[str]:
    """Schools in the order of their streams' keys (`s1/` < `s10/`, and `s1-a/` < `s1/`)."""
    return sorted(schools, key=lambda school: f"{school}/")


def school_heads(stored_events: Sequence[StoredEvent], ids: Sequence[int]) -> dict[str, int]:
    """The last seq each school reached in this insert."""
    heads: dict[str, int] = {}
    for seq, s in zip(ids, stored_events):
        heads[school_of_stream(s.originator_id)] = seq
    return heads


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

    def drop_views(self, keep: Sequence[str] = ()) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {VIEWS_TABLE} WHERE name NOT IN ({', '.join('?' * len(keep))})", tuple(keep))

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


_CREATE_LOCK = 0x63617265  # "care": the advisory lock key for creating a PostgreSQL store's tables


def _postgres_recorder_class():
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg.sql import SQL, Identifier

    class ChainedPostgresRecorder(PostgresApplicationRecorder):
        def __init__(self, datastore, **kwargs):
            super().__init__(datastore, **kwargs)
            schema = Identifier(self.datastore.schema)
            table = Identifier(self.events_table_name)
            chain_table = Identifier(CHAIN_TABLE)
            self.sql_create_statements.append(
                SQL("CREATE TABLE IF NOT EXISTS {}.{} (id bigint PRIMARY KEY, hash text NOT NULL)").format(
                    schema, chain_table
                )
            )
            self.sql_create_statements.append(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {}.{} (name text PRIMARY KEY, schema integer NOT NULL,"
                    " position bigint NOT NULL, state bytea NOT NULL)"
                ).format(schema, Identifier(VIEWS_TABLE))
            )
            self.sql_create_statements.append(
                SQL("CREATE TABLE IF NOT EXISTS {}.{} (school text PRIMARY KEY, position bigint NOT NULL)").format(
                    schema, Identifier(HEADS_TABLE)
                )
            )
            # one school's events in log order (see the SQLite recorder)
            self.sql_create_statements.append(
                SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} (" + PG_SCHOOL_OF + ", notification_id)").format(
                    Identifier(SCHOOL_INDEX), schema, table
                )
            )
            self._views = Identifier(VIEWS_TABLE)
            self._schema = schema
            self._table = table
            self._heads = SQL("{}.{}").format(schema, Identifier(HEADS_TABLE))
            self._insert_one = SQL(
                "INSERT INTO {}.{} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s) RETURNING notification_id"
            ).format(schema, table)
            self._last_link = SQL("SELECT hash FROM {}.{} ORDER BY id DESC LIMIT 1").format(schema, chain_table)
            self._insert_links = SQL("INSERT INTO {}.{} VALUES (%s, %s)").format(schema, chain_table)
            self._scan_rows = SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{} "
                "WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id"
            ).format(schema, table)
            self._scan_links = SQL(
                "SELECT id, hash FROM {}.{} WHERE id > %s AND id <= %s ORDER BY id"
            ).format(schema, chain_table)
            self._max_ids = SQL(
                "SELECT GREATEST(COALESCE((SELECT MAX(notification_id) FROM {0}.{1}), 0),"
                " COALESCE((SELECT MAX(id) FROM {0}.{2}), 0)) AS m"
            ).format(schema, table, chain_table)

        def create_table(self) -> None:
            # Processes opening a store at the same moment would run the library's CREATE TYPE /
            # CREATE OR REPLACE FUNCTION together, which PostgreSQL fails with "tuple concurrently
            # updated": they take turns under an advisory lock (held on its own connection).
            with self.datastore.get_connection() as conn:
                conn.execute("SELECT pg_advisory_lock(%s)", (_CREATE_LOCK,))
                try:
                    super().create_table()
                    with conn.cursor() as curs:  # stores made before the heads table: fill it once
                        curs.execute(SQL("SELECT COUNT(*) AS n FROM {}").format(self._heads))
                        if curs.fetchone()["n"] == 0:
                            curs.execute(
                                SQL(
                                    "INSERT INTO {} SELECT split_part(originator_id, '/', 1), MAX(notification_id) "
                                    "FROM {}.{} GROUP BY 1 ON CONFLICT (school) DO NOTHING"
                                ).format(self._heads, self._schema, self._table)
                            )
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (_CREATE_LOCK,))

        def insert_events(  # type: ignore[override]
            self,
            stored_events: Sequence[StoredEvent],
            *,
            expected_head: int | None = None,
            school: str | None = None,
            **_: Any,
        ) -> Sequence[int]:
            import psycopg

            try:
                with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                    # The library's EXCLUSIVE table lock serialises writers (ids in commit order).
                    self._lock_table(curs)
                    if school is not None:  # the school's own head: other schools don't conflict
                        curs.execute(SQL("SELECT position FROM {} WHERE school = %s").format(self._heads), (school,))
                        row = curs.fetchone()
                        head = row["position"] if row else 0
                    else:
                        curs.execute(self.max_notification_id_statement)
                        head = curs.fetchone()["max"] or 0
                    if expected_head is not None and head != expected_head:
                        raise HeadMoved(head)
                    curs.execute(self._last_link)
                    row = curs.fetchone()
                    prev = row["hash"] if row else chain.GENESIS
                    curs.executemany(
                        self._insert_one,
                        [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored_events],
                        returning=True,
                    )
                    ids = []
                    while True:
                        ids.append(curs.fetchone()["notification_id"])
                        if not curs.nextset():
                            break
                    links = []
                    for seq, s in zip(ids, stored_events):
                        prev = chain.link(
                            prev, chain.StoredRow(seq, s.originator_id, s.originator_version, s.topic, s.state)
                        )
                        links.append((seq, prev))
                    curs.executemany(self._insert_links, links)
                    curs.executemany(
                        SQL(
                            "INSERT INTO {} VALUES (%s, %s) ON CONFLICT (school) DO UPDATE SET position = excluded.position"
                        ).format(self._heads),
                        list(school_heads(stored_events, ids).items()),
                    )
                    self._notify_channel(curs)
                    return ids
            except psycopg.errors.UniqueViolation as e:
                raise IntegrityError(e) from e
            except psycopg.OperationalError as e:
                raise OperationalError(e) from e

        def select_rows(self, after: int, upto: int | None, limit: int, school: str | None = None) -> list[tuple]:
            from psycopg.rows import tuple_row

            where = SQL("notification_id > %s AND notification_id <= %s")
            params: list[Any] = [after, upto if upto is not None else 2**62]
            if school is not None:
                where += SQL(" AND " + PG_SCHOOL_OF + " = %s")  # the school index, in log order
                params.append(school)
            with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
                curs.execute(
                    SQL("SELECT notification_id, topic, state FROM {}.{} WHERE ").format(self._schema, self._table)
                    + where
                    + SQL(" ORDER BY notification_id LIMIT %s"),
                    (*params, limit),
                )
                return [(seq, topic, bytes(state)) for seq, topic, state in curs.fetchall()]

        def stream_span(self, after: int, upto: int, span: tuple[str, str], batch: int) -> Iterator[list[tuple]]:
            """Batches of (seq, topic, state) of the streams in `span`, from one server-side
            cursor: pages of `LIMIT` queries made PostgreSQL scan the log again for each page."""
            from psycopg.rows import tuple_row

            query = SQL(
                # byte order, as Python compares the ids (a database collation may not be)
                "SELECT notification_id, topic, state FROM {}.{} WHERE notification_id > %s AND notification_id <= %s"
                ' AND originator_id COLLATE "C" >= %s AND originator_id COLLATE "C" < %s ORDER BY notification_id'
            ).format(self._schema, self._table)
            with self.datastore.get_connection() as conn, conn.transaction():
                with conn.cursor(name="careterm_span", row_factory=tuple_row) as curs:
                    curs.itersize = batch
                    curs.execute(query, (after, upto, *span))
                    while rows := curs.fetchmany(batch):
                        yield [(seq, topic, bytes(state)) for seq, topic, state in rows]

        def school_ids(self) -> list[str]:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(SQL("SELECT school FROM {}").format(self._heads))
                return [r["school"] for r in curs.fetchall()]

        def heads(self) -> dict[str, int]:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(SQL("SELECT school, position FROM {}").format(self._heads))
                return {r["school"]: r["position"] for r in curs.fetchall()}

        def file_problems(self) -> list[str]:
            return []  # the server keeps its own files whole

        def repair_heads(self) -> None:
            with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                self._lock_table(curs)  # no write in between
                curs.execute(SQL("DELETE FROM {}").format(self._heads))
                curs.execute(
                    SQL(
                        "INSERT INTO {} SELECT split_part(originator_id, '/', 1), MAX(notification_id) "
                        "FROM {}.{} GROUP BY 1"
                    ).format(self._heads, self._schema, self._table)
                )

        def first_streams_ending(self, suffix: str) -> list[str]:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(
                    SQL("SELECT originator_id FROM {}.{} WHERE originator_version = 1 AND right(originator_id, %s) = %s").format(
                        self._schema, self._table
                    ),
                    (len(suffix), suffix),
                )
                return [r["originator_id"] for r in curs.fetchall()]

        def scan(self, after: int, upto: int) -> tuple[list[tuple], list[tuple]]:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(self._scan_rows, (after, upto))
                rows = [
                    (r["notification_id"], r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
                    for r in curs.fetchall()
                ]
                curs.execute(self._scan_links, (after, upto))
                links = [(r["id"], r["hash"]) for r in curs.fetchall()]
            return rows, links

        def max_ids(self) -> int:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(self._max_ids)
                return curs.fetchone()["m"]

        def load_view(self, name: str) -> tuple[int, int, bytes] | None:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(
                    SQL("SELECT schema, position, state FROM {}.{} WHERE name = %s").format(self._schema, self._views),
                    (name,),
                )
                row = curs.fetchone()
            return (row["schema"], row["position"], bytes(row["state"])) if row else None

        def save_view(self, name: str, schema: int, position: int, state: bytes, replace: bool = False) -> None:
            with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                curs.execute(SQL("SET LOCAL search_path TO {}").format(self._schema))
                curs.execute(SQL(REPLACE_VIEW_SQL if replace else SAVE_VIEW_SQL), (name, schema, position, state))

        def drop_views(self, keep: Sequence[str] = ()) -> None:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(
                    SQL("DELETE FROM {}.{} WHERE NOT (name = ANY(%s))").format(self._schema, self._views), (list(keep),)
                )

    return ChainedPostgresRecorder


# ChainedPostgresRecorder is resolved lazily by the module __getattr__ below (psycopg is only
# imported for PostgreSQL stores). No module-level placeholder: __getattr__ runs only for names
# the module does not have, so a `= None` here made the library's topic resolution get None.


def __getattr__(name: str):  # module attribute for the library's topic resolution
    if name == "ChainedPostgresRecorder":
        cls = _postgres_recorder_class()
        globals()["ChainedPostgresRecorder"] = cls
        return cls
    raise AttributeError(name)


class CareApplication(Application):
    name = "careterm"

    def construct_mapper(self) -> MsgspecMapper:
        return self.factory.mapper(transcoder=NullTranscoder(), mapper_class=MsgspecMapper)


def default_store_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("careterm", appauthor=False)) / "careterm.sqlite"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def _postgres_env(url: str) -> dict[str, str]:
    u = urlparse(url)
    query = parse_qs(u.query)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": "events.store:ChainedPostgresRecorder",
        "POSTGRES_DBNAME": unquote(u.path.lstrip("/")) or os.environ.get("PGDATABASE", "careterm"),
        "POSTGRES_HOST": u.hostname or os.environ.get("PGHOST", "localhost"),
        "POSTGRES_PORT": str(u.port or os.environ.get("PGPORT", "5432")),
        "POSTGRES_USER": unquote(u.username or "") or os.environ.get("PGUSER", "postgres"),
        "POSTGRES_PASSWORD": unquote(u.password or "") or os.environ.get("PGPASSWORD", ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_LOCK_TIMEOUT": "30",
        # one process, one thread at a time: one connection (the library opens 5 by default)
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "2",
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    return env


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


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Store:
    """One store: append events under the head guard, read them in log order, verify the chain."""

    def __init__(self, url: str | os.PathLike, *, create: bool = False, clock: Callable[[], dt.datetime] = utc_now):
        self.url = str(url)
        self.clock = clock
        if is_postgres(self.url):
            env = _postgres_env(self.url)
        else:
            path = Path(self.url).expanduser()
            if not create and not path.exists():
                raise StoreMissing(str(path))
            _check_marker(path, create=create)
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
                _set_wal(path)
                _mark(path)
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "APPLICATION_RECORDER_TOPIC": "events.store:ChainedSQLiteRecorder",
                "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        env["ORIGINATOR_ID_TYPE"] = "text"
        env["CREATE_TABLE"] = "yes"
        try:
            self.app = CareApplication(env=env)
        except (PersistenceError, OSError, sqlite3.Error) as e:
            raise damage_of(e) or StoreError(f"cannot open the store {self.url}: {e}") from e
        except Exception as e:  # psycopg raises its own errors when a server is unreachable
            if type(e).__module__.startswith(("psycopg", "psycopg_pool")):
                raise StoreError(f"cannot open the store {self.url}: {e}") from e
            raise
        self.recorder = self.app.recorder
        self.mapper: MsgspecMapper = self.app.mapper  # type: ignore[assignment]

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------

    def append(self, events: Sequence[Event], *, expected_head: int | None, school: str | None = None) -> list[Event]:
        """Store events atomically if the log head (with `school`: that school's last seq) is
        still `expected_head`.

        The store stamps `recorded_at` (its clock, UTC). Returns the events as stored.
        Raises HeadMoved, IntegrityError (a stream version taken), or StoreError.
        """
        return [event for _, event in self.append_seqs(events, expected_head=expected_head, school=school)]

    def append_seqs(
        self, events: Sequence[Event], *, expected_head: int | None, school: str | None = None
    ) -> list[tuple[int, Event]]:
        """Like `append`, returning (seq, event) pairs: each event with its place in the log."""
        now = self.recording_time()
        stamped = [msgspec.structs.replace(e, recorded_at=now) for e in events]
        return list(zip(self.append_stamped(stamped, expected_head=expected_head, school=school), stamped))

    def recording_time(self) -> dt.datetime:
        """The clock, but never earlier than the last recorded entry: a clock set back (a dead
        battery, a wrong time zone) must not make an entry look recorded before the entries
        already in the log, which `--known-at` and the audit's lateness rely on."""
        now = self.clock()
        last = self.last_recorded_at()
        return last if last is not None and last > now else now

    def last_recorded_at(self) -> dt.datetime | None:
        head = self.head()
        for _, event in self.read(head - 1, upto=head) if head else ():
            return event.recorded_at
        return None

    def append_stamped(self, events: Sequence[Event], *, expected_head: int | None, school: str | None = None) -> list[int]:
        """Store events whose recording time is already set (bulk builds); returns their seqs."""
        stored = [self.mapper.to_stored_event(e) for e in events]
        try:
            return list(self.recorder.insert_events(stored, expected_head=expected_head, school=school))
        except (HeadMoved, IntegrityError):
            raise
        except PersistenceError as e:
            raise StoreError(f"cannot write to the store: {e}") from e

    # -- reading -----------------------------------------------------------------------------

    def head(self) -> int:
        try:
            return self.recorder.max_notification_id() or 0
        except PersistenceError as e:
            raise StoreError(str(e)) from e

    def read(
        self,
        after: int = 0,
        *,
        batch: int = 5000,
        upto: int | None = None,
        topics: Sequence[str] = (),
        school: str | None = None,
        span: tuple[str, str] | None = None,
        into: Mapping[type, type] | None = None,
    ) -> Iterator[tuple[int, Event]]:
        """Yield (seq, event) in log order after position `after` (up to `upto`, of `topics`).

        With `school`, only that school's streams are read (filtered in the database, so the
        other schools' events of a district store cost no decoding). With `span` (see
        `span_of`), the streams of a run of schools, in one pass over the log. `into` maps event
        types to structs holding only some of their fields (see `MsgspecMapper.decoder`).
        """
        decoders: dict[str, Callable[[bytes], Event]] = {}
        for rows in self._rows(after, batch, upto, topics, school, span):
            seq = 0
            try:
                for seq, topic, state in rows:
                    decode = decoders.get(topic) or decoders.setdefault(topic, self.mapper.decoder(topic, into))
                    yield seq, decode(state)
            except (MapperDeserialisationError, msgspec.DecodeError, msgspec.ValidationError) as e:
                raise StoreError(f"event #{seq}: {e}") from e

    def _rows(
        self, after: int, batch: int, upto: int | None, topics: Sequence[str], school: str | None, span: tuple[str, str] | None
    ) -> Iterator[list[tuple[int, str, bytes]]]:
        """`read`'s rows (seq, topic, state), in batches, as the recorder selects them."""
        if span is not None and not topics:
            try:
                yield from self.recorder.stream_span(after, upto if upto is not None else 2**62, span, batch)
            except PersistenceError as e:
                raise StoreError(str(e)) from e
            return
        position = after
        while True:
            try:
                if not topics:
                    rows = self.recorder.select_rows(position, upto, batch, school)
                else:
                    rows = [
                        (n.id, n.topic, n.state)
                        for n in self.recorder.select_notifications(
                            position, batch, stop=upto, topics=topics, inclusive_of_start=False
                        )
                    ]
            except PersistenceError as e:
                raise StoreError(str(e)) from e
            if rows:
                yield rows
            if len(rows) < batch:
                return
            position = rows[-1][0]

    # -- persisted read models ---------------------------------------------------------------

    def load_view(self, name: str) -> tuple[int, int, bytes] | None:
        """(schema, position, state) of a saved read model, or None."""
        try:
            return self.recorder.load_view(name)
        except PersistenceError as e:
            raise StoreError(str(e)) from e

    def save_view(self, name: str, schema: int, position: int, state: bytes, *, replace: bool = False) -> None:
        """Save a read model at a log position; a saved one further on is kept unless `replace`."""
        try:
            self.recorder.save_view(name, schema, position, state, replace)
        except (PersistenceError, OperationalError) as e:
            raise StoreError(str(e)) from e

    def drop_views(self, keep: Sequence[str] = ()) -> None:
        """Delete the saved read models, but those named in `keep`."""
        try:
            self.recorder.drop_views(keep)
        except (PersistenceError, OperationalError) as e:
            raise StoreError(str(e)) from e

    def schools_opened(self) -> list[Event]:
        """The first event of each school's own stream (its SchoolOpened), read by key: which
        schools the store holds, without reading the log."""
        found = []
        try:
            for school in self.recorder.school_ids():
                stored = self.recorder.select_events(f"{school}/school", lte=1)
                if stored:
                    found.append(self.mapper.to_domain_event(stored[0]))
        except (PersistenceError, MapperDeserialisationError) as e:
            raise StoreError(str(e)) from e
        return found

    def schools_of_staff(self, staff: str) -> list[str]:
        """The schools where this staff id was ever recorded (a district store)."""
        if any(ord(c) < 32 for c in staff):
            return []  # no id holds control characters (commands refuse them); PostgreSQL refuses a NUL
        try:
            streams = self.recorder.first_streams_ending(f"/staff/{staff}")
        except PersistenceError as e:
            raise StoreError(str(e)) from e
        return sorted({school_of_stream(s) for s in streams})

    def is_empty(self) -> bool:
        return self.head() == 0

    def repair_heads(self) -> None:
        self.recorder.repair_heads()

    def verify(self, head: str | None = None, *, batch: int = 5000) -> chain.Verified:
        """The hash chain from the first event to the last (ChainBroken names the first bad
        one), then the database file itself and the heads the write side is guarded by
        (StoreDamaged): a file with overwritten pages, or a head moved by hand, fails here
        rather than at the next command."""
        try:
            problems = self.recorder.file_problems()
        except sqlite3.DatabaseError as e:
            raise StoreDamaged("file", str(e)) from e
        if problems:
            raise StoreDamaged("file", "; ".join(problems[:3]))
        last_of: dict[str, int] = {}
        clock = _ClockCheck(self.clock())
        verified = chain.verify(self._chain_pairs(batch, last_of, clock), head)
        if self.recorder.heads() != last_of:
            wrong = sorted(set(last_of.items()) ^ set(self.recorder.heads().items()))
            raise StoreDamaged("heads", ", ".join(f"{school}: {position}" for school, position in wrong[:3]))
        return verified._replace(clock=tuple(clock.odd))

    def _chain_pairs(
        self, batch: int, last_of: dict[str, int] | None = None, clock: "_ClockCheck | None" = None
    ) -> Iterator[tuple[int, chain.StoredRow | None, str | None]]:
        """Each seq's stored row and chain link; `last_of` collects each school's last seq,
        `clock` looks at each recording time."""
        top = self.recorder.max_ids()
        position = 0
        while position < top:
            upto = position + batch
            rows, links = self.recorder.scan(position, upto)
            if last_of is not None:
                for r in rows:
                    last_of[school_of_stream(r[1])] = r[0]
            if clock is not None:
                for r in rows:
                    clock.see(r[0], r[4])
            by_seq = {r[0]: chain.StoredRow(*r) for r in rows}
            link_of = dict(links)
            for seq in sorted(by_seq.keys() | link_of.keys()):
                yield seq, by_seq.get(seq), link_of.get(seq)
            position = upto
