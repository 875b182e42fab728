"""The transfers inside a district a school sees (`transfers`): the pupils sent to it by other
schools of the store (incoming) and those it sent (outgoing), with the day each was sent and the
day it was accepted. Leaders and auditors only, like the queue's neighbours (visibility.VIEW_ROLES).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from events import transfers as T
from events.model import SchoolModel, profile_on
from projections import visibility as V


def _name(model: SchoolModel | None, pupil: str | None) -> str | None:
    rec = model.pupils.get(pupil or "") if model is not None else None
    return profile_on(rec, dt.date.max).get("name") if rec is not None else None


def _row(r: T.Row, day: dt.date, sender: SchoolModel | None, receiver: SchoolModel | None,
         schools: Mapping[str, str]) -> dict[str, Any]:
    sent = sender.sent.get(r.id) if sender is not None else None
    accepted = r.accepted if r.accepted is not None and r.accepted <= day else None
    withdrawn = accepted is None and (sent is None or not T.standing(sender, sent))
    return {
        "id": r.id,
        "pupil": r.pupil,  # the id at the sending school (what `transfer accept` takes)
        "new_pupil": r.new_pupil if accepted else None,  # the id at the receiving school, once accepted
        "name": _name(sender, r.pupil) or _name(receiver, r.new_pupil),
        "from": r.sender,
        "from_name": schools.get(r.sender, r.sender),
        "to": r.to,
        "to_name": schools.get(r.to, r.to),
        "sent": r.sent.isoformat(),
        "accepted": accepted.isoformat() if accepted else None,
        "withdrawn": withdrawn,  # retracted, or the pupil came back before it was accepted
        "overdue": accepted is None and not withdrawn and T.overdue(r.sent, day),
    }


def transfers(index: T.Index, school: SchoolModel, others: Mapping[str, SchoolModel], schools: Mapping[str, str],
              day: dt.date, viewer: V.Viewer | None = None) -> dict:
    """`others`: the models of the schools at the other end that are needed (the senders of
    transfers not yet accepted); `schools`: id -> name of the store's schools."""
    V.require_view(viewer, "transfers")
    # a transfer withdrawn before it was accepted (retracted, or the pupil came back) never gave
    # this school the pupil: it is not shown here, not even by name
    incoming = [row for row in (_row(r, day, others.get(r.sender), school, schools)
                                for r in index.incoming(school.id) if r.sent <= day) if not row["withdrawn"]]
    outgoing = [_row(r, day, school, others.get(r.to), schools) for r in index.outgoing(school.id) if r.sent <= day]
    order = lambda row: (row["sent"], row["pupil"])  # noqa: E731
    return {"as_of": day.isoformat(), "incoming": sorted(incoming, key=order), "outgoing": sorted(outgoing, key=order)}


def pending_incoming(view: dict) -> list[dict]:
    """The incoming transfers waiting for this school's acceptance (Home shows them)."""
    return [r for r in view["incoming"] if r["accepted"] is None and not r["withdrawn"]]
