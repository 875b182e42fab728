"""What the store and its two recorders (SQLite, PostgreSQL) share: careterm's side tables
and their SQL, the store's errors, and the head guard's exception."""

from __future__ import annotations

from typing import Sequence

from eventsourcing.persistence import StoredEvent

CHAIN_TABLE = "careterm_chain"
HEADS_TABLE = "careterm_heads"  # each school's last seq: the guard of a school's commands
VIEWS_TABLE = "careterm_views"  # persisted read models: state and the log position it reached
# what must never enter the event log (password hashes, sessions, token hashes, failed sign-ins):
# (kind, key) -> value, replaced or dropped in place
SECRETS_TABLE = "careterm_secrets"
# who opened which pupil's file: appended only, each row chained to the one before
ACCESS_TABLE = "careterm_access"
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

# A rebuild's save: the fold from zero replaces whatever was saved
REPLACE_VIEW_SQL = (
    f"INSERT INTO {VIEWS_TABLE} (name, schema, position, state) VALUES (%s, %s, %s, %s) "
    f"ON CONFLICT (name) DO UPDATE SET schema = excluded.schema, position = excluded.position, "
    f"state = excluded.state"
)


def access_link(prev: str, state: bytes) -> str:
    """The access log's chain: each row's hash covers the one before and its own bytes."""
    import hashlib

    return hashlib.sha256(prev.encode("ascii") + b"\x00" + state).hexdigest()


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


class StoreDamaged(StoreError):
    """The database file or careterm's bookkeeping in it is damaged: restore the backup."""

    def __init__(self, part: str, detail: str):
        super().__init__(f"the store is damaged ({part}): {detail}")
        self.part = part  # file | heads
        self.detail = detail


class HeadMoved(Exception):
    """Someone appended after the position a command was checked against."""


def school_of_stream(stream: str) -> str:
    return stream.partition("/")[0]


def school_heads(stored_events: Sequence[StoredEvent], ids: Sequence[int]) -> dict[str, int]:
    """The last seq each school reached in this insert."""
    heads: dict[str, int] = {}
    for seq, s in zip(ids, stored_events):
        heads[school_of_stream(s.originator_id)] = seq
    return heads

