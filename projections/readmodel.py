"""Persisted read models: load the saved fold, catch up on the new events only, save it back.

Each school's model is saved in the store (table `careterm_views`, same SQLite file or the same
PostgreSQL database) together with the log position it reached, in one row. Opening a view
therefore costs the events recorded since, not the history. A known-at replay (the record as it
stood at a time) folds from zero with only the events recorded by then.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any, Iterable

import msgspec

from events.gcpause import paused_gc
from events.store import Store, by_prefix, is_postgres, span_of
from events.types import Event, SchoolOpened
from projections.model import INTO, SCHEMA, SchoolModel, apply, new_model

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


def directory(store: Store, *, fresh: bool = False) -> Directory:
    """Which schools the store holds (SchoolOpened), caught up from the saved position, or
    found afresh if `fresh` or nothing is saved (each school's first event, read by key)."""
    saved = None if fresh else store.load_view(DIRECTORY)
    head = store.head()
    found = None
    if saved and saved[0] == SCHEMA:
        try:
            position, found = saved[1], _dir_decoder.decode(saved[2])
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
            fresh = True  # a damaged copy: found afresh below, and saved in its place
    if found is not None:
        if head == position:
            return found
        opened = [e for _, e in store.read(position, upto=head, topics=("SchoolOpened",))]
    else:
        found, opened = Directory(), store.schools_opened()
    for event in opened:
        assert isinstance(event, SchoolOpened)
        found.schools[event.school] = (event.name, event.lang, event.timezone)
    try:
        store.save_view(DIRECTORY, SCHEMA, head, _encoder.encode(found), replace=fresh)
    except Exception:  # noqa: BLE001 - saving is an optimisation (see `_save`)
        pass
    return found


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
        reached, model, damaged = _saved_model(store.load_view(_name(school)))
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
        store.save_view(_name(school), SCHEMA, position, _encoder.encode(model), replace=replace)
    except Exception:  # noqa: BLE001 - whatever went wrong, the model in hand is correct
        return False
    return True


def _saved_model(saved: tuple[int, int, bytes] | None) -> tuple[int, SchoolModel | None, bool]:
    """(position, model, damaged) of a saved copy; (0, None, _) when there is none, it is of an
    older schema, or it cannot be decoded (damaged): then the model is folded again from the
    log, and a damaged copy is replaced whatever position it claims."""
    if not saved or saved[0] != SCHEMA:
        return 0, None, False
    try:
        return saved[1], _decoder.decode(saved[2]), False
    except (msgspec.DecodeError, msgspec.ValidationError, OverflowError, ValueError):
        return 0, None, True


# schools folded in one pass over the log: bounds a worker's memory (about 400 MB for 50 demo
# schools, 700k events); fewer, longer passes read less of the log again
RUN = 50
PARALLEL_FROM = 100_000  # events: below this, starting worker processes costs more than it saves


def rebuild(store: Store, *, workers: int | None = None) -> dict[str, int]:
    """Fold every school's read model again from zero and save it in place of the old one (and
    drop any other saved model). Returns the events folded per school.

    Schools are folded in runs (a run is one pass over the log, filtered by the database to its
    schools' streams). In a district the runs go to worker processes, one per core by default:
    a fold is Python code, so processes, not threads, use the cores. `workers` says how many
    (default: one per core, or none for a small store). As with any multiprocessing program,
    the calling script must guard its top level with `if __name__ == "__main__":` (the
    `careterm` command does).
    """
    # imported here: every view imports this module, and only a rebuild starts processes
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    store.repair_heads()  # the guards of the write side, from the log (a hand edit wedged every write)
    head = store.head()
    if workers is None:
        workers = 1 if head < PARALLEL_FROM else os.cpu_count() or 1
    schools = by_prefix(list(directory(store, fresh=True).schools))
    runs = _split(schools, max(workers, -(-len(schools) // RUN))) if schools else []
    counted: dict[str, int] = {}
    if workers <= 1 or len(runs) <= 1:
        for run in runs:
            counted.update(_rebuild_run(store, run, head))
    else:
        try:
            context = _worker_context(store.url)
            # one run per worker process: it ends with os._exit, so the millions of objects of a
            # run's models are never freed one by one (that took about 15% of a worker's time)
            with ProcessPoolExecutor(min(workers, len(runs)), mp_context=context, max_tasks_per_child=1) as pool:
                jobs = [(store.url, run, head, os.getpid()) for run in runs]
                for done in pool.map(_rebuild_run_elsewhere, jobs):
                    counted.update(done)
        except (OSError, NotImplementedError, BrokenProcessPool):
            # no worker processes here (a system without process semaphores) or one was killed:
            # the same runs in this process (a saved model is whole, whichever process saved it)
            for run in runs:
                counted.update(_rebuild_run(store, run, head))
    store.drop_views(keep=[DIRECTORY, *(_name(school) for school in schools)])
    return counted


def _worker_context(url: str) -> Any:
    """Worker processes that never inherit this one's database connections: a fresh interpreter
    (the fork server, started now, which has imported this module, and the PostgreSQL driver
    for such a store) forks them; else spawn."""
    import multiprocessing
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, *(["eventsourcing.postgres"] if is_postgres(url) else [])])
    from multiprocessing import forkserver

    forkserver.ensure_running()
    return context


def _split(schools: list[str], parts: int) -> list[list[str]]:
    """`schools` cut into `parts` runs of consecutive schools, as even as can be."""
    parts = min(parts, len(schools))
    size, extra = divmod(len(schools), parts)
    runs, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        runs.append(schools[start:end])
        start = end
    return runs


def _rebuild_run(store: Store, schools: list[str], head: int, keep: list[Any] | None = None) -> dict[str, int]:
    """Fold these schools (consecutive in `by_prefix` order) from zero up to `head`; save them.
    With `keep`, the models are put there instead of being freed on return."""
    models = {school: new_model(school) for school in schools}
    if len(schools) == 1:
        events = store.read(0, upto=head, school=schools[0], into=INTO)
    else:
        events = store.read(0, upto=head, span=span_of(schools), into=INTO)
    counted = fold_into(models, events)
    for school, model in models.items():
        store.save_view(_name(school), SCHEMA, head, _encoder.encode(model), replace=True)
    if keep is not None:
        keep.append(models)
    return counted


def _rebuild_run_elsewhere(job: tuple[str, list[str], int, int]) -> dict[str, int]:
    """`_rebuild_run` in a worker process, on its own connection to the store."""
    url, schools, head, owner = job
    die_with(owner)
    with Store(url) as store:
        return _rebuild_run(store, schools, head, keep=_KEPT)


def die_with(owner: int, every: float = 0.5) -> None:
    """End this process within `every` seconds of the process `owner` ending. A worker's parent
    is the fork server, not the `careterm rebuild` that asked for it: a killed rebuild left its
    workers folding (and the fork server and resource tracker, which wait for them) for minutes."""
    import threading

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # alive, someone else's: cannot be ours
                pass

    threading.Thread(target=watch, name="die-with-owner", daemon=True).start()


_KEPT: list[Any] = []  # a worker's folded models, left for the process's end to drop
