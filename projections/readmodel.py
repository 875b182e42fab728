"""Persisted read models: load the saved fold, catch up on the new events only, save it back.

Each school's model is saved in the store (table `careterm_views`, same SQLite file or the same
PostgreSQL database) together with the log position it reached, in one row. Opening a view
therefore costs the events recorded since, not the history. A known-at replay (the record as it
stood at a time) folds from zero with only the events recorded by then.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

import msgspec

from events.gcpause import paused_gc
from events.store import Store
from events.types import Event, SchoolOpened
from projections.model import SCHEMA, SchoolModel, apply, new_model

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(SchoolModel)


class Directory(msgspec.Struct):
    """The schools of a store: id -> (name, language, time zone)."""

    schools: dict[str, tuple[str, str, str]] = {}


_dir_decoder = msgspec.msgpack.Decoder(Directory)
DIRECTORY = "directory"


def _name(school: str) -> str:
    return f"school:{school}"


def fold(events: Iterable[tuple[int, Event]], school: str, model: SchoolModel | None = None) -> SchoolModel:
    model = model or new_model(school)
    with paused_gc():
        for seq, event in events:
            apply(model, seq, event)
    return model


def directory(store: Store) -> Directory:
    """Which schools the store holds, caught up from the saved position (SchoolOpened only)."""
    saved = store.load_view(DIRECTORY)
    position, found = 0, Directory()
    if saved and saved[0] == SCHEMA:
        position, found = saved[1], _dir_decoder.decode(saved[2])
    head = store.head()
    if head > position:
        for _, event in store.read(position, upto=head, topics=("SchoolOpened",)):
            assert isinstance(event, SchoolOpened)
            found.schools[event.school] = (event.name, event.lang, event.timezone)
        store.save_view(DIRECTORY, SCHEMA, head, _encoder.encode(found))
    return found


def load(store: Store, school: str, *, known_at: dt.datetime | None = None, save: bool = True) -> SchoolModel:
    """The school's read model, current (caught up and saved) or as recorded by `known_at`."""
    if known_at is not None:
        recorded = ((seq, e) for seq, e in store.read(0) if e.recorded_at is not None and e.recorded_at <= known_at)
        return fold(recorded, school)
    saved = store.load_view(_name(school))
    position, model = 0, None
    if saved and saved[0] == SCHEMA:
        position, model = saved[1], _decoder.decode(saved[2])
    head = store.head()
    if model is not None and head == position:
        return model
    model = fold(store.read(position, upto=head, school=school), school, model)
    if save:
        store.save_view(_name(school), SCHEMA, head, _encoder.encode(model))
    return model


def rebuild(store: Store) -> dict[str, int]:
    """Drop every saved read model and fold each school again from zero. Returns events per school."""
    store.drop_views()
    schools = directory(store).schools
    models = {school: new_model(school) for school in schools}
    head = store.head()
    counted = {school: 0 for school in schools}
    with paused_gc():
        for seq, event in store.read(0, upto=head):
            model = models.get(event.school)
            if model is not None:
                apply(model, seq, event)
                counted[event.school] += 1
    for school, model in models.items():
        store.save_view(_name(school), SCHEMA, head, _encoder.encode(model))
    return counted
