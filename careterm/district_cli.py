"""The district's upkeep commands (cli.md "District and deployment"): `bundle export`, `bundle
import` and `backup`. The work is in events/bundle.py and events/backup.py; here: who may, and
what is printed. Imported only when one of these commands runs.

Who may (decided here, said in docs/commands.en.md):
- `bundle export`: an admin or a leader of the school, signed in at the exporting store. The
  bundle is the school's whole record (sealed with the data key, readable only by the county's
  stores), like a backup: it is not an export about a pupil, so no opening is logged per pupil.
- `bundle import`: an admin, because it brings accounts in. Signed in at the receiving store, an
  admin of the bundle's school there, or of any school of that store (the district's own
  administrator, who receives the village schools). A school the store does not hold yet has no
  account there: then its own admin proves who they are with the accounts the bundle carries
  (`--as STAFF_ID`, the password they use at the village, asked or `--password-stdin`), an admin
  of the school by the bundle's own entries. Either way the refusal is exit 1 (a role lacking)
  or exit 4 (not signed in, a wrong password).
- `backup`: as `verify` and `rebuild`, no sign-in: it copies the file, which whoever can read
  the file (and its key) can read anyway; it makes the copy consistent and checks it.

For a school the store holds already, the importer must be an admin of THAT school signed in
at the store (an admin of another school is refused, exit 1): every county store has the key
that seals bundles, so a bundle proves nothing about who made it, and it brings that school's
accounts in.

An account is taken from a bundle only when the school's entries, as they stand after the
import, vouch for it (`_vouched`): a PasswordSet of that staff member (or the founder's own
StaffJoined: `init` keeps the founder's password with it) recorded within AGREE of the
record's `set_at`, with the same `once`. A record that matches none is left out (the demo's
passwords, set with no event, stay at the village), and no account is made for an id without
such an entry (so none set after the school's last entry). A `set_at` later than the store's
clock is no record careterm made: the bundle is refused, nothing written. Then a vouched record
is taken when the store has none for that person, or the bundle's entry is later than the one
vouching for the store's record (a password changed at the village; a store record no entry
vouches for gives way to a vouched one set later); a taken one ends that person's sessions at
the receiving store, as a new password does.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from careterm import identity as I
from events.errors import Refused

EXIT_OK, EXIT_STORE = 0, 3
EXPORTERS = ("admin", "leader")
IMPORTERS = ("admin",)
# a password record is written beside its event by the same command, a moment after it (or,
# for a once password replaced at sign-in, when the sign-in began, before the new one was typed)
AGREE = dt.timedelta(minutes=5)


def _emit(s, data: dict, key: str) -> int:
    from careterm.cli import print_json

    if s.json:
        print_json(data)
    else:
        print(s.t(key, **data))
    return EXIT_OK


def _require_role(s, roles: tuple[str, ...]) -> None:
    staff = s.staff_now(s.actor)
    if staff is None or not set(roles) & set(staff.roles):
        raise Refused("--as", "actor_lacks_role", staff=s.actor, roles=list(roles))


def _broken(s, broken) -> int:
    print(f"{s.t('error')}: " + s.t("verify.bad", seq=broken.seq, problem=s.t(f"verify.{broken.problem}")), file=sys.stderr)
    return EXIT_STORE


# --- bundle export ------------------------------------------------------------------------------


def bundle_export(s) -> int:
    from events import bundle as B
    from events.chain import ChainBroken

    s.set_language()
    _require_role(s, EXPORTERS)
    store = s.store()
    school = s.school_id()
    try:
        contents = B.export(store, school, since=s.args.since, account_kinds=(I.PASSWORD,))
    except ChainBroken as broken:  # a damaged store exports nothing
        return _broken(s, broken)
    B.write_file(s.args.out, B.seal(store, contents))
    data = {"out": s.args.out, "school": school, "entries": len(contents.rows), "since": contents.since,
            "head": contents.head, "accounts": len(contents.accounts)}
    return _emit(s, data, "bundle.exported")


# --- bundle import ------------------------------------------------------------------------------


def bundle_import(s) -> int:
    from events import bundle as B

    store = s.store()
    contents = B.unseal(store, B.read_file(s.args.file))  # altered or foreign: refused before anyone is asked
    held = contents.school in s.schools()
    vouched, entries = _vouched(store, contents)  # a forged record refuses the bundle here, before anything is written
    _importer(s, store, contents, held, set(vouched))
    replaced: list[tuple[str, str]] = []

    def take(account: B.Account, old: bytes | None) -> bool:
        entry = vouched.get((account.kind, account.key))
        if entry is None:
            return False
        if old is not None:
            school, staff = account.key.split("/", 1)
            mine = _entry_of(old, entries.get(staff, []))
            # a later password entry than the store's record's own (set_at alone is the
            # bundle's word: within AGREE of the same entry it proves nothing newer)
            if not (entry > mine if mine is not None else _later(account.value, old)):
                return False
            replaced.append((school, staff))
        return True

    done = B.import_bundle(store, contents, take=take)
    for school, staff in replaced:  # a password changed at the village shuts out the old one here too
        I.end_sessions(store, school, staff)
    s.schools(refresh=True)
    s.set_language()
    data = {"school": done.school, "added": done.added, "head": done.head}
    if not s.json:
        data = dict(data, held=done.held, accounts=len(done.accounts))
    return _emit(s, data, "bundle.imported")


def _later(new: bytes, old: bytes) -> bool:
    """The bundle's password record was set after the store's."""
    try:
        return dt.datetime.fromisoformat(json.loads(new)["set_at"]) > dt.datetime.fromisoformat(json.loads(old)["set_at"])
    except (ValueError, KeyError, TypeError):
        return False


def _record(raw: bytes) -> tuple[dt.datetime, bool] | None:
    """A password record's (set_at, once), None if it is not one."""
    try:
        record = json.loads(raw)
        at = dt.datetime.fromisoformat(record["set_at"])
        return (at, record.get("once") is True) if at.tzinfo is not None and isinstance(record.get("hash"), str) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _password_entries(store, contents) -> dict[str, list[tuple[dt.datetime, bool]]]:
    """The school's entries after the import (what the store holds of it, and the bundle's
    rows) that set a password: staff id -> [(recorded_at, once)]."""
    from events import bundle as B
    from events.codec import topic_of
    from events.types import PasswordSet, StaffJoined

    school = contents.school
    topics = (topic_of(PasswordSet), topic_of(StaffJoined), StaffJoined.__name__)  # StaffJoined's schema 1 too
    found: dict[str, list[tuple[dt.datetime, bool]]] = {}
    # the school's rows by its index, only these topics decrypted (not the district's whole log)
    decode = {topic: store.mapper.decoder(topic, None) for topic in topics}
    held = (decode[topic](state) for _, _, _, topic, state, _ in store.school_rows(school) if topic in decode)
    brought = (event for _, event in B.events_of(store, contents, topics))
    for events in (held, brought):
        for event in events:
            if event.recorded_at is None:
                continue
            if isinstance(event, PasswordSet):
                found.setdefault(event.staff, []).append((event.recorded_at, event.once))
            elif isinstance(event, StaffJoined) and event.actor == event.staff:  # the founder, at init
                found.setdefault(event.staff, []).append((event.recorded_at, False))
    return found


