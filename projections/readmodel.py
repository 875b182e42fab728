"""The store's read side as a whole: which schools it holds (the directory), and the rebuild of
every school's saved model from the log (`events.saved` loads and saves one school's model)."""

from __future__ import annotations

import os

import msgspec

from events.model import SCHEMA
from events import saved
from events.saved import encoder, view_name
from events.store import Store, by_prefix
from events.types import SchoolOpened
from projections import rebuild_workers


class Directory(msgspec.Struct):
    """The schools of a store: id -> (name, language, time zone)."""

    schools: dict[str, tuple[str, str, str]] = {}


_dir_decoder = msgspec.msgpack.Decoder(Directory)
DIRECTORY = "directory"


def directory(store: Store, *, fresh: bool = False) -> Directory:
    """Which schools the store holds (SchoolOpened), caught up from the saved position, or
    found afresh if `fresh` or nothing is saved (each school's first event, read by key)."""
    copy = None if fresh else store.load_view(DIRECTORY)
    head = store.head()
    found = None
    if copy and copy[0] == SCHEMA:
        try:
            if copy[2] is None:  # does not authenticate under the store's key
                raise ValueError("saved directory does not authenticate")
            position, found = copy[1], _dir_decoder.decode(copy[2])
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
        store.save_view(DIRECTORY, SCHEMA, head, encoder.encode(found), replace=fresh)
    except Exception:  # noqa: BLE001 - saving is an optimisation (see `events.saved`)
        pass
    return found


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
            counted.update(saved.refold(store, run, head))
    else:
        try:
            context = rebuild_workers.context_for(store.url)
            # one run per worker process: it ends with os._exit, so the millions of objects of a
            # run's models are never freed one by one (that took about 15% of a worker's time)
            with ProcessPoolExecutor(min(workers, len(runs)), mp_context=context, max_tasks_per_child=1) as pool:
                jobs = [(store.url, run, head, os.getpid(), str(store.key_path)) for run in runs]
                for done in pool.map(rebuild_workers.run_elsewhere, jobs):
                    counted.update(done)
        except (OSError, NotImplementedError, BrokenProcessPool):
            # no worker processes here (a system without process semaphores) or one was killed:
            # the same runs in this process (a saved model is whole, whichever process saved it)
            for run in runs:
                counted.update(saved.refold(store, run, head))
    store.drop_views(keep=[DIRECTORY, *(view_name(school) for school in schools)])
    return counted


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


