"""Running commands against a store: catch up, check, append under the head guard, retry.

A command is a pure function of the state (`events.commands`); this module is where it meets
the store. If another process appended in between (`HeadMoved`), we catch up and check the
command again against the new state: a conflict is retried, never swallowed, and a command
that has become invalid is refused like any other.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from contextlib import contextmanager
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

import msgspec
from eventsourcing.persistence import IntegrityError

from events.commands import Context
from events.errors import Refused
from events.gcpause import paused_gc
from events.state import State
from events.store import HeadMoved, Store, StoreError
from events.types import Event

Command = Callable[[State], list[Event]]


class Service:
    """The write side of a store, or of one school of it (`school`): then only that school's
    events are folded, and only that school's new events make a command check again."""

    def __init__(self, store: Store, *, school: str | None = None, max_attempts: int = 200):
        self.store = store
        self.school = school
        self.state = State()
        self.max_attempts = max_attempts
        self._batch: list[Event] | None = None

    def catch_up(self) -> State:
        if self._batch is None:
            with paused_gc():
                for seq, event in self.store.read(self.state.position, school=self.school):
                    self.state.apply(seq, event)
        return self.state

    def today(self, school_id: str | None) -> dt.date:
        """The school's date now, in its time zone (default Asia/Shanghai)."""
        school = self.state.schools.get(school_id or "")
        zone = ZoneInfo(school.timezone if school else "Asia/Shanghai")
        return self.store.clock().astimezone(zone).date()

    def _stamp(self, drafts: list[Event], recorded_at: dt.datetime | None) -> list[Event]:
        versions: dict[str, int] = {}
        stamped = []
        for draft in drafts:
            version = versions.get(draft.stream) or self.state.next_version(draft.stream)
            versions[draft.stream] = version + 1
            stamped.append(msgspec.structs.replace(draft, version=version, recorded_at=recorded_at))
        return stamped

    def execute(self, command: Command) -> list[Event]:
        """Check and store one command's events; returns them as stored."""
        if self._batch is not None:
            events = self._stamp(command(self.state), self.store.clock())
            for event in events:
                self.state.apply(None, event)
            self._batch.extend(events)
            return events
        for attempt in range(self.max_attempts):
            self.catch_up()
            events = self._stamp(command(self.state), None)
            if not events:
                return []
            try:
                if self.school is not None and any(e.school != self.school for e in events):
                    raise StoreError(f"a command of school {self.school} wrote another school's events")
                stored = self.store.append_seqs(events, expected_head=self.state.position, school=self.school)
            except (HeadMoved, IntegrityError):
                # someone else wrote first: wait a little (jittered), then check again
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 25)))
                continue
            for seq, event in stored:
                self.state.apply(seq, event)
            return [event for _, event in stored]
        raise StoreError("the store stayed busy: the command was checked again "
                         f"{self.max_attempts} times and never got to write")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Check commands one by one in memory, store them all in one transaction at the end.

        For bulk builds (the demo) by a single writer. Recording times come from the store's
        clock at each command. Nothing is stored if anything inside raises.
        """
        self.catch_up()
        start = self.state.position
        snapshot_state = self.state
        self._batch = []
        try:
            with paused_gc():  # a bulk build folds as it goes: see events.gcpause
                yield
            pending = self._batch
        except BaseException:
            self._batch = None
            self.state = State()  # the in-memory state saw events that were not stored
            raise
        self._batch = None
        if pending:
            ids = self.store.append_stamped(pending, expected_head=start)
            snapshot_state.position = ids[-1]


def run(service: Service, build: Callable[[State, Context], list[Event]], ctx_for: Callable[[State], Context]) -> list[Event]:
    """Execute `build(state, ctx)` with a context made from the caught-up state."""
    return service.execute(lambda state: build(state, ctx_for(state)))


__all__ = ["Service", "Refused", "StoreError", "run"]
