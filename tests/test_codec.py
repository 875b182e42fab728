"""Every event type survives a real store unchanged; old schemas are upcast; bad rows are StoreErrors."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import chain
from events.store import Store, StoreError
from events.types import EVENT_TYPES, Event, StaffJoined

from helpers import RawDB

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(max_size=20)
# stream ids: PostgreSQL text cannot hold NUL, and careterm builds them from typed ids
IDS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
JSON = st.recursive(
    st.none() | st.booleans() | INT64 | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def strategy_for(t: mi.Type) -> st.SearchStrategy:
    """A strategy for a msgspec type (as msgspec.inspect describes it)."""
    if isinstance(t, mi.StrType):
        return TEXT
    if isinstance(t, mi.IntType):
        return INT64
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.DateType):
        return st.dates()
    if isinstance(t, mi.DateTimeType):
        return st.datetimes(timezones=st.just(dt.timezone.utc))
    if isinstance(t, mi.NoneType):
        return st.none()
    if isinstance(t, mi.AnyType):
        return JSON
    if isinstance(t, mi.ListType):
        return st.lists(strategy_for(t.item_type), max_size=4)
    if isinstance(t, mi.DictType):
        return st.dictionaries(strategy_for(t.key_type), strategy_for(t.value_type), max_size=4)
    if isinstance(t, mi.UnionType):
        return st.one_of([strategy_for(x) for x in t.types])
    if isinstance(t, mi.StructType):
        return struct_strategy(t.cls)
    raise NotImplementedError(f"no strategy for {t!r}: add one to tests/test_codec.py")


ENVELOPE = {"stream", "version", "recorded_at"}  # set by the test and the store, not drawn
PLACEHOLDER = {"stream": "s1/x"}


def struct_strategy(cls: type) -> st.SearchStrategy:
    info = mi.type_info(cls)
    fields = {}
    for f in info.fields:
        if issubclass(cls, Event) and f.name in ENVELOPE:
            if f.required:
                fields[f.name] = st.just(PLACEHOLDER[f.name])
            continue
        fields[f.name] = strategy_for(f.type)
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


EVENTS = {cls: struct_strategy(cls) for cls in EVENT_TYPES}


def append_one(store: Store, event: Event) -> tuple[int, Event]:
    """Append `event` on a stream of its own (version 1); returns its seq and the stamped event."""
    event = msgspec.structs.replace(event, version=1)
    head = store.head()
    stored = store.append([event], expected_head=head)[0]
    assert stored.recorded_at is not None and stored.recorded_at.tzinfo is not None
    return head + 1, stored


def read_back(store: Store, seq: int) -> Event:
    got = list(store.read(after=seq - 1, upto=seq))
    assert [s for s, _ in got] == [seq]
    return got[0][1]


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda c: c.__name__)
def test_round_trip_property(cls, sqlite_url):
    """Any value of each event type reads back equal from a real SQLite store."""
    with Store(sqlite_url, create=True) as store:

        @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(event=EVENTS[cls], stream=IDS)
        def check(event, stream):
            event = msgspec.structs.replace(event, stream=f"{stream}/{uuid.uuid4().hex}")
            seq, stored = append_one(store, event)
            back = read_back(store, seq)
            assert type(back) is cls
            assert back == stored
            assert msgspec.structs.replace(back, version=event.version, recorded_at=None) == event

        check()
        store.verify()


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda c: c.__name__)
def test_round_trip_each_store(cls, store_url):
    """A few examples of each type, on SQLite and PostgreSQL alike."""
    with Store(store_url, create=True) as store:

        @settings(max_examples=3, derandomize=True, deadline=None, database=None)
        @given(event=EVENTS[cls])
        def check(event):
            event = msgspec.structs.replace(event, stream=f"s1/x/{uuid.uuid4().hex}")
            seq, stored = append_one(store, event)
            assert read_back(store, seq) == stored

        check()
        assert store.verify().events >= 1


# --- stored rows written by older versions, or by no version at all ------------------------


def write_raw(url: str, stream: str, version: int, topic: str, state: bytes) -> int:
    """Insert a stored event directly into the database, with its chain link and its school's
    head (as careterm would: `verify` checks the heads against the log), its state encrypted
    with the store's key as careterm stores every state (events.keys)."""
    from events.keys import event_aad

    with Store(url) as store:
        if store.mapper.cipher is not None:
            state = store.mapper.cipher.encrypt(state, event_aad(topic))
    with RawDB(url) as db:
        rows = db.rows()
        seq = (rows[-1].seq if rows else 0) + 1
        links = db.links()
        prev = links[max(links)] if links else chain.GENESIS
        db.insert(seq, stream, version, topic, state)
        db.insert_link(seq, chain.link(prev, chain.StoredRow(seq, stream, version, topic, state)))
        db.sql(
            "INSERT INTO careterm_heads VALUES (?, ?) ON CONFLICT (school) DO UPDATE SET position = excluded.position",
            (stream.partition("/")[0], seq),
        )
    return seq


