"""Shared fixtures: real stores only (a SQLite file, a schema on a real PostgreSQL server).

`CARETERM_TEST_PG` is the URL of a PostgreSQL server the tests may use (quickstart.py starts a
throwaway one). Without it the PostgreSQL tests are skipped, unless `CARETERM_REQUIRE_PG=1`
(CI), where a missing server is a failure.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from urllib.parse import urlencode, urlparse, urlunparse

import pytest

# Encryption at rest: every store the tests make, in-process (`Store(path, create=True)`) or
# through the CLI, is encrypted with one test key, never the user's own. The same file is the
# default place (XDG_CONFIG_HOME) for the CLI runs whose environment drops CARETERM_*; set at
# import, so xdist's workers inherit it. The key is made by the first store that needs it.
_TEST_CONFIG = os.path.join(tempfile.gettempdir(), f"careterm-tests-config-{os.getuid()}")
os.environ.setdefault("XDG_CONFIG_HOME", _TEST_CONFIG)
os.environ.setdefault("CARETERM_KEY_FILE", os.path.join(os.environ["XDG_CONFIG_HOME"], "careterm", "careterm.key"))


def _pg_server() -> str:
    url = os.environ.get("CARETERM_TEST_PG", "").strip()
    if not url:
        reason = "CARETERM_TEST_PG is not set: no PostgreSQL server to test against"
        if os.environ.get("CARETERM_REQUIRE_PG") == "1":
            pytest.fail(f"{reason} (and CARETERM_REQUIRE_PG=1)", pytrace=False)
        pytest.skip(reason)
    return url


def with_schema(server_url: str, schema: str) -> str:
    u = urlparse(server_url)
    return urlunparse(u._replace(query=urlencode({"schema": schema})))


def pytest_collection_modifyitems(config, items):
    # `-m "not postgres"` deselects every test that needs the server
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on_store = callspec is not None and callspec.params.get("store_url") == "postgres"
        if names & {"pg_url", "pg_server"} or on_store:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh SQLite store path (the file does not exist yet)."""
    return str(tmp_path / "store.sqlite")


@pytest.fixture
def pg_url() -> str:
    """A fresh PostgreSQL schema on the test server, as a store URL with `?schema=`; dropped after."""
    import psycopg
    from psycopg import sql

    server = _pg_server()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield with_schema(server, schema)
    finally:
        with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
            # a store left open by a failed test must not hang the teardown forever
            conn.execute("SET lock_timeout = '20s'")
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request) -> str:
    """The same test on a SQLite file and on a PostgreSQL schema."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def pg_server() -> str:
    """The test server's URL itself (for direct SQL), with the same skip/fail rule as pg_url."""
    return _pg_server()


# --- the TUI tests' demo school (tests/tui_support.py builds it once per process) ------------


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """(path of the deterministic demo store, facts the tests use), built once."""
    import tui_support

    return tui_support.demo_store(tmp_path_factory)


@pytest.fixture
def facts(demo):
    return demo[1]


@pytest.fixture
def store_path(demo, tmp_path):
    """A private copy of the demo store (tests write to it)."""
    import tui_support

    return tui_support.copy_store(demo[0], tmp_path)
