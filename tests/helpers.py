"""Test helpers: a small school on a real store, direct SQL on the real database, process workers.

The workers are module-level functions so that `multiprocessing` (spawn) can import them in the
child processes.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any, Sequence
from urllib.parse import parse_qs, urlparse, urlunparse

from events import chain
from events import commands as C
from events.errors import Refused
from events.service import Service
from events.store import Store, is_postgres

# --- aid: the procedure in one write (issue 14) -----------------------------------------------


def latest_decision(day: dt.date) -> dt.date:
    """The latest day an approval may be decided for its grant to be paid on `day`: its notice
    (five working days, events.aid_rules) must be over by then. A grant on Wednesday 2026-03-11:
    decided Tuesday 03-03 (notice 03-04 … 03-10)."""
    from events.aid_rules import grantable_from

    decided = day - dt.timedelta(days=7)
    while grantable_from(decided) > day:
        decided -= dt.timedelta(days=1)
    return decided


def granted_aid(schools, ctx: C.Context, pupil_id: str, *, kind: str, amount: str | None = None,
                items: str | None = None, fund: str = "", basis: str | None = None, override: str | None = None,
                incident: str | None = None) -> list:
    """Aid granted on ctx.date, for the tests that only need aid granted (before issue 14 one
    `grant_aid` did it). Emergency and material aid is granted directly; any other kind is applied
    for, surveyed (confirmed) and approved by the same actor on the latest day that lets the
    notice end before ctx.date (`latest_decision`), then granted: one write, its events in that
    order (the grant last). A fund named and not yet in the school is added first, with a budget
    of 100000 yuan. A refusal of any step refuses the whole."""
    import dataclasses

    import msgspec

    from events import model as M
    from events import rules

    if kind in rules.DIRECT_AID_KINDS:
        return C.grant_aid(schools, ctx, pupil_id, kind=kind, amount=amount, items=items, fund=fund, basis=basis,
                           override=override, incident=incident)
    school = schools[ctx.school]
    scratch = msgspec.msgpack.decode(msgspec.msgpack.encode(school), type=M.SchoolModel)
    early = dataclasses.replace(ctx, date=latest_decision(ctx.date), note="")
    made: list = []

    def step(command, *args, at=early, **kw):
        events = command({ctx.school: scratch}, at, *args, **kw)
        for event in events:
            M.apply(scratch, school.position + len(made) + 1, event)
            made.append(event)
        return events

    if fund and fund not in scratch.funds:
        step(C.add_fund, fund, budget="100000")
    app = step(C.apply_aid, pupil_id, kind=kind, amount=amount, items=items, fund=fund, basis=basis)[0].id
    step(C.survey_aid, app, result="confirmed", method="documents")
    step(C.decide_aid, app, approve=True, override=override)
    step(C.grant_aid, app, at=ctx)
    return made


SCHOOL = "s1"
OPENED = dt.date(2025, 9, 1)
TODAY = dt.date(2026, 6, 30)  # the school's "today" for every command in the tests


def ctx(date: dt.date = TODAY, actor: str = "admin", today: dt.date = TODAY) -> C.Context:
    return C.Context(school=SCHOOL, actor=actor, today=today, date=date)


def setup_school(
    service: Service,
    *,
    staff: Sequence[str] = (),
    pupils: Sequence[str] = (),
    categories: Sequence[str] = ("left_behind",),
) -> None:
    """Open school s1 on OPENED (actor "admin": admin and leader), add teachers and pupils."""
    service.execute(lambda s: C.init(s, ctx(OPENED), name="石砚小学", admin_name="校长"))
    for staff_id in staff:
        service.execute(lambda s, i=staff_id: C.add_staff(s, ctx(OPENED), i, name=f"老师{i}"))
    for pupil_id in pupils:
        service.execute(
            lambda s, i=pupil_id: C.add_pupil(
                s, ctx(OPENED), i, name=f"学生{i}", gender="F", birth=dt.date(2016, 3, 1),
                grade=3, class_=2, categories=list(categories),
            )
        )


class ScriptedSchool:
    """School s1 opened on OPENED on a real store; `do(build, day)` runs one command as "admin"
    (admin and leader) dated `day`, on the school's "today" `today` (a class attribute)."""

    today = TODAY

    def __init__(self, store: Store):
        self.store = store
        self.service = Service(store)
        self.do(lambda s, c: C.init(s, c, name="石砚小学", admin_name="校长"), OPENED)

    def do(self, build, day: dt.date):
        context = C.Context(school=SCHOOL, actor="admin", today=self.today, date=day)
        return self.service.execute(lambda s: build(s, context))


def all_events(store: Store) -> list:
    return list(store.read())


# --- direct SQL on the real database -------------------------------------------------------


