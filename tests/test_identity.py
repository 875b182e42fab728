"""Signing in for real (cli.md "Signing in, permissions and privacy"; careterm/identity.py):
passwords, sessions, tokens, the lock, --as as an expectation only, exit 4 never saying which part
was wrong, and the attempts to act as someone else that must fail.

Every run is the real program as a subprocess on a copy of the base school (test_cli); a test's
own XDG_STATE_HOME keeps its sessions apart. The hashes are argon2id with the shipped parameters.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil

import pytest

from test_cli import TEST_PASSWORD, careterm, sqlite_base  # noqa: F401 - the base school, built once

PW = "correct-horse-1"


@pytest.fixture
def store(sqlite_base, tmp_path):  # noqa: F811
    url = str(tmp_path / "s.sqlite")
    shutil.copy(sqlite_base.url, url)
    return url


@pytest.fixture
def state(tmp_path):
    """This OS user's own state directory (its sessions), for this test only."""
    path = tmp_path / "state"
    path.mkdir()
    return {"XDG_STATE_HOME": str(path)}


def run(store, *args, state, input=None, token=None, actor=None):
    env = dict(state)
    if token:
        env["CARETERM_TOKEN"] = token
    elif actor is None:
        env["CARETERM_TOKEN"] = ""  # no test token: only what the test itself proves
    return careterm(*args, store=store, env=env, input=input, actor=actor)


def login(store, staff, password, state, *extra):
    return run(store, "login", staff, "--password-stdin", *extra, state=state, input=password + "\n")


def set_password(store, staff, password, *, by="admin", once=False):
    """An admin (signed in by the test helper's token) sets someone's password."""
    r = careterm("staff", "password", staff, "--password-stdin", *(["--once"] if once else []),
                 store=store, actor=by, input=password + "\n")
    assert r.code == 0, r
    return r


def test_init_sets_the_first_admins_password_and_login_whoami_logout(tmp_path, state):
    """init --password-stdin: the founder signs in with it; whoami says who and how; logout
    ends it (then exit 4)."""
    url = str(tmp_path / "new.sqlite")
    r = careterm("init", "--school", "石砚小学", "--password-stdin", store=url, actor="boss", input=PW + "\n")
    assert r.code == 0, r
    assert run(url, "archive", state=state).code == 4
    assert login(url, "boss", PW, state).code == 0
    who = run(url, "whoami", "--json", state=state)
    assert who.code == 0, who
    assert who.json() == {"staff": "boss", "name": "boss", "roles": ["admin", "leader"], "school": "s1", "via": "session"}
    assert run(url, "logout", state=state).code == 0
    assert run(url, "whoami", state=state).code == 4


def test_init_refuses_a_short_password_and_makes_nothing(tmp_path):
    """At least 8 characters: 7 are refused naming the password (exit 1), no store is left."""
    url = tmp_path / "new.sqlite"
    r = careterm("init", "--school", "x", "--password-stdin", store=str(url), actor="boss", input="1234567\n")
    assert r.code == 1 and "8" in r.err, r
    assert not url.exists()


def test_the_session_file_is_the_owners_only_and_a_copy_is_refused(store, state):
    """The session file is 0600 in a 0700 directory; opened up to others (as a copied file
    often is) it is no session: exit 4."""
    set_password(store, "T1", PW)
    assert login(store, "T1", PW, state).code == 0
    [path] = list((__import__("pathlib").Path(state["XDG_STATE_HOME"]) / "careterm" / "sessions").iterdir())
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert run(store, "whoami", state=state).code == 0
    os.chmod(path, 0o644)
    assert run(store, "whoami", state=state).code == 4


def test_a_session_file_of_another_os_user_is_refused(store, state, tmp_path):
    """A session record remembers the OS user that opened it: the same file under another uid's
    record (simulated by rewriting the record's uid, trusted test code) is refused, exit 4."""
    from careterm import identity as I
    from events.store import Store

    set_password(store, "T1", PW)
    assert login(store, "T1", PW, state).code == 0
    with Store(store) as st:
        [(key, raw)] = st.secrets(I.SESSION)
        record = json.loads(raw)
        st.put_secret(I.SESSION, key, json.dumps(dict(record, uid=record["uid"] + 1)).encode())
    assert run(store, "whoami", state=state).code == 4


