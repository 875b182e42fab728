"""Every read command of ../shared/cli.md, end to end: the real program (`python -m careterm.cli`)
as a subprocess, on a SQLite file and on a PostgreSQL schema (`store_url`).

The school is written through events.commands with a fake store clock (so recording times, and
therefore --known-at, are under the test's control: each entry is recorded at noon, school time,
of the day it says, a few minutes apart), then read only through the program. Views are always
asked with an explicit --as-of or --known-at, so nothing depends on the day the tests run.

Checked: the JSON keys cli.md lists (extra keys allowed), --as-of and --known-at changing the
answer as they should, `rebuild` giving the same JSON, a view catching up on an event another
process wrote after the view was saved, and exit 1 naming the option for a bad --as-of /
--known-at or an unknown --semester.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest

from test_cli import prepared

from events import commands as C
from helpers import granted_aid
from events.service import Service
from events.store import Store

D = dt.date
SCHOOL = "s1"
UTC = dt.timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
LATE = D(2026, 6, 20)  # a day after everything the fixture records
_XDG = tempfile.mkdtemp(prefix="careterm-views-tests-")  # never the user's own data dir

DUTIES = {"parent_call", "talk", "parent_phone_visit", "semester_report", "birthday"}
CATEGORIES = {"left_behind", "in_difficulty", "orphan", "disabled", "economic_hardship",
              "learning_difficulty", "psychological", "other"}
AUDIT_KEYS = {"seq", "id", "type", "subject", "date", "recorded_at", "actor", "source", "corrects"}
YUAN = re.compile(r"^\d+\.\d{2}$")


# --- running the program -------------------------------------------------------------------


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self):
        assert self.code == 0, f"exit {self.code}: {self.err}"
        return json.loads(self.out)


def careterm(url: str, *args: str, actor: str | None = None) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARETERM_")}
    env.update(XDG_DATA_HOME=_XDG, PYTHONIOENCODING="utf-8")
    argv = [sys.executable, "-m", "careterm.cli", "--store", url]
    if actor:
        argv += ["--as", actor]
    # signed in as the actor (or, for a view without --as, the school's admin): test_cli.prepared
    words, signin, stdin = prepared(list(args), url, actor or "admin", {})
    env.update(signin)
    done = subprocess.run(argv + words, capture_output=True, text=True, env=env, timeout=120, input=stdin,
                          **({} if stdin is not None else {"stdin": subprocess.DEVNULL}))
    return Result(done.returncode, done.stdout, done.stderr)


def view(url: str, *args: str) -> dict:
    return careterm(url, *args, "--json").json


# --- the school ----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2025, 9, 1, 4, tzinfo=UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class World:
    url: str
    ids: dict[str, str] = field(default_factory=dict)  # names of entries -> event ids
    times: dict[str, dt.datetime] = field(default_factory=dict)  # names -> recording time
    events: int = 0


def build(url: str) -> World:
    world = World(url)
    clock = Clock()
    minute = [0]
    with Store(url, create=True, clock=clock) as store:
        service = Service(store)

        def do(name: str | None, build, day: dt.date, *, recorded: dt.date | None = None, actor: str = "admin"):
            when = recorded or day
            minute[0] += 1
            clock.now = dt.datetime(when.year, when.month, when.day, 12, minute[0] % 60,
                                    tzinfo=SHANGHAI).astimezone(UTC)
            context = C.Context(school=SCHOOL, actor=actor, today=when, date=day)
            events = service.execute(lambda s: build(s, context))
            world.events += len(events)
            if name:  # an aid grant through the procedure (helpers.granted_aid) is its last event
                world.ids[name] = events[-1].id if events[-1].type == "AidGranted" else events[0].id
                world.times[name] = clock.now
            return events

        start = D(2025, 9, 1)
        do("init", lambda s, c: C.init(s, c, name="石砚小学", admin_name="校长"), start)
        for sid, grade, class_ in (("T1", 3, 2), ("T2", None, None), ("T3", 5, 1), ("T4", None, None)):
            do(None, lambda s, c, sid=sid, g=grade, k=class_: C.add_staff(s, c, sid, name=f"老师{sid}", grade=g, class_=k), start)
        pupils = (("P1", ["left_behind"], 3, 2), ("P2", ["orphan", "economic_hardship"], 3, 2),
                  ("P3", ["learning_difficulty"], 5, 1), ("P4", ["left_behind"], 4, 1), ("P5", ["psychological"], 1, 1))
        for pid, cats, grade, class_ in pupils:
            do(None, lambda s, c, pid=pid, cats=cats, g=grade, k=class_: C.add_pupil(
                s, c, pid, name=f"学生{pid}", gender="M", birth=D(2016, 5, 1), grade=g, class_=k, categories=cats,
                phone="13800001111"), start)
        do(None, lambda s, c: C.pair(s, c, "T1", "P1"), start)
        do(None, lambda s, c: C.pair(s, c, "T3", "P3"), start)
        do("pair_T2", lambda s, c: C.pair(s, c, "T2", "P2"), D(2025, 9, 10))
        do(None, lambda s, c: C.contact(s, c, "P1", kind="talk"), D(2025, 10, 1))
        do(None, lambda s, c: C.contact(s, c, "P1", kind="parent_call"), D(2025, 10, 2))
        do(None, lambda s, c: C.contact(s, c, "P1", kind="parent_phone_visit"), D(2025, 10, 3))
        do("subsidy", lambda s, c: granted_aid(s, c, "P2", kind="living_subsidy", amount="500"), D(2025, 10, 10))
        do("birthday", lambda s, c: C.activity(s, c, kind="birthday", pupils=["P1", "P2"]), D(2025, 11, 11))
        do("register_P6", lambda s, c: C.add_pupil(
            s, c, "P6", name="学生P6", gender="F", birth=D(2017, 1, 1), grade=2, class_=1, categories=["other"]),
            D(2025, 12, 1))
        do("waiver", lambda s, c: granted_aid(s, c, "P4", kind="tuition_waiver", amount="1200"), D(2026, 3, 1))
        do("transfer", lambda s, c: C.transfer(s, c, "P3", to="县实验小学"), D(2026, 3, 1))
        do("items", lambda s, c: C.grant_aid(s, c, "P2", kind="material", items="冬衣一套"), D(2026, 3, 2))
        do("talk_P2", lambda s, c: C.contact(s, c, "P2", kind="talk"), D(2026, 3, 3))
        do("talk_P1", lambda s, c: C.contact(s, c, "P1", kind="talk"), D(2026, 3, 4))
        do("grant", lambda s, c: granted_aid(s, c, "P1", kind="grant", amount="300.50", basis="dibao"), D(2026, 3, 5))
        do("correct", lambda s, c: C.correct(s, c, world.ids["talk_P2"], reason="日期记错", to_date=D(2026, 2, 20)),
           D(2026, 3, 20))
        do("retract", lambda s, c: C.retract(s, c, world.ids["talk_P1"], reason="重复录入"), D(2026, 3, 25))
        do("revoke", lambda s, c: C.revoke_aid(s, c, world.ids["grant"], reason="核实不符"), D(2026, 4, 1))
        # T1 writes up three old talks just before the handbook inspection: a back-fill burst
        for n, day in enumerate((D(2026, 4, 1), D(2026, 4, 2), D(2026, 4, 3))):
            do(f"burst{n}", lambda s, c: C.contact(s, c, "P1", kind="talk"), day, recorded=D(2026, 5, 18), actor="T1")
        do("inspect", lambda s, c: C.inspect_handbook(s, c, "T1", result="needs_improvement"), D(2026, 5, 20))
    return world


@pytest.fixture
def world(store_url) -> World:
    return build(store_url)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def by(rows: list[dict], key: str) -> dict:
    return {r[key]: r for r in rows}


def pairing(view_: dict, pupil: str) -> dict:
    [row] = [p for p in view_["pairings"] if p["pupil"] == pupil]
    return row


# --- the JSON of every read command ----------------------------------------------------------


def test_every_read_command_has_the_keys_cli_md_lists(world):
    url, as_of = world.url, LATE.isoformat()

    staff = view(url, "staff", "list", "--as-of", as_of)
    assert {"admin", "T1", "T2", "T3", "T4"} == {r["staff"] for r in staff["staff"]}
    for row in staff["staff"]:
        assert {"staff", "name", "roles", "active", "mentees"} <= row.keys()
        assert isinstance(row["roles"], list) and isinstance(row["mentees"], list)
    assert by(staff["staff"], "staff")["T1"]["mentees"] == ["P1"]
    assert by(staff["staff"], "staff")["T3"]["mentees"] == []

    archive = view(url, "archive", "--as-of", as_of)
    for row in archive["pupils"]:
        assert {"pupil", "name", "gender", "birth", "grade", "class", "categories", "status", "mentor"} <= row.keys()
        assert row["status"] in {"enrolled", "graduated", "transferred", "dropped_out"}
    pupils = by(archive["pupils"], "pupil")
    assert (pupils["P1"]["mentor"], pupils["P1"]["status"], pupils["P1"]["categories"]) == ("T1", "enrolled", ["left_behind"])
    assert (pupils["P3"]["mentor"], pupils["P3"]["status"]) == (None, "transferred")
    assert pupils["P2"]["birth"] == "2016-05-01" and pupils["P2"]["class"] == 2 and pupils["P2"]["grade"] == 3

    stats = view(url, "stats", "--as-of", as_of)
    assert {"by_category", "by_grade", "aid"} <= stats.keys()
    # the care categories and 困境留守 (left-behind and in difficulty: issue 10, item 7)
    assert set(stats["by_category"]) <= CATEGORIES | {"left_behind_in_difficulty"}
    for counts in list(stats["by_category"].values()) + list(stats["by_grade"].values()):
        assert {"total", "with_mentor"} <= counts.keys()
    assert stats["by_category"]["left_behind"] == {"total": 2, "with_mentor": 1}
    assert all(YUAN.match(v) for v in stats["aid"].values())
    assert stats["aid"]["living_subsidy"] == "500.00" and stats["aid"]["tuition_waiver"] == "1200.00"

    queue = view(url, "queue", "--as-of", as_of)
    assert {"mentors", "pupils", "suggestions"} <= queue.keys()
    for row in queue["mentors"]:
        assert {"staff", "name", "free_places", "waiting_since", "reason"} <= row.keys()
    for row in queue["pupils"]:
        assert {"pupil", "name", "categories", "waiting_since", "reason"} <= row.keys()
    for row in queue["suggestions"]:
        assert {"staff", "pupil"} <= row.keys()
    reasons = {"graduated", "transferred", "dropped_out", "mentor_left", "unpaired", "new"}
    assert all(r["reason"] in reasons for r in queue["mentors"] + queue["pupils"])
    assert by(queue["mentors"], "staff")["T3"]["reason"] == "transferred"
    assert by(queue["mentors"], "staff")["T3"]["waiting_since"] == "2026-03-01"
    assert [p["pupil"] for p in queue["pupils"]] == ["P4", "P5", "P6"]  # left-behind, psychological, other

    comp = view(url, "compliance", "--as-of", as_of)
    assert {"as_of", "pairings", "mentors"} <= comp.keys() and comp["as_of"] == as_of
    for row in comp["pairings"]:
        assert {"staff", "pupil", "since", "duties"} <= row.keys()
        assert set(row["duties"]) <= DUTIES
        for duty in row["duties"].values():
            assert {"status", "last", "due", "missed"} <= duty.keys()
    for row in comp["mentors"]:
        assert {"staff", "rate"} <= row.keys()
    assert set(pairing(comp, "P1")["duties"]) == DUTIES
    assert set(pairing(comp, "P2")["duties"]) == {"talk", "semester_report", "birthday"}
    assert pairing(comp, "P2")["since"] == "2025-09-10"

    grants = view(url, "aid", "list", "--as-of", as_of)["grants"]
    for row in grants:
        assert {"id", "pupil", "kind", "amount", "items", "date", "fund", "revoked"} <= row.keys()
    ledger = by(grants, "id")
    assert ledger[world.ids["grant"]]["revoked"] is True
    assert (ledger[world.ids["items"]]["amount"], ledger[world.ids["items"]]["items"]) == (None, "冬衣一套")

    notice = view(url, "aid", "notice", "--semester", "2025-2026-2", "--as-of", as_of)
    [rows] = [v for v in notice.values() if isinstance(v, list)]
    assert rows and all(set(r) == {"name", "class", "kind", "amount", "start", "end"} for r in rows)
    assert sorted((r["name"], r["kind"]) for r in rows) == [("学生P2", "material"), ("学生P4", "tuition_waiver")]
    assert "13800001111" not in json.dumps(notice)

    audit = view(url, "audit")["events"]
    verified = view(url, "verify")
    assert len(audit) == verified["events"] == world.events  # every stored event
    assert [r["seq"] for r in audit] == sorted(r["seq"] for r in audit)  # in log order
    for row in audit:
        assert AUDIT_KEYS <= row.keys()
    rows = by(audit, "id")
    assert rows[world.ids["correct"]]["corrects"] == world.ids["talk_P2"]
    assert rows[world.ids["correct"]]["type"] == "EntryCorrected"
    assert rows[world.ids["talk_P2"]]["corrects"] is None
    assert rows[world.ids["revoke"]]["subject"] == "pupil/P1"
    assert dt.datetime.fromisoformat(rows[world.ids["inspect"]]["recorded_at"]) == world.times["inspect"]

    history = view(url, "history", "P2")
    assert history["pupil"] == "P2"
    for row in history["events"]:
        assert AUDIT_KEYS | {"data"} <= row.keys()
    ids = [r["id"] for r in history["events"]]
    assert world.ids["talk_P2"] in ids and world.ids["correct"] in ids  # corrections included
    assert world.ids["birthday"] in ids  # the pupil's part in an activity
    assert by(history["events"], "id")[world.ids["correct"]]["data"]["to_date"] == "2026-02-20"

    assert set(verified) >= {"events", "head"}


# --- --as-of and --known-at ------------------------------------------------------------------


def test_as_of_gives_the_state_on_that_date(world):
    url = world.url
    before = by(view(url, "archive", "--as-of", "2026-02-28")["pupils"], "pupil")
    after = by(view(url, "archive", "--as-of", "2026-03-01")["pupils"], "pupil")
    assert (before["P3"]["status"], before["P3"]["mentor"]) == ("enrolled", "T3")
    assert (after["P3"]["status"], after["P3"]["mentor"]) == ("transferred", None)
    assert "P6" not in by(view(url, "archive", "--as-of", "2025-11-30")["pupils"], "pupil")

    early = by(view(url, "staff", "list", "--as-of", "2025-09-05")["staff"], "staff")
    late = by(view(url, "staff", "list", "--as-of", "2025-09-10")["staff"], "staff")
    assert (early["T2"]["mentees"], late["T2"]["mentees"]) == ([], ["P2"])

    assert view(url, "stats", "--as-of", "2026-03-20")["aid"]["grant"] == "300.50"
    assert view(url, "stats", "--as-of", "2026-04-01")["aid"].get("grant", "0.00") == "0.00"  # revoked that day
    assert "tuition_waiver" not in view(url, "stats", "--as-of", "2026-02-28")["aid"]

    grant = world.ids["grant"]
    assert by(view(url, "aid", "list", "--as-of", "2026-03-31")["grants"], "id")[grant]["revoked"] is False
    assert by(view(url, "aid", "list", "--as-of", "2026-04-01")["grants"], "id")[grant]["revoked"] is True
    assert grant not in by(view(url, "aid", "list", "--as-of", "2026-03-04")["grants"], "id")

    assert "T3" not in by(view(url, "queue", "--as-of", "2026-02-28")["mentors"], "staff")
    assert by(view(url, "queue", "--as-of", "2026-03-01")["mentors"], "staff")["T3"]["reason"] == "transferred"

    # the correction applies at every as-of: P2's talk counts on 2026-02-20, not on 03-03
    assert pairing(view(url, "compliance", "--as-of", "2026-02-25"), "P2")["duties"]["talk"]["last"] == "2026-02-20"
    # the retraction too: P1's talk of 03-04 never counts
    assert pairing(view(url, "compliance", "--as-of", "2026-03-06"), "P1")["duties"]["talk"]["last"] == "2025-10-01"
    comp = view(url, "compliance", "--as-of", "2025-10-05")
    assert comp["as_of"] == "2025-10-05"
    assert pairing(comp, "P1")["duties"]["parent_phone_visit"] == {  # September went unmet
        "status": "met", "last": "2025-10-03", "due": None, "missed": 1}
    assert "P3" in {p["pupil"] for p in comp["pairings"]}

    dates = [r["date"] for r in view(url, "audit", "--as-of", "2025-09-01")["events"]]
    assert dates and all(d <= "2025-09-01" for d in dates)


def test_known_at_gives_the_record_as_it_stood_then(world):
    url = world.url
    before_correction = iso(world.times["talk_P2"] + dt.timedelta(days=5))
    before_retraction = iso(world.times["retract"] - dt.timedelta(minutes=1))
    # P2's talk was recorded on 03-03; its correction to 02-20 only on 03-20
    then = view(url, "compliance", "--as-of", "2026-03-05", "--known-at", before_correction)
    now = view(url, "compliance", "--as-of", "2026-03-05")
    assert pairing(then, "P2")["duties"]["talk"]["last"] == "2026-03-03"
    assert pairing(now, "P2")["duties"]["talk"]["last"] == "2026-02-20"
    # P1's talk of 03-04 counted until the retraction was recorded
    then = view(url, "compliance", "--as-of", "2026-03-06", "--known-at", before_retraction)
    assert pairing(then, "P1")["duties"]["talk"]["last"] == "2026-03-04"
    # the revocation of 04-01, as known before it was recorded
    known = iso(world.times["revoke"] - dt.timedelta(seconds=1))
    assert view(url, "stats", "--as-of", "2026-04-10", "--known-at", known)["aid"]["grant"] == "300.50"
    assert by(view(url, "aid", "list", "--as-of", "2026-04-10", "--known-at", known)["grants"], "id")[
        world.ids["grant"]]["revoked"] is False
    # P6 was registered (and recorded) on 2025-12-01: not known the minute before
    registered = world.times["register_P6"]
    assert "P6" not in by(view(url, "archive", "--as-of", "2025-12-05", "--known-at",
                               iso(registered - dt.timedelta(minutes=1)))["pupils"], "pupil")
    assert "P6" in by(view(url, "archive", "--as-of", "2025-12-05", "--known-at", iso(registered))["pupils"], "pupil")
    # without --as-of, the state on the day of --known-at (school time)
    archive = view(url, "archive", "--known-at", iso(world.times["transfer"]))
    assert archive.get("as_of", "2026-03-01") == "2026-03-01"
    assert by(archive["pupils"], "pupil")["P3"]["status"] == "transferred"
    assert by(view(url, "queue", "--known-at", iso(world.times["transfer"]))["mentors"], "staff")["T3"]["reason"] == "transferred"
    # the audit as known then: only what had been recorded by then, in log order
    moment = world.times["correct"]
    rows = view(url, "audit", "--known-at", iso(moment))["events"]
    assert rows and all(dt.datetime.fromisoformat(r["recorded_at"]) <= moment for r in rows)
    assert rows[-1]["id"] == world.ids["correct"]
    assert world.ids["retract"] not in {r["id"] for r in rows}
    everything = view(url, "audit")["events"]

    def without_flags(rows_: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "flags"} for r in rows_]

    assert without_flags(rows) == without_flags(everything[: len(rows)])
    # a time with an offset other than UTC means the same moment
    beijing = (world.times["transfer"]).astimezone(SHANGHAI).isoformat()
    assert view(url, "archive", "--as-of", "2026-03-01", "--known-at", beijing) == view(
        url, "archive", "--as-of", "2026-03-01", "--known-at", iso(world.times["transfer"]))
    # history as known at a time
    hist = view(url, "history", "P2", "--known-at", before_correction)
    assert world.ids["talk_P2"] in {r["id"] for r in hist["events"]}
    assert world.ids["correct"] not in {r["id"] for r in hist["events"]}


# --- persisted views: catch-up and rebuild ---------------------------------------------------


VIEWS = (
    ("staff", "list"),
    ("archive",),
    ("stats",),
    ("queue",),
    ("compliance",),
    ("compliance", "--from", "2025-10-01", "--to", "2026-01-31"),
    ("aid", "list"),
    ("aid", "notice", "--semester", "2025-2026-2"),
)


def snapshot(url: str, as_of: str) -> dict:
    return {" ".join(args): view(url, *args, "--as-of", as_of) for args in VIEWS}


def test_a_view_catches_up_on_what_another_process_wrote(world):
    url = world.url
    first = view(url, "archive", "--as-of", LATE.isoformat())  # folds and saves the read model
    assert by(first["pupils"], "pupil")["P5"]["mentor"] is None
    view(url, "compliance", "--as-of", LATE.isoformat())
    # another process writes (the real program, with the real clock)
    assert careterm(url, "pair", "T4", "P5", "--date", "2026-06-10", actor="admin").code == 0
    assert careterm(url, "contact", "P5", "--kind", "talk", "--date", "2026-06-15", actor="T4").code == 0
    archive = view(url, "archive", "--as-of", LATE.isoformat())
    assert by(archive["pupils"], "pupil")["P5"]["mentor"] == "T4"
    comp = view(url, "compliance", "--as-of", LATE.isoformat())
    assert pairing(comp, "P5")["since"] == "2026-06-10"
    assert pairing(comp, "P5")["duties"]["talk"]["last"] == "2026-06-15"
    assert "P5" not in {p["pupil"] for p in view(url, "queue", "--as-of", LATE.isoformat())["pupils"]}
    assert by(view(url, "staff", "list", "--as-of", LATE.isoformat())["staff"], "staff")["T4"]["mentees"] == ["P5"]
    # and a new grant shows in the aid ledger, the statistics and the notice
    out = careterm(url, "aid", "grant", "P5", "--kind", "emergency", "--amount", "88.80", "--basis", "illness_or_accident",
                   "--date", "2026-06-16", "--json", actor="admin")
    grant = out.json[0]["id"]
    assert grant in by(view(url, "aid", "list", "--as-of", LATE.isoformat())["grants"], "id")
    assert view(url, "stats", "--as-of", LATE.isoformat())["aid"]["emergency"] == "88.80"
    notice = view(url, "aid", "notice", "--semester", "2025-2026-2", "--as-of", LATE.isoformat())
    [rows] = [v for v in notice.values() if isinstance(v, list)]
    assert ("学生P5", "emergency", "88.80") in {(r["name"], r["kind"], r["amount"]) for r in rows}
    assert view(url, "audit")["events"][-1]["id"] == grant


def test_rebuild_gives_the_same_json(world):
    url = world.url
    as_of = LATE.isoformat()
    view(url, "archive", "--as-of", as_of)  # a saved read model
    assert careterm(url, "contact", "P2", "--kind", "talk", "--date", "2026-06-18", actor="T2").code == 0
    caught_up = snapshot(url, as_of)  # saved state + catch-up
    rebuilt = careterm(url, "rebuild", "--json").json
    assert rebuilt["events"] == world.events + 1
    assert snapshot(url, as_of) == caught_up
    assert careterm(url, "rebuild").code == 0  # text output too
    assert view(url, "compliance", "--as-of", as_of) == caught_up["compliance"]


# --- bad options -------------------------------------------------------------------------------


READ_COMMANDS = (
    ("staff", "list"),
    ("archive",),
    ("stats",),
    ("queue",),
    ("compliance",),
    ("aid", "list"),
    ("aid", "notice", "--semester", "2025-2026-2"),
    ("audit",),
    ("history", "P1"),
)


def test_an_unknown_semester_exits_1_naming_semester(world):
    for semester in ("2099-2100-1", "春季"):
        result = careterm(world.url, "aid", "notice", "--semester", semester, "--as-of", LATE.isoformat())
        assert result.code == 1, result
        assert "--semester" in result.err and semester in result.err
        assert result.out == ""


# (2026/03/01 is understood since dates are read as people write them; full-width digits are not)
BAD_DATES = ("2026-02-30", "yesterday", "2026-13-01", "", "２０２６-03-01")


def test_a_bad_as_of_exits_1_naming_as_of(world):
    for i, args in enumerate(READ_COMMANDS):
        bad = BAD_DATES[i % len(BAD_DATES)]
        result = careterm(world.url, *args, "--as-of", bad)
        assert result.code == 1, (args, result)
        assert "--as-of" in result.err, (args, result.err)
        assert result.out == "", args


def test_a_bad_known_at_or_range_exits_1_naming_the_option(world):
    for args in READ_COMMANDS:
        result = careterm(world.url, *args, "--known-at", "not-a-time")
        assert result.code == 1, (args, result)
        assert "--known-at" in result.err, (args, result.err)
    for option in ("--from", "--to"):
        result = careterm(world.url, "compliance", option, "2026-02-30")
        assert result.code == 1 and option in result.err, result


# --- audit flags -----------------------------------------------------------------------------


def test_audit_flags_late_and_backfill(world):
    rows = by(view(world.url, "audit")["events"], "id")
    for n in range(3):
        assert sorted(rows[world.ids[f"burst{n}"]]["flags"]) == ["backfill", "late"]
    assert rows[world.ids["talk_P2"]]["flags"] == []
    assert rows[world.ids["inspect"]]["flags"] == []


def test_audit_flags_do_not_depend_on_the_filters(world):
    url = world.url
    burst = {world.ids[f"burst{n}"] for n in range(3)}
    full = {r["id"]: sorted(r["flags"]) for r in view(url, "audit")["events"] if r["id"] in burst}
    assert set(full) == burst
    for args in (("audit", "--type", "ContactMade"), ("audit", "--pupil", "P1"), ("audit", "--actor", "T1"),
                 ("history", "P1")):
        rows = {r["id"]: sorted(r["flags"]) for r in view(url, *args)["events"] if r["id"] in burst}
        assert rows == full, args
