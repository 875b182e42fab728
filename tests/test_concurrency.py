"""Several real processes write one store at once: nothing is lost, rules hold across processes."""

from __future__ import annotations

import multiprocessing
import queue
from collections import defaultdict

import pytest

from events.service import Service
from events.store import Store
from events.types import ContactMade, PairingAssigned

from helpers import contact_worker, open_worker, pair_worker, setup_school

SPAWN = multiprocessing.get_context("spawn")


def run_workers(target, args_for: list[tuple], timeout: float = 180) -> list[tuple]:
    """Start one spawned process per args tuple, all released at once by a barrier."""
    barrier = SPAWN.Barrier(len(args_for))
    results = SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*args, barrier, results)) for args in args_for]
    for p in procs:
        p.start()
    out = []
    try:
        for _ in procs:
            out.append(results.get(timeout=timeout))
    except queue.Empty:
        pytest.fail(f"workers did not report in {timeout} s; got {out}")
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return sorted(out)


def check_log(store: Store) -> list:
    """Seqs strictly increasing, no duplicate; every stream's versions 1..n; the chain verifies."""
    log = list(store.read())
    seqs = [seq for seq, _ in log]
    assert seqs == sorted(set(seqs))
    versions = defaultdict(list)
    for _, event in log:
        versions[event.stream].append(event.version)
    for stream, vs in versions.items():
        assert vs == list(range(1, len(vs) + 1)), stream
    assert store.verify().events == len(log)
    return [event for _, event in log]


WORKERS = 4
CONTACTS = 50


def test_processes_writing_at_once_lose_nothing(store_url):
    with Store(store_url, create=True) as store:
        setup_school(Service(store), pupils=["shared"] + [f"own{i}" for i in range(WORKERS)])
        before = store.head()

    results = run_workers(
        contact_worker, [(store_url, i, CONTACTS, "shared", f"own{i}") for i in range(WORKERS)]
    )
    assert results == [(i, "ok", CONTACTS) for i in range(WORKERS)]

    with Store(store_url) as store:
        events = check_log(store)
        assert store.head() >= before + WORKERS * CONTACTS
    contacts = [e for e in events if isinstance(e, ContactMade)]
    assert len(contacts) == WORKERS * CONTACTS
    by_pupil = defaultdict(int)
    for e in contacts:
        by_pupil[e.pupil] += 1
    assert by_pupil["shared"] == WORKERS * CONTACTS // 2
    for i in range(WORKERS):
        assert by_pupil[f"own{i}"] == CONTACTS // 2
    assert len({e.id for e in events}) == len(events)
    # a fresh service sees it all: the shared pupil's stream holds registration + every contact
    with Store(store_url) as store:
        service = Service(store)
        service.catch_up()
        assert service.models["s1"].versions["s1/pupil/shared"] == 1 + WORKERS * CONTACTS // 2


MENTORS = 4


def test_one_mentor_wins_a_pairing_race(store_url):
    with Store(store_url, create=True) as store:
        setup_school(Service(store), staff=[f"m{i}" for i in range(MENTORS)], pupils=["p1"])

    results = run_workers(pair_worker, [(store_url, i, f"m{i}", "p1") for i in range(MENTORS)])
    outcomes = [r[1] for r in results]
    assert outcomes.count("paired") == 1, results
    assert sorted(r[2] for r in results if r[1] == "refused") == ["pupil_has_mentor"] * (MENTORS - 1)
    winner = next(r[2] for r in results if r[1] == "paired")

    with Store(store_url) as store:
        events = check_log(store)
    pairings = [e for e in events if isinstance(e, PairingAssigned)]
    assert [(e.pupil, e.staff) for e in pairings] == [("p1", winner)]


def test_mentor_capacity_race(store_url):
    """The other way round: several pupils race for one mentor with one free place."""
    with Store(store_url, create=True) as store:
        setup_school(Service(store), staff=["m0"], pupils=[f"p{i}" for i in range(MENTORS)])

    results = run_workers(pair_worker, [(store_url, i, "m0", f"p{i}") for i in range(MENTORS)])
    assert [r[1] for r in results].count("paired") == 1, results
    assert sorted(r[2] for r in results if r[1] == "refused") == ["mentor_full"] * (MENTORS - 1)
    with Store(store_url) as store:
        events = check_log(store)
    assert sum(isinstance(e, PairingAssigned) for e in events) == 1


def test_processes_opening_a_store_at_once(store_url):
    """Several staff starting careterm at the same moment on one (new) store all get in."""
    results = run_workers(open_worker, [(store_url, i, 3) for i in range(6)])
    assert results == [(i, "ok", 3) for i in range(6)]
    with Store(store_url) as store:
        assert store.head() == 0
        assert store.verify().events == 0
