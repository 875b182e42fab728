"""Who may record what (cli.md "Signing in, permissions and privacy"; the table in
events/permissions.py): the commands on a real SQLite store, each case worked out by hand.

The school (opened 2025-09-01):
  admin  admin + leader (the one who opened it)     L    leader
  CT32   class teacher of grade 3 class 2            CT41 class teacher of grade 4 class 1
  T1     teacher, mentor of P1 from 2025-09-02       T2   teacher, no mentee
  CO     counselor                                   AD   admin only
  P1     grade 3 class 2, left-behind, mentor T1     P2   grade 3 class 2, no mentor
  P3     grade 4 class 1, no mentor
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

from events import commands as C
from events.errors import Refused
from events.service import Service
from events.store import Store
from helpers import OPENED, SCHOOL, TODAY, ctx
from test_cli import careterm

PAIRED = dt.date(2025, 9, 2)
DAY = dt.date(2025, 10, 10)


@pytest.fixture
def school(tmp_path):
    store = Store(str(tmp_path / "s.sqlite"), create=True)
    service = Service(store)
    service.execute(lambda s: C.init(s, ctx(OPENED), name="石砚小学", admin_name="校长"))
    for staff_id, roles, grade, class_ in (
        ("L", ["leader"], None, None), ("CT32", ["class_teacher"], 3, 2), ("CT41", ["class_teacher"], 4, 1),
        ("T1", ["teacher"], None, None), ("T2", ["teacher"], None, None), ("CO", ["counselor"], None, None),
        ("AD", ["admin"], None, None),
    ):
        service.execute(lambda s, i=staff_id, r=roles, g=grade, c=class_: C.add_staff(
            s, ctx(OPENED), i, name=f"老师{i}", roles=r, grade=g, class_=c))
    for pupil_id, grade, class_ in (("P1", 3, 2), ("P2", 3, 2), ("P3", 4, 1)):
        service.execute(lambda s, i=pupil_id, g=grade, c=class_: C.add_pupil(
            s, ctx(OPENED), i, name=f"学生{i}", gender="F", birth=dt.date(2016, 3, 1), grade=g, class_=c,
            categories=["left_behind"]))
    service.execute(lambda s: C.pair(s, ctx(PAIRED), "T1", "P1"))
    yield store, service
    store.close()


def record(service, actor: str, command, *args, date: dt.date = DAY, **kw):
    return service.execute(lambda s: command(s, ctx(date, actor=actor), *args, **kw))


def refused(service, actor: str, command, *args, date: dt.date = DAY, **kw) -> Refused:
    head = service.store.head()
    with pytest.raises(Refused) as caught:
        record(service, actor, command, *args, date=date, **kw)
    assert service.store.head() == head  # nothing written
    return caught.value


# --- contacts ------------------------------------------------------------------------------------


def test_a_contact_by_the_pupils_mentor_class_teacher_counselor_or_a_leader(school):
    """T1 mentors P1 since 2025-09-02: a talk on 2025-10-10 is recorded. CT32 teaches grade 3
    class 2, P2's class: a parent call for P2 is recorded. CO, a counselor, records counselling
    and a talk for P3 (not their pupil otherwise). L, a leader, a home visit for P3. admin
    (admin and leader) for P2."""
    _, service = school
    assert record(service, "T1", C.contact, "P1", kind="talk")[0].by == "T1"
    record(service, "CT32", C.contact, "P2", kind="parent_call")
    record(service, "CO", C.contact, "P3", kind="counseling")
    record(service, "CO", C.contact, "P3", kind="talk")
    record(service, "L", C.contact, "P3", kind="home_visit")
    record(service, "admin", C.contact, "P2", kind="talk")


def test_a_contact_by_anyone_else_is_refused_naming_the_pupil(school):
    """T1 for P2 (not their mentee, no class): PUPIL_ID not_your_pupil. T1 for P1 dated
    2025-09-01, the day before the pairing starts: not P1's mentor that day, refused the same.
    CT41 (grade 4 class 1) for P2 (grade 3 class 2): refused. CO a parent call for P3 (a
    counselor records counselling and talks only): refused. T2 and AD (admin, not a leader)
    for P1: refused. Each names the staff member and the pupil."""
    _, service = school
    for actor, pupil, kind, day in (("T1", "P2", "talk", DAY), ("T1", "P1", "talk", OPENED), ("CT41", "P2", "talk", DAY),
                                    ("CO", "P3", "parent_call", DAY), ("T2", "P1", "talk", DAY), ("AD", "P1", "talk", DAY)):
        r = refused(service, actor, C.contact, pupil, kind=kind, date=day)
        assert (r.field, r.code, r.params) == ("PUPIL_ID", "not_your_pupil", {"staff": actor, "pupil": pupil}), (actor, pupil)


def test_by_someone_else_only_for_leaders_and_class_teachers(school):
    """--by T1 from CT32 for P1 (their class) and from L for P3: recorded, by T1. T1 --by T1:
    recorded (oneself). T1 --by T2 for P1, CO --by T2 for P3's counselling: refused naming
    --by, the roles that may (class teacher, leader)."""
    _, service = school
    assert record(service, "CT32", C.contact, "P1", kind="talk", by="T1")[0].by == "T1"
    assert record(service, "L", C.contact, "P3", kind="talk", by="T1")[0].by == "T1"
    record(service, "T1", C.contact, "P1", kind="parent_call", by="T1")
    for actor, pupil, kind in (("T1", "P1", "talk"), ("CO", "P3", "counseling")):
        r = refused(service, actor, C.contact, pupil, kind=kind, by="T2")
        assert (r.field, r.code) == ("--by", "by_other_not_allowed")
        assert r.params == {"staff": actor, "by": "T2", "roles": ["class_teacher", "leader"]}


# --- activities -----------------------------------------------------------------------------------


def test_an_activity_for_own_mentees_or_by_class_teachers_and_leaders(school):
    """T1 for P1 (their mentee): recorded; for P1 and P2: refused naming --pupils and P2, the
    first that is not theirs. CT41 for P1, P2, P3 (class teachers: any pupils, other classes
    too): recorded. L for all three: recorded. CO for P3 (a counselor is neither): refused."""
    _, service = school
    record(service, "T1", C.activity, kind="birthday", pupils=["P1"])
    r = refused(service, "T1", C.activity, kind="birthday", pupils=["P1", "P2"])
    assert (r.field, r.code, r.params) == ("--pupils", "not_your_mentee", {"staff": "T1", "pupil": "P2"})
    record(service, "CT41", C.activity, kind="performance", pupils=["P1", "P2", "P3"])
    record(service, "L", C.activity, kind="holiday_visit", pupils=["P1", "P2", "P3"])
    r = refused(service, "CO", C.activity, kind="talk", pupils=["P3"])
    assert (r.field, r.code, r.params["pupil"]) == ("--pupils", "not_your_mentee", "P3")


# --- registration and amendments ---------------------------------------------------------------------


def _add(service, actor: str, pupil: str, grade: int, class_: int, day: dt.date = DAY):
    return record(service, actor, C.add_pupil, pupil, name="新生", gender="M", birth=dt.date(2016, 5, 1),
                  grade=grade, class_=class_, date=day)


def test_registration_by_the_class_teacher_of_that_class_or_a_leader(school):
    """CT32 registers P9 in grade 3 class 2: recorded; P8 in grade 4 class 1: refused naming
    PUPIL_ID, not_your_class with grade 4 and class 1. L registers P7 in grade 6 class 3.
    T1 (no class teacher) and AD (admin only): refused naming --as, the roles that may (class
    teacher, leader)."""
    _, service = school
    _add(service, "CT32", "P9", 3, 2)
    with pytest.raises(Refused) as caught:
        _add(service, "CT32", "P8", 4, 1)
    assert (caught.value.field, caught.value.code, caught.value.params) == (
        "PUPIL_ID", "not_your_class", {"staff": "CT32", "pupil": "P8", "grade": 4, "class": 1})
    _add(service, "L", "P7", 6, 3)
    for actor in ("T1", "AD"):
        with pytest.raises(Refused) as caught:
            _add(service, actor, "P6", 3, 2)
        assert (caught.value.field, caught.value.code, caught.value.params) == (
            "--as", "actor_lacks_role", {"staff": actor, "roles": ["class_teacher", "leader"]})


def test_amendments_by_the_class_teacher_of_the_pupils_class_on_the_day(school):
    """P1 is in grade 3 class 2: CT41 may not amend them (PUPIL_ID not_your_class, grade 3
    class 2); CT32 moves them to grade 4 class 1 on 2025-10-10 (their class that day). From
    then on P1 is CT41's: CT41 amends the phone on 2025-10-20, CT32 is refused (grade 4
    class 1). An amendment dated before the move (2025-10-01) is judged by the class then:
    CT32's. T1, P1's mentor, is no class teacher: --as."""
    _, service = school
    r = refused(service, "CT41", C.amend_pupil, "P1", changes={"phone": "13800000001"})
    assert (r.field, r.code, r.params["grade"], r.params["class"]) == ("PUPIL_ID", "not_your_class", 3, 2)
    record(service, "CT32", C.amend_pupil, "P1", changes={"grade": 4, "class": 1})
    later = dt.date(2025, 10, 20)
    record(service, "CT41", C.amend_pupil, "P1", changes={"phone": "13800000002"}, date=later)
    r = refused(service, "CT32", C.amend_pupil, "P1", changes={"phone": "13800000003"}, date=later)
    assert (r.field, r.code, r.params["grade"], r.params["class"]) == ("PUPIL_ID", "not_your_class", 4, 1)
    record(service, "CT32", C.amend_pupil, "P1", changes={"health": "良好"}, date=dt.date(2025, 10, 1))
    assert refused(service, "T1", C.amend_pupil, "P1", changes={"phone": "1"}).field == "--as"


def test_other_actions_keep_their_roles(school):
    """graduate needs the "pupil" role of events.rules.ACTION_ROLES (class teacher, leader,
    admin): T1 is refused naming --as; CT41 graduates P3. pair stays a leader's: CT32 is
    refused."""
    _, service = school
    assert refused(service, "T1", C.graduate, "P2", date=TODAY).code == "actor_lacks_role"
    record(service, "CT41", C.graduate, "P3", date=TODAY)
    assert refused(service, "CT32", C.pair, "T2", "P2").code == "actor_lacks_role"


# --- on the command line ---------------------------------------------------------------------------


def test_the_command_line_says_who_may_in_words_exit_1(school, tmp_path):
    """`contact P2 --kind talk` signed in as T1 (a real token): exit 1, nothing written,
    stderr names PUPIL_ID and says in Chinese who may (帮扶教师, 班主任), in English with
    --lang en ("mentor", "class teacher"); `--by T2` as T1 for P1 names --by."""
    from careterm import identity as I

    store, _ = school
    token = I.new_token(store, SCHOOL, "T1", "t", dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    head = store.head()
    env = {"CARETERM_TOKEN": token}
    if "CARETERM_KEY_FILE" in os.environ:
        env["CARETERM_KEY_FILE"] = os.environ["CARETERM_KEY_FILE"]
    run = careterm("contact", "P2", "--kind", "talk", store=str(tmp_path / "s.sqlite"), env=env)
    assert run.code == 1 and run.out == "", run
    assert "PUPIL_ID" in run.err and "帮扶教师" in run.err and "班主任" in run.err, run
    run = careterm("contact", "P2", "--kind", "talk", store=str(tmp_path / "s.sqlite"), env=env, lang="en")
    assert run.code == 1 and "mentor" in run.err and "class teacher" in run.err, run
    run = careterm("contact", "P1", "--kind", "talk", "--by", "T2", store=str(tmp_path / "s.sqlite"), env=env)
    assert run.code == 1 and "--by" in run.err, run
    assert store.head() == head
