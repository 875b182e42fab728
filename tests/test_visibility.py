"""Who sees what (domain.md "Who sees what", cli.md "Signing in, permissions and privacy"): every
read command of the command line, run as every role on the demo school, each field checked
against the table (projections/visibility.py holds it; the expectations here are worked out
from the model independently, by the table's words).

The table, as these tests read it:
- leader, auditor: every pupil in full, counselling content and the mental state, audit;
  queue for leaders only; every mentor's rate.
- counselor: every pupil in full (every pupil's profile), counselling content, mental state;
  their own pairings and rate; no audit, no queue.
- class teacher: the pupils of their grade and class in full (no mental state, no counselling
  content but their own entries'); their own and their class's pairings; their own rate.
- mentor (a plain teacher): their mentees in full (the same fields held back); their own
  pairings and rate.
- admin (only): no pupil in full; staff, stats, the public notice.
- everyone: stats (counts) and the aid notice, the same for all; a pupil outside the view as
  {pupil, name, grade, class, status, restricted: true}; history of such a pupil refused
  (exit 1, naming the pupil).

Each signs in with a token made for them (the sign-in is real: the program checks the token).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from zoneinfo import ZoneInfo

import pytest

from test_cli import careterm

RESTRICTED = {"pupil", "name", "grade", "class", "status", "restricted"}
ROLES = ("leader", "auditor", "counselor", "class_teacher", "mentor", "admin")
SEE_ALL = {"leader", "auditor"}
SEE_CONTENT = {"leader", "auditor", "counselor"}


def _token(store, school: str, staff: str) -> str:
    from careterm import identity as I

    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    return I.new_token(store, school, staff, f"test-{staff}", expires)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo school (careterm demo), an admin-only staff member added by the principal, and
    a token for one staff member of each role; with the model as of the school's today."""
    from events.saved import load
    from events.store import Store

    path = str(tmp_path_factory.mktemp("vis") / "demo.sqlite")
    run = careterm("demo", store=path, env=_key_env())
    assert run.code == 0, run
    store = Store(path)
    try:
        [school] = list(store.recorder.heads())
        principal = _token(store, school, "admin")
    finally:
        store.close()
    run = careterm("staff", "add", "A9", "--name", "孙管理", "--role", "admin", "--json", store=path,
                   env=_key_env(CARETERM_TOKEN=principal))
    assert run.code == 0, run
    store = Store(path)
    try:
        model = load(store, school)
        today = store.clock().astimezone(ZoneInfo(model.timezone)).date()
        people = _people(model, today)
        tokens = {role: _token(store, school, staff) for role, staff in people.items()}
    finally:
        store.close()
    return {"path": path, "model": model, "today": today, "people": people, "tokens": tokens, "school": school}


def _key_env(**extra: str) -> dict[str, str]:
    env = {"CARETERM_KEY_FILE": os.environ["CARETERM_KEY_FILE"]} if "CARETERM_KEY_FILE" in os.environ else {}
    env.update(extra)
    return env


def _people(model, today) -> dict[str, str]:
    """One staff member of each role: a leader who is not admin, the auditor, the counselor, a
    class teacher with pupils of their class in care, a plain teacher with a mentee, the admin."""
    from events.model import mentor_on, profile_on

    staff = [s for s in model.staff.values() if s.left is None]

    def first(test) -> str:
        return next(s.id for s in sorted(staff, key=lambda s: s.id) if test(s))

    def has_class(s) -> bool:
        return any((profile_on(p, today).get("grade"), profile_on(p, today).get("class")) == (s.grade, s.class_)
                   for p in model.pupils.values())

    mentors = {mentor_on(p, today) for p in model.pupils.values()}
    return {
        "leader": first(lambda s: "leader" in s.roles and "admin" not in s.roles),
        "auditor": first(lambda s: "auditor" in s.roles),
        "counselor": first(lambda s: "counselor" in s.roles),
        "class_teacher": first(lambda s: "class_teacher" in s.roles and s.grade is not None and has_class(s)),
        "mentor": first(lambda s: set(s.roles) == {"teacher"} and s.id in mentors),
        "admin": "A9",
    }


def as_role(demo, role: str, *args):
    return careterm(*args, store=demo["path"], env=_key_env(CARETERM_TOKEN=demo["tokens"][role]))


def read(demo, role: str, *args) -> dict:
    run = as_role(demo, role, *args, "--json")
    assert run.code == 0, run
    return run.json()