def test_a_session_expires_12_hours_after_its_last_use(store, state):
    """last_used 12 h 1 min ago: exit 4 saying it expired (the record's time moved back by the
    test); 11 h 59 min ago it still holds."""
    from careterm import identity as I
    from events.store import Store

    set_password(store, "T1", PW)
    assert login(store, "T1", PW, state).code == 0

    def last_used(ago: dt.timedelta) -> None:
        with Store(store) as st:
            [(key, raw)] = st.secrets(I.SESSION)
            when = dt.datetime.now(dt.timezone.utc) - ago
            st.put_secret(I.SESSION, key, json.dumps(dict(json.loads(raw), last_used=when.isoformat())).encode())

    last_used(dt.timedelta(hours=11, minutes=59))
    assert run(store, "whoami", state=state).code == 0
    last_used(dt.timedelta(hours=12, minutes=1))
    r = run(store, "whoami", state=state, )
    assert r.code == 4 and "过期" in r.err, r


def test_wrong_id_and_wrong_password_say_the_same(store, state):
    set_password(store, "T1", PW)
    wrong_pw = login(store, "T1", "not-the-password", state)
    wrong_id = login(store, "NOBODY", PW, state)
    gone = login(store, "GONE", PW, state)
    assert wrong_pw.code == wrong_id.code == gone.code == 4
    assert wrong_pw.err == wrong_id.err == gone.err, (wrong_pw, wrong_id, gone)


def test_five_wrong_passwords_in_15_minutes_lock_the_id(store, state):
    """Five wrong passwords: the sixth try, even with the right password, is exit 4 (locked);
    another id is not locked; the leader sees the six attempts in `signins`, a teacher may not."""
    set_password(store, "T1", PW)
    set_password(store, "T2", PW)
    for _ in range(5):
        assert login(store, "T1", "wrong-password", state).code == 4
    locked = login(store, "T1", PW, state)
    assert locked.code == 4 and "锁定" in locked.err, locked
    assert login(store, "T2", PW, state).code == 0
    seen = careterm("signins", "--json", store=store, actor="L1")
    assert seen.code == 0, seen
    rows = [r for r in seen.json()["signins"] if r["staff"] == "T1"]
    assert len(rows) == 6 and [r["locked"] for r in rows] == [False] * 5 + [True]
    assert careterm("signins", store=store, actor="T3").code == 1


def test_lock_end_rule():
    """Worked by hand: failures at minutes 0, 1, 2, 3, 4 lock until minute 19 (the fifth + 15);
    five spread over 16 minutes (0, 4, 8, 12, 16) lock nothing; four lock nothing."""
    from careterm.identity import lock_end

    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    m = lambda n: t0 + dt.timedelta(minutes=n)  # noqa: E731
    assert lock_end([m(i) for i in range(5)]) == m(19)
    assert lock_end([m(0), m(4), m(8), m(12), m(16)]) is None
    assert lock_end([m(i) for i in range(4)]) is None


def test_once_password_must_be_changed_at_the_next_sign_in(store, state):
    """--once: login with only the given password is exit 4; with a second line (the new one)
    it signs in; the old password no longer works, the new one does. The log says both times
    that a password was set (PasswordSet, once true then false), and holds no password."""
    set_password(store, "T1", PW, once=True)
    assert login(store, "T1", PW, state).code == 4
    r = run(store, "login", "T1", "--password-stdin", state=state, input=f"{PW}\nbrand-new-pass\n")
    assert r.code == 0, r
    assert login(store, "T1", PW, state).code == 4
    assert login(store, "T1", "brand-new-pass", state).code == 0
    audit = careterm("audit", "--type", "PasswordSet", "--json", store=store, actor="admin").json()["events"]
    assert [(e["actor"], e["subject"]) for e in audit] == [("admin", "staff/T1"), ("T1", "staff/T1")]
    raw = open(store, "rb").read()
    for secret in (PW, "brand-new-pass"):
        assert secret.encode() not in raw


def test_a_teacher_may_set_only_their_own_password(store, state):
    set_password(store, "T1", PW)
    assert login(store, "T1", PW, state).code == 0
    r = run(store, "staff", "password", "T2", "--password-stdin", state=state, input="sneaky-pass\n")
    assert r.code == 1 and "--as" in r.err, r
    r = run(store, "staff", "password", "T1", "--password-stdin", state=state, input="my-own-pass\n")
    assert r.code == 0, r
    assert run(store, "whoami", state=state).code == 0  # one's own change keeps one's session
    assert login(store, "T1", "my-own-pass", state).code == 0


