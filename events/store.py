"""The event store: an eventsourcing Application over SQLite (default) or PostgreSQL.

What we add to the library's recorders, in the same transaction as the insert:
- a guard on the log head: a command is checked against the log up to position P and is
  stored only if nothing was appended after P; otherwise `HeadMoved` is raised and the caller
  catches up, checks again and retries. That makes every rule check serialisable across
  processes, including rules that span streams (a pairing touches a pupil and a mentor);
- the hash chain (`events.chain`) in a side table `careterm_chain`, over the stored bytes;
- encryption at rest (`events.keys`): every event's state and every saved read model are stored
  encrypted with the store's key, which lives in a key file outside the store.
All the events of one command are inserted in one transaction: they land together or not at all.

`Store` is the public entry. The recorders live in their own modules, imported when a store
of their kind is opened: `events.store_sqlite` (a file) and `events.store_postgres` (a
`postgresql://` URL: the only module that imports psycopg); `events.store_base` holds what
they share (the side tables, their SQL, the errors).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import msgspec
from eventsourcing.application import Application
from eventsourcing.persistence import (
    IntegrityError,
    MapperDeserialisationError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)

from events import chain, keys
from events.codec import MsgspecMapper, NullTranscoder
from events.store_base import (  # the store's errors and tables, public here
    ACCESS_TABLE,
    SECRETS_TABLE,
    access_link,
    CHAIN_TABLE,
    HEADS_TABLE,
    VIEWS_TABLE,
    HeadMoved,
    NotAStore,
    StoreDamaged,
    StoreError,
    StoreMissing,
    school_of_stream,
)
from events.types import Event

__all__ = [
    "ACCESS_TABLE", "CHAIN_TABLE", "HEADS_TABLE", "SECRETS_TABLE", "VIEWS_TABLE", "HeadMoved", "NotAStore", "Store", "StoreDamaged",
    "StoreError", "StoreMissing", "by_prefix", "damage_of", "default_store_path", "is_postgres",
    "prefix_end", "school_of_stream", "span_of", "utc_now",
]


class _Stamp(msgspec.Struct):
    recorded_at: dt.datetime | None = None
    stream: str = ""
    version: int = 0


_stamp_decoder = msgspec.json.Decoder(_Stamp)
CIPHER_SECRET = ("store", "cipher")  # the store's key check value (events.keys.key_check)
# when rows were last brought in from another store (`append_stored`): a write made then
IMPORTED_SECRET = ("store", "imported_at")


class _ClockCheck:
    """Recording times that went backwards, or lie ahead of `now` (more than five minutes): a
    machine's clock that was set back or ran fast when they were recorded."""

    AHEAD = dt.timedelta(minutes=5)

    def __init__(self, now: dt.datetime):
        self.now = now
        # each school's latest recording time so far: a school's entries brought from its own
        # store by a bundle (events/bundle.py) follow the district's later ones in the log
        self.last: dict[str, dt.datetime] = {}
        self.odd: list[int] = []

    def see(self, seq: int, state: bytes) -> None:
        try:
            stamp = _stamp_decoder.decode(state)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return  # not plain JSON (an encrypted store): the chain alone is checked
        moment = stamp.recorded_at
        if moment is None:
            return
        school = school_of_stream(stamp.stream)
        last = self.last.get(school)
        if (last is not None and moment < last) or moment > self.now + self.AHEAD:
            self.odd.append(seq)
        self.last[school] = moment if last is None else max(last, moment)


def _authentic(cipher: keys.StoreCipher, row: tuple) -> bytes | None:
    """The event's plain JSON if it decrypts under the key and belongs to its row, else None."""
    seq, stream, version, topic, state = row
    try:
        plain = cipher.decrypt(bytes(state), keys.event_aad(topic))
        stamp = _stamp_decoder.decode(plain)
    except (keys.CannotDecrypt, msgspec.DecodeError, msgspec.ValidationError):
        return None
    return plain if (stamp.stream, stamp.version) == (stream, version) else None