def full_pupils(demo, role: str) -> set[str]:
    """The pupils `role` sees in full, by the table's words."""
    from events.model import mentor_on, profile_on

    model, today, me = demo["model"], demo["today"], demo["people"][role]
    staff = model.staff[me]
    if role in SEE_ALL or role == "counselor":
        return {p.id for p in model.pupils.values() if p.registered <= today}
    found = set()
    for p in model.pupils.values():
        if p.registered > today:
            continue
        profile = profile_on(p, today)
        mine = mentor_on(p, today) == me
        my_class = "class_teacher" in staff.roles and (profile.get("grade"), profile.get("class")) == (staff.grade, staff.class_)
        if mine or my_class:
            found.add(p.id)
    return found


# --- archive -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_archive_shows_in_full_only_the_pupils_in_view(demo, role):
    """Each row in view is the whole row (gender, categories, mentor, phone, guardian, parents,
    profile), the mental state only for leaders, auditors and counselors; every other row is
    exactly pupil, name, grade, class, status and restricted: true. A mentor sees their mentees
    (a handful), a class teacher their class (a dozen or so), the admin none."""
    rows = read(demo, role, "archive")["pupils"]
    expected = full_pupils(demo, role)
    assert {r["pupil"] for r in rows} == {p.id for p in demo["model"].pupils.values() if p.registered <= demo["today"]}
    for r in rows:
        if r["pupil"] in expected:
            assert not r.get("restricted"), (role, r)
            assert {"gender", "categories", "mentor", "phone", "guardian", "parents", "profile"} <= set(r), (role, r)
            assert ("mental" in r["profile"]) == (role in SEE_CONTENT and "mental" in _registered_profile(demo, r["pupil"])), (role, r)
        else:
            assert set(r) == RESTRICTED and r["restricted"] is True, (role, r)
    assert len(expected) == {"admin": 0}.get(role, len(expected))
    if role in ("mentor", "class_teacher"):
        assert 0 < len(expected) < len(rows) / 4, (role, len(expected))


def _registered_profile(demo, pupil: str) -> dict:
    return demo["model"].pupils[pupil].base.get("profile") or {}


def test_archive_text_says_restricted_rows_in_words(demo):
    """The table for a plain mentor: a restricted row's categories column holds 无权查看详情 in
    Chinese, never a raw code or an empty list."""
    run = as_role(demo, "mentor", "archive")
    assert run.code == 0, run
    assert "（无权查看详情）" in run.out


# --- history -------------------------------------------------------------------------------------


def _outside(demo, role: str) -> str | None:
    """A pupil outside the role's view who was never their mentee (None: there is none)."""
    model, me = demo["model"], demo["people"][role]
    inside = full_pupils(demo, role)
    return next((p.id for p in sorted(model.pupils.values(), key=lambda p: p.id)
                 if p.id not in inside and p.registered <= demo["today"] and all(q.staff != me for q in p.pairings)), None)


@pytest.mark.parametrize("role", ROLES)
def test_history_of_a_pupil_outside_the_view_is_refused_naming_the_pupil(demo, role):
    """Out of view (every pupil for the admin; for a mentor or class teacher, one neither theirs
    nor a former mentee): exit 1, stderr names PUPIL_ID and the pupil, stdout empty. Leaders,
    auditors and counselors have no such pupil."""
    pupil = _outside(demo, role)
    if role in SEE_ALL or role == "counselor":
        assert pupil is None
        return
    run = as_role(demo, role, "history", pupil, "--json")
    assert run.code == 1, run
    assert pupil in run.err and "PUPIL_ID" in run.err and run.out == "", run


def _counselled(demo) -> str:
    """A pupil with a counselling contact with a note, by the counselor."""
    model = demo["model"]
    return next(e.pupils[0] for e in model.entries.values()
                if e.type == "ContactMade" and e.kind == "counseling" and e.note and not e.retracted)


@pytest.mark.parametrize("role", ["leader", "auditor", "counselor", "class_teacher", "mentor"])
def test_history_withholds_counselling_content_but_from_those_who_may_read_it(demo, role):
    """A pupil the counselor sees with notes written: leaders, auditors and the counselor read
    each counselling entry's note; anyone else who has the pupil in view (their mentor, their
    class teacher: the pupil's own, looked up in the model) gets the entry with its kind and
    date, no note, and "withheld": true."""
    from events.model import mentor_on

    model = demo["model"]
    pupil = _counselled(demo)
    if role in SEE_CONTENT:
        viewer_role = role
        rows = read(demo, viewer_role, "history", pupil)["events"]
        counselling = [r for r in rows if r["type"] == "ContactMade" and r["data"]["kind"] == "counseling"]
        assert counselling and any(r["data"].get("note") for r in counselling)
        assert not any(r.get("withheld") for r in counselling)
        return
    # the pupil's own mentor or class teacher, signed in with a token made now
    from events.store import Store

    me = mentor_on(model.pupils[pupil], demo["today"]) if role == "mentor" else next(
        (s.id for s in model.staff.values() if "class_teacher" in s.roles and s.grade is not None
         and (s.grade, s.class_) == _class_of(demo, pupil)), None)
    if me is None:
        pytest.skip(f"the counselled pupil has no {role}")
    store = Store(demo["path"])
    try:
        token = _token(store, demo["school"], me)
    finally:
        store.close()
    run = careterm("history", pupil, "--json", store=demo["path"], env=_key_env(CARETERM_TOKEN=token))
    assert run.code == 0, run
    counselling = [r for r in run.json()["events"] if r["type"] == "ContactMade" and r["data"]["kind"] == "counseling"]
    assert counselling
    for r in counselling:
        if r["actor"] != me:
            assert r.get("withheld") is True and "note" not in r["data"], r


