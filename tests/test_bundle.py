"""A village school that syncs (issue 15, item 3; cli.md "District and deployment"): `bundle
export` on the village's own SQLite store, `bundle import` into the district's store (SQLite and
a real PostgreSQL server), through the real program.

The village is the demo school (`careterm demo`: school s1, 202 pupils, about 14,000 entries of
every kind, every staff member's password demo1234), built once per module. The district is a
store that already holds another school (d1, its admin "boss", a staff member and a pupil
recorded before the import), so the imported entries get other seqs there than at the village.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

from test_cli import careterm, school_today, signed_in

DEMO_PASSWORD = "demo1234"
TODAY = school_today().isoformat()


def ok(run):
    assert run.code == 0, run
    return run


def refused(run, *words: str, code: int = 1):
    assert run.code == code, run
    for word in words:
        assert word in run.err, run
    return run


@pytest.fixture(scope="module")
def demo_village(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("village") / "village.sqlite"
    ok(careterm("demo", store=str(path)))
    return path


@pytest.fixture
def village(demo_village, tmp_path) -> str:
    """A private copy of the demo village (tests write to it)."""
    dst = tmp_path / "village.sqlite"
    shutil.copyfile(demo_village, dst)
    for suffix in ("-wal", "-shm"):
        if Path(f"{demo_village}{suffix}").exists():
            shutil.copyfile(f"{demo_village}{suffix}", f"{dst}{suffix}")
    return str(dst)


def make_district(url: str) -> str:
    """School d1 opened by boss, with a staff member and a pupil: the district's own rows."""
    ok(careterm("init", "--id", "d1", "--school", "县直小学", "--name", "局长", "--date", "2025-09-01", actor="boss", store=url))
    ok(careterm("staff", "add", "T1", "--name", "王老师", "--date", "2025-09-01", actor="boss", store=url))
    ok(careterm("pupil", "add", "Q1", "--name", "小青", "--gender", "F", "--birth", "2016-03-01", "--grade", "3",
                "--class", "1", "--category", "left_behind", "--date", "2025-09-01", actor="boss", store=url))
    return url


def export(village: str, out: Path, *since: str, signin: str = "admin") -> dict:
    args = ("--since", since[0]) if since else ()
    return ok(careterm("bundle", "export", "--out", str(out), *args, "--json", store=village, signin=signin)).json()


HOLDER = object()


def import_(url: str, file: Path, *, signin: str | None | object = HOLDER, **kw):
    """The import as the district's admin boss; of a school the store holds already (s1 here),
    as that school's own admin (an admin of another school is refused)."""
    if signin is HOLDER:
        signin = "admin" if "s1" in _schools(url) else "boss"
    return careterm("bundle", "import", str(file), "--json", store=url, signin=signin, **kw)


def _schools(url: str) -> list[str]:
    from events.store import Store

    with Store(url) as store:
        return sorted(e.school for e in store.schools_opened()) if store.head() else []


def verified(url: str) -> dict:
    found = ok(careterm("verify", "--json", store=url)).json()
    assert "clock" not in found, found  # a school's own times run forward in every store
    return found


def written(url: str) -> tuple[int, list]:
    """What a refused import must leave as it was: the log's head and the password records."""
    from careterm.identity import PASSWORD
    from events.store import Store

    with Store(url) as store:
        return store.head(), store.secrets(PASSWORD)


def pupil_enrolled(url: str, **kw) -> str:
    pupils = ok(careterm("archive", "--json", store=url, signin="admin", **kw)).json()["pupils"]
    return next(p["pupil"] for p in pupils if p["status"] == "enrolled")


def talk(url: str, pupil: str, *school: str) -> None:
    ok(careterm(*school, "contact", pupil, "--kind", "talk", "--date", TODAY, store=url, signin="admin"))


# --- the round trip: the district's views of the school are the village's ----------------------------

VIEWS = [("archive",), ("stats",), ("queue",), ("compliance",), ("aid", "list"), ("staff", "list"), ("audit",)]


