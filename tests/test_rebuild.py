"""Rebuilding every read model of a district: in runs of schools, in worker processes.

A parallel rebuild must save exactly the models a one-process rebuild saves, and both must equal
a fold from zero; a school's run must read its streams and no other school's, whatever the ids.
"""

from __future__ import annotations

import datetime as dt

import pytest

from careterm.demo import build_demo
from events import commands as C
from events.service import Service
from events.store import Store, by_prefix, span_of
from events import saved
from projections import readmodel
from events.model import SCHEMA, new_model

UNTIL = dt.date(2026, 6, 30)


def saved_views(store: Store, names: list[str]) -> dict[str, tuple[int, int, bytes] | None]:
    return {name: store.load_view(name) for name in names}


@pytest.fixture
def district(store_url):
    with Store(store_url, create=True) as store:
        summary = build_demo(Service(store), schools=3, until=UNTIL)
    return store_url, summary


def test_parallel_rebuild_saves_what_one_process_saves(district):
    url, summary = district
    names = [readmodel.DIRECTORY] + [f"school:{s}" for s in summary["school_ids"]]
    with Store(url) as store:
        single = readmodel.rebuild(store, workers=1)
        one_process = saved_views(store, names)
        parallel = readmodel.rebuild(store, workers=2)
        two_processes = saved_views(store, names)
        head = store.head()
    assert parallel == single
    assert sum(single.values()) == summary["events"] == head
    assert set(single) == set(summary["school_ids"])
    assert all(v is not None and v[0] == SCHEMA and v[1] == head for v in two_processes.values())
    assert two_processes == one_process


def test_rebuild_equals_a_fold_from_zero_and_replaces_what_was_saved(district):
    url, summary = district
    with Store(url) as store:
        head = store.head()
        expected = {s: saved.encoder.encode(saved.load(store, s, save=False)) for s in summary["school_ids"]}
        # a damaged model saved at the head (a plain save would keep it) and one of no school
        store.save_view("school:s1", SCHEMA, head, saved.encoder.encode(new_model("s1")))
        store.save_view("school:gone", SCHEMA, head, b"\x80")
        readmodel.rebuild(store, workers=2)
        for school, state in expected.items():
            assert store.load_view(f"school:{school}") == (SCHEMA, head, state)
        assert store.load_view("school:gone") is None


def _open_school(service: Service, school: str, pupils: int) -> None:
    day = dt.date(2025, 9, 1)
    ctx = C.Context(school=school, actor="admin", today=UNTIL, date=day)
    service.execute(lambda s: C.init(s, ctx, name=f"学校{school}", admin_name="校长"))
    for i in range(pupils):
        service.execute(
            lambda s, i=i: C.add_pupil(
                s, ctx, f"p{i}", name=f"学生{i}", gender="F", birth=dt.date(2016, 3, 1),
                grade=3, class_=1, categories=["left_behind"],
            )
        )
        service.execute(lambda s, i=i: C.contact(s, ctx, f"p{i}", kind="talk"))


def test_a_run_reads_the_streams_of_its_schools_only(store_url):
    # ids whose streams interleave if sorted by id, not by key: "s1-a/" < "s1/" < "s10/"
    ids = ["s1", "s10", "s1-a", "s2"]
    assert by_prefix(ids) == ["s1-a", "s1", "s10", "s2"]
    with Store(store_url, create=True) as store:
        service = Service(store)
        for n, school in enumerate(ids, start=1):
            _open_school(service, school, pupils=n)
        for run in (["s1-a", "s1"], ["s1", "s10"], ["s10", "s2"], ["s2"]):
            seen = {event.school for _, event in store.read(0, span=span_of(run))}
            assert seen == set(run), run
        per_school: dict[str, int] = {}
        for _, event in store.read(0):
            per_school[event.school] = per_school.get(event.school, 0) + 1
        counted = readmodel.rebuild(store, workers=2)
        assert counted == per_school and per_school["s2"] > per_school["s1"]
        for school in ids:
            model = saved.load(store, school)
            assert model.name == f"学校{school}" and len(model.pupils) == ids.index(school) + 1


def _school_index_exists(db) -> bool:
    if db.pg:
        return bool(db.sql("SELECT 1 FROM pg_indexes WHERE indexname = 'careterm_school_log' AND schemaname = current_schema()"))
    return bool(db.sql("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'careterm_school_log'"))


def test_one_schools_read_is_its_events_in_log_order_and_an_older_store_gets_the_index(store_url):
    from tests.helpers import RawDB

    with Store(store_url, create=True) as store:
        service = Service(store)
        for n, school in enumerate(["a", "a-b", "b"], start=1):
            _open_school(service, school, pupils=n)
        for i in range(3):  # interleave the schools in the log
            for school in ("b", "a"):
                ctx = C.Context(school=school, actor="admin", today=UNTIL, date=UNTIL)
                service.execute(lambda s, c=ctx: C.contact(s, c, "p0", kind="talk"))
        everything = list(store.read(0))
    with RawDB(store_url) as db:
        assert _school_index_exists(db)
        db.sql("DROP INDEX careterm_school_log")  # a store made before the index
        assert not _school_index_exists(db)
        with Store(store_url) as store:
            assert _school_index_exists(db)
            for school in ("a", "a-b", "b"):
                got = [(seq, e.id) for seq, e in store.read(0, school=school)]
                assert got == [(seq, e.id) for seq, e in everything if e.school == school]
                after = got[2][0]
                assert [seq for seq, _ in store.read(after, school=school)] == [seq for seq, _ in got[3:]]
