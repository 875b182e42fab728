"""The PostgreSQL recorder (a district's store, chosen by a postgresql:// URL). Imported only
for such a URL: psycopg is imported by nothing else."""

from __future__ import annotations

import datetime as dt

import os
from typing import Any, Iterator, Sequence
from urllib.parse import parse_qs, unquote, urlparse

import psycopg
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

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
    school_heads,
)

PG_SCHOOL_OF = "split_part(originator_id, '/', 1)"
_CREATE_LOCK = 0x63617265  # "care": the advisory lock key for creating a PostgreSQL store's tables


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
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (kind text NOT NULL, key text NOT NULL,"
                " value bytea NOT NULL, PRIMARY KEY (kind, key))"
            ).format(schema, Identifier(SECRETS_TABLE))
        )
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {}.{} (id bigserial PRIMARY KEY, state bytea NOT NULL, hash text NOT NULL)").format(
                schema, Identifier(ACCESS_TABLE)
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

    def server_time(self) -> dt.datetime:
        """The server's clock (UTC): the one clock of every writer of a district store, so that a
        school PC whose clock is wrong cannot falsify when an entry was recorded."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute("SELECT clock_timestamp()")
            return curs.fetchone()[0].astimezone(dt.timezone.utc)

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

    # -- bundles (events/bundle.py; see the SQLite recorder) ------------------------------------

    def school_rows(self, school: str, after: int, upto: int, limit: int) -> list[tuple]:
        query = SQL(
            "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, c.hash "
            "FROM {0}.{1} e LEFT JOIN {0}.{2} c ON c.id = e.notification_id "
            "WHERE split_part(e.originator_id, '/', 1) = %s AND e.notification_id > %s "
            "AND e.notification_id <= %s ORDER BY e.notification_id LIMIT %s"
        ).format(self._schema, self._table, Identifier(CHAIN_TABLE))
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(query, (school, after, upto, limit))
            return [(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in curs.fetchall()]

    def seq_of_link(self, link: str) -> int | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT id FROM {}.{} WHERE hash = %s ORDER BY id LIMIT 1").format(self._schema, Identifier(CHAIN_TABLE)),
                (link,),
            )
            row = curs.fetchone()
        return row["id"] if row else None

    def link_before(self, seq: int) -> str:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT hash FROM {}.{} WHERE id < %s ORDER BY id DESC LIMIT 1").format(self._schema, Identifier(CHAIN_TABLE)),
                (seq,),
            )
            row = curs.fetchone()
        return row["hash"] if row else chain.GENESIS

    def load_view(self, name: str) -> tuple[int, int, bytes] | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT schema, position, state FROM {}.{} WHERE name = %s").format(self._schema, self._views),
                (name,),
            )
            row = curs.fetchone()
        return (row["schema"], row["position"], bytes(row["state"])) if row else None

    def views(self) -> list[tuple[str, int, int, bytes]]:
        """Every saved read model: (name, schema, position, state)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT name, schema, position, state FROM {}.{} ORDER BY name").format(self._schema, self._views))
            return [(r["name"], r["schema"], r["position"], bytes(r["state"])) for r in curs.fetchall()]

    def save_view(self, name: str, schema: int, position: int, state: bytes, replace: bool = False) -> None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute(SQL("SET LOCAL search_path TO {}").format(self._schema))
            curs.execute(SQL(REPLACE_VIEW_SQL if replace else SAVE_VIEW_SQL), (name, schema, position, state))

    def drop_views(self, keep: Sequence[str] = ()) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("DELETE FROM {}.{} WHERE NOT (name = ANY(%s))").format(self._schema, self._views), (list(keep),)
            )


    # -- side records: secrets, the access log (see the SQLite recorder) ----------------------

    def _side(self, name: str) -> Any:
        return SQL("{}.{}").format(self._schema, Identifier(name))

    def get_secret(self, kind: str, key: str) -> bytes | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT value FROM {} WHERE kind = %s AND key = %s").format(self._side(SECRETS_TABLE)), (kind, key))
            row = curs.fetchone()
        return bytes(row["value"]) if row else None

    def secrets(self, kind: str) -> list[tuple[str, bytes]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT key, value FROM {} WHERE kind = %s ORDER BY key").format(self._side(SECRETS_TABLE)), (kind,))
            return [(row["key"], bytes(row["value"])) for row in curs.fetchall()]

    def put_secret(self, kind: str, key: str, value: bytes) -> None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute(
                SQL(
                    "INSERT INTO {} (kind, key, value) VALUES (%s, %s, %s) "
                    "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value"
                ).format(self._side(SECRETS_TABLE)),
                (kind, key, value),
            )

    def drop_secret(self, kind: str, key: str) -> None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute(SQL("DELETE FROM {} WHERE kind = %s AND key = %s").format(self._side(SECRETS_TABLE)), (kind, key))

    def log_access(self, state: bytes) -> int:
        table = self._side(ACCESS_TABLE)
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute(SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))  # one link after another
            curs.execute(SQL("SELECT hash FROM {} ORDER BY id DESC LIMIT 1").format(table))
            row = curs.fetchone()
            link = access_link(row["hash"] if row else chain.GENESIS, state)
            curs.execute(SQL("INSERT INTO {} (state, hash) VALUES (%s, %s) RETURNING id").format(table), (state, link))
            return curs.fetchone()["id"]

    def access_rows(self) -> list[tuple[int, bytes, str]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT id, state, hash FROM {} ORDER BY id").format(self._side(ACCESS_TABLE)))
            return [(row["id"], bytes(row["state"]), row["hash"]) for row in curs.fetchall()]


def postgres_env(url: str) -> dict[str, str]:
    u = urlparse(url)
    query = parse_qs(u.query)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": "events.store_postgres:ChainedPostgresRecorder",
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

