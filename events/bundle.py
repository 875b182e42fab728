"""Bundles: one school's entries carried, as stored, from one store to another (a village
school's SQLite file to the district's store, on a USB stick or over a poor link).

What a bundle holds (`Contents`): the school's rows of the exporting store after a head (a link
of its hash chain, as `verify` prints it, or the beginning), each exactly as stored (stream,
version, topic, the encrypted state) with its place and chain link in the exporting store; where
the school's entries before that head stand (how many, and their *school chain*, below); and the
school's accounts (side records of the kinds the caller names: the password hashes). Nothing
else: no session, token, failed sign-in or access-log row.

The file (format version 1): a first line, a JSON header
`{"format": "careterm-bundle", "version": 1, "key": KEY_CHECK}`, then the *sealed body*: a
12-byte nonce and the AES-256-GCM ciphertext and tag of the zlib-compressed msgpack of
`Contents`, the header line as associated data.

Why sealed with the data key, rather than the chain with a signed manifest:
- the chain's links are plain SHA-256: anyone can recompute them, so the chain alone shows that
  rows agree with each other, not that a file is the one a school made. A signature needs a key
  pair per school and somewhere to keep and trust the public keys. The county already shares one
  secret between exactly the stores that may exchange bundles: the data key (every store of the
  county must use the same key file, or the district could not read a village's entries at all);
- one tag over the whole file is checked before anything in it is parsed: a bundle altered,
  cut short or spliced from two in transit is refused whole, and nothing is written;
- the accounts (argon2 hashes) and the stream names (pupil and staff ids) are not covered by the
  events' own encryption: sealed, a lost stick shows nothing but the header;
- the seal's key is derived from the data key (an HMAC of a fixed text), so no bundle
  ciphertext is ever made under the key of the events themselves.
The header names the key by its check value (`keys.key_check`, what a store keeps already), so
a bundle sealed under another key is told apart from an altered one.

Inside the seal the rows keep their chain links: the receiver recomputes each (from the link
before it, `Row.prev` when other schools' rows came between) so a bundle's rows are the
exporting store's very rows, and its `head` is a link of that store's chain, the one to give as
`--since` next time.

*The school chain.* Seqs differ between stores (the district's log holds other schools), so
what a store holds of a school is compared by content: the school's rows in log order, each
link `school_link(prev, row)` a SHA-256 over the previous link, the stream, version, topic and
stored bytes, never the seq. The bundle carries the school chain of the entries before its
first row and 8 bytes of each of their links (`before_marks`), so the receiver can tell that
what it holds is the same school up to the bundle's start, and name the first entry where the
two stores part (a school whose id clashes parts at its first entry).

An import (`import_bundle`) appends the rows the receiving store does not hold yet, in one
transaction under the school's head guard (`Store.append_stored`: new seqs and chain links in
that store, every row decrypting under its key), then takes the accounts the caller's policy
accepts. It writes nothing when the bundle is refused (events.errors.Refused naming FILE): not
a bundle, another format version, sealed with another key, altered, a gap (the bundle starts
after what the store holds), or diverged (the first differing entry named).

No Textual, no careterm: this is the lowest layer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import zlib
from pathlib import Path
from typing import Callable, Iterator, NamedTuple, Sequence

import msgspec
from eventsourcing.persistence import IntegrityError, MapperDeserialisationError

from events import chain, keys
from events.errors import Refused
from events.store import CIPHER_SECRET, HeadMoved, Store, StoreError, school_of_stream

FORMAT = "careterm-bundle"
VERSION = 1
MARK_BYTES = 8  # of each earlier entry's school link: enough to find where two stores part
_SEAL_INFO = b"careterm bundle seal v1"
_HEADER_MAX = 1024
FIELD = "FILE"  # a refused bundle names the import's file


class Row(msgspec.Struct, array_like=True, frozen=True):
    seq: int  # its place in the exporting store's log
    stream: str
    version: int
    topic: str
    state: bytes  # as stored: encrypted under the data key
    link: str  # the exporting store's chain link after it
    prev: str | None = None  # the link before it, when that is not the previous row's


class Account(msgspec.Struct, array_like=True, frozen=True):
    kind: str
    key: str
    value: bytes


class Contents(msgspec.Struct, frozen=True, kw_only=True):
    school: str
    made_at: dt.datetime
    since: str  # the exporting store's head the rows follow (chain.GENESIS: the beginning)
    before: int  # the school's entries up to `since`
    before_hash: str  # their school chain
    before_marks: bytes  # MARK_BYTES of each one's school link, in order
    head: str  # the exporting store's link after the last row (`since` when there is none)
    rows: list[Row]
    accounts: list[Account]


class Imported(NamedTuple):
    school: str
    added: int  # entries appended now
    head: str  # the exporting store's head the receiving store now holds the school up to
    held: int  # entries of the school the store held before
    accounts: list[Account]  # accounts taken


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Contents)


def school_link(prev: str, stream: str, version: int, topic: str, state: bytes) -> str:
    """One link of a school's chain: the same in every store that holds the same rows."""
    h = hashlib.sha256()
    h.update(prev.encode())
    h.update(b"%s\n%d\n%s\n" % (stream.encode(), version, topic.encode()))
    h.update(state)
    return h.hexdigest()


