"""Random command sequences on a real store never break the pairing rules.

Hypothesis draws sequences of commands (mostly valid, some not: unknown ids, future dates,
dates before the school opened, actors without the role) with back-dated effective dates, runs
them through `events.service.Service` on a real SQLite file, and after every step checks the
log itself (not the write side's state, which is what enforces the rules):
- no pupil ever has two pairings that overlap;
- no command but a rules change puts a mentor over the capacity in force on any date;
- a pairing lies inside the pupil's enrolment and the mentor's employment;
- a refused command wrote nothing (the store head did not move);
- at the end, the chain verifies, and the model the commands checked against equals a fresh
  fold of the log, the views' saved and caught-up model, and a rebuild; and what the views
  show of each pupil (status, categories, mentor) is what the commands' questions answer.

Retractions are drawn too (of any entry recorded so far): the independent reading of the log
leaves out what was retracted.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import msgspec

from events import commands as C
from events import model as M
from events import saved
from events import rules
from events.errors import Refused
from events.service import Service
from events.store import Store
from projections.readmodel import rebuild
from projections.views import archive
from events.types import (
    EntryRetracted,
    PairingAssigned,
    PairingEnded,
    PupilDroppedOut,
    PupilGraduated,
    PupilRegistered,
    PupilReturned,
    PupilTransferred,
    RulesSet,
    StaffJoined,
    StaffLeft,
)

from helpers import OPENED, TODAY, ctx, granted_aid, setup_school

# mostly valid ids (the first ones exist from the start), some that exist later or never
STAFF = ["s0", "s1", "s2", "s0", "s1", "s2", "s3", "ghost"]
PUPILS = ["p0", "p1", "p2", "p3", "p0", "p1", "p2", "p3", "p4", "nobody"]
ACTORS = ["admin"] * 8 + ["s0", "ghost"]  # admin is admin and leader; s0 a teacher only
SPAN = (TODAY - OPENED).days

dates = st.integers(min_value=-3, max_value=SPAN + 2).map(lambda d: OPENED + dt.timedelta(days=d))
staff_ids = st.sampled_from(STAFF)
pupil_ids = st.sampled_from(PUPILS)


def step(name: str, **kwargs) -> st.SearchStrategy:
    return st.fixed_dictionaries({"name": st.just(name), "actor": st.sampled_from(ACTORS), "date": dates, **kwargs})


STEPS = st.one_of(
    step("pair", staff=staff_ids, pupil=pupil_ids),
    step("pair", staff=staff_ids, pupil=pupil_ids),
    step("pair", staff=staff_ids, pupil=pupil_ids),
    step("unpair", pupil=pupil_ids),
    step("add_staff", staff=staff_ids),
    step("add_pupil", pupil=pupil_ids),
    step("staff_leave", staff=staff_ids),
    step("graduate", pupil=pupil_ids),
    step("transfer", pupil=pupil_ids),
    step("drop_out", pupil=pupil_ids),
    step("return_pupil", pupil=pupil_ids),
    step("contact", pupil=pupil_ids, by=st.sampled_from([None, "s0", "s1", "s3"])),
    step("grant_aid", pupil=pupil_ids, kind=st.sampled_from(["living_subsidy", "grant", "tuition_waiver"]),
         amount=st.sampled_from(["100.00", "50", "0", "12.345"])),
    step("set_rules", capacity=st.integers(min_value=0, max_value=3)),
    step("set_rules", capacity=st.integers(min_value=1, max_value=2)),
    step("retract", entry=st.integers(min_value=0, max_value=200)),
    step("retract", entry=st.integers(min_value=0, max_value=200)),
)


def command_for(s: dict, recorded: list[str]):
    c = ctx(s["date"], actor=s["actor"])
    name = s["name"]
    if name == "retract":
        # mostly one of the last few entries (the early ones are the setup: staff, pupils)
        entry = recorded[-1 - s["entry"] % min(len(recorded), 6)] if s["entry"] < 150 else recorded[s["entry"] % len(recorded)]
        return lambda schools: C.retract(schools, c, entry, reason="记错了")
    if name == "pair":
        return lambda schools: C.pair(schools, c, s["staff"], s["pupil"])
    if name == "unpair":
        return lambda schools: C.unpair(schools, c, s["pupil"], reason="test")
    if name == "add_staff":
        return lambda schools: C.add_staff(schools, c, s["staff"], name="新老师")
    if name == "add_pupil":
        return lambda state: C.add_pupil(
            state, c, s["pupil"], name="新同学", gender="M", birth=dt.date(2016, 1, 1), grade=2, class_=1,
            categories=["orphan"],
        )
    if name == "staff_leave":
        return lambda schools: C.staff_leave(schools, c, s["staff"])
    if name == "graduate":
        return lambda schools: C.graduate(schools, c, s["pupil"])
    if name == "transfer":
        return lambda schools: C.transfer(schools, c, s["pupil"], to="县二小")
    if name == "drop_out":
        return lambda schools: C.drop_out(schools, c, s["pupil"], reason="外出务工")
    if name == "return_pupil":
        return lambda schools: C.return_pupil(schools, c, s["pupil"])
    if name == "contact":
        return lambda schools: C.contact(schools, c, s["pupil"], kind="talk", by=s["by"])
    if name == "grant_aid":
        return lambda schools: granted_aid(schools, c, s["pupil"], kind=s["kind"], amount=s["amount"])
    if name == "set_rules":
        return lambda schools: C.set_rules(schools, c, capacity=s["capacity"])
    raise AssertionError(name)


# --- an independent reading of the log -----------------------------------------------------


@dataclass
class Span:
    staff: str
    pupil: str
    start: dt.date
    end: dt.date | None = None  # [start, end)

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass
class Log:
    pairings: list[Span] = field(default_factory=list)
    capacity: list[tuple[dt.date, int]] = field(default_factory=list)  # in log order
    statuses: dict[str, list[tuple[dt.date, str]]] = field(default_factory=lambda: defaultdict(list))
    employed: dict[str, tuple[dt.date, dt.date | None]] = field(default_factory=dict)

    def capacity_on(self, day: dt.date) -> int:
        found = rules.DEFAULT_CAPACITY
        for when, cap in sorted(self.capacity, key=lambda r: r[0]):  # stable: later records win ties
            if when <= day:
                found = cap
        return found

    def status_on(self, pupil: str, day: dt.date) -> str | None:
        status = None
        for when, what in sorted(self.statuses[pupil], key=lambda r: r[0]):
            if when <= day:
                status = what
        return status

    def over_capacity(self) -> dict[tuple[str, dt.date], int]:
        """(mentor, date) -> how many pupils over capacity, at every date where that can change."""
        days = {p.start for p in self.pairings} | {p.end for p in self.pairings if p.end} | {d for d, _ in self.capacity}
        over = {}
        for mentor in {p.staff for p in self.pairings}:
            mine = [p for p in self.pairings if p.staff == mentor]
            for day in days:
                load = sum(p.active_on(day) for p in mine)
                if load > self.capacity_on(day):
                    over[(mentor, day)] = load - self.capacity_on(day)
        return over


def read_log(store: Store) -> Log:
    log = Log()
    events = [e for _, e in store.read()]
    retracted = {e.corrects for e in events if isinstance(e, EntryRetracted)}
    for e in events:
        if e.id in retracted:
            continue
        if isinstance(e, PairingAssigned):
            log.pairings.append(Span(e.staff, e.pupil, e.date))
        elif isinstance(e, PairingEnded):
            open_ = [p for p in log.pairings if p.pupil == e.pupil and p.end is None]
            assert len(open_) == 1, f"{e.pupil} ended with {len(open_)} open pairings"
            assert open_[0].staff == e.staff
            assert e.date >= open_[0].start, "a pairing ended before it started"
            open_[0].end = e.date
        elif isinstance(e, RulesSet) and e.capacity is not None:
            log.capacity.append((e.date, e.capacity))
        elif isinstance(e, PupilRegistered):
            log.statuses[e.pupil].append((e.date, "enrolled"))
        elif isinstance(e, PupilReturned):
            log.statuses[e.pupil].append((e.date, "enrolled"))
        elif isinstance(e, (PupilGraduated, PupilTransferred, PupilDroppedOut)):
            log.statuses[e.pupil].append((e.date, type(e).__name__))
        elif isinstance(e, StaffJoined):
            log.employed[e.staff] = (e.date, None)
        elif isinstance(e, StaffLeft):
            log.employed[e.staff] = (log.employed[e.staff][0], e.date)
    return log


def check_log(log: Log) -> None:
    by_pupil = defaultdict(list)
    for p in log.pairings:
        by_pupil[p.pupil].append(p)
    for pupil, spans in by_pupil.items():
        for i, a in enumerate(spans):
            for b in spans[i + 1:]:
                overlap = a.start < (b.end or dt.date.max) and b.start < (a.end or dt.date.max)
                assert not overlap, f"{pupil} has overlapping pairings {a} and {b}"
    for p in log.pairings:
        if p.end == p.start:
            continue  # ended the day it began: it never held
        # the pupil is enrolled throughout the pairing
        changes = [p.start] + [d for d, _ in log.statuses[p.pupil] if p.start < d and (p.end is None or d < p.end)]
        for day in changes:
            assert log.status_on(p.pupil, day) == "enrolled", f"{p} while {p.pupil} is {log.status_on(p.pupil, day)} on {day}"
        # the mentor is employed when the pairing starts, and an open pairing's mentor has not left
        joined, left = log.employed[p.staff]
        assert joined <= p.start, f"{p} before {p.staff} joined on {joined}"
        if left is not None:
            assert p.end is not None and p.end <= left, f"{p} after {p.staff} left on {left}"


# --- the property --------------------------------------------------------------------------


EXAMPLES = int(os.environ.get("CARETERM_INVARIANT_EXAMPLES", "60"))  # more for a longer hunt


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEPS, min_size=1, max_size=40))
def test_random_commands_keep_the_rules(steps):
    tmp = Path(tempfile.mkdtemp(prefix="careterm-inv-"))
    try:
        with Store(tmp / "store.sqlite", create=True) as store:
            service = Service(store)
            setup_school(service, staff=["s0", "s1", "s2"], pupils=["p0", "p1", "p2", "p3"])
            over = read_log(store).over_capacity()
            assert over == {}
            recorded = [e.id for _, e in store.read()]
            for s in steps:
                head = store.head()
                try:
                    stored = service.execute(command_for(s, recorded))
                except Refused as r:
                    assert store.head() == head, f"refused {s} but the store moved"
                    event(f"refused {s['name']}: {r.code}")
                    continue
                event(f"done {s['name']}")
                recorded += [e.id for e in stored]
                assert store.head() == head + len(stored)
                log = read_log(store)
                check_log(log)
                now_over = log.over_capacity()
                if s["name"] not in ("set_rules", "retract"):
                    # only a rules change may leave a mentor over capacity (pairings made earlier)
                    worse = {k: v for k, v in now_over.items() if v > over.get(k, 0)}
                    assert not worse, f"{s} put mentors over capacity: {worse}"
                over = now_over
            store.verify()
            the_same_model_everywhere(store, service)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def the_same_model_everywhere(store: Store, service: Service) -> None:
    """The commands' model (folded as they wrote) equals a fresh fold, the views' saved model
    caught up, and a rebuild's; the views show what the commands' questions answer."""
    encoded = msgspec.msgpack.encode
    mine = service.models["s1"]
    fresh = Service(store)
    fresh.catch_up()
    assert encoded(fresh.models["s1"]) == encoded(mine)
    assert encoded(saved.load(store, "s1")) == encoded(mine)
    rebuild(store)
    views_model = saved.load(store, "s1")
    assert encoded(views_model) == encoded(mine)
    shown = {row["pupil"]: row for row in archive(views_model, TODAY)["pupils"]}
    for pupil_id, pupil in mine.pupils.items():
        row = shown[pupil_id]
        assert row["status"] == M.status_on(pupil, TODAY)
        assert sorted(row["categories"]) == sorted(M.categories_on(pupil, TODAY))
        current = M.current_pairing(pupil)
        assert row["mentor"] == (current.staff if current is not None and current.start <= TODAY else None)


# --- what the property found, pinned down ---------------------------------------------------


def _service(tmp_path) -> tuple[Store, Service]:
    store = Store(tmp_path / "store.sqlite", create=True)
    service = Service(store)
    setup_school(service, staff=["s0"], pupils=["p0", "p1"])
    return store, service


def test_pair_respects_a_capacity_lowered_from_a_later_date(tmp_path):
    """Capacity 2 from 1 Sep, 1 from 2 Sep: a second pupil paired on 1 Sep would hold past 2 Sep."""
    store, service = _service(tmp_path)
    with store:
        d1, d2 = OPENED, OPENED + dt.timedelta(days=1)
        service.execute(lambda s: C.pair(s, ctx(d1), "s0", "p0"))
        service.execute(lambda s: C.set_rules(s, ctx(d1), capacity=2))
        service.execute(lambda s: C.set_rules(s, ctx(d2), capacity=1))
        head = store.head()
        try:
            service.execute(lambda s: C.pair(s, ctx(d1), "s0", "p1"))
        except Refused as r:
            assert (r.field, r.code, r.params["date"], r.params["capacity"]) == ("STAFF_ID", "mentor_full", d2, 1)
        else:
            raise AssertionError("paired a mentor past the capacity in force from a later date")
        assert store.head() == head


def test_backdated_leave_before_a_closed_pairing_ends(tmp_path):
    """Paired 1 Sep, unpaired 3 Sep: a leave dated 2 Sep would leave a pairing with a mentor who had gone."""
    store, service = _service(tmp_path)
    with store:
        service.execute(lambda s: C.pair(s, ctx(OPENED), "s0", "p0"))
        service.execute(lambda s: C.unpair(s, ctx(OPENED + dt.timedelta(days=2)), "p0", reason="调整"))
        head = store.head()
        try:
            service.execute(lambda s: C.staff_leave(s, ctx(OPENED + dt.timedelta(days=1)), "s0"))
        except Refused as r:
            assert (r.field, r.code, r.params["pupil"]) == ("--date", "pairing_ends_later", "p0")
        else:
            raise AssertionError("a back-dated leave fell inside a pairing that had already ended")
        assert store.head() == head
        check_log(read_log(store))


def test_new_ids_with_a_slash_or_control_characters_are_refused_and_nothing_is_written(store_url):
    import pytest

    from tests.helpers import SCHOOL, ctx, setup_school

    with Store(store_url, create=True) as store:
        service = Service(store)
        setup_school(service, staff=["T1"], pupils=["p1"])
        head = store.head()
        for bad in ("p\x002", "p/2", "p\u20282", "\x1b[31mp2"):
            with pytest.raises(Refused) as refused:
                service.execute(lambda s, b=bad: C.add_pupil(
                    s, ctx(), b, name="学生", gender="F", birth=dt.date(2016, 3, 1), grade=3, class_=2))
            assert (refused.value.field, refused.value.code) == ("PUPIL_ID", "bad_id")
            with pytest.raises(Refused) as refused:
                service.execute(lambda s, b=bad: C.add_staff(s, ctx(), b, name="老师"))
            assert (refused.value.field, refused.value.code) == ("STAFF_ID", "bad_id")
        other = C.Context(school="a/b", actor="admin", today=ctx().today, date=ctx().date)
        with pytest.raises(Refused) as refused:
            service.execute(lambda s: C.init(s, other, name="学校", admin_name="校长"))
        assert (refused.value.field, refused.value.code) == ("--id", "bad_id")
        assert store.head() == head
        # an id with a NUL can be looked up (it matches no one) without the database refusing it
        assert store.schools_of_staff("T\x001") == []