class RawDB:
    """What someone with a database client could do to a store's tables, bypassing careterm."""

    def __init__(self, url: str):
        self.url = url
        self.pg = is_postgres(url)
        with Store(url) as store:
            self.events = store.recorder.events_table_name
        if self.pg:
            import psycopg
            from psycopg import sql

            u = urlparse(url)
            self.schema = parse_qs(u.query)["schema"][0]
            self.conn = psycopg.connect(urlunparse(u._replace(query="")), autocommit=True)
            self.conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            self.seq = "notification_id"
            self.p = "%s"
        else:
            self.conn = sqlite3.connect(url, isolation_level=None, timeout=30)
            self.seq = "rowid"
            self.p = "?"

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "RawDB":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sql(self, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
        statement = statement.replace("{events}", self.events).replace("{chain}", "careterm_chain")
        statement = statement.replace("{seq}", self.seq).replace("?", self.p)
        cur = self.conn.execute(statement, tuple(params))
        try:
            return [tuple(r) for r in cur.fetchall()]
        except Exception:  # statements without a result
            return []

    def rows(self) -> list[chain.StoredRow]:
        rows = self.sql("SELECT {seq}, originator_id, originator_version, topic, state FROM {events} ORDER BY {seq}")
        return [chain.StoredRow(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]

    def row(self, seq: int) -> chain.StoredRow:
        return next(r for r in self.rows() if r.seq == seq)

    def links(self) -> dict[int, str]:
        return dict(self.sql("SELECT id, hash FROM {chain} ORDER BY id"))

    def set_state(self, seq: int, state: bytes) -> None:
        self.sql("UPDATE {events} SET state = ? WHERE {seq} = ?", (state, seq))

    def delete(self, seq: int) -> None:
        self.sql("DELETE FROM {events} WHERE {seq} = ?", (seq,))

    def delete_link(self, seq: int) -> None:
        self.sql("DELETE FROM {chain} WHERE id = ?", (seq,))

    def insert(self, seq: int, stream: str, version: int, topic: str, state: bytes) -> None:
        self.sql(
            "INSERT INTO {events} ({seq}, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
            (seq, stream, version, topic, state),
        )
        if self.pg:  # keep the id sequence ahead of the forged row, as a careful forger would
            self.sql(f"SELECT setval(pg_get_serial_sequence('{self.events}', 'notification_id'), "
                     "(SELECT MAX(notification_id) FROM {events}))")

    def insert_link(self, seq: int, hash_: str) -> None:
        self.sql("INSERT INTO {chain} (id, hash) VALUES (?, ?)", (seq, hash_))

    def swap(self, a: int, b: int) -> None:
        """Swap the contents of two stored events (each keeps its position)."""
        ra, rb = self.row(a), self.row(b)
        # (stream, version) is unique: park one row on a free version first
        self.sql("UPDATE {events} SET originator_version = -1 WHERE {seq} = ?", (a,))
        for target, src in ((b, ra), (a, rb)):
            self.sql(
                "UPDATE {events} SET originator_id = ?, originator_version = ?, topic = ?, state = ? "
                "WHERE {seq} = ?",
                (src.stream, src.version, src.topic, src.state, target),
            )

    def rechain(self) -> None:
        """Recompute the whole chain table from the stored events (a consistent rewrite)."""
        self.sql("DELETE FROM {chain}")
        for seq, link in chain.links(chain.GENESIS, self.rows()):
            self.insert_link(seq, link)


# --- workers for the concurrency tests (run in spawned processes) --------------------------


def contact_worker(url: str, worker: int, n: int, shared: str, own: str, barrier, results) -> None:
    """Record n contacts, alternating between a pupil shared by all workers and its own pupil."""
    try:
        with Store(url) as store:
            service = Service(store)
            service.catch_up()
            barrier.wait(timeout=120)
            done = 0
            for i in range(n):
                pupil = shared if i % 2 == 0 else own
                kind = "talk" if i % 3 else "parent_call"
                service.execute(lambda s, p=pupil, k=kind: C.contact(s, ctx(TODAY), p, kind=k))
                done += 1
        results.put((worker, "ok", done))
    except BaseException as e:  # report, and release the others: never hang the parent
        barrier.abort()
        results.put((worker, "error", repr(e)))


def pair_worker(url: str, worker: int, staff: str, pupil: str, barrier, results) -> None:
    """Try to pair `staff` with `pupil` at the same moment as the other workers."""
    try:
        with Store(url) as store:
            service = Service(store)
            service.catch_up()
            barrier.wait(timeout=120)
            try:
                events = service.execute(lambda s: C.pair(s, ctx(TODAY), staff, pupil))
                results.put((worker, "paired", events[0].staff))
            except Refused as r:
                results.put((worker, "refused", r.code))
    except BaseException as e:
        barrier.abort()
        results.put((worker, "error", repr(e)))


def open_worker(url: str, worker: int, rounds: int, barrier, results) -> None:
    """Open (and so create the tables of) the same store at the same moment as the others."""
    try:
        for _ in range(rounds):
            barrier.wait(timeout=120)
            with Store(url, create=True) as store:
                store.head()
        results.put((worker, "ok", rounds))
    except BaseException as e:
        barrier.abort()
        results.put((worker, "error", repr(e)))