def _entry_of(raw: bytes, entries: list[tuple[dt.datetime, bool]]) -> dt.datetime | None:
    """The recording time of the entry that vouches for a password record: the nearest within
    AGREE of its set_at with the same `once`; None when none does."""
    record = _record(raw)
    if record is None:
        return None
    at, once = record
    near = [(abs(at - recorded), recorded) for recorded, was_once in entries if was_once == once and abs(at - recorded) <= AGREE]
    return min(near)[1] if near else None


def _vouched(store, contents) -> tuple[dict[tuple[str, str], dt.datetime], dict[str, list[tuple[dt.datetime, bool]]]]:
    """The bundle's password records the school's entries vouch for, each with its entry's
    recording time (see the module), and those entries. Refused FILE, nothing written, for a
    record set after the store's clock: careterm made no such record. (One set after the
    school's last entry matches no entry: it is never taken.)"""
    from events.bundle import FIELD

    entries = _password_entries(store, contents)
    now = store.clock()
    vouched = {}
    for account in contents.accounts:
        record = _record(account.value) if account.kind == I.PASSWORD else None
        if record is None:
            continue
        staff = account.key.split("/", 1)[1]
        if record[0] > now + AGREE:
            raise Refused(FIELD, "bundle_account_future", staff=staff, at=record[0].isoformat())
        entry = _entry_of(account.value, entries.get(staff, []))
        if entry is not None:
            vouched[(account.kind, account.key)] = entry
    return vouched, entries