def damage_of(error: BaseException) -> "StoreDamaged | None":
    """SQLite's "database disk image is malformed" (and its kin), however wrapped, as damage;
    None for anything else (a lock held too long is no damage)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, StoreDamaged):
            return seen
        if isinstance(seen, sqlite3.DatabaseError) and not isinstance(seen, sqlite3.OperationalError):
            return StoreDamaged("file", str(seen))
        seen = seen.__cause__ or seen.__context__
    return None


def prefix_end(prefix: str) -> str:
    """The first string after every string that starts with `prefix` (its key range's end)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def span_of(schools: Sequence[str]) -> tuple[str, str]:
    """The key range [lo, hi) holding the streams of these schools. It holds the streams of
    every school whose `id/` sorts between theirs too: callers give a run of `by_prefix` order."""
    prefixes = sorted(f"{school}/" for school in schools)
    return prefixes[0], prefix_end(prefixes[-1])


def by_prefix(schools: Sequence[str]) -> list[str]:
    """Schools in the order of their streams' keys (`s1/` < `s10/`, and `s1-a/` < `s1/`)."""
    return sorted(schools, key=lambda school: f"{school}/")


class CareApplication(Application):
    name = "careterm"

    def construct_mapper(self) -> MsgspecMapper:
        return self.factory.mapper(transcoder=NullTranscoder(), mapper_class=MsgspecMapper)


def default_store_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("careterm", appauthor=False)) / "careterm.sqlite"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Store:
    """One store: append events under the head guard, read them in log order, verify the chain."""

    def __init__(
        self,
        url: str | os.PathLike,
        *,
        create: bool = False,
        clock: Callable[[], dt.datetime] = utc_now,
        key_file: str | os.PathLike | None = None,
    ):
        self.url = str(url)
        self.clock = clock
        self.key_path = keys.key_path(key_file)
        if is_postgres(self.url):  # psycopg only for a PostgreSQL store
            from events.store_postgres import postgres_env

            env = postgres_env(self.url)
        else:
            from events.store_sqlite import sqlite_env

            env = sqlite_env(Path(self.url).expanduser(), create=create)
        env["ORIGINATOR_ID_TYPE"] = "text"
        env["CREATE_TABLE"] = "yes"
        try:
            self.app = CareApplication(env=env)
        except (PersistenceError, OSError, sqlite3.Error) as e:
            raise damage_of(e) or StoreError(f"cannot open the store {self.url}: {e}") from e
        except Exception as e:  # psycopg raises its own errors when a server is unreachable
            if type(e).__module__.startswith(("psycopg", "psycopg_pool")):
                raise StoreError(f"cannot open the store {self.url}: {e}") from e
            raise
        self.recorder = self.app.recorder
        if clock is utc_now and hasattr(self.recorder, "server_time"):
            self.clock = self.recorder.server_time  # PostgreSQL: the server's clock, not this machine's
        self.mapper: MsgspecMapper = self.app.mapper  # type: ignore[assignment]
        # (seq, recording time) of this store's last append: the recording time of the next one is
        # never earlier, and while nobody appended since, the log need not be read to know it
        self._last_stamp: tuple[int, dt.datetime] | None = None
        self.key_problem: keys.KeyProblem | None = None  # the key is missing or wrong
        self.key_made = False  # this process made the key file (init and demo say so)
        # True: encrypted; False: a store made before encryption (kept as it is);
        # None: an empty store not yet encrypted (it is at its first event)
        self.encrypted: bool | None = None
        try:
            self._open_cipher(create)
        except BaseException:
            self.app.close()
            raise

    # -- encryption at rest --------------------------------------------------------------------

    def _open_cipher(self, create: bool) -> None:
        """Which stores are encrypted, and with which key: a store that holds a key check value
        is encrypted with the key it checks; a new store is encrypted from its first event (with
        `create`, at once, making the key file if there is none). A store written before
        careterm encrypted (its first event is plain JSON) is read and written as it is."""
        record = self.get_secret(*CIPHER_SECRET)
        if record is not None:
            self.encrypted = True
            try:
                key = keys.read_key(self.key_path)
            except keys.KeyProblem as problem:
                self.key_problem = problem
                return
            if keys.key_check(key) != record:
                self.key_problem = keys.WrongKey(self.key_path)
                return
            self.mapper.cipher = keys.StoreCipher(key)
            return
        first = self._side(self.recorder.select_rows, 0, None, 1)
        if not first:
            if create:
                self._encrypt_new()
            return
        if keys.is_encrypted(bytes(first[0][2])):  # its key check value was removed
            raise StoreDamaged("cipher", "the key check value is missing")
        self.encrypted = False

    def _encrypt_new(self) -> None:
        key, made = keys.make_key(self.key_path)
        self.key_made = self.key_made or made
        check = keys.key_check(key)
        self.put_secret(*CIPHER_SECRET, check)
        if self.get_secret(*CIPHER_SECRET) != check:  # another process encrypted it with another key
            raise keys.WrongKey(self.key_path)
        self.mapper.cipher = keys.StoreCipher(key)
        self.encrypted = True

    def _content(self) -> None:
        """Before events or saved models are read or written: the key must be at hand."""
        if self.encrypted is None:
            self._open_cipher(False)  # another process may have written the first event since
        if self.key_problem is not None:
            raise self.key_problem

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------

    def append(self, events: Sequence[Event], *, expected_head: int | None, school: str | None = None) -> list[Event]:
        """Store events atomically if the log head (with `school`: that school's last seq) is
        still `expected_head`.

        The store stamps `recorded_at` (its clock, UTC). Returns the events as stored.
        Raises HeadMoved, IntegrityError (a stream version taken), or StoreError.
        """
        return [event for _, event in self.append_seqs(events, expected_head=expected_head, school=school)]

    def append_seqs(
        self, events: Sequence[Event], *, expected_head: int | None, school: str | None = None
    ) -> list[tuple[int, Event]]:
        """Like `append`, returning (seq, event) pairs: each event with its place in the log."""
        now = self.recording_time()
        stamped = [msgspec.structs.replace(e, recorded_at=now) for e in events]
        return list(zip(self.append_stamped(stamped, expected_head=expected_head, school=school), stamped))

    def recording_time(self) -> dt.datetime:
        """The clock, but never earlier than the last recorded entry: a clock set back (a dead
        battery, a wrong time zone) must not make an entry look recorded before the entries
        already in the log, which `--known-at` and the audit's lateness rely on."""
        now = self.clock()
        last = self._last_entry_recorded_at()
        return last if last is not None and last > now else now

    def last_recorded_at(self) -> dt.datetime | None:
        """When the store was last written: its last entry's recording time, or the time rows
        were last brought in from another store (`append_stored`), whichever is later (a
        bundle's entries keep the village's times, older than the import)."""
        last = self._last_entry_recorded_at()
        imported = self.get_secret(*IMPORTED_SECRET)
        if imported is None:
            return last
        at = dt.datetime.fromisoformat(imported.decode("ascii"))
        return at if last is None or at > last else last

    def _last_entry_recorded_at(self) -> dt.datetime | None:
        head = self.head()
        if self._last_stamp is not None and self._last_stamp[0] == head:
            return self._last_stamp[1]  # this store's own last append is still the last entry
        for _, event in self.read(head - 1, upto=head) if head else ():
            return event.recorded_at
        return None

    def append_stamped(self, events: Sequence[Event], *, expected_head: int | None, school: str | None = None) -> list[int]:
        """Store events whose recording time is already set (bulk builds); returns their seqs."""
        self._content()
        if self.encrypted is None:
            self._encrypt_new()
        stored = [self.mapper.to_stored_event(e) for e in events]
        try:
            seqs = list(self.recorder.insert_events(stored, expected_head=expected_head, school=school))
            if seqs and events and events[-1].recorded_at is not None:
                self._last_stamp = (max(seqs), events[-1].recorded_at)  # the rows go in in order
            return seqs
        except (HeadMoved, IntegrityError):
            raise
        except PersistenceError as e:
            raise StoreError(f"cannot write to the store: {e}") from e

    def append_stored(
        self, rows: Sequence[tuple[str, int, str, bytes]], *, expected_head: int | None, school: str
    ) -> list[int]:
        """Store rows as another store stored them, (stream, version, topic, state) with the
        state's bytes as they are (encrypted under the same key): a bundle's entries
        (events/bundle.py). Each must decrypt under this store's key and name its stream and
        version (what `verify` checks); the rows get this store's seqs and chain links. Guarded
        by `school`'s head like `append`. Returns their seqs."""
        self._content()
        if self.encrypted is None:
            self._encrypt_new()
        cipher = self.mapper.cipher
        if cipher is None:
            raise StoreError("cannot write to the store: it is not encrypted")
        for stream, version, topic, state in rows:
            if school_of_stream(stream) != school or _authentic(cipher, (0, stream, version, topic, state)) is None:
                raise keys.CannotDecrypt(f"{stream} v{version}")
        stored = [StoredEvent(originator_id=s, originator_version=v, topic=t, state=bytes(b)) for s, v, t, b in rows]
        if not stored:
            return []
        try:
            seqs = list(self.recorder.insert_events(stored, expected_head=expected_head, school=school))
        except (HeadMoved, IntegrityError):
            raise
        except PersistenceError as e:
            raise StoreError(f"cannot write to the store: {e}") from e
        self.put_secret(*IMPORTED_SECRET, self.clock().astimezone(dt.timezone.utc).isoformat().encode("ascii"))
        return seqs

    # -- reading -----------------------------------------------------------------------------

    def head(self) -> int:
        try:
            return self.recorder.max_notification_id() or 0
        except PersistenceError as e:
            raise StoreError(str(e)) from e

    def read(
        self,
        after: int = 0,
        *,
        batch: int = 5000,
        upto: int | None = None,
        topics: Sequence[str] = (),
        school: str | None = None,
        span: tuple[str, str] | None = None,
        into: Mapping[type, type] | None = None,
    ) -> Iterator[tuple[int, Event]]:
        """Yield (seq, event) in log order after position `after` (up to `upto`, of `topics`).

        With `school`, only that school's streams are read (filtered in the database, so the
        other schools' events of a district store cost no decoding). With `span` (see
        `span_of`), the streams of a run of schools, in one pass over the log. `into` maps event
        types to structs holding only some of their fields (see `MsgspecMapper.decoder`).
        """
        self._content()
        decoders: dict[str, Callable[[bytes], Event]] = {}
        for rows in self._rows(after, batch, upto, topics, school, span):
            seq = 0
            try:
                for seq, topic, state in rows:
                    decode = decoders.get(topic) or decoders.setdefault(topic, self.mapper.decoder(topic, into))
                    yield seq, decode(state)
            except (MapperDeserialisationError, msgspec.DecodeError, msgspec.ValidationError, keys.CannotDecrypt) as e:
                raise StoreError(f"event #{seq}: {e}") from e

    def _rows(
        self, after: int, batch: int, upto: int | None, topics: Sequence[str], school: str | None, span: tuple[str, str] | None
    ) -> Iterator[list[tuple[int, str, bytes]]]:
        """`read`'s rows (seq, topic, state), in batches, as the recorder selects them."""
        if span is not None and not topics:
            try:
                yield from self.recorder.stream_span(after, upto if upto is not None else 2**62, span, batch)
            except PersistenceError as e:
                raise StoreError(str(e)) from e
            return
        position = after
        while True:
            try:
                if not topics:
                    rows = self.recorder.select_rows(position, upto, batch, school)
                else:
                    rows = [
                        (n.id, n.topic, n.state)
                        for n in self.recorder.select_notifications(
                            position, batch, stop=upto, topics=topics, inclusive_of_start=False
                        )
                    ]
            except PersistenceError as e:
                raise StoreError(str(e)) from e
            if rows:
                yield rows
            if len(rows) < batch:
                return
            position = rows[-1][0]

    # -- persisted read models ---------------------------------------------------------------

    def load_view(self, name: str) -> tuple[int, int, bytes | None] | None:
        """(schema, position, state) of a saved read model, or None. The state is None when the
        saved copy does not authenticate under the key (edited by hand, moved to another
        position, damaged): the caller folds the model again and saves it in its place."""
        self._content()
        try:
            found = self.recorder.load_view(name)
        except PersistenceError as e:
            raise StoreError(str(e)) from e
        if found is None or self.encrypted is False:
            return found
        schema, position, state = found
        return schema, position, self._open_view(name, schema, position, state)

    def _open_view(self, name: str, schema: int, position: int, state: bytes) -> bytes | None:
        if self.mapper.cipher is None:
            return None  # an empty store not yet encrypted holds no saved model worth reading
        try:
            return self.mapper.cipher.decrypt(state, keys.view_aad(name, schema, position))
        except keys.CannotDecrypt:
            return None

    def save_view(self, name: str, schema: int, position: int, state: bytes, *, replace: bool = False) -> None:
        """Save a read model at a log position; a saved one further on is kept unless `replace`."""
        self._content()
        if self.encrypted is None:
            return  # an empty store, not yet encrypted: nothing worth saving
        if self.encrypted:
            state = self.mapper.cipher.encrypt(state, keys.view_aad(name, schema, position))
        try:
            self.recorder.save_view(name, schema, position, state, replace)
        except (PersistenceError, OperationalError) as e:
            raise StoreError(str(e)) from e

    def drop_views(self, keep: Sequence[str] = ()) -> None:
        """Delete the saved read models, but those named in `keep`."""
        try:
            self.recorder.drop_views(keep)
        except (PersistenceError, OperationalError) as e:
            raise StoreError(str(e)) from e

    # -- side records ------------------------------------------------------------------------
    # Secrets (password and token hashes, sessions, failed sign-ins) never enter the event log:
    # the log records that a password was set, not the password. The access log is appended
    # only, each row chained to the one before (`access_link`), like the event log.

    def get_secret(self, kind: str, key: str) -> bytes | None:
        return self._side(self.recorder.get_secret, kind, key)

    def secrets(self, kind: str) -> list[tuple[str, bytes]]:
        """(key, value) of every secret of a kind, by key."""
        return self._side(self.recorder.secrets, kind)

    def put_secret(self, kind: str, key: str, value: bytes) -> None:
        self._side(self.recorder.put_secret, kind, key, value)

    def drop_secret(self, kind: str, key: str) -> None:
        self._side(self.recorder.drop_secret, kind, key)

    def log_access(self, state: bytes) -> int:
        """Append one row to the access log; returns its place."""
        return self._side(self.recorder.log_access, state)

    def access_rows(self) -> list[tuple[int, bytes, str]]:
        """(id, state, hash) of the access log in order."""
        return self._side(self.recorder.access_rows)

    def verify_access(self) -> int | None:
        """The first access-log row whose chain does not hold (edited, removed, inserted), or None."""
        prev = chain.GENESIS
        for row_id, state, link in self.access_rows():
            if access_link(prev, state) != link:
                return row_id
            prev = link
        return None

    def _side(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except (PersistenceError, OperationalError, sqlite3.Error) as e:
            raise damage_of(e) or StoreError(str(e)) from e

    def school_rows(self, school: str, after: int = 0, upto: int | None = None, *, batch: int = 5000
                    ) -> Iterator[tuple[int, str, int, str, bytes, str | None]]:
        """One school's rows as stored, (seq, stream, version, topic, state, chain link), in log
        order after `after` up to `upto` (bundles: events/bundle.py)."""
        upto = 2**62 if upto is None else upto
        while True:
            rows = self._side(self.recorder.school_rows, school, after, upto, batch)
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def school_heads(self) -> dict[str, int]:
        """Each school's last seq (the head its commands are guarded by)."""
        return self._side(self.recorder.heads)

    def seq_of_link(self, link: str) -> int | None:
        """The seq whose chain link is `link` (a head `verify` printed), or None."""
        return self._side(self.recorder.seq_of_link, link)

    def link_before(self, seq: int) -> str:
        """The chain link of the row before `seq`: what that row's own link was made from."""
        return self._side(self.recorder.link_before, seq)

    def schools_opened(self) -> list[Event]:
        """The first event of each school's own stream (its SchoolOpened), read by key: which
        schools the store holds, without reading the log."""
        self._content()
        found = []
        try:
            for school in self.recorder.school_ids():
                stored = self.recorder.select_events(f"{school}/school", lte=1)
                if stored:
                    found.append(self.mapper.to_domain_event(stored[0]))
        except (PersistenceError, MapperDeserialisationError, keys.CannotDecrypt) as e:
            raise StoreError(str(e)) from e
        return found

    def schools_of_staff(self, staff: str) -> list[str]:
        """The schools where this staff id was ever recorded (a district store)."""
        if any(ord(c) < 32 for c in staff):
            return []  # no id holds control characters (commands refuse them); PostgreSQL refuses a NUL
        try:
            streams = self.recorder.first_streams_ending(f"/staff/{staff}")
        except PersistenceError as e:
            raise StoreError(str(e)) from e
        return sorted({school_of_stream(s) for s in streams})

    def is_empty(self) -> bool:
        return self.head() == 0

    def repair_heads(self) -> None:
        self.recorder.repair_heads()

    def verify(self, head: str | None = None, *, batch: int = 5000) -> chain.Verified:
        """The hash chain from the first event to the last (ChainBroken names the first bad
        one), then the database file itself and the heads the write side is guarded by
        (StoreDamaged): a file with overwritten pages, or a head moved by hand, fails here
        rather than at the next command.

        The chain covers the stored (encrypted) bytes, so it is checked without the key. With
        the key, every event must also decrypt, and say the stream and version it is stored
        under (ChainBroken "forged": an event written without the key, or moved to another
        row, even with the chain recomputed), and every saved read model must authenticate
        (StoreDamaged "views"). A wrong key is refused: no check can be trusted to it."""
        if isinstance(self.key_problem, keys.WrongKey):
            raise self.key_problem
        cipher = self.mapper.cipher if self.encrypted and self.key_problem is None else None
        forged: list[int] = []
        try:
            problems = self.recorder.file_problems()
        except sqlite3.DatabaseError as e:
            raise StoreDamaged("file", str(e)) from e
        if problems:
            raise StoreDamaged("file", "; ".join(problems[:3]))
        last_of: dict[str, int] = {}
        clock = _ClockCheck(self.clock())
        verified = chain.verify(self._chain_pairs(batch, last_of, clock, cipher, forged), head)
        if self.recorder.heads() != last_of:
            wrong = sorted(set(last_of.items()) ^ set(self.recorder.heads().items()))
            raise StoreDamaged("heads", ", ".join(f"{school}: {position}" for school, position in wrong[:3]))
        if forged:
            raise chain.ChainBroken(forged[0], "forged")
        if cipher is not None:
            bad = [name for name, schema, position, state in self._side(self.recorder.views)
                   if self._open_view(name, schema, position, state) is None]
            if bad:
                raise StoreDamaged("views", ", ".join(bad[:3]))
        return verified._replace(clock=tuple(clock.odd))

    def _chain_pairs(
        self,
        batch: int,
        last_of: dict[str, int] | None = None,
        clock: "_ClockCheck | None" = None,
        cipher: "keys.StoreCipher | None" = None,
        forged: list[int] | None = None,
    ) -> Iterator[tuple[int, chain.StoredRow | None, str | None]]:
        """Each seq's stored row and chain link; `last_of` collects each school's last seq,
        `clock` looks at each recording time; with `cipher`, `forged` collects the seqs whose
        event does not decrypt or names another stream or version than its row's."""
        top = self.recorder.max_ids()
        position = 0
        while position < top:
            upto = position + batch
            rows, links = self.recorder.scan(position, upto)
            if last_of is not None:
                for r in rows:
                    last_of[school_of_stream(r[1])] = r[0]
            if cipher is not None and forged is not None:
                for r in rows:
                    plain = _authentic(cipher, r)
                    if plain is None:
                        forged.append(r[0])
                    elif clock is not None:
                        clock.see(r[0], plain)
            elif clock is not None:
                for r in rows:
                    clock.see(r[0], r[4])
            by_seq = {r[0]: chain.StoredRow(*r) for r in rows}
            link_of = dict(links)
            for seq in sorted(by_seq.keys() | link_of.keys()):
                yield seq, by_seq.get(seq), link_of.get(seq)
            position = upto
