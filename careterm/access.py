"""Who looked (issue 12, item 5): the one function every way of opening a pupil's file calls, and
the access log read back. The rows and the view are projections/access.py; the log itself is the
store's (appended only, chained: events/store.py). Nothing here edits or deletes a row.

An opening is logged when the file is about to be shown, never for a refused one (a pupil outside
the viewer's scope): nothing was seen, and the log answers "who saw this child's file".
"""

from __future__ import annotations

import datetime as dt

import msgspec

from careterm.workspace import Workspace
from events.store import Store, StoreDamaged
from projections.access import VIAS, Opening, decode, encode


def log_opening(ws: Workspace, pupil: str, via: str) -> int:
    """Log that the workspace's signed-in staff member opened `pupil`'s file now (the store's
    clock, UTC), `via` one of VIAS; returns the row's place. Call it before the file is shown:
    if the log cannot be written, the file is not shown."""
    if via not in VIAS:
        raise ValueError(f"unknown way of opening a file: {via!r}")
    store = ws.store()
    row = Opening(
        at=store.clock().astimezone(dt.timezone.utc),
        actor=ws.actor,
        school=ws.school_id(),
        pupil=pupil,
        via=via,
    )
    return store.log_access(encode(row))


def openings(store: Store) -> list[Opening]:
    """Every row of the access log, in the order logged; a row that is not an opening is damage."""
    found = []
    for row_id, state, _ in store.access_rows():
        try:
            found.append(decode(state))
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise StoreDamaged("access", f"#{row_id}") from None
    return found