def _without_seq(value):
    """Each row's `seq` is its place in its own store's log: the district's log holds d1's rows
    too, so it differs, and nothing else may."""
    if isinstance(value, dict):
        return {k: _without_seq(v) for k, v in value.items() if k != "seq"}
    if isinstance(value, list):
        return [_without_seq(v) for v in value]
    return value


def _history(url: str, pupil: str, *school: str) -> dict:
    """`careterm history PUPIL --json` run by the program's main() in this process (the same
    code as the subprocess; a history reads the school's whole log, about 0.5 s each)."""
    from careterm.cli import main

    out = io.StringIO()
    with signed_in(url, "admin", "s1"), contextlib.redirect_stdout(out):
        code = main(["--store", url, *school, "history", pupil, "--as-of", TODAY, "--json"])
    assert code == 0, out.getvalue()
    return json.loads(out.getvalue())


def _covering_pupils(audit: list[dict], archive: list[dict]) -> list[str]:
    """One pupil for each kind of entry recorded about pupils, and one of each status: every
    shape a history takes. (All 202 would take three minutes per store.)"""
    chosen: dict[str, str] = {}
    for row in audit:
        kind, _, ident = row["subject"].partition("/")
        if kind == "pupil":
            chosen.setdefault(f"type:{row['type']}", ident.split("/")[0])
    for row in archive:
        chosen.setdefault(f"status:{row['status']}", row["pupil"])
    return sorted(set(chosen.values()))


def test_a_village_bundle_round_trips_and_the_views_agree(village, store_url, tmp_path):
    """The village's whole school (14,000-odd entries, 44 accounts) exported and imported by the
    district's admin (a school the district does not hold yet): added = every entry, head = the
    village's `verify` head. `verify` passes on both stores (and names no recording time:
    d1's rows come before s1's in the district's log, yet each school's times run forward).
    Then every view of s1 as of today, as the school's admin reads it, is the same JSON at the
    district as at the village (each row's own `seq` aside), and so is the history of a pupil of
    every kind of entry and every status. A staff member whose password was set at the village
    (t03, `staff password`: a PasswordSet) signs in at the district with it; one whose password
    no entry vouches for (t04: the demo sets them with no event) has no account there. Importing
    the same bundle again adds 0."""
    district = make_district(store_url)
    ok(careterm("staff", "password", "t03", "--password-stdin", store=village, signin="admin", input="t03-village\n"))
    before = verified(district)["events"]
    village_head = verified(village)
    bundle = tmp_path / "s1.bundle"
    made = export(village, bundle)
    assert made["entries"] == village_head["events"] and made["head"] == village_head["head"]
    assert made["accounts"] == 44 and made["school"] == "s1"
    assert bundle.stat().st_mode & 0o777 == 0o600

    done = ok(import_(district, bundle)).json()
    assert done == {"school": "s1", "added": village_head["events"], "head": village_head["head"]}
    assert verified(district)["events"] == before + village_head["events"]
    verified(village)

    for view in VIEWS:
        here = ok(careterm(*view, "--as-of", TODAY, "--json", store=village, signin="admin")).json()
        there = ok(careterm("--school", "s1", *view, "--as-of", TODAY, "--json", store=district, signin="admin")).json()
        assert _without_seq(there) == _without_seq(here), view
    audit = ok(careterm("audit", "--json", store=village, signin="admin")).json()["events"]
    archive = ok(careterm("archive", "--json", store=village, signin="admin")).json()["pupils"]
    pupils = _covering_pupils(audit, archive)
    assert len(pupils) >= 10, pupils
    for pupil in pupils:
        assert _without_seq(_history(district, pupil, "--school", "s1")) == _without_seq(_history(village, pupil)), pupil

    signed = ok(careterm("--school", "s1", "login", "t03", "--password-stdin", "--json", store=district,
                         input="t03-village\n")).json()
    assert signed["school"] == "s1" and signed["staff"] == "t03"
    # the demo's passwords were set with no PasswordSet: nothing vouches for them, none is taken
    refused(careterm("--school", "s1", "login", "t04", "--password-stdin", store=district, input=DEMO_PASSWORD + "\n"), code=4)
    assert ok(import_(district, bundle)).json() == {"school": "s1", "added": 0, "head": village_head["head"]}
    assert verified(district)["events"] == before + village_head["events"]


