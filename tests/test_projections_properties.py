"""Properties of the read side, on random histories stored in a real SQLite file.

A history is a random sequence of commands (events.commands through events.service.Service):
pairings, exits and returns, contacts and activities, aid grants and revocations, corrections
(--to-date, --to-kind) and retractions, rules set, terms add, categories, inspections, staff
joining and leaving. Most are valid; the refused ones are simply skipped, as a user would see
them refused.

(a) incremental catch-up (projections.saved.load after each random-sized batch, from a
    second Store on the same file, as another process would) equals a fold of the whole log;
(b) a view as-of D equals the view computed from a fold of only the events effective up to D,
    corrections and retractions kept whatever their own date (cli.md: "A retraction or
    correction applies to its entry at every --as-of"; "A corrected entry counts on its
    corrected date", so an entry counts as-of D when its *corrected* date is <= D);
(c) the record known at T (projections.saved.load(known_at=T)) equals a fold of the events
    recorded up to T (recording times come from a fake store clock the test advances).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import commands as C
from helpers import granted_aid
from events.errors import Refused
from events.service import Service
from events.store import Store
from events.types import EntryCorrected, EntryRetracted, Event, TermAdded
from events import saved
from projections import readmodel
from projections.compliance import compliance
from projections.stats import stats
from projections.views import aid_list, aid_notice, archive, queue, semesters, staff_list

SCHOOL = "s1"
OPENED = dt.date(2025, 9, 1)
TODAY = dt.date(2026, 6, 30)
UTC = dt.timezone.utc

CATEGORIES = ("left_behind", "in_difficulty", "orphan", "disabled", "economic_hardship",
              "learning_difficulty", "psychological", "other")
CONTACT_KINDS = ("talk", "parent_call", "parent_phone_visit", "semester_report", "birthday", "home_visit")
AID_KINDS = ("tuition_waiver", "living_subsidy", "grant", "scholarship", "material", "emergency", "free_textbooks")
AMOUNTS = ("500.00", "300.50", "1200.00", "88.88")
CADENCES = {
    "talk": ("14d", "7d", "10d", "month"),
    "parent_call": ("7d", "5d", "14d"),
    "parent_phone_visit": ("month", "semester", "10d"),
    "semester_report": ("semester", "year", "month"),
    "birthday": ("year", "semester"),
}
# candidate terms: some overlap each other (then `terms add` is refused, which is fine)
TERMS = (
    ("2025秋", dt.date(2025, 9, 1), dt.date(2026, 1, 16)),
    ("2026春", dt.date(2026, 2, 20), dt.date(2026, 7, 10)),
    ("寒假补课", dt.date(2026, 1, 26), dt.date(2026, 2, 6)),
    ("2025秋b", dt.date(2025, 9, 8), dt.date(2026, 1, 23)),
    ("2026春b", dt.date(2026, 3, 1), dt.date(2026, 6, 30)),
)

# Operation names, weighted by repetition.
OPS = (
    ["contact"] * 8
    + ["activity"] * 3
    + ["pair"] * 5
    + ["unpair", "graduate", "transfer", "dropout", "return", "return"]
    + ["grant"] * 3
    + ["revoke"] * 2
    + ["correct_date", "correct_date", "correct_kind", "correct_both", "retract", "retract"]
    + ["rules", "term", "term", "category", "inspect", "staff_add", "staff_leave"]
)

OP = st.tuples(
    st.sampled_from(OPS),
    st.integers(0, 1000),  # a
    st.integers(0, 1000),  # b
    st.integers(0, 1000),  # c
    st.integers(0, 8),  # days the cursor moves on
    st.integers(0, 9),  # 0: back-dated
    st.integers(1, 600),  # minutes the recording clock moves on
)
PUPIL = st.tuples(
    st.lists(st.sampled_from(CATEGORIES), max_size=3, unique=True),
    st.integers(1, 6),  # grade
    st.integers(1, 3),  # class
)
STAFF = st.tuples(st.one_of(st.none(), st.integers(1, 6)), st.integers(1, 3))


class Clock:
    """The store's clock: recording times the test controls (UTC)."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, minutes: int) -> None:
        self.now += dt.timedelta(minutes=minutes)