def staff_joined_v1(staff: str, role: str | None) -> bytes:
    """StaffJoined as schema 1 stored it: one `role`, no `roles`."""
    state = {
        "id": uuid.uuid4().hex,
        "school": "s1",
        "stream": f"s1/staff/{staff}",
        "date": "2024-09-01",
        "actor": "admin",
        "source": "cli",
        "note": "",
        "corrects": None,
        "version": 1,
        "recorded_at": "2024-09-01T08:00:00Z",
        "staff": staff,
        "name": "李老师",
        "grade": 3,
        "class": 2,
    }
    if role is not None:
        state["role"] = role
    return msgspec.json.encode(state)


def test_staff_joined_schema_1_is_upcast(store_url):
    with Store(store_url, create=True):
        pass
    seq = write_raw(store_url, "s1/staff/t9", 1, "StaffJoined", staff_joined_v1("t9", "teacher"))
    seq_no_role = write_raw(store_url, "s1/staff/t8", 1, "StaffJoined", staff_joined_v1("t8", None))
    with Store(store_url) as store:
        events = dict(store.read())
        assert store.verify().events == 2
    old = events[seq]
    assert isinstance(old, StaffJoined)
    assert old.roles == ["teacher"]
    assert (old.staff, old.name, old.grade, old.class_) == ("t9", "李老师", 3, 2)
    assert old.recorded_at == dt.datetime(2024, 9, 1, 8, tzinfo=dt.timezone.utc)
    assert events[seq_no_role].roles == ["teacher"]  # schema 1 defaulted to a teacher


def test_upcast_event_is_rewritten_as_the_current_schema(sqlite_url):
    """A current-schema StaffJoined is stored under its versioned topic and read straight back."""
    with Store(sqlite_url, create=True) as store:
        event = StaffJoined(id="e1", school="s1", stream="s1/staff/t1", date=dt.date(2025, 9, 1),
                            actor="admin", staff="t1", name="王", roles=["teacher", "leader"], version=1)
        store.append([event], expected_head=0)
    with RawDB(sqlite_url) as db:
        assert db.rows()[0].topic == "StaffJoined.v2"


@pytest.mark.parametrize(
    "topic, state",
    [
        ("NoSuchEvent", b'{"id":"x"}'),
        ("ContactMade", b"not json at all"),
        ("ContactMade", b'{"id":"x"}'),  # required fields missing
        ("StaffJoined.vx", staff_joined_v1("t7", "teacher")),  # a mangled schema suffix
        ("StaffJoined.v0", staff_joined_v1("t7", "teacher")),  # a schema that never existed
        ("StaffJoined.v9", msgspec.json.encode({"future": True})),  # written by a newer careterm
    ],
    ids=["unknown-topic", "not-json", "missing-fields", "bad-suffix", "schema-0", "future-schema"],
)
def test_unreadable_rows_are_store_errors(store_url, topic, state):
    with Store(store_url, create=True):
        pass
    seq = write_raw(store_url, "s1/x/1", 1, topic, state)
    with Store(store_url) as store:
        with pytest.raises(StoreError, match=f"#{seq}"):
            list(store.read())
        # the views' own decoding (contacts straight into the fields the model keeps) too
        from events import saved

        with pytest.raises(StoreError, match=f"#{seq}"):
            saved.load(store, "s1")


def test_future_schema_is_not_read_as_the_current_one(sqlite_url):
    """A StaffJoined from a newer schema must not silently decode as schema 2 (fields may mean other things)."""
    with Store(sqlite_url, create=True):
        pass
    state = msgspec.json.encode(
        {"id": "e", "school": "s1", "stream": "s1/staff/t6", "date": "2025-09-01", "actor": "admin",
         "version": 1, "staff": "t6", "name": "赵", "roles": ["teacher"]}
    )
    write_raw(sqlite_url, "s1/staff/t6", 1, "StaffJoined.v3", state)
    with Store(sqlite_url) as store:
        with pytest.raises(StoreError, match="newer"):
            list(store.read())
