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

An account is taken from a bundle when the store has none for that person or the bundle's
password was set later than the store's (a password changed at the village); a taken one ends
that person's sessions at the receiving store, as a new password does.
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
    _importer(s, store, contents, held)
    replaced: list[tuple[str, str]] = []

    def take(account: B.Account, old: bytes | None) -> bool:
        if account.kind != I.PASSWORD:
            return False
        if old is not None:
            if not _later(account.value, old):
                return False
            replaced.append(tuple(account.key.split("/", 1)))
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


def _importer(s, store, contents, held: bool) -> None:
    """Settle who imports (see the module), or raise NotSignedIn / Refused."""
    from careterm.cli import sign_in

    try:
        sign_in(s)
    except I.NotSignedIn as problem:
        if held or problem.reason != "none":
            raise
        _bundle_admin(s, store, contents)
        return
    _require_role(s, IMPORTERS)


class _Accounts:
    """The bundle's accounts, as careterm.identity reads side records (in memory: a failed try
    is noted here and forgotten)."""

    def __init__(self, contents) -> None:
        self.records = {(a.kind, a.key): a.value for a in contents.accounts}

    def get_secret(self, kind: str, key: str) -> bytes | None:
        return self.records.get((kind, key))

    def secrets(self, kind: str) -> list[tuple[str, bytes]]:
        return sorted((k, v) for (found, k), v in self.records.items() if found == kind)

    def put_secret(self, kind: str, key: str, value: bytes) -> None:
        self.records[(kind, key)] = value

    def drop_secret(self, kind: str, key: str) -> None:
        self.records.pop((kind, key), None)


def _bundle_admin(s, store, contents) -> None:
    """A school new to the store: `--as` must be an admin of it now, by the bundle's entries,
    and give the password the bundle's account holds for them."""
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
    I.sign_in(_Accounts(contents), contents.school, actor, password, current=current, now=now)
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