def test_tokens_act_as_their_maker_until_revoked_or_expired(store, state):
    """token create prints it once; CARETERM_TOKEN acts as T1 (whoami via token); list shows it
    without the secret; revoked, it is exit 4; the log holds no token text."""
    set_password(store, "T1", PW)
    assert login(store, "T1", PW, state).code == 0
    made = run(store, "token", "create", "--name", "ci", "--days", "2", "--json", state=state)
    assert made.code == 0, made
    token = made.json()["token"]
    assert run(store, "logout", state=state).code == 0
    who = run(store, "whoami", "--json", state=state, token=token)
    assert who.code == 0 and who.json()["staff"] == "T1" and who.json()["via"] == "token", who
    listed = run(store, "token", "list", "--json", state=state, token=token)
    assert [t["name"] for t in listed.json()["tokens"] if not t["name"].startswith("tests-")] == ["ci"]
    assert token not in listed.out
    audit = careterm("audit", "--json", store=store, actor="admin").out
    assert token not in audit and "TokenCreated" in audit
    assert run(store, "token", "revoke", "ci", state=state, token=token).code == 0
    assert run(store, "whoami", state=state, token=token).code == 4
    assert run(store, "whoami", state=state, token="ct_made-up").code == 4


def test_an_expired_token_is_refused(store, state):
    from careterm import identity as I
    from events.store import Store

    with Store(store) as st:
        token = I.new_token(st, "s1", "T1", "old", dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1))
    r = run(store, "whoami", state=state, token=token)
    assert r.code == 4 and "过期" in r.err, r


def test_a_token_of_someone_who_left_is_refused(store, state):
    """T2's token works; after `staff leave T2` the same token is exit 4."""
    set_password(store, "T2", PW)
    assert login(store, "T2", PW, state).code == 0
    token = run(store, "token", "create", "--name", "x", "--json", state=state).json()["token"]
    assert run(store, "whoami", state=state, token=token).code == 0
    assert careterm("staff", "leave", "T2", store=store, actor="admin").code == 0
    assert run(store, "whoami", state=state, token=token).code == 4
    assert login(store, "T2", PW, state).code == 4


def test_as_names_whom_the_command_expects(store, state):
    """Signed in as T1, `--as admin` is exit 4 and nothing is written: --as gives no power."""
    set_password(store, "T1", PW)
    assert login(store, "T1", PW, state).code == 0
    before = careterm("verify", "--json", store=store).json()
    r = careterm("staff", "add", "X1", "--name", "x", store=store, actor="admin",
                 env={**state, "CARETERM_TOKEN": ""})  # the admin's name, T1's session
    assert r.code == 4, r
    r = careterm("--as", "admin", "staff", "add", "X1", "--name", "x", store=store, env={**state, "CARETERM_USER": "admin", "CARETERM_TOKEN": ""})
    assert r.code == 4, r
    assert careterm("verify", "--json", store=store).json() == before
    assert run(store, "--as", "T1", "whoami", state=state).code == 0


def test_nothing_acts_without_a_credential(store, state):
    """No session, no token: every command but the few is exit 4, whatever --as or
    CARETERM_USER say; verify and rebuild still work."""
    for args in (("archive",), ("audit",), ("history", "P1"), ("staff", "add", "X", "--name", "x"), ("whoami",)):
        r = careterm(*args, store=store, env={**state, "CARETERM_USER": "admin", "CARETERM_TOKEN": ""})
        assert r.code == 4, r
        r = careterm("--as", "admin", *args, store=store, env={**state, "CARETERM_TOKEN": ""})
        assert r.code == 4, r
    assert careterm("verify", store=store, env=state).code == 0


def test_password_hash_is_argon2id_in_the_side_records(store):
    """The hash kept is argon2id (the library's parameters), under the side record kind
    "password", never in the events."""
    from careterm import identity as I
    from events.store import Store

    set_password(store, "T1", PW)
    with Store(store) as st:
        record = I.password_record(st, "s1", "T1")
    assert record["hash"].startswith("$argon2id$") and record["once"] is False


def test_a_demo_staff_member_signs_in_with_demo1234(tmp_path, state):
    url = str(tmp_path / "demo.sqlite")
    assert careterm("demo", store=url, timeout=600).code == 0
    assert login(url, "admin", "demo1234", state).code == 0
    assert run(url, "whoami", "--json", state=state).json()["roles"] == ["admin", "leader"]