def ctx(date: dt.date, actor: str = "admin") -> C.Context:
    return C.Context(school=SCHOOL, actor=actor, today=TODAY, date=date)


class History:
    """Plays random operations against a real store; remembers what it needs to pick targets."""

    def __init__(self, store: Store, clock: Clock):
        self.store = store
        self.clock = clock
        self.service = Service(store)
        self.pupils: list[str] = []
        self.staff: list[str] = []
        self.grants: list[str] = []
        self.correctable: list[str] = []  # ContactMade, CareActivityHeld, HandbookInspected
        self.retractable: list[str] = []
        self.refused = 0
        self.done = 0
        self.cursor = OPENED

    def run(self, build) -> list[Event]:
        try:
            events = self.service.execute(build)
        except Refused:
            self.refused += 1
            return []
        self.done += 1
        for e in events:
            t = e.type
            if t == "AidGranted":
                self.grants.append(e.id)
            if t in C.CORRECTABLE:
                self.correctable.append(e.id)
            if t in C.RETRACTABLE:
                self.retractable.append(e.id)
        return events

    def setup(self, pupils, staff) -> None:
        self.run(lambda s: C.init(s, ctx(OPENED), name="石砚小学", admin_name="校长"))
        for i, (grade, class_) in enumerate(staff, 1):
            sid = f"T{i}"
            self.run(lambda s, sid=sid, g=grade, c=class_: C.add_staff(
                s, ctx(OPENED), sid, name=f"老师{sid}", grade=g, class_=c if g else None))
            self.staff.append(sid)
        for i, (cats, grade, class_) in enumerate(pupils, 1):
            pid = f"P{i}"
            self.run(lambda s, pid=pid, cats=cats, g=grade, c=class_: C.add_pupil(
                s, ctx(OPENED), pid, name=f"学生{pid}", gender="F" if len(pid) % 2 else "M",
                birth=dt.date(2016, 3, 1), grade=g, class_=c, categories=list(cats)))
            self.pupils.append(pid)
        # most mentors start with a pupil, a few days apart
        for i, (sid, pid) in enumerate(zip(self.staff, self.pupils)):
            if i % 3 != 2:
                self.run(lambda s, sid=sid, pid=pid, i=i: C.pair(s, ctx(OPENED + dt.timedelta(days=3 * i)), sid, pid))

    @staticmethod
    def pick(items: list[str], k: int) -> str | None:
        return items[k % len(items)] if items else None

    def play(self, ops) -> None:
        for name, a, b, c, step, back, minutes in ops:
            self.clock.advance(minutes)
            self.cursor = cursor = min(TODAY, self.cursor + dt.timedelta(days=step))
            day = cursor - dt.timedelta(days=(a % 60)) if back == 0 else cursor
            day = max(OPENED, day)
            self.op(name, a, b, c, day)

    def op(self, name: str, a: int, b: int, c: int, day: dt.date) -> None:
        pupil = self.pick(self.pupils, a)
        staff = self.pick(self.staff, b)
        run = self.run
        if name == "contact":
            kind = CONTACT_KINDS[c % len(CONTACT_KINDS)]
            by = self.pick(self.staff, c) if c % 3 == 0 else None
            run(lambda s: C.contact(s, ctx(day), pupil, kind=kind, by=by))
        elif name == "activity":
            kind = ("birthday", "talk", "holiday_visit", "parent_call")[c % 4]
            chosen = [p for i, p in enumerate(self.pupils) if (a >> (i % 10)) & 1] or [pupil]
            run(lambda s: C.activity(s, ctx(day), kind=kind, pupils=chosen))
        elif name == "pair":
            run(lambda s: C.pair(s, ctx(day), staff, pupil))
        elif name == "unpair":
            run(lambda s: C.unpair(s, ctx(day), pupil, reason="家长要求"))
        elif name == "graduate":
            run(lambda s: C.graduate(s, ctx(day), pupil))
        elif name == "transfer":
            run(lambda s: C.transfer(s, ctx(day), pupil, to="县实验小学"))
        elif name == "dropout":
            run(lambda s: C.drop_out(s, ctx(day), pupil, reason="外出务工"))
        elif name == "return":
            run(lambda s: C.return_pupil(s, ctx(day), pupil))
        elif name == "grant":
            kind = AID_KINDS[c % len(AID_KINDS)]
            basis = "dibao" if b % 2 else None
            if kind == "material":
                run(lambda s: granted_aid(s, ctx(day), pupil, kind=kind, items="冬衣一套", basis=basis))
            else:
                amount = AMOUNTS[b % len(AMOUNTS)]
                override = "家庭特别困难" if c % 5 == 0 else None
                run(lambda s: granted_aid(s, ctx(day), pupil, kind=kind, amount=amount, basis=basis, override=override))
        elif name == "revoke":
            grant = self.pick(self.grants, c)
            if grant:
                run(lambda s: C.revoke_aid(s, ctx(day), grant, reason="核实不符"))
        elif name.startswith("correct"):
            target = self.pick(self.correctable, c)
            if target:
                to_date = None if name == "correct_kind" else max(OPENED, min(TODAY, day + dt.timedelta(days=(b % 41) - 20)))
                to_kind = None if name == "correct_date" else CONTACT_KINDS[b % len(CONTACT_KINDS)]
                run(lambda s: C.correct(s, ctx(day), target, reason="录入有误", to_date=to_date, to_kind=to_kind))
        elif name == "retract":
            target = self.pick(self.retractable, c)
            if target:
                run(lambda s: C.retract(s, ctx(day), target, reason="重复录入"))
        elif name == "rules":
            duties = {}
            for i, (duty, options) in enumerate(sorted(CADENCES.items())):
                if (a >> i) & 1:
                    duties[duty] = options[(b >> i) % len(options)]
            capacity = 1 + c % 2 if c % 3 == 0 else None
            late = c % 10 if c % 4 == 1 else None
            run(lambda s: C.set_rules(s, ctx(day), capacity=capacity, duties=duties, late_days=late))
        elif name == "term":
            term_name, start, end = TERMS[c % len(TERMS)]
            when = OPENED if a % 3 == 0 else day  # often entered at the start, else as they come
            run(lambda s: C.add_term(s, ctx(when), name=term_name, start=start, end=end))
        elif name == "category":
            cat = CATEGORIES[c % len(CATEGORIES)]
            if b % 2:
                run(lambda s: C.amend_pupil(s, ctx(day), pupil, add_categories=[cat]))
            else:
                run(lambda s: C.amend_pupil(s, ctx(day), pupil, remove_categories=[cat]))
        elif name == "inspect":
            run(lambda s: C.inspect_handbook(s, ctx(day), staff, result=("ok", "needs_improvement")[c % 2]))
        elif name == "staff_add":
            sid = f"T{len(self.staff) + 1}"
            grade = 1 + c % 6 if c % 2 else None
            if run(lambda s: C.add_staff(s, ctx(day), sid, name=f"老师{sid}", grade=grade, class_=1 if grade else None)):
                self.staff.append(sid)
        elif name == "staff_leave":
            if staff != "admin":
                run(lambda s: C.staff_leave(s, ctx(day), staff))
        else:  # pragma: no cover
            raise AssertionError(name)


