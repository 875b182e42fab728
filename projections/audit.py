"""The audit trail and a pupil's history, read straight from the ordered log."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import msgspec

from events.types import Event

ENVELOPE = ("id", "school", "stream", "date", "actor", "source", "corrects", "version", "recorded_at")


def subject_of(event: Event) -> str:
    """What the entry is about: "pupil/P001", "staff/T01" or "school" (the stream, less the school)."""
    return event.stream.partition("/")[2]


def audit_row(seq: int | None, event: Event) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": event.id,
        "type": event.type,
        "subject": subject_of(event),
        "date": event.date.isoformat(),
        "recorded_at": event.recorded_at.isoformat() if event.recorded_at else None,
        "actor": event.actor,
        "source": event.source,
        "corrects": event.corrects,
    }


def data_of(event: Event) -> dict[str, Any]:
    data = msgspec.to_builtins(event)
    for key in ENVELOPE:
        data.pop(key, None)
    return data


def full_row(seq: int | None, event: Event) -> dict[str, Any]:
    return {**audit_row(seq, event), "data": data_of(event)}


def about_pupil(event: Event, pupil: str) -> bool:
    return getattr(event, "pupil", None) == pupil or pupil in getattr(event, "pupils", ())


def audit(
    log: Iterable[tuple[int, Event]],
    *,
    school: str | None = None,
    pupil: str | None = None,
    actor: str | None = None,
    types: Iterable[str] = (),
) -> Iterator[tuple[int, Event]]:
    """The events that match every filter given, in log order.

    With `pupil`, corrections and retractions of the pupil's entries are included too.
    """
    wanted_types = set(types)
    related: set[str] = set()
    for seq, event in log:
        if school is not None and event.school != school:
            continue
        if pupil is not None:
            if about_pupil(event, pupil):
                related.add(event.id)
            elif event.corrects in related:
                related.add(event.id)
            else:
                continue
        if actor is not None and event.actor != actor:
            continue
        if wanted_types and event.type not in wanted_types:
            continue
        yield seq, event


FLAGS = ("late", "backfill")  # what `signals` marks; `trail(flag=…)` filters by one

BURST_WINDOW_DAYS = 7  # how long before an inspection a burst of back-dated entries is looked for
BURST_MIN_ENTRIES = 3


def signals(events: list[tuple[int, Event]], late_days_on, zone) -> dict[str, list[str]]:
    """Flags per event id: `late` (recorded more than the school's late-days after its date) and
    `backfill` (one of a burst of late entries by one person just before their handbook was
    inspected). `late_days_on(day)` gives the setting in force on a day; `zone` the school's.
    """
    flags: dict[str, list[str]] = {}
    late_by_actor: dict[str, list[tuple[object, str]]] = {}
    inspections = []
    for _, e in events:
        if e.recorded_at is None:
            continue
        recorded_day = e.recorded_at.astimezone(zone).date()
        if e.type == "HandbookInspected":
            inspections.append((e.staff, e.date))
        if (recorded_day - e.date).days > late_days_on(recorded_day):
            flags.setdefault(e.id, []).append("late")
            late_by_actor.setdefault(e.actor, []).append((recorded_day, e.id))
    for staff, day in inspections:
        burst = [
            eid
            for recorded_day, eid in late_by_actor.get(staff, [])
            if 0 <= (day - recorded_day).days <= BURST_WINDOW_DAYS
        ]
        if len(burst) >= BURST_MIN_ENTRIES:
            for eid in burst:
                if "backfill" not in flags[eid]:
                    flags[eid].append("backfill")
    return flags


def trail(
    log: Iterable[tuple[int, Event]],
    *,
    school: str,
    late_days_on,
    zone,
    as_of=None,
    known_at=None,
    pupil: str | None = None,
    actor: str | None = None,
    types: Iterable[str] = (),
    flag: str | None = None,
) -> list[tuple[int, Event, list[str]]]:
    """The audit trail of a school: (seq, event, flags), as of a date and as known at a time.

    The flags are judged over the whole trail, then the filters apply: an inspection filtered out
    of the rows still marks the burst of back-filled entries before it. With `flag` ("late" or
    "backfill") only the entries that carry it.
    """
    events = [
        (seq, e)
        for seq, e in log
        if e.school == school
        and (known_at is None or (e.recorded_at is not None and e.recorded_at <= known_at))
        and (as_of is None or e.date <= as_of)
    ]
    flags = signals(events, late_days_on, zone)
    rows = [(seq, e, flags.get(e.id, [])) for seq, e in audit(events, pupil=pupil, actor=actor, types=types)]
    return rows if flag is None else [row for row in rows if flag in row[2]]


def entry_detail(rows: list[dict[str, Any]], event_id: str) -> dict[str, Any] | None:
    """One entry of an audit trail (rows as `audit_row` gives them, in log order): the entry, the
    entry it corrects or retracts (if it does), and the corrections and retractions of it since.
    None if the trail has no such entry."""
    by_id = {r["id"]: r for r in rows}
    entry = by_id.get(event_id)
    if entry is None:
        return None
    return {
        "entry": entry,
        "corrects": by_id.get(entry["corrects"]) if entry["corrects"] else None,
        "followed_by": [r for r in rows if r["corrects"] == event_id],
    }
