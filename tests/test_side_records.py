"""The store's side records: secrets kept out of the event log, and the access log, appended
only and chained (on a SQLite file and on PostgreSQL)."""

from __future__ import annotations

from events.store import Store


def test_secrets_are_kept_replaced_and_dropped_outside_the_log(store_url):
    """Two secrets of kind "password" and one of kind "session": each read back as written, a
    second put replaces (not adds), a drop removes that one only; the event log stays empty."""
    with Store(store_url, create=True) as store:
        store.put_secret("password", "t1", b"hash-1")
        store.put_secret("password", "t2", b"hash-2")
        store.put_secret("session", "t1", b"s")
        store.put_secret("password", "t1", b"hash-1b")
        assert store.get_secret("password", "t1") == b"hash-1b"
        assert store.secrets("password") == [("t1", b"hash-1b"), ("t2", b"hash-2")]
        store.drop_secret("password", "t2")
        assert store.secrets("password") == [("t1", b"hash-1b")]
        assert store.get_secret("password", "t2") is None and store.get_secret("session", "t1") == b"s"
        assert store.head() == 0


def test_the_access_log_is_chained_and_an_edit_is_found(store_url):
    """Three rows appended get places 1, 2, 3 (in order) and verify; after the second row's bytes
    are changed behind careterm's back, verification names row 2."""
    with Store(store_url, create=True) as store:
        ids = [store.log_access(f"row {i}".encode()) for i in range(3)]
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert [state for _, state, _ in store.access_rows()] == [b"row 0", b"row 1", b"row 2"]
        assert store.verify_access() is None
        _edit(store, ids[1])
        assert store.verify_access() == ids[1]


def _edit(store: Store, row: int) -> None:
    """What someone with a database client could do."""
    if store.url.startswith("postgresql"):
        import psycopg

        from events.store_postgres import postgres_env

        schema = postgres_env(store.url).get("POSTGRES_SCHEMA") or "public"
        base = store.url.split("?")[0]
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'UPDATE "{schema}".careterm_access SET state = %s WHERE id = %s', (b"forged", row))
        return
    import sqlite3

    with sqlite3.connect(store.url) as conn:
        conn.execute("UPDATE careterm_access SET state = ? WHERE id = ?", (b"forged", row))