# --- the seal -----------------------------------------------------------------------------------


def _store_key(store: Store) -> bytes:
    """The data key of the store (its key file's, checked against the store's key check value).
    An empty store not yet encrypted takes the key file's key (it will be encrypted with it)."""
    if store.key_problem is not None:
        raise store.key_problem
    if store.encrypted is False:
        raise Refused("--store", "bundle_plaintext")
    key = keys.read_key(store.key_path)
    check = store.get_secret(*CIPHER_SECRET)
    if check is not None and keys.key_check(key) != check:
        raise keys.WrongKey(store.key_path)
    return key


def _seal_cipher(key: bytes):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(hmac.new(key, _SEAL_INFO, hashlib.sha256).digest())


def _header(key: bytes) -> bytes:
    text = {"format": FORMAT, "version": VERSION, "key": keys.key_check(key).decode("ascii")}
    return json.dumps(text, sort_keys=True).encode("ascii") + b"\n"


def seal(store: Store, contents: Contents) -> bytes:
    """The bundle's bytes: header line, nonce, sealed body."""
    key = _store_key(store)
    header = _header(key)
    nonce = os.urandom(keys.NONCE_BYTES)
    body = zlib.compress(_encoder.encode(contents), 6)
    return header + nonce + _seal_cipher(key).encrypt(nonce, body, header)