def test_a_later_bundle_extends_what_the_district_holds(village, store_url, tmp_path):
    """After the whole school, the village records two talks; `bundle export --since HEAD` (the
    head the import printed) carries those 2 entries only and adds 2; a third talk, a bundle since
    the first head (overlapping the second) adds 1, the rest being held already; each import
    again adds 0, and the district's head for s1 is each time the village's `verify` head. Both
    stores verify; the district's archive of s1 equals the village's."""
    district = make_district(store_url)
    first = tmp_path / "1.bundle"
    export(village, first)
    head = ok(import_(district, first)).json()["head"]
    pupil = pupil_enrolled(village)
    talk(village, pupil)
    talk(village, pupil)
    second = tmp_path / "2.bundle"
    assert export(village, second, head)["entries"] == 2
    done = ok(import_(district, second)).json()
    assert done["added"] == 2 and done["head"] == verified(village)["head"]
    talk(village, pupil)
    third = tmp_path / "3.bundle"
    assert export(village, third, head)["entries"] == 3
    done = ok(import_(district, third)).json()
    assert done["added"] == 1 and done["head"] == verified(village)["head"]
    for again in (first, second, third):
        assert ok(import_(district, again)).json()["added"] == 0
    verified(district)
    here = ok(careterm("archive", "--json", store=village, signin="admin")).json()
    there = ok(careterm("--school", "s1", "archive", "--json", store=district, signin="admin")).json()
    assert here == there


def test_a_bundle_of_nothing_new_adds_nothing(village, tmp_path, sqlite_url):
    """--since the village's current head: a bundle of 0 entries, whose head is that head."""
    district = make_district(sqlite_url)
    first = tmp_path / "1.bundle"
    head = export(village, first)["head"]
    ok(import_(district, first))
    empty = tmp_path / "0.bundle"
    made = export(village, empty, head)
    assert made["entries"] == 0 and made["head"] == head
    assert ok(import_(district, empty)).json() == {"school": "s1", "added": 0, "head": head}


# --- refused: nothing written ------------------------------------------------------------------------


