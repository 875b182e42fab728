"""The build: the schools of a district drawn, their actions merged by recording time and executed."""

from __future__ import annotations

import datetime as dt
import heapq
import random

from careterm.demo.calendar import _EPOCH_DT, _local_day
from careterm.demo.records import DemoError, Ref
from careterm.demo.school import School
from careterm.demo.words import _SCHOOL_KINDS, _SCHOOL_PLACES
from events import commands as C
from events.errors import Refused
from events.model import status_on
from events.service import Service

_FLUSH = 5000  # actions per stored transaction


def _school_name(index: int, rng: random.Random, used: set[str]) -> str:
    if index == 1:
        return "石砚小学"
    for attempt in range(100):
        name = rng.choice(_SCHOOL_PLACES) + rng.choice(_SCHOOL_KINDS)
        if name not in used:
            return name
    return f"{rng.choice(_SCHOOL_PLACES)}第{index}小学"


def build_demo(service: Service, *, schools: int = 1, seed: int = 2026, until: dt.date, actor: str = "admin") -> dict:
    """Write a demo school (or `schools` schools "s1".."sN") into the empty store of `service`.

    Returns a summary: {"schools", "school_ids", "events", "staff", "pupils", "enrolled",
    "opened", "until", "by_type"}. Raises ValueError for a store that is not empty or an
    `until` after today, DemoError if a rule refused an action (a bug of the generator).
    """
    if schools < 1:
        raise ValueError("schools must be at least 1")
    service.catch_up()
    if service.position or not service.store.is_empty():
        raise ValueError("the store is not empty")
    now = service.store.clock()
    now_ts = int((now - _EPOCH_DT).total_seconds())
    if until > _local_day(now_ts):
        raise ValueError(f"until {until} is after today {_local_day(now_ts)}")
    names: set[str] = set()
    district = random.Random(seed)
    plans = []
    for index in range(1, schools + 1):
        name = _school_name(index, district, names)
        names.add(name)
        plans.append(School(index, seed, until, actor, name))
    streams = []
    for plan in plans:
        streams.append(plan.generate())
    by_type = _execute(service, heapq.merge(*streams), now_ts)
    models = service.models
    enrolled = sum(1 for school in models.values() for p in school.pupils.values()
                   if status_on(p, until) == "enrolled")
    return {
        "schools": len(models),
        "school_ids": sorted(models),
        "events": sum(by_type.values()),
        "staff": sum(len(school.staff) for school in models.values()),
        "pupils": sum(len(school.pupils) for school in models.values()),
        "enrolled": enrolled,
        "opened": min(school.opened for school in models.values()).isoformat(),
        "until": until.isoformat(),
        "by_type": dict(sorted(by_type.items())),
    }


def _execute(service: Service, actions, now_ts: int) -> dict[str, int]:
    store = service.store
    saved = store.clock
    moment: list[dt.datetime] = [saved()]
    store.clock = lambda: moment[0]
    ids: dict[str, str] = {}
    by_type: dict[str, int] = {}
    it = iter(actions)
    try:
        done = False
        while not done:
            with service.batch():
                count = 0
                for ts, index, _, actor, day, fn, args, kw, key, note in it:
                    if ts > now_ts:  # not recorded yet
                        done = True
                        break
                    moment[0] = _EPOCH_DT + dt.timedelta(seconds=ts)
                    ctx = C.Context(school=f"s{index}", actor=actor, today=_local_day(ts), date=day,
                                    source="demo", note=note)
                    if args and isinstance(args[0], Ref):
                        args = (ids[args[0].key],) + args[1:]
                    try:
                        events = service.execute(lambda schools: fn(schools, ctx, *args, **kw))
                    except Refused as refused:
                        raise DemoError(
                            f"s{index}: {fn.__name__}{args} {kw} dated {day}, recorded "
                            f"{moment[0].isoformat()} by {actor}: refused {refused.field} {refused.code} "
                            f"{refused.params}") from refused
                    if key:
                        ids[key] = events[0].id
                    for event in events:
                        name = type(event).__name__
                        by_type[name] = by_type.get(name, 0) + 1
                    count += 1
                    if count >= _FLUSH:
                        break
                else:
                    done = True
    finally:
        store.clock = saved
    return by_type