def _class_of(demo, pupil: str) -> tuple:
    from events.model import profile_on

    p = profile_on(demo["model"].pupils[pupil], demo["today"])
    return p.get("grade"), p.get("class")


# --- the other views -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_compliance_holds_the_pairings_and_rates_in_view(demo, role):
    """Leaders and auditors: every pairing and every mentor's rate. Anyone else: the pairings
    they mentor, and (a class teacher) those of their class's pupils; in `mentors` only their
    own rate (none for the admin, who mentors nobody); the school's rate is a count, the same
    for everyone."""
    from events.model import profile_on

    model, today, me = demo["model"], demo["today"], demo["people"][role]
    staff = model.staff[me]
    found = read(demo, role, "compliance")
    every = read(demo, "leader", "compliance")
    assert found["school"] == every["school"]
    if role in SEE_ALL:
        assert found["pairings"] == every["pairings"] and found["mentors"] == every["mentors"]
        return

    def mine(p) -> bool:
        profile = profile_on(model.pupils[p["pupil"]], today)
        return p["staff"] == me or ("class_teacher" in staff.roles and (profile.get("grade"), profile.get("class")) == (staff.grade, staff.class_))

    assert found["pairings"] == [p for p in every["pairings"] if mine(p)]
    assert {m["staff"] for m in found["mentors"]} <= {me}
    if role in ("mentor",):
        assert found["pairings"] and [m["staff"] for m in found["mentors"]] == [me]


@pytest.mark.parametrize("role", ROLES)
def test_aid_list_holds_the_grants_of_the_pupils_in_view_and_the_notice_is_public(demo, role):
    """aid list: only grants of pupils seen in full (leaders, auditors, counselors: all); the
    public notice (name, class, kind, amount) the same for every role."""
    grants = read(demo, role, "aid", "list")["grants"]
    every = read(demo, "leader", "aid", "list")["grants"]
    inside = full_pupils(demo, role)
    assert grants == [g for g in every if g["pupil"] in inside]
    semester = every[-1]["semester"]
    assert read(demo, role, "aid", "notice", "--semester", semester) == read(demo, "leader", "aid", "notice", "--semester", semester)


@pytest.mark.parametrize("role", ROLES)
def test_stats_are_counts_for_everyone(demo, role):
    """stats: the same counts whoever asks."""
    assert read(demo, role, "stats") == read(demo, "leader", "stats")


@pytest.mark.parametrize("role", ROLES)
def test_staff_list_names_only_mentees_in_view(demo, role):
    """staff list: every staff member for everyone; a mentee is listed only if the reader sees
    the pupil in full (that a pupil has a mentor says they are in care)."""
    rows = read(demo, role, "staff", "list")["staff"]
    every = read(demo, "leader", "staff", "list")["staff"]
    inside = full_pupils(demo, role)
    assert [r["staff"] for r in rows] == [r["staff"] for r in every]
    for r, e in zip(rows, every):
        assert r["mentees"] == [p for p in e["mentees"] if p in inside]


@pytest.mark.parametrize("role", ROLES)
def test_audit_for_leaders_and_auditors_queue_for_leaders(demo, role):
    """audit: leaders and auditors (exit 0), others exit 1 naming --as; queue: leaders only;
    access (the log of who looked): leaders and auditors."""
    for args, allowed in ((("audit", "--flag", "late"), SEE_ALL), (("queue",), {"leader"}), (("access",), SEE_ALL)):
        run = as_role(demo, role, *args, "--json")
        if role in allowed:
            assert run.code == 0, run
            json.loads(run.out)
        else:
            assert run.code == 1 and run.out == "", run
            assert args[0] == "access" or "--as" in run.err, run


@pytest.mark.parametrize("role", ROLES)
def test_the_other_read_commands_answer_everyone(demo, role):
    """schools and whoami: no pupil data, for everyone; whoami names the role's staff member."""
    assert read(demo, role, "whoami")["staff"] == demo["people"][role]
    assert read(demo, role, "schools")["schools"]