def unseal(store: Store, data: bytes) -> Contents:
    """The contents of a bundle made under this store's key; Refused(FILE) if it is not one."""
    from cryptography.exceptions import InvalidTag

    end = data.find(b"\n", 0, _HEADER_MAX)
    try:
        header = json.loads(data[:end]) if end > 0 else None
    except (UnicodeDecodeError, ValueError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise Refused(FIELD, "bundle_not_a_bundle")
    if header.get("version") != VERSION:
        raise Refused(FIELD, "bundle_version", version=str(header.get("version"))[:16], known=VERSION)
    key = _store_key(store)
    if header.get("key") != keys.key_check(key).decode("ascii"):
        raise Refused(FIELD, "bundle_other_key", path=str(store.key_path))
    head = data[: end + 1]
    sealed = data[end + 1 :]
    if len(sealed) < keys.NONCE_BYTES + keys.TAG_BYTES:
        raise Refused(FIELD, "bundle_altered")
    try:
        body = _seal_cipher(key).decrypt(sealed[: keys.NONCE_BYTES], sealed[keys.NONCE_BYTES :], head)
    except InvalidTag:
        raise Refused(FIELD, "bundle_altered") from None
    try:
        return _decoder.decode(zlib.decompress(body))
    except (zlib.error, msgspec.DecodeError, msgspec.ValidationError):
        raise Refused(FIELD, "bundle_altered") from None  # sealed by us, yet unreadable: not ours


def read_file(path: str | os.PathLike) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        raise Refused(FIELD, "unreadable_file", path=str(path)) from None


def write_file(path: str | os.PathLike, data: bytes, field: str = "--out") -> None:
    """The bundle whole or not at all (written aside, then moved into place), 0600: it holds
    the school's records and password hashes, sealed. An existing file is replaced only if it is
    a bundle (never the store, never another file)."""
    target = Path(path)
    if target.is_dir():
        raise Refused(field, "unwritable_file", path=str(path))
    if target.exists():
        try:
            with open(target, "rb") as f:
                first = f.readline(_HEADER_MAX)
            known = json.loads(first).get("format") == FORMAT
        except (OSError, ValueError, AttributeError):
            known = False
        if not known:
            raise Refused(field, "bundle_out_exists", path=str(path))
    aside = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(aside, target)
    except OSError:
        try:
            os.unlink(aside)
        except OSError:
            pass
        raise Refused(field, "unwritable_file", path=str(path)) from None


# --- exporting ----------------------------------------------------------------------------------


def export(store: Store, school: str, *, since: str | None = None, account_kinds: Sequence[str] = ()) -> Contents:
    """The school's rows after `since` (a head of this store's chain; None: from the beginning),
    up to the log's head when called, with the school chain of those before it and the school's
    accounts of `account_kinds` (side records keyed `SCHOOL/…`). A row whose stored chain link
    does not follow is chain.ChainBroken: a damaged store exports nothing."""
    since = (since or chain.GENESIS).strip().lower()
    since_seq = 0
    if since != chain.GENESIS:
        found = store.seq_of_link(since)
        if found is None:
            raise Refused("--since", "bundle_unknown_head", head=since[:64])
        since_seq = found
    top = store.head()
    before, before_hash, marks = 0, chain.GENESIS, bytearray()
    for _seq, stream, version, topic, state, _link in store.school_rows(school, 0, since_seq):
        before_hash = school_link(before_hash, stream, version, topic, state)
        marks += bytes.fromhex(before_hash[: 2 * MARK_BYTES])
        before += 1
    rows: list[Row] = []
    last, last_seq = since, since_seq
    for seq, stream, version, topic, state, link in store.school_rows(school, since_seq, top):
        prev = last if seq == last_seq + 1 else store.link_before(seq)  # other schools' rows between
        if link is None or chain.link(prev, chain.StoredRow(seq, stream, version, topic, state)) != link:
            raise chain.ChainBroken(seq, "altered" if link is not None else "inserted")
        rows.append(Row(seq, stream, version, topic, state, link, None if prev == last else prev))
        last, last_seq = link, seq
    accounts = [
        Account(kind, key, value)
        for kind in account_kinds
        for key, value in store.secrets(kind)
        if key.startswith(f"{school}/")
    ]
    return Contents(
        school=school, made_at=store.clock().astimezone(dt.timezone.utc), since=since, before=before,
        before_hash=before_hash, before_marks=bytes(marks), head=last, rows=rows, accounts=accounts,
    )


# --- importing ----------------------------------------------------------------------------------


def check(store: Store, contents: Contents) -> None:
    """The bundle's own consistency (Refused FILE "bundle_altered", naming the row if one is at
    fault): its rows are of its school and follow each other on the exporting store's chain from
    `since` to `head`; its accounts are its school's. (Each row appended must also decrypt under
    the store's key and name its row: `Store.append_stored`.)"""
    school = contents.school
    if not school or "/" in school or len(contents.before_marks) != MARK_BYTES * contents.before:
        raise Refused(FIELD, "bundle_altered")
    last = contents.since
    for row in contents.rows:
        prev = row.prev or last
        stored = chain.StoredRow(row.seq, row.stream, row.version, row.topic, row.state)
        if school_of_stream(row.stream) != school or chain.link(prev, stored) != row.link:
            raise Refused(FIELD, "bundle_altered_row", seq=row.seq)
        last = row.link
    if last != contents.head or any(not a.key.startswith(f"{school}/") for a in contents.accounts):
        raise Refused(FIELD, "bundle_altered")


class _Plan(NamedTuple):
    school_head: int  # the school's last seq in the receiving store when compared
    held: int
    add: list[Row]


def _plan(store: Store, contents: Contents) -> _Plan:
    """What the store lacks of the bundle, or Refused: a gap, or where the two have parted."""
    school = contents.school
    school_head = store.school_heads().get(school, 0)
    before, rows, marks = contents.before, contents.rows, contents.before_marks
    link, held = chain.GENESIS, 0
    for seq, stream, version, topic, state, _ in store.school_rows(school, 0, school_head):
        link = school_link(link, stream, version, topic, state)
        if held < before:
            same = bytes.fromhex(link[: 2 * MARK_BYTES]) == marks[held * MARK_BYTES : (held + 1) * MARK_BYTES]
            if same and held == before - 1:
                same = link == contents.before_hash
        elif held - before < len(rows):
            row = rows[held - before]
            same = (row.stream, row.version, row.topic, row.state) == (stream, version, topic, bytes(state))
        else:
            same = True  # the store holds more than the bundle (a later bundle's entries)
        if not same:
            _diverged(store, school, held, seq, stream, version)
        held += 1
    if held < before:
        raise Refused(FIELD, "bundle_gap", school=school, held=held, before=before)
    return _Plan(school_head, held, rows[held - before :])


def _diverged(store: Store, school: str, index: int, seq: int, stream: str, version: int) -> None:
    if index == 0:  # another school under the same id
        name = ""
        for _, event in store.read(seq - 1, upto=seq):
            name = getattr(event, "name", "") or ""
        raise Refused(FIELD, "bundle_other_school", school=school, name=name)
    raise Refused(FIELD, "bundle_diverged", school=school, entry=index + 1, seq=seq, stream=stream, version=version)


def import_bundle(
    store: Store,
    contents: Contents,
    *,
    take: Callable[[Account, bytes | None], bool] = lambda account, old: True,
    attempts: int = 5,
) -> Imported:
    """Append what the store lacks of the bundle's school, then the accounts `take` accepts
    (given each account and the store's record of it, or None). Importing a bundle again adds
    nothing. Refused (nothing written) as the module says."""
    check(store, contents)
    for attempt in range(attempts):
        plan = _plan(store, contents)
        try:
            store.append_stored(
                [(r.stream, r.version, r.topic, r.state) for r in plan.add],
                expected_head=plan.school_head, school=contents.school,
            )
            break
        except HeadMoved:  # someone wrote to the school meanwhile: compare again
            if attempt == attempts - 1:
                raise StoreError("cannot write to the store: the school's entries kept changing") from None
        except IntegrityError:  # a stream version taken meanwhile: compare again (it diverged)
            if attempt == attempts - 1:
                raise
        except keys.CannotDecrypt:
            raise Refused(FIELD, "bundle_altered") from None
    taken = []
    for account in contents.accounts:
        old = store.get_secret(account.kind, account.key)
        if old != account.value and take(account, old):
            store.put_secret(account.kind, account.key, account.value)
            taken.append(account)
    return Imported(contents.school, len(plan.add), contents.head, plan.held, taken)


def events_of(store: Store, contents: Contents, topics: Sequence[str] = ()) -> Iterator[tuple[int, object]]:
    """The bundle's entries decoded (with `topics`: only those), numbered from 1 (the caller
    folds them: who may import a school the store does not hold yet, which accounts the school's
    entries vouch for). Refused FILE naming a row that does not decrypt."""
    own = None if store.mapper.cipher is not None else keys.StoreCipher(_store_key(store))  # an empty store
    decoders: dict[str, Callable[[bytes], object]] = {}
    for i, row in enumerate(contents.rows, start=1):
        if topics and row.topic not in topics:
            continue
        try:
            decode = decoders.get(row.topic) or decoders.setdefault(row.topic, store.mapper.decoder(row.topic, None))
            yield i, decode(own.decrypt(row.state, keys.event_aad(row.topic)) if own else row.state)
        except (keys.CannotDecrypt, MapperDeserialisationError, msgspec.DecodeError, msgspec.ValidationError, ValueError):
            raise Refused(FIELD, "bundle_altered_row", seq=row.seq) from None
