"""Running commands against a store: catch up, check, append under the head guard, retry.

A command is a pure function of the schools' models (`events.commands`); this module is where
it meets the store. The models are the views' own (`events.model`): one school's is loaded from
its saved copy and caught up on the events since (`events.saved.load`), so a write costs the
events recorded since the copy, not the history. If another process appended in between
(`HeadMoved`), we catch up and check the command again: a conflict is retried, never swallowed,
and a command that has become invalid is refused like any other.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping
from zoneinfo import ZoneInfo

import msgspec
from eventsourcing.persistence import IntegrityError

from events import saved
from events.commands import Context, Schools
from events.errors import Refused
from events.gcpause import paused_gc
from events.model import SchoolModel, apply, new_model
from events.store import HeadMoved, Store, StoreError
from events.types import Event

Command = Callable[[Schools], list[Event]]


class District(Mapping):
    """The schools a command of one school of a store sees: its own model, and any other
    school's, loaded (saved copy + catch-up) only when a command asks for it by id, read only
    (a transfer inside the district reads the sending school). Iterating gives the models
    loaded so far; `senders_to` answers from the store's index of transfers."""

    def __init__(self, service: "Service"):
        self._service = service
        self._models = service.models

    def __getitem__(self, school: str) -> SchoolModel:
        found = self._models.get(school)
        if found is None:
            service = self._service
            if school not in service.store.school_heads():
                raise KeyError(school)
            found = self._models[school] = saved.load(service.store, school, kept=service._kept, save=False)
        return found

    def __contains__(self, school: object) -> bool:
        return school in self._models or school in self._service.store.school_heads()

    def __iter__(self):
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)

    def senders_to(self, school: str) -> list[str]:
        from events.transfers import index

        return index(self._service.store).senders_to(school)


class Service:
    """The write side of a store, or of one school of it (`school`): then only that school's
    model is loaded (saved copy + catch-up), and only that school's new events make a command
    check again. Without `school` (a new store, a bulk build) every school's model is folded
    from the log in this process."""

    def __init__(self, store: Store, *, school: str | None = None, max_attempts: int = 200):
        self.store = store
        self.school = school
        self.models: dict[str, SchoolModel] = {}
        self.position = 0  # without `school`: the log position folded
        self.seq_of: dict[str, int] = {}  # the events this service stored -> their place in the log
        self.max_attempts = max_attempts
        self._kept = saved.Kept()
        self._batch: list[Event] | None = None

    def catch_up(self) -> dict[str, SchoolModel]:
        if self._batch is not None:
            return self.models
        if self.school is not None:
            self.models = {self.school: saved.load(self.store, self.school, kept=self._kept)}
            return self.models
        with paused_gc():
            for seq, event in self.store.read(self.position):
                self._fold(seq, event)
        return self.models

    def _fold(self, seq: int, event: Event) -> None:
        model = self.models.get(event.school)
        if model is None:
            model = self.models[event.school] = new_model(event.school)
        apply(model, seq, event)
        self.position = seq

    def _head(self) -> int:
        if self.school is not None:
            model = self.models.get(self.school)
            return model.position if model is not None else 0
        return self.position

    def today(self, school_id: str | None) -> dt.date:
        """The school's date now, in its time zone (default Asia/Shanghai)."""
        school = self.models.get(school_id or "")
        zone = ZoneInfo(school.timezone if school and school.opened else "Asia/Shanghai")
        return self.store.clock().astimezone(zone).date()

    def _stamp(self, drafts: list[Event], recorded_at: dt.datetime | None) -> list[Event]:
        versions: dict[str, int] = {}
        stamped = []
        for draft in drafts:
            model = self.models.get(draft.school)
            version = versions.get(draft.stream) or (model.versions.get(draft.stream, 0) if model else 0) + 1
            versions[draft.stream] = version + 1
            stamped.append(msgspec.structs.replace(draft, version=version, recorded_at=recorded_at))
        return stamped

    def execute(self, command: Command) -> list[Event]:
        """Check and store one command's events; returns them as stored."""
        if self._batch is not None:
            events = self._stamp(command(self.models), self.store.clock())
            for event in events:
                # a place in the log for now: the batch is stored in this order at the end
                self._fold(self.position + 1, event)
            self._batch.extend(events)
            return events
        for attempt in range(self.max_attempts):
            self.catch_up()
            # one school's command may read (never write) another school of the store: District
            events = self._stamp(command(District(self) if self.school is not None else self.models), None)
            if not events:
                return []
            try:
                if self.school is not None and any(e.school != self.school for e in events):
                    raise StoreError(f"a command of school {self.school} wrote another school's events")
                stored = self.store.append_seqs(events, expected_head=self._head(), school=self.school)
            except (HeadMoved, IntegrityError):
                # someone else wrote first: wait a little (jittered), then check again
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 25)))
                continue
            for seq, event in stored:
                self.seq_of[event.id] = seq
                if self.school is None:
                    self._fold(seq, event)
                # one school's model catches up from the store at the next command (`saved.load`)
            return [event for _, event in stored]
        raise StoreError("the store stayed busy: the command was checked again "
                         f"{self.max_attempts} times and never got to write")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Check commands one by one in memory, store them all in one transaction at the end.

        For bulk builds (the demo) by a single writer, without `school`. Recording times come
        from the store's clock at each command. Nothing is stored if anything inside raises.
        """
        if self.school is not None:
            raise StoreError("a batch is for a whole store's service")
        self.catch_up()
        start = self.position
        self._batch = []
        try:
            with paused_gc():  # a bulk build folds as it goes: see events.gcpause
                yield
            pending = self._batch
        except BaseException:
            self._batch = None
            self.models, self.position = {}, 0  # the models saw events that were not stored
            raise
        self._batch = None
        if pending:
            ids = self.store.append_stamped(pending, expected_head=start)
            for seq, event in zip(ids, pending):
                self.models[event.school].position = seq
            self.position = ids[-1]


def run(service: Service, build: Callable[[Schools, Context], list[Event]], ctx_for: Callable[[Schools], Context]) -> list[Event]:
    """Execute `build(schools, ctx)` with a context made from the caught-up models."""
    return service.execute(lambda schools: build(schools, ctx_for(schools)))


__all__ = ["Service", "Refused", "StoreError", "run"]
