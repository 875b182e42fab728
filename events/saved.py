"""The school models saved beside the log: load the saved fold, catch up on the new events only,
save it back. The commands check against these models and the views read them.

Each school's model is saved in the store (table `careterm_views`, same SQLite file or the same
PostgreSQL database) together with the log position it reached, in one row, encrypted and
authenticated with the store's key (`Store.save_view`). Opening a model
therefore costs the events recorded since, not the history. A known-at replay (the record as it
stood at a time) folds from zero with only the events recorded by then.
"""

from __future__ import annotations

import datetime as dt
import gc
from typing import Iterable

import msgspec

from events.gcpause import paused_gc
from events.model import INTO, SCHEMA, SchoolModel, apply, new_model
from events.store import Store, span_of
from events.types import Event

encoder = msgspec.msgpack.Encoder()
decoder = msgspec.msgpack.Decoder(SchoolModel)


def view_name(school: str) -> str:
    """The saved copy's name in the store's views table."""
    return f"school:{school}"


def fold(events: Iterable[tuple[int, Event]], school: str, model: SchoolModel | None = None) -> SchoolModel:
    model = model or new_model(school)
    fold_into({school: model}, events)
    return model


def fold_into(models: dict[str, SchoolModel], events: Iterable[tuple[int, Event]]) -> dict[str, int]:
    """Fold events into the models of their schools (events of other schools are skipped).
    Returns the events folded per school."""
    counted = dict.fromkeys(models, 0)
    with paused_gc():
        for seq, event in events:
            model = models.get(event.school)
            if model is not None:
                apply(model, seq, event)
                counted[event.school] += 1
    return counted


# True in a process that runs one command and ends (`one_command`)
_one_command = False


def one_command() -> None:
    """This process runs one command and ends (a command line): a decoded model is frozen out
    of the collector's later passes, with everything else alive then. A long session (the app,
    a browser's) never freezes: what it drops later would never be collected if it held a
    cycle."""
    global _one_command
    _one_command = True


SAVE_FROM = 500  # events: a catch-up shorter than this is not saved (see `load`)
SAVE_DISTANCE = 20_000  # log positions: ...unless the log moved this far (other schools' rows)


class Kept:
    """The models a session has loaded, kept between loads: a later load folds only the events
    recorded since (the TUI reloads its tab whenever the log moves). A kept model is changed in
    place by the next load: whoever shares a `Kept` must not read a model while loading."""

    def __init__(self) -> None:
        # school -> (log position reached, position of the saved copy, events folded since, model)
        self.models: dict[str, tuple[int, int, int, SchoolModel]] = {}


def load(
    store: Store,
    school: str,
    *,
    known_at: dt.datetime | None = None,
    save: bool = True,
    save_from: int = SAVE_FROM,
    kept: Kept | None = None,
) -> SchoolModel:
    """The school's read model, current (caught up) or as recorded by `known_at`.

    The caught-up model is saved when it was folded from zero, caught up on `save_from` events
    or more since it was saved, or is `SAVE_DISTANCE` behind the log (a catch-up reads the rows
    after the saved position, other schools' too, if filtered in the database). Saving costs a
    school's whole model (tens of milliseconds, megabytes written), and folding a few hundred
    events again costs a few milliseconds: so a view read after each new entry does not
    rewrite the model each time.
    """
    if known_at is not None:
        recorded = ((seq, e) for seq, e in store.read(0, school=school) if e.recorded_at is not None and e.recorded_at <= known_at)
        return fold(recorded, school)
    head = store.head()
    damaged = False
    if kept is not None and school in kept.models:
        reached, saved_at, unsaved, model = kept.models[school]
        if head == reached:
            return model
    else:
        reached, model, damaged = _saved_model(store.load_view(view_name(school)))
        saved_at, unsaved = reached, 0
        if model is not None and head == reached:
            if kept is not None:
                kept.models[school] = (reached, saved_at, 0, model)
            return model
    fresh = model is None
    model = model or new_model(school)
    unsaved += fold_into({school: model}, store.read(reached, upto=head, school=school, into=INTO))[school]
    if fresh:
        saved_at = -1  # never saved: due whatever the counts
    if save and _save_due(head, saved_at, unsaved, save_from) and _save(store, school, head, model, replace=damaged):
        saved_at, unsaved = head, 0
    if kept is not None:
        kept.models[school] = (head, saved_at, unsaved, model)
    return model


def _save_due(reached: int, saved_at: int, unsaved: int, save_from: int) -> bool:
    return saved_at < 0 or unsaved >= save_from or reached - saved_at >= SAVE_DISTANCE


def save_due(store: Store, kept: Kept, *, save_from: int = SAVE_FROM) -> int:
    """Save the kept models `load` would have saved (for a session that loads with save=False
    and saves when it is idle: the TUI paints first). Returns how many were saved."""
    saved = 0
    for school, (reached, saved_at, unsaved, model) in list(kept.models.items()):
        if _save_due(reached, saved_at, unsaved, save_from) and _save(store, school, reached, model):
            kept.models[school] = (reached, reached, 0, model)
            saved += 1
    return saved


def _save(store: Store, school: str, position: int, model: SchoolModel, *, replace: bool = False) -> bool:
    """Save a model; False if it could not be. Saving is only an optimisation: a full disk, a
    locked table or a value the encoder refuses must never fail the read that folded it (the
    next read folds the same events again). The row is replaced in one transaction, so a failed
    save leaves the previous copy whole."""
    try:
        store.save_view(view_name(school), SCHEMA, position, encoder.encode(model), replace=replace)
    except Exception:  # noqa: BLE001 - whatever went wrong, the model in hand is correct
        return False
    return True


def _saved_model(saved: tuple[int, int, bytes | None] | None) -> tuple[int, SchoolModel | None, bool]:
    """(position, model, damaged) of a saved copy; (0, None, _) when there is none, it is of an
    older schema, or it cannot be decoded or does not authenticate under the store's key (state
    None: edited by hand, or moved to another position): then the model is folded again from
    the log, and a damaged copy is replaced whatever position it claims. Never a wrong view."""
    if not saved or saved[0] != SCHEMA:
        return 0, None, False
    if saved[2] is None:
        return 0, None, True
    try:
        # a model is a few hundred thousand objects: the collector would walk them as they are
        # made (the decode's time again, 10 ms on the demo)
        with paused_gc():
            model = decoder.decode(saved[2])
            if _one_command:
                gc.freeze()  # ...and at each of its later passes in this process's short life
        return saved[1], model, False
    except (msgspec.DecodeError, msgspec.ValidationError, OverflowError, ValueError):
        return 0, None, True


def refold(store: Store, schools: list[str], head: int, keep: list | None = None) -> dict[str, int]:
    """Fold these schools (consecutive in `by_prefix` order) from zero up to `head`; save them.
    With `keep`, the models are put there instead of being freed on return."""
    models = {school: new_model(school) for school in schools}
    if len(schools) == 1:
        events = store.read(0, upto=head, school=schools[0], into=INTO)
    else:
        events = store.read(0, upto=head, span=span_of(schools), into=INTO)
    counted = fold_into(models, events)
    for school, model in models.items():
        store.save_view(view_name(school), SCHEMA, head, encoder.encode(model), replace=True)
    if keep is not None:
        keep.append(models)
    return counted
