"""The rebuild's worker processes: how they are started, and how they end.

A rebuild (`projections.readmodel.rebuild`) folds runs of schools in worker processes, one per
core. This module holds only the process plumbing, so the read models' module stays about folds.
"""

from __future__ import annotations

import os
import time
from typing import Any

from events import saved
from events.store import Store, is_postgres


def context_for(url: str) -> Any:
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


def run_elsewhere(job: tuple[str, list[str], int, int, str]) -> dict[str, int]:
    """`events.saved.refold` in a worker process, on its own connection to the store (and with
    the caller's key file: the events are decrypted with it)."""
    url, schools, head, owner, key_file = job
    die_with(owner)
    with Store(url, key_file=key_file) as store:
        return saved.refold(store, schools, head, keep=_KEPT)


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
