"""Who is at the keyboard: passwords, sessions, tokens, failed sign-ins (a face concern).

It hands the commands a proven actor (`Proven`). Secrets never enter the event log: password
hashes, session and token hashes and failed sign-ins are the store's side records
(`store.put_secret`, kinds below); the log records only that a password was set or a token made
(events PasswordSet, TokenCreated, TokenRevoked, recorded by the faces through the commands).

argon2 is imported only where a password is hashed or checked (start-up time matters). Tokens and
session secrets are long random strings: a SHA-256 of them is enough to keep in the store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets as _random
from pathlib import Path
from typing import Any, NamedTuple

from events.errors import Refused

PASSWORD_MIN = 8
LOCK_AFTER = 5  # wrong passwords for one id ...
LOCK_WINDOW = dt.timedelta(minutes=15)  # ... within this time ...
LOCK_FOR = dt.timedelta(minutes=15)  # ... lock it for this long
SESSION_IDLE = dt.timedelta(hours=12)  # a session expires this long after its last use
SESSION_TOUCH = dt.timedelta(minutes=1)  # its last use is written at most this often
TOKEN_DAYS = 90  # a token's life when --days is not given
TOKEN_DAYS_RANGE = range(1, 3651)
FAILURES_KEPT = dt.timedelta(days=90)
TOKEN_PREFIX = "ct_"

# the side records' kinds
PASSWORD, SESSION, TOKEN, FAILURE = "password", "session", "token", "signin_failure"


class Proven(NamedTuple):
    """A staff member whose identity the face has proven, and how."""

    staff: str
    via: str  # "session" | "token" | "ssh" | "web" (a browser's process: careterm/web.py)
    school: str | None = None  # a district store: the school they belong to (None: the store's only one)


class NotSignedIn(Exception):
    """Exit 4: not signed in, wrong credentials, a locked id, an expired session or token, a
    staff member who left, or --as naming someone else. `reason` picks the sentence; none of
    them says whether the id or the password was wrong."""

    REASONS = ("none", "failed", "locked", "expired", "mismatch", "change_password")

    def __init__(self, reason: str = "none", **params: Any):
        assert reason in self.REASONS, reason
        super().__init__(reason)
        self.reason = reason
        self.params = params


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _dump(value: dict) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")


def _load(raw: bytes | None) -> dict | None:
    return None if raw is None else json.loads(raw.decode("utf-8"))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def person_key(school: str, staff: str) -> str:
    return f"{school}/{staff}"


# --- passwords ------------------------------------------------------------------------------


def _hasher():
    from argon2 import PasswordHasher  # lazily: only the commands that hash or check

    return PasswordHasher()  # argon2id with the library's parameters as shipped


def check_new_password(password: str, field: str = "--password") -> str:
    """A new password: at least PASSWORD_MIN characters, one line."""
    if len(password) < PASSWORD_MIN:
        raise Refused(field, "password_too_short", low=PASSWORD_MIN)
    if any(c in password for c in "\r\n\x00"):
        raise Refused(field, "control_character", value="")
    return password


def hash_password(password: str) -> str:
    return _hasher().hash(check_new_password(password))


def set_password(store, school: str, staff: str, password: str | None = None, *, hashed: str | None = None,
                 once: bool = False, now: dt.datetime | None = None) -> None:
    """Keep a staff member's password (its argon2id hash; `hashed` reuses one already made, as
    the demo does for its 44 staff). Their sessions end: a new password shuts out whoever knew
    the old one."""
    hashed = hashed or hash_password(password or "")
    record = {"hash": hashed, "once": bool(once), "set_at": (now or now_utc()).isoformat()}
    store.put_secret(PASSWORD, person_key(school, staff), _dump(record))
    end_sessions(store, school, staff)


def password_record(store, school: str, staff: str) -> dict | None:
    return _load(store.get_secret(PASSWORD, person_key(school, staff)))


# a hash of a password nobody has: an unknown id is checked as long as a known one
_NOBODY = "$argon2id$v=19$m=65536,t=3,p=4$ESF1vUzYqikEAaVHhP0iMw$/+W+B8+9hVZ4pydBMTDsOmusxce2kvpyRDOkvrT//Ws"


def _matches(hashed: str, password: str) -> bool:
    from argon2.exceptions import Argon2Error, InvalidHashError

    try:
        return _hasher().verify(hashed, password)
    except (Argon2Error, InvalidHashError, ValueError):
        return False


def sign_in(store, school: str, staff: str, password: str, *, current: bool, now: dt.datetime | None = None) -> dict:
    """Check a staff member's password; returns their password record. `current`: they are
    staff of that school now (one who left, or an unknown id, fails like a wrong password).
    Every failure is noted; the id is locked after LOCK_AFTER in LOCK_WINDOW."""
    now = now or now_utc()
    until = locked_until(store, school, staff, now)
    if until is not None:
        note_failure(store, school, staff, now, locked=True)
        raise NotSignedIn("locked", until=until)
    record = password_record(store, school, staff) if current else None
    good = _matches(record["hash"] if record else _NOBODY, password) and record is not None
    if not good:
        note_failure(store, school, staff, now)
        if locked_until(store, school, staff, now) is not None:
            raise NotSignedIn("locked")
        raise NotSignedIn("failed")
    return record


# --- failed sign-ins and the lock -------------------------------------------------------------


def note_failure(store, school: str, staff: str, now: dt.datetime, *, locked: bool = False) -> None:
    import uuid  # here: it costs every command line 3 ms at start-up

    key = f"{person_key(school, staff)}/{now.isoformat()}/{uuid.uuid4().hex[:8]}"
    store.put_secret(FAILURE, key, _dump({"school": school, "staff": staff, "at": now.isoformat(), "locked": locked}))
    for old_key, raw in store.secrets(FAILURE):  # the old ones go: leaders look at recent weeks
        if _when(_load(raw)["at"]) < now - FAILURES_KEPT:
            store.drop_secret(FAILURE, old_key)


def failures(store, school: str | None = None, staff: str | None = None) -> list[dict]:
    """Failed sign-ins, oldest first (of one school, of one id)."""
    rows = [_load(raw) for _, raw in store.secrets(FAILURE)]
    rows = [r for r in rows if (school is None or r["school"] == school) and (staff is None or r["staff"] == staff)]
    return sorted(rows, key=lambda r: r["at"])


def lock_end(times: list[dt.datetime]) -> dt.datetime | None:
    """When the lock made by these failure times ends, or None if they never made one: each run
    of LOCK_AFTER failures within LOCK_WINDOW locks for LOCK_FOR from its last failure."""
    times = sorted(times)
    ends = [
        times[i] + LOCK_FOR
        for i in range(LOCK_AFTER - 1, len(times))
        if times[i] - times[i - LOCK_AFTER + 1] <= LOCK_WINDOW
    ]
    return max(ends) if ends else None


def locked_until(store, school: str, staff: str, now: dt.datetime) -> dt.datetime | None:
    recent = [
        _when(r["at"]) for r in failures(store, school, staff)
        if not r.get("locked") and _when(r["at"]) > now - LOCK_WINDOW - LOCK_FOR
    ]
    end = lock_end(recent)
    return end if end is not None and end > now else None


# --- sessions ---------------------------------------------------------------------------------


def store_identity(url: str) -> str:
    """The same store however it is named: a SQLite file by its real path, a server by its URL
    without the password."""
    from urllib.parse import urlparse, urlunparse

    from events.store import is_postgres

    if is_postgres(url):
        u = urlparse(url)
        if u.password:
            u = u._replace(netloc=u.netloc.replace(f":{u.password}@", "@"))
        return urlunparse(u)
    return os.path.realpath(os.path.expanduser(url))


def session_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir("careterm", appauthor=False)) / "sessions"


def session_path(url: str) -> Path:
    return session_dir() / f"{_sha(store_identity(url))[:32]}.json"


def _uid() -> int:
    return os.getuid() if hasattr(os, "getuid") else 0


def open_session(store, url: str, school: str, staff: str, *, now: dt.datetime | None = None) -> Path:
    """A session for this OS user on this store: a random secret in a file only its owner can
    read, its hash in the store."""
    now = now or now_utc()
    secret = _random.token_urlsafe(32)
    path = session_path(url)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    old = _read_session_file(path, strict=False)
    if old:
        store.drop_secret(SESSION, _sha(old))
    tmp = path.with_name(path.name + f".{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"store": store_identity(url), "secret": secret}, f)
    os.replace(tmp, path)
    record = {"school": school, "staff": staff, "uid": _uid(), "started": now.isoformat(), "last_used": now.isoformat()}
    store.put_secret(SESSION, _sha(secret), _dump(record))
    return path


def _read_session_file(path: Path, *, strict: bool = True) -> str | None:
    """The session's secret, or None. A file another OS user owns, or that others may read or
    write (a copy), is no session (strict: said as exit 4)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    if info.st_uid != _uid() or info.st_mode & 0o077:
        if strict:
            raise NotSignedIn("failed")
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return str(json.load(f)["secret"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def session_identity(store, url: str, *, now: dt.datetime | None = None) -> Proven | None:
    """The session of this OS user on this store, or None when there is none. An expired one,
    or one started by another OS user, is exit 4."""
    now = now or now_utc()
    secret = _read_session_file(session_path(url))
    if secret is None:
        return None
    key = _sha(secret)
    record = _load(store.get_secret(SESSION, key))
    if record is None:
        raise NotSignedIn("expired")
    if record.get("uid") != _uid():
        raise NotSignedIn("failed")
    last = _when(record["last_used"])
    if now - last > SESSION_IDLE:
        store.drop_secret(SESSION, key)
        raise NotSignedIn("expired")
    if now - last > SESSION_TOUCH:
        store.put_secret(SESSION, key, _dump(dict(record, last_used=now.isoformat())))
    return Proven(record["staff"], "session", record["school"])


def close_session(store, url: str) -> bool:
    """Sign out: the session's record and file go. False when there was none."""
    path = session_path(url)
    secret = _read_session_file(path, strict=False)
    if secret is not None:
        store.drop_secret(SESSION, _sha(secret))
    try:
        path.unlink()
    except FileNotFoundError:
        return secret is not None
    return True


def end_sessions(store, school: str, staff: str) -> None:
    for key, raw in store.secrets(SESSION):
        record = _load(raw)
        if record["school"] == school and record["staff"] == staff:
            store.drop_secret(SESSION, key)


# --- tokens -----------------------------------------------------------------------------------


def token_days(days: int | None) -> int:
    days = TOKEN_DAYS if days is None else days
    if days not in TOKEN_DAYS_RANGE:
        raise Refused("--days", "out_of_range", value=days, low=TOKEN_DAYS_RANGE.start, high=TOKEN_DAYS_RANGE.stop - 1)
    return days


def new_token(store, school: str, staff: str, name: str, expires: dt.datetime, *, now: dt.datetime | None = None) -> str:
    """A token for scripts, acting as its maker; only its hash is kept."""
    token = TOKEN_PREFIX + _random.token_urlsafe(32)
    record = {"school": school, "staff": staff, "name": name, "created": (now or now_utc()).isoformat(),
              "expires": expires.isoformat()}
    store.put_secret(TOKEN, _sha(token), _dump(record))
    return token


def tokens(store, school: str | None = None, staff: str | None = None) -> list[dict]:
    rows = [_load(raw) for _, raw in store.secrets(TOKEN)]
    rows = [r for r in rows if (school is None or r["school"] == school) and (staff is None or r["staff"] == staff)]
    return sorted(rows, key=lambda r: (r["staff"], r["created"]))


def find_token(store, school: str, staff: str, name: str) -> str | None:
    """The key of one of a staff member's tokens by its name."""
    for key, raw in store.secrets(TOKEN):
        r = _load(raw)
        if (r["school"], r["staff"], r["name"]) == (school, staff, name):
            return key
    return None


def drop_token(store, key: str) -> None:
    store.drop_secret(TOKEN, key)


def token_identity(store, token: str, *, now: dt.datetime | None = None) -> Proven:
    """Who a token acts as. An unknown (or revoked) token fails; an expired one too."""
    now = now or now_utc()
    record = _load(store.get_secret(TOKEN, _sha(token.strip()))) if token.strip() else None
    if record is None:
        raise NotSignedIn("failed")
    if _when(record["expires"]) <= now:
        raise NotSignedIn("expired")
    return Proven(record["staff"], "token", record["school"])


__all__ = ["NotSignedIn", "Proven", "PASSWORD_MIN", "check_new_password", "hash_password", "set_password",
           "sign_in", "open_session", "session_identity", "close_session", "new_token", "token_identity",
           "tokens", "failures", "locked_until"]
