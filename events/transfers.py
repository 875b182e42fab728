"""Transfers inside a district: a pupil sent by one school of a store to another, and taken in there.

The sending school records `transfer PUPIL --to SCHOOL_ID` (a PupilTransferred with `district`);
the receiving school's leader records `transfer accept PUPIL` (a PupilRegistered with the file
carried over, and a TransferAccepted). Each school writes only its own log: what the other
school recorded is read, never written.

Here: the rules of a transfer as pure functions of the two schools' models (`standing`,
`pending`, `overdue`), and the store's index of transfers (`Index`, saved beside the log like
the directory of schools): which school sent whom to whom and whether it was taken in, so a
school finds its incoming transfers without folding every other school of the district.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Mapping

import msgspec

from events import aid_rules, rules
from events.model import SCHEMA, SchoolModel, SentRec
from events.types import PupilTransferred, TransferAccepted

# --- the rules ---------------------------------------------------------------------------


def standing(sender: SchoolModel, sent: SentRec) -> bool:
    """The transfer still stands at the sending school: not retracted, and the pupil has not
    come back since (their latest standing status change is this transfer)."""
    mark = sender.marks.get(sent.id)
    if mark is None or mark.retracted:
        return False
    pupil = sender.pupils.get(sent.pupil)
    if pupil is None:
        return False
    changes = [d for d in pupil.timeline if d.what == "status" and not d.retracted]
    return bool(changes) and changes[-1].entry == sent.id


def pending(sender: SchoolModel, receiver: SchoolModel) -> list[SentRec]:
    """The standing transfers from `sender` to `receiver` that `receiver` has not taken in."""
    return [
        s for s in sender.sent.values()
        if s.to == receiver.id and s.id not in receiver.arrivals and standing(sender, s)
    ]


def overdue(sent: dt.date, today: dt.date) -> bool:
    """Not taken in within rules.TRANSFER_ACCEPT_DAYS school days (Monday to Friday) after it
    was sent: sent on Monday 2025-09-08, it may be accepted up to Monday 09-15 and is overdue
    from Tuesday 09-16 (the same count of days as the public notice of aid)."""
    day, counted = sent, 0
    while counted < rules.TRANSFER_ACCEPT_DAYS:
        day += aid_rules.DAY
        if aid_rules.working_day(day):
            counted += 1
    return today > day


def senders(schools: Mapping[str, SchoolModel], school: str) -> list[str]:
    """The schools that may have sent `school` a pupil not yet taken in. A district's mapping
    (events.service.District) answers from the store's index; a mapping of models in memory
    (a whole store folded, the demo's build) is searched."""
    ask = getattr(schools, "senders_to", None)
    if ask is not None:
        return ask(school)
    return [sid for sid, model in schools.items() if sid != school and any(s.to == school for s in model.sent.values())]


# --- the store's index of transfers --------------------------------------------------------


class Row(msgspec.Struct, array_like=True):
    """One transfer inside the store: sent by `sender` (the PupilTransferred `id`), to `to`."""

    id: str
    sender: str
    pupil: str
    to: str
    sent: dt.date
    accepted: dt.date | None = None
    new_pupil: str | None = None  # the pupil's id at the receiving school


class Index(msgspec.Struct):
    rows: dict[str, Row] = {}

    def incoming(self, school: str) -> list[Row]:
        return [r for r in self.rows.values() if r.to == school]

    def outgoing(self, school: str) -> list[Row]:
        return [r for r in self.rows.values() if r.sender == school]

    def senders_to(self, school: str) -> list[str]:
        """The schools with a transfer to `school` not taken in (standing or not: the sending
        school's model says)."""
        return sorted({r.sender for r in self.incoming(school) if r.accepted is None})


INDEX = "transfers"
_TOPICS = ("PupilTransferred", "TransferAccepted")
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Index)


def fold_index(index: Index, events: Iterable) -> Index:
    """The index caught up on events of the two types (others are skipped)."""
    for _, event in events:
        if isinstance(event, PupilTransferred) and event.district:
            index.rows[event.id] = Row(event.id, event.school, event.pupil, event.to, event.date)
        elif isinstance(event, TransferAccepted):
            row = index.rows.get(event.transfer)
            if row is not None:
                row.accepted, row.new_pupil = event.date, event.pupil
    return index


def index(store) -> Index:
    """The store's transfers, from the saved index caught up on the log (only the two types of
    entry are read, filtered by the database), or folded afresh when none is saved."""
    head = store.head()
    copy = store.load_view(INDEX)
    found, position, fresh = Index(), 0, True
    if copy is not None and copy[0] == SCHEMA and copy[2] is not None and copy[1] <= head:
        try:
            found, position, fresh = _decoder.decode(copy[2]), copy[1], False
        except (msgspec.DecodeError, msgspec.ValidationError):
            found = Index()  # a damaged copy: folded afresh and saved in its place
    if position == head and not fresh:
        return found
    fold_index(found, store.read(position, upto=head, topics=_TOPICS))
    try:
        # a copy saved further on by another process is kept, unless this one replaces a bad one
        store.save_view(INDEX, SCHEMA, head, _encoder.encode(found), replace=fresh and copy is not None)
    except Exception:  # noqa: BLE001 - saving is an optimisation, as for the school models
        pass
    return found