def _importer(s, store, contents, held: bool, vouched: set[tuple[str, str]]) -> None:
    """Settle who imports (see the module), or raise NotSignedIn / Refused."""
    from careterm.cli import sign_in

    try:
        sign_in(s)
    except I.NotSignedIn as problem:
        if held or problem.reason != "none":
            raise
        _bundle_admin(s, store, contents, vouched)
        return
    _require_role(s, IMPORTERS)
    if held and s.school_id(required=False) != contents.school:  # an admin of another school of the store
        raise Refused("--as", "bundle_not_school_admin", staff=s.actor, school=contents.school)


class _Accounts:
    """The bundle's accounts, as careterm.identity reads side records (in memory: a failed try
    is noted here and forgotten)."""

    def __init__(self, contents, vouched: set[tuple[str, str]]) -> None:
        self.records = {(a.kind, a.key): a.value for a in contents.accounts if (a.kind, a.key) in vouched}

    def get_secret(self, kind: str, key: str) -> bytes | None:
        return self.records.get((kind, key))

    def secrets(self, kind: str) -> list[tuple[str, bytes]]:
        return sorted((k, v) for (found, k), v in self.records.items() if found == kind)

    def put_secret(self, kind: str, key: str, value: bytes) -> None:
        self.records[(kind, key)] = value

    def drop_secret(self, kind: str, key: str) -> None:
        self.records.pop((kind, key), None)


def _bundle_admin(s, store, contents, vouched: set[tuple[str, str]]) -> None:
    """A school new to the store: `--as` must be an admin of it now, by the bundle's entries,
    and give the password the bundle's account holds for them (one its entries vouch for: the
    one the import takes)."""
    from zoneinfo import ZoneInfo

    from careterm.cli import _read_password
    from events import bundle as B
    from events.saved import fold

    actor = s.actor
    if not actor:
        raise I.NotSignedIn("none")
    model = fold(B.events_of(store, contents), contents.school)
    now = store.clock()
    today = now.astimezone(ZoneInfo(model.timezone or "Asia/Shanghai")).date()
    staff = model.staff.get(actor)
    current = staff is not None and (staff.left is None or staff.left > today)
    password = _read_password(s, confirm=False)
    I.sign_in(_Accounts(contents, vouched), contents.school, actor, password, current=current, now=now)
    if not set(IMPORTERS) & set(staff.roles):
        raise Refused("--as", "actor_lacks_role", staff=actor, roles=list(IMPORTERS))
    s.actor = actor


# --- backup -------------------------------------------------------------------------------------


def backup(s) -> int:
    import os

    from events import backup as K
    from events.chain import ChainBroken
    from events.store import StoreDamaged

    with_store_language(s)
    key_file = getattr(s, "key_file", None)
    s.close()  # the copy is made from the file; this process keeps no connection of its own
    try:
        done = K.backup(s.url, s.args.file, key_file=key_file)
    except (ChainBroken, StoreDamaged) as problem:  # the copy does not verify: nothing kept
        detail = s.t("verify.bad", seq=problem.seq, problem=s.t(f"verify.{problem.problem}")) \
            if isinstance(problem, ChainBroken) else s.t("store.damaged", part=s.t(f"store.part.{problem.part}"), detail=problem.detail)
        print(f"{s.t('error')}: " + s.t("backup.not_verified", detail=detail), file=sys.stderr)
        return EXIT_STORE
    from events.keys import key_path

    key = key_path(key_file)
    if os.path.realpath(os.path.dirname(os.path.abspath(done.out))) == os.path.realpath(key.parent):
        print(s.t("backup.key_beside", key_file=key, out=done.out), file=sys.stderr)
    data: dict[str, Any] = {"out": done.out, "events": done.events, "head": done.head, "verified": done.verified}
    return _emit(s, data, "backup.done")


def with_store_language(s) -> None:
    """The store's language for what is said (a PostgreSQL URL is refused without asking it)."""
    from events.store import is_postgres

    if not is_postgres(s.url):
        try:
            s.set_language()
        except Exception:  # noqa: BLE001 - a missing or damaged store is said by the backup itself
            pass