def test_a_bundle_altered_in_transit_is_refused_and_nothing_is_written(village, store_url, tmp_path):
    """One bit flipped anywhere in the sealed body, the file cut short, or two bundles spliced:
    exit 1 naming 文件 and saying it was altered; the district's head and password records are
    as they were. A header claiming another format version is refused saying so; a file that is
    no bundle (a text file, a store) and a missing file are refused naming the file."""
    district = make_district(store_url)
    bundle = tmp_path / "s1.bundle"
    export(village, bundle)
    data = bundle.read_bytes()
    header_end = data.index(b"\n") + 1
    state = written(district)
    altered = []
    for place in (header_end + 3, len(data) // 2, len(data) - 1):
        flipped = bytearray(data)
        flipped[place] ^= 0x01
        altered.append(bytes(flipped))
    altered.append(data[: len(data) // 2])
    other = tmp_path / "other.bundle"
    pupil = pupil_enrolled(village)
    talk(village, pupil)
    export(village, other)
    other_data = other.read_bytes()
    altered.append(data[: len(data) // 2] + other_data[len(data) // 2 :])
    for i, bad in enumerate(altered):
        path = tmp_path / f"bad{i}.bundle"
        path.write_bytes(bad)
        refused(import_(district, path), "文件", "改动")
    assert written(district) == state
    version = tmp_path / "v2.bundle"
    version.write_bytes(data.replace(b'"version": 1', b'"version": 2', 1))
    refused(import_(district, version), "文件", "版本")
    text = tmp_path / "notes.txt"
    text.write_text("不是同步包\n", encoding="utf-8")
    refused(import_(district, text), "文件", "不是 careterm 同步包")
    refused(import_(district, Path(village)), "文件", "不是 careterm 同步包")
    refused(import_(district, tmp_path / "missing.bundle"), "文件", "无法读取")
    assert written(district) == state
    verified(district)


def test_a_bundle_sealed_with_another_key_is_refused_saying_so(tmp_path, sqlite_url):
    """A village whose key file is not the county's: its bundle is refused at the district
    naming the district's key file (the two must share one), nothing written."""
    other_key = tmp_path / "other.key"
    stray = str(tmp_path / "stray.sqlite")
    env = {"CARETERM_KEY_FILE": str(other_key)}
    ok(careterm("init", "--school", "另一所", "--date", "2025-09-01", actor="admin", store=stray, env=env))
    bundle = tmp_path / "stray.bundle"
    ok(careterm("bundle", "export", "--out", str(bundle), store=stray, signin="admin", env=env))
    district = make_district(sqlite_url)
    state = written(district)
    refused(import_(district, bundle), "文件", "另一把数据密钥")
    assert written(district) == state


def test_stores_that_diverged_name_the_first_conflicting_entry(village, store_url, tmp_path):
    """The district holds the whole school (N entries); then a talk is recorded for s1 at the
    district and another at the village. The village's next bundle (since the imported head) is
    refused: exit 1 naming entry N+1 of s1 and the district's seq of its own talk; nothing is
    written, and the next bundle after that is refused the same way."""
    district = make_district(store_url)
    first = tmp_path / "1.bundle"
    made = export(village, first)
    head = ok(import_(district, first)).json()["head"]
    pupil = pupil_enrolled(village)
    talk(district, pupil, "--school", "s1")
    own = ok(careterm("--school", "s1", "audit", "--json", store=district, signin="admin")).json()["events"][-1]
    talk(village, pupil)
    second = tmp_path / "2.bundle"
    export(village, second, head)
    state = written(district)
    run = refused(import_(district, second), "文件", f"第 {made['entries'] + 1} 条", f"#{own['seq']}")
    assert "s1" in run.err
    assert written(district) == state
    whole = tmp_path / "whole.bundle"
    export(village, whole)
    refused(import_(district, whole), f"第 {made['entries'] + 1} 条")
    assert written(district) == state


def test_a_bundle_that_leaves_a_gap_is_refused(village, sqlite_url, tmp_path):
    """The district holds the school up to head H0; the village records a talk (bundle since H0)
    and another (bundle since H1). The second bundle alone would leave the first talk out:
    refused naming how many the store holds and where the bundle starts; the first, then the
    second, are taken."""
    district = make_district(sqlite_url)
    first = tmp_path / "0.bundle"
    made = export(village, first)
    h0 = ok(import_(district, first)).json()["head"]
    pupil = pupil_enrolled(village)
    talk(village, pupil)
    one = tmp_path / "1.bundle"
    h1 = export(village, one, h0)["head"]
    talk(village, pupil)
    two = tmp_path / "2.bundle"
    export(village, two, h1)
    state = written(district)
    refused(import_(district, two), "文件", f"{made['entries']} 条", f"第 {made['entries'] + 1} 条之后")
    assert written(district) == state
    assert ok(import_(district, one)).json()["added"] == 1
    assert ok(import_(district, two)).json()["added"] == 1


def test_a_school_whose_id_clashes_is_refused(village, store_url, tmp_path):
    """A district store whose own school is s1 too (another school, 县直小学): the village's s1
    bundle is refused naming the id and the school already there; nothing written."""
    ok(careterm("init", "--school", "县直小学", "--name", "局长", "--date", "2025-09-01", actor="boss", store=store_url))
    bundle = tmp_path / "s1.bundle"
    export(village, bundle)
    state = written(store_url)
    refused(import_(store_url, bundle, signin="boss"), "文件", "s1", "县直小学")  # boss: this store's s1's admin
    assert written(store_url) == state


def test_export_refuses_an_unknown_head_and_a_file_that_is_not_a_bundle(village, tmp_path):
    """--since a head this store's chain does not have: refused naming --since. --out naming
    the store itself or another existing file: refused, the file untouched; an earlier bundle
    there is replaced."""
    refused(careterm("bundle", "export", "--out", str(tmp_path / "x.bundle"), "--since", "ab" * 32,
                     store=village, signin="admin"), "--since", "ab" * 32)
    assert not (tmp_path / "x.bundle").exists()
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me", encoding="utf-8")
    refused(careterm("bundle", "export", "--out", str(notes), store=village, signin="admin"), "notes.txt")
    assert notes.read_text(encoding="utf-8") == "keep me"
    size = Path(village).stat().st_size
    refused(careterm("bundle", "export", "--out", village, store=village, signin="admin"), "village.sqlite")
    assert Path(village).stat().st_size == size
    verified(village)
    again = tmp_path / "again.bundle"
    export(village, again)
    export(village, again)


# --- who may --------------------------------------------------------------------------------------


def test_who_may_export_and_import(village, sqlite_url, tmp_path):
    """Export: an admin or a leader of the school (t01: leader; t05, a teacher, refused naming
    --as, no file). Import: an admin, signed in at the receiving store: d1's teacher T1 is
    refused (exit 1); d1's admin boss imports s1 while the store does not hold it; then, s1
    held, nobody signed in is exit 4 and boss is refused (exit 1 naming --as and s1: an admin
    of another school), writing nothing."""
    refused(careterm("bundle", "export", "--out", str(tmp_path / "t05.bundle"), store=village, signin="t05"), "--as")
    assert not (tmp_path / "t05.bundle").exists()
    bundle = tmp_path / "s1.bundle"
    export(village, bundle, signin="t01")
    district = make_district(sqlite_url)
    state = written(district)
    refused(import_(district, bundle, signin="T1"), "--as")
    assert written(district) == state
    ok(import_(district, bundle))
    refused(import_(district, bundle, signin=None), code=4)
    state = written(district)
    refused(import_(district, bundle, signin="boss"), "--as", "s1")  # d1's admin, now that s1 is held
    assert written(district) == state


@pytest.mark.postgres
def test_a_new_district_store_takes_a_school_from_its_own_admin(village, pg_url, tmp_path):
    """An empty PostgreSQL store (no school, so nobody can sign in there): the school's own
    admin imports it with `--as admin` and the password they set at the village (a PasswordSet),
    checked against the bundle's account. A wrong password is exit 4, and so is the demo's
    demo1234 (no entry vouches for it), a teacher of the school (t05, their village password)
    exit 1, all writing nothing; then admin's import adds every entry, and admin signs in there."""
    ok(careterm("staff", "password", "admin", "--password-stdin", store=village, signin="admin", input="admin-village\n"))
    ok(careterm("staff", "password", "t05", "--password-stdin", store=village, signin="admin", input="t05-village\n"))
    bundle = tmp_path / "s1.bundle"
    made = export(village, bundle)
    base = ["bundle", "import", str(bundle), "--password-stdin", "--json"]
    refused(careterm(*base, actor="admin", store=pg_url, input="wrong-password\n"), code=4)
    refused(careterm(*base, actor="admin", store=pg_url, input=DEMO_PASSWORD + "\n"), code=4)  # no entry vouches for it
    refused(careterm(*base, actor="t05", store=pg_url, input="t05-village\n"), "--as")
    assert written(pg_url) == (0, [])
    done = ok(careterm(*base, actor="admin", store=pg_url, input="admin-village\n")).json()
    assert done["added"] == made["entries"] and done["head"] == made["head"]
    verified(pg_url)
    ok(careterm("login", "admin", "--password-stdin", store=pg_url, input="admin-village\n"))


# --- accounts -----------------------------------------------------------------------------------------


def test_accounts_follow_the_village_and_tokens_do_not(village, sqlite_url, tmp_path):
    """A password changed at the village after the first import reaches the district with the
    next bundle: t05 signs in there with the new one, no longer with the old. A token made at the
    village is no sign-in at the district (only its hash is kept, and never carried)."""
    district = make_district(sqlite_url)
    ok(careterm("staff", "password", "t05", "--password-stdin", store=village, signin="admin", input="t05-old-pass\n"))
    first = tmp_path / "1.bundle"
    export(village, first)
    head = ok(import_(district, first)).json()["head"]
    login = ("--school", "s1", "login", "t05", "--password-stdin")
    ok(careterm(*login, store=district, input="t05-old-pass\n"))
    ok(careterm("staff", "password", "t05", "--password-stdin", store=village, signin="admin", input="t05-new-pass\n"))
    token = ok(careterm("token", "create", "--name", "script", "--json", store=village, signin="admin")).json()["token"]
    second = tmp_path / "2.bundle"
    export(village, second, head)
    ok(import_(district, second))
    refused(careterm(*login, store=district, input="t05-old-pass\n"), code=4)
    ok(careterm(*login, store=district, input="t05-new-pass\n"))
    refused(careterm("--school", "s1", "whoami", store=district, env={"CARETERM_TOKEN": token}), code=4)
    ok(careterm("whoami", store=village, env={"CARETERM_TOKEN": token}))


def _two_schools(url: str) -> str:
    """A district store holding s1 (founded by A1) and s2 (founded by B2), each founder's
    password TEST_PASSWORD (set by init with the founder's StaffJoined)."""
    ok(careterm("init", "--id", "s1", "--school", "一小", "--name", "甲", actor="A1", store=url))
    ok(careterm("init", "--id", "s2", "--school", "二小", "--name", "乙", actor="B2", store=url))
    return url


def _crafted(url: str, path: Path, school: str, records: dict[str, dict]) -> None:
    """What anyone with the county key can seal: a bundle of `school` with no rows (it starts
    at the store's head), carrying the given password records."""
    import msgspec

    from events import bundle as B
    from events.store import Store

    with Store(url) as store:
        contents = B.export(store, school, since=store.verify().head)
        assert contents.rows == []
        accounts = [B.Account("password", f"{school}/{staff}", json.dumps(r).encode()) for staff, r in records.items()]
        path.write_bytes(B.seal(store, msgspec.structs.replace(contents, accounts=accounts)))


def _forged(set_at: str) -> dict:
    from careterm.identity import hash_password

    return {"hash": hash_password("taken-over-1"), "once": False, "set_at": set_at}


def _signs_in(url: str, school: str, staff: str, password: str) -> bool:
    run = careterm("--school", school, "login", staff, "--password-stdin", store=url, input=password + "\n")
    assert run.code in (0, 4), run
    return run.code == 0


def test_a_crafted_bundle_takes_over_no_account(sqlite_url, tmp_path):
    """The reviewer's reproduction: B2 (admin of s2) imports a bundle of s1 with no rows and only
    A1's password record, set_at 2099: exit 1 naming 文件 (a record set after the store's clock
    is none careterm made), the head and the password records as they were, A1 signs in with
    TEST_PASSWORD and not with the forged one.
    The same with a set_at an hour ago (plausible, and later than nothing: the store has A1's
    record): B2 is refused naming --as and s1 (s1 is held: only its own admin imports it),
    nothing written. A1 (s1's admin) importing it: exit 0, added 0, but no entry vouches for
    the record (no PasswordSet of A1; A1's StaffJoined was recorded at init, seconds ago, more
    than AGREE = 5 min away), so A1's password is unchanged, and the record for X9, an id with no
    entry at all, makes no account."""
    import datetime as dt

    from test_cli import TEST_PASSWORD

    url = _two_schools(sqlite_url)
    bundle = tmp_path / "evil.bundle"
    _crafted(url, bundle, "s1", {"A1": _forged("2099-01-01T00:00:00+00:00")})
    state = written(url)
    refused(import_(url, bundle, signin="B2"), "文件", "A1")
    refused(import_(url, bundle, signin="A1"), "文件", "A1")
    assert written(url) == state

    earlier = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat()
    _crafted(url, bundle, "s1", {"A1": _forged(earlier), "X9": _forged(earlier)})
    refused(import_(url, bundle, signin="B2"), "--as", "s1")
    assert written(url) == state
    assert ok(import_(url, bundle, signin="A1")).json()["added"] == 0
    assert written(url) == state
    assert not _signs_in(url, "s1", "A1", "taken-over-1")
    assert not _signs_in(url, "s1", "X9", "taken-over-1")
    assert _signs_in(url, "s1", "A1", TEST_PASSWORD)


def test_a_record_that_restamps_the_founders_entry_replaces_nothing(sqlite_url, tmp_path):
    """A forged record of A1 whose set_at is 1 s after the store's own record (so within AGREE
    of A1's StaffJoined, and "later" by set_at alone), imported by A1 himself: it is vouched by
    the same entry as the store's record, so it is no newer password: not taken, A1's password
    unchanged."""
    import datetime as dt

    from careterm.identity import password_record
    from events.store import Store
    from test_cli import TEST_PASSWORD

    url = _two_schools(sqlite_url)
    with Store(url) as store:
        own = dt.datetime.fromisoformat(password_record(store, "s1", "A1")["set_at"])
    bundle = tmp_path / "restamp.bundle"
    _crafted(url, bundle, "s1", {"A1": _forged((own + dt.timedelta(seconds=1)).isoformat())})
    state = written(url)
    ok(import_(url, bundle, signin="A1"))
    assert written(url) == state
    assert _signs_in(url, "s1", "A1", TEST_PASSWORD)


def test_an_import_is_a_write_of_the_day_for_the_clock_check(tmp_path, sqlite_url):
    """A village whose last entry was recorded 5 days ago (the demo built until then): after its
    bundle is imported, the district's last row in the log is that 5-day-old entry, yet a write
    of d1 without --date is recorded (the import was a write today): the clock that dates it is
    not taken to have run ahead."""
    import datetime as dt

    old = str(tmp_path / "old-village.sqlite")
    ok(careterm("demo", "--until", (school_today() - dt.timedelta(days=5)).isoformat(), store=old))
    bundle = tmp_path / "old.bundle"
    export(old, bundle)
    district = make_district(sqlite_url)
    ok(import_(district, bundle))
    ok(careterm("contact", "Q1", "--kind", "talk", store=district, actor="boss"))


def test_a_village_restored_from_an_old_backup_catches_up_from_the_district(village, sqlite_url, tmp_path):
    """The village syncs, keeps a copy of its file (a backup), records two talks and syncs them.
    Its disk dies; it goes back to the copy, which lacks the two talks the district holds. The
    district's own bundle of s1 (exported there by the school's admin) brings them back: added 2,
    and the village's archive and `verify` count are what they were before the disk died."""
    district = make_district(sqlite_url)
    first = tmp_path / "1.bundle"
    head = export(village, first)["head"]
    ok(import_(district, first))
    saved = tmp_path / "saved.sqlite"
    ok(careterm("backup", str(saved), store=village))
    pupil = pupil_enrolled(village)
    talk(village, pupil)
    talk(village, pupil)
    second = tmp_path / "2.bundle"
    export(village, second, head)
    ok(import_(district, second))
    lost = ok(careterm("archive", "--json", store=village, signin="admin")).json()
    events = verified(village)["events"]
    shutil.copyfile(saved, village)
    for suffix in ("-wal", "-shm"):
        Path(f"{village}{suffix}").unlink(missing_ok=True)
    back = tmp_path / "back.bundle"
    ok(careterm("--school", "s1", "bundle", "export", "--out", str(back), store=district, signin="admin"))
    assert ok(import_(village, back, signin="admin")).json()["added"] == 2
    assert ok(careterm("archive", "--json", store=village, signin="admin")).json() == lost
    assert verified(village)["events"] == events


def test_the_benchmark_runs_and_reports_its_figures(tmp_path):
    """benchmarks/bundle.py, one run and a one-school backup: every figure is there and positive
    (the figures themselves are the README's, not asserted)."""
    import subprocess
    import sys

    from test_cli import ROOT

    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, "benchmarks/bundle.py", "--runs", "1", "--schools", "1", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    assert figures["bundle"]["export_events_per_s"] > 0 and figures["bundle"]["import_sqlite_events_per_s"] > 0
    assert figures["backup"][0]["events"] == figures["bundle"]["village_events"] and figures["backup"][0]["backup_s"] > 0
