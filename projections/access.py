"""Who looked (issue 12, item 5): the rows of the access log and the `access` view.

Every opening of one pupil's file (`history`, the app's pupil file, an export naming the pupil) is
one row of the store's access log (events/store.py: appended only, each row's hash covering the
one before, checked by `verify`). A row is an `Opening`, stored as msgspec JSON; careterm/access.py
appends them and nothing in careterm edits or deletes one. Pure: no store and no UI here.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

import msgspec

from events.model import SchoolModel

# how a file was opened (catalog `via.<code>`)
VIAS = ("history", "tui", "export")
# who may read the log (domain.md, "Who sees what": leaders, and auditors as leaders read-only)
READERS = frozenset({"leader", "auditor"})


class Opening(msgspec.Struct, frozen=True):
    """One opening of one pupil's file."""

    at: dt.datetime  # UTC, by the store's clock
    actor: str | None  # the signed-in staff member
    school: str
    pupil: str
    via: str


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Opening).decode


def encode(opening: Opening) -> bytes:
    return _encode(opening)


def decode(state: bytes) -> Opening:
    """A stored row; raises msgspec.DecodeError (or ValidationError) if it is not one."""
    return _decode(state)


def refusal(model: SchoolModel, actor: str | None, day: dt.date) -> str | None:
    """Why `actor` may not read who looked (catalog `access.<code>`), or None: only a current
    leader or auditor of the school may."""
    staff = model.staff.get(actor or "")
    if staff is None or (staff.left is not None and staff.left <= day):
        return "not_staff"
    return None if READERS & set(staff.roles) else "not_reader"


def access(
    openings: Iterable[Opening], *, school: str, pupil: str | None = None, actor: str | None = None
) -> dict:
    """{"access": [{"at","actor","pupil","via"}]}: the school's openings in the order logged,
    of one pupil and/or by one person if asked."""
    return {
        "access": [
            {"at": o.at.isoformat(), "actor": o.actor, "pupil": o.pupil, "via": o.via}
            for o in openings
            if o.school == school and (pupil is None or o.pupil == pupil) and (actor is None or o.actor == actor)
        ]
    }