def views_on(model, day: dt.date) -> dict:
    """Every view function's output on a day (what a face could show)."""
    out = {
        "archive": archive(model, day),
        "staff_list": staff_list(model, day),
        "stats": stats(model, day),
        "queue": queue(model, day),
        "aid_list": aid_list(model, day),
        "compliance": compliance(model, day),
        "compliance_range": compliance(model, day, max(OPENED, day - dt.timedelta(days=75)), day),
    }
    for name in semesters(model, day):
        out[f"notice:{name}"] = aid_notice(model, day, name)
    return out


def first_difference(got, want, path: str = "") -> str | None:
    """Where two JSON-like values first differ, as a readable path with both values."""
    if isinstance(got, dict) and isinstance(want, dict):
        for key in list(want) + [k for k in got if k not in want]:
            if key not in got or key not in want:
                return f"{path}/{key}: got {got.get(key, '<absent>')!r}, want {want.get(key, '<absent>')!r}"
            found = first_difference(got[key], want[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(got, list) and isinstance(want, list):
        for i, (g, w) in enumerate(zip(got, want)):
            found = first_difference(g, w, f"{path}[{i}]")
            if found:
                return found
        if len(got) != len(want):
            return f"{path}: got {len(got)} items, want {len(want)}: {got!r} vs {want!r}"
        return None
    return None if got == want else f"{path}: got {got!r}, want {want!r}"


def assert_same_views(got: dict, want: dict, context: str) -> None:
    difference = first_difference(got, want)
    assert difference is None, f"{context}: {difference}"


def new_store(tmp: str, clock: Clock) -> Store:
    return Store(Path(tmp) / "store.sqlite", create=True, clock=clock)


PROPERTY = settings(
    # CARETERM_PROPERTY_EXAMPLES=500 for a longer search
    max_examples=int(os.environ.get("CARETERM_PROPERTY_EXAMPLES", "35")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _encoded(model) -> bytes:
    return msgspec.msgpack.encode(model)




# --- (a) incremental catch-up == rebuild from zero -----------------------------------------


@PROPERTY
@given(
    pupils=st.lists(PUPIL, min_size=2, max_size=6),
    staff=st.lists(STAFF, min_size=1, max_size=4),
    ops=st.lists(OP, min_size=15, max_size=80),
    cuts=st.lists(st.integers(1, 15), min_size=1, max_size=12),
    days=st.lists(st.integers(0, (TODAY - OPENED).days), min_size=1, max_size=2),
)
def test_incremental_catch_up_equals_rebuild(pupils, staff, ops, cuts, days):
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock(dt.datetime(2026, 6, 30, 1, 0, tzinfo=UTC))
        with new_store(tmp, clock) as store, Store(Path(tmp) / "store.sqlite", clock=clock) as reader:
            history = History(store, clock)
            history.setup(pupils, staff)
            saved.load(reader, SCHOOL, save_from=1)  # a first saved model, before the random part
            start = 0
            for cut in cuts:
                history.play(ops[start:start + cut])
                start += cut
                # another process opens the view: saved state + catch-up, saved again
                saved.load(reader, SCHOOL, save_from=1)
            history.play(ops[start:])
            incremental = saved.load(reader, SCHOOL, save_from=1)
            rebuilt = saved.fold(store.read(), SCHOOL)
            assert incremental.position == rebuilt.position == store.head()
            for d in days + [(TODAY - OPENED).days]:
                day = OPENED + dt.timedelta(days=d)
                assert_same_views(views_on(incremental, day), views_on(rebuilt, day), f"as of {day}")
            # the whole persisted model, byte for byte (and after `rebuild`, the saved one too)
            assert _encoded(incremental) == _encoded(rebuilt)
            readmodel.rebuild(reader)
            assert _encoded(saved.load(reader, SCHOOL, save_from=1)) == _encoded(rebuilt)


# --- (b) as-of D == fold of the events effective by D ------------------------------------


def effective_by(log: list[tuple[int, Event]], day: dt.date) -> list[tuple[int, Event]]:
    """The events effective on `day`: each entry at its corrected date (the last correction's
    --to-date, if any), corrections and retractions always (they apply at every as-of)."""
    corrected_date: dict[str, dt.date] = {}
    for _, e in log:
        if isinstance(e, EntryCorrected) and e.to_date is not None:
            corrected_date[e.corrects] = e.to_date
    kept = []
    for seq, e in log:
        if isinstance(e, (EntryCorrected, EntryRetracted)):
            kept.append((seq, e))
        elif corrected_date.get(e.id, e.date) <= day:
            kept.append((seq, e))
    return kept


@PROPERTY
@given(
    pupils=st.lists(PUPIL, min_size=2, max_size=6),
    staff=st.lists(STAFF, min_size=1, max_size=4),
    ops=st.lists(OP, min_size=15, max_size=80),
    days=st.lists(st.integers(0, (TODAY - OPENED).days), min_size=1, max_size=3),
)
def test_as_of_equals_fold_of_events_effective_by_then(pupils, staff, ops, days):
    # Terms are entries too: as of a day before a `terms add`'s own --date the term is not known
    # (see test_projections_rules.py, test_term_added_after_as_of_date_is_not_known_then).
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock(dt.datetime(2026, 6, 30, 1, 0, tzinfo=UTC))
        with new_store(tmp, clock) as store:
            history = History(store, clock)
            history.setup(pupils, staff)
            history.play(ops)
            model = saved.load(store, SCHOOL)
            log = list(store.read())
            for d in days:
                day = OPENED + dt.timedelta(days=d)
                reference = saved.fold(effective_by(log, day), SCHOOL)
                assert_same_views(views_on(model, day), views_on(reference, day), f"as of {day}")


# --- (c) known-at T == fold of the events recorded by T ------------------------------------


@PROPERTY
@given(
    pupils=st.lists(PUPIL, min_size=2, max_size=6),
    staff=st.lists(STAFF, min_size=1, max_size=4),
    ops=st.lists(OP, min_size=15, max_size=70),
    picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=3),
)
def test_known_at_equals_fold_of_events_recorded_by_then(pupils, staff, ops, picks):
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock(dt.datetime(2026, 6, 30, 1, 0, tzinfo=UTC))
        with new_store(tmp, clock) as store:
            history = History(store, clock)
            # remember each stored event with the clock time the test gave it
            recorded: list[tuple[dt.datetime, str]] = []
            execute = history.service.execute

            def spying(build):
                events = execute(build)
                recorded.extend((clock.now, e.id) for e in events)
                return events

            history.service.execute = spying  # type: ignore[method-assign]
            history.setup(pupils, staff)
            history.play(ops)
            by_id = {e.id: (seq, e) for seq, e in store.read()}
            assert len(by_id) == len(recorded)
            times = sorted({t for t, _ in recorded})
            moments = [times[p % len(times)] for p in picks]
            # between two recordings, and before anything was recorded
            moments += [times[picks[0] % len(times)] + dt.timedelta(seconds=30), times[0] - dt.timedelta(seconds=1)]
            for moment in moments:
                known = saved.load(store, SCHOOL, known_at=moment)
                wanted = sorted((by_id[i] for t, i in recorded if t <= moment), key=lambda x: x[0])
                reference = saved.fold(wanted, SCHOOL)
                assert _encoded(known) == _encoded(reference), f"known at {moment}"
                for day in (TODAY, TODAY - dt.timedelta(days=120)):
                    assert_same_views(views_on(known, day), views_on(reference, day), f"known at {moment}, as of {day}")


# --- a pinned counter-example of (a) (fixed) -----------------------------------------------


def test_inspection_correction_survives_a_saved_model(tmp_path):
    # once: the model kept each inspection twice, and after a saved model was decoded a
    # correction reached only one copy (incremental != rebuild)
    clock = Clock(dt.datetime(2026, 6, 30, 1, 0, tzinfo=UTC))
    with Store(tmp_path / "s.sqlite", create=True, clock=clock) as store:
        history = History(store, clock)
        history.setup([((), 3, 2)], [(3, 2)])
        inspected = history.run(lambda s: C.inspect_handbook(s, ctx(dt.date(2025, 10, 1)), "T1", result="ok"))
        saved.load(store, SCHOOL, save_from=1)  # saved with the inspection
        history.run(lambda s: C.correct(s, ctx(dt.date(2025, 10, 2)), inspected[0].id, reason="日期有误",
                                        to_date=dt.date(2025, 10, 3)))
        history.run(lambda s: C.retract(s, ctx(dt.date(2025, 10, 2)), inspected[0].id, reason="重复"))
        incremental = saved.load(store, SCHOOL, save_from=1)
        rebuilt = saved.fold(store.read(), SCHOOL)
        entry = rebuilt.entries[inspected[0].id]
        assert (entry.date, entry.retracted) == (dt.date(2025, 10, 3), True)
        assert _encoded(incremental) == _encoded(rebuilt)
