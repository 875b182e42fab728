"""A transfer inside the district (issue 15, item 2; cli.md "District and deployment"): the
sending school records `transfer P --to SCHOOL_ID`, the receiving school's leader accepts the
pupil, who is enrolled there with the file carried over and waits in its queue; its leaders,
class teacher and new mentor read the earlier school's record, marked with that school, read only.
On SQLite and a real PostgreSQL server, through the real program."""

from __future__ import annotations

import datetime as dt

from test_cli import careterm, school_today

OPENED = "2025-09-01"


def ok(run):
    assert run.code == 0, run
    return run


def two_schools(s: dict) -> None:
    """石砚小学 (s1: leader boss, mentor T1 of P1, class teacher C1 of grade 3 class 1) sends P1 to
    青山小学 (s2: leader li, teacher T9, class teacher C9 of grade 3 class 1, and its own P1)."""
    ok(careterm("init", "--school", "石砚小学", "--name", "王校长", "--date", OPENED, actor="boss", **s))
    ok(careterm("init", "--school", "青山小学", "--id", "s2", "--name", "李校长", "--date", OPENED, actor="li", **s))
    for school, actor in (("s1", "boss"), ("s2", "li")):
        ok(careterm("--school", school, "staff", "add", "leader_" + school, "--name", "主任", "--role", "leader",
                    "--date", OPENED, actor=actor, **s))
    ok(careterm("--school", "s1", "staff", "add", "T1", "--name", "王丽", "--date", OPENED, actor="boss", **s))
    ok(careterm("--school", "s1", "staff", "add", "C1", "--name", "赵班主任", "--role", "class_teacher", "--grade", "3",
                "--class", "1", "--date", OPENED, actor="boss", **s))
    ok(careterm("--school", "s2", "staff", "add", "T9", "--name", "刘老师", "--date", OPENED, actor="li", **s))
    ok(careterm("--school", "s2", "staff", "add", "C9", "--name", "钱班主任", "--role", "class_teacher", "--grade", "3",
                "--class", "1", "--date", OPENED, actor="li", **s))
    ok(careterm("--school", "s2", "staff", "add", "X9", "--name", "孙老师", "--date", OPENED, actor="li", **s))
    ok(careterm("--school", "s1", "pupil", "add", "P1", "--name", "小明", "--gender", "M", "--birth", "2016-03-01",
                "--grade", "3", "--class", "1", "--category", "left_behind", "--guardian", "张奶奶,祖母,13800000000",
                "--parent", "张父,父亲,广州,13900000000", "--family", "父母在广州打工", "--mental", "想家",
                "--date", OPENED, actor="boss", **s))
    # the receiving school has a P1 of its own
    ok(careterm("--school", "s2", "pupil", "add", "P1", "--name", "小红", "--gender", "F", "--birth", "2016-05-01",
                "--grade", "3", "--class", "2", "--date", OPENED, actor="li", **s))
    ok(careterm("--school", "s1", "pair", "T1", "P1", "--date", OPENED, actor="boss", **s))
    ok(careterm("--school", "s1", "contact", "P1", "--kind", "talk", "--summary", "说想妈妈", "--date", "2025-09-10",
                actor="T1", **s))
    ok(careterm("--school", "s1", "contact", "P1", "--kind", "counseling", "--summary", "夜里哭", "--date",
                "2025-09-12", actor="T1", **s))
    ok(careterm("--school", "s1", "plan", "set", "P1", "--goals", "按时睡觉", "--date", "2025-09-12", actor="T1", **s))


def test_a_pupil_sent_within_the_district_is_accepted_with_the_file(store_url):
    """Sent on Monday 2025-09-15 (the school's record: a talk on 09-10, a counselling talk on 09-12
    and a plan on 09-12). Five school days after Monday 09-15 end on Monday 09-22: on 09-22 it is
    waiting, not yet overdue; accepted on 09-23 under the new id N1 (P1 is taken at s2)."""
    s = dict(store=store_url)
    two_schools(s)
    sent = ok(careterm("--school", "s1", "transfer", "P1", "--to", "s2", "--date", "2025-09-15", "--json",
                       actor="boss", **s)).json()
    transfer_id = sent[0]["id"]
    assert sent[0]["data"]["district"] is True

    # both schools see it; the receiving one as incoming, not yet accepted
    incoming = ok(careterm("--school", "s2", "transfers", "--json", "--as-of", "2025-09-22", signin="li", **s)).json()
    assert [(r["pupil"], r["from"], r["to"], r["sent"], r["accepted"], r["overdue"]) for r in incoming["incoming"]] == [
        ("P1", "s1", "s2", "2025-09-15", None, False)]
    assert incoming["outgoing"] == []
    late = ok(careterm("--school", "s2", "transfers", "--json", "--as-of", "2025-09-23", signin="li", **s)).json()
    assert late["incoming"][0]["overdue"] is True
    outgoing = ok(careterm("--school", "s1", "transfers", "--json", signin="boss", **s)).json()
    assert [(r["pupil"], r["to"], r["sent"], r["accepted"]) for r in outgoing["outgoing"]] == [("P1", "s2", "2025-09-15", None)]

    # only a leader of the receiving school accepts, and the id taken there is refused by name
    teacher = careterm("--school", "s2", "transfer", "accept", "P1", "--id", "N1", "--date", "2025-09-23", actor="T9", **s)
    assert teacher.code == 1 and "领导" in teacher.err, teacher
    taken = careterm("--school", "s2", "transfer", "accept", "P1", "--date", "2025-09-23", actor="li", **s)
    assert taken.code == 1 and "--id" in taken.err, taken
    early = careterm("--school", "s2", "transfer", "accept", "P1", "--id", "N1", "--date", "2025-09-14", actor="li", **s)
    assert early.code == 1 and "2025-09-15" in early.err, early
    unknown = careterm("--school", "s2", "transfer", "accept", "P9", "--date", "2025-09-23", actor="li", **s)
    assert unknown.code == 1 and "P9" in unknown.err, unknown
    ok(careterm("--school", "s2", "transfer", "accept", "P1", "--id", "N1", "--date", "2025-09-23", actor="li", **s))
    again = careterm("--school", "s2", "transfer", "accept", "P1", "--id", "N2", "--date", "2025-09-23", actor="li", **s)
    assert again.code == 1, again

    # enrolled at s2 with the file carried over, waiting in the queue as transferred in
    archive = ok(careterm("--school", "s2", "archive", "--json", signin="li", **s)).json()["pupils"]
    n1 = next(p for p in archive if p["pupil"] == "N1")
    assert (n1["name"], n1["status"], n1["categories"], n1["mentor"], n1["grade"], n1["class"]) == (
        "小明", "enrolled", ["left_behind"], None, 3, 1)
    queue = ok(careterm("--school", "s2", "queue", "--json", signin="li", **s)).json()
    assert [(p["pupil"], p["reason"], p["waiting_since"]) for p in queue["pupils"]] == [("N1", "transferred_in", "2025-09-23")]
    both = [ok(careterm("--school", sc, "transfers", "--json", signin=who, **s)).json() for sc, who in (("s1", "boss"), ("s2", "li"))]
    assert both[0]["outgoing"][0]["accepted"] == "2025-09-23" == both[1]["incoming"][0]["accepted"]
    assert both[1]["incoming"][0]["new_pupil"] == "N1"

    # the sending school can neither take it back nor bring the pupil back itself now
    assert careterm("--school", "s1", "retract", transfer_id, "--reason", "误录", actor="boss", **s).code == 1
    assert careterm("--school", "s1", "return", "P1", actor="boss", **s).code == 1

    # the history at s2: the earlier school's entries first, marked with their school
    ok(careterm("--school", "s2", "pair", "T9", "N1", "--date", "2025-09-24", actor="li", **s))
    history = ok(careterm("--school", "s2", "history", "N1", "--json", signin="T9", **s)).json()["events"]
    earlier = [(e["school"], e["type"], e["date"]) for e in history if e["school"] == "s1"]
    assert ("s1", "ContactMade", "2025-09-10") in earlier and ("s1", "HelpPlanSet", "2025-09-12") in earlier
    assert ("s1", "PupilTransferred", "2025-09-15") in earlier
    assert [e["type"] for e in history if e["school"] == "s2"][:2] == ["PupilRegistered", "TransferAccepted"]
    talk = next(e for e in history if e["school"] == "s1" and e["date"] == "2025-09-10")
    assert talk["data"]["summary"] == "说想妈妈"
    # the new mentor is no counselor: the counselling content stays withheld, here as there
    counselling = next(e for e in history if e["school"] == "s1" and e["date"] == "2025-09-12" and e["type"] == "ContactMade")
    assert counselling.get("withheld") is True and "summary" not in counselling["data"]
    registered = next(e for e in history if e["school"] == "s1" and e["type"] == "PupilRegistered")
    assert "mental" not in registered["data"]["profile"] and registered["data"]["profile"]["family"] == "父母在广州打工"
    # the leader reads it all
    full = ok(careterm("--school", "s2", "history", "N1", "--json", signin="li", **s)).json()["events"]
    assert next(e for e in full if e["school"] == "s1" and e.get("data", {}).get("kind") == "counseling")["data"]["summary"] == "夜里哭"
    # the class teacher of grade 3 class 1 at s2 reads it; another teacher is refused
    ok(careterm("--school", "s2", "history", "N1", "--json", signin="C9", **s))
    other = careterm("--school", "s2", "history", "N1", "--json", signin="X9", **s)
    assert other.code == 1, other
    # the text form says which rows are the earlier school's
    text = ok(careterm("--school", "s2", "history", "N1", signin="li", **s)).out
    assert "石砚小学" in text and "记录学校" in text

    # read only: an entry of the earlier school is no entry of s2
    assert careterm("--school", "s2", "retract", talk["id"], "--reason", "x", actor="li", **s).code == 1
    # the views of the sending school are unchanged by the acceptance
    p1 = next(p for p in ok(careterm("--school", "s1", "archive", "--json", signin="boss", **s)).json()["pupils"]
              if p["pupil"] == "P1")
    assert p1["status"] == "transferred"


def test_a_transfer_to_a_name_is_not_a_district_transfer_and_a_withdrawn_one_cannot_be_accepted(store_url):
    """`--to 县一中` (no school of the store) records a plain transfer out: nobody receives it.
    A transfer to s2 retracted before it is accepted is gone from s2's list, shows as withdrawn
    in s1's, and cannot be accepted. A pupil whose id is "accept" is still transferred."""
    s = dict(store=store_url)
    two_schools(s)
    plain = ok(careterm("--school", "s1", "transfer", "P1", "--to", "县一中", "--date", "2025-09-15", "--json",
                        actor="boss", **s)).json()
    assert plain[0]["data"]["district"] is False
    assert ok(careterm("--school", "s2", "transfers", "--json", signin="li", **s)).json()["incoming"] == []
    ok(careterm("--school", "s1", "retract", plain[0]["id"], "--reason", "写错学校", actor="boss", **s))
    self_sent = careterm("--school", "s1", "transfer", "P1", "--to", "s1", "--date", "2025-09-15", actor="boss", **s)
    assert self_sent.code == 1 and "--to" in self_sent.err, self_sent
    sent = ok(careterm("--school", "s1", "transfer", "P1", "--to", "s2", "--date", "2025-09-16", "--json",
                       actor="boss", **s)).json()
    ok(careterm("--school", "s1", "retract", sent[0]["id"], "--reason", "家长改变主意", actor="boss", **s))
    # the school it was sent to no longer sees the pupil, not even by name; the sender sees it withdrawn
    assert ok(careterm("--school", "s2", "transfers", "--json", signin="li", **s)).json()["incoming"] == []
    outgoing = ok(careterm("--school", "s1", "transfers", "--json", signin="boss", **s)).json()["outgoing"]
    assert [(r["pupil"], r["withdrawn"], r["accepted"]) for r in outgoing] == [("P1", True, None)]
    refused = careterm("--school", "s2", "transfer", "accept", "P1", "--id", "N1", actor="li", **s)
    assert refused.code == 1 and "P1" in refused.err, refused
    ok(careterm("--school", "s1", "pupil", "add", "accept", "--name", "小安", "--gender", "F", "--birth", "2016-03-01",
                "--grade", "3", "--class", "1", "--date", OPENED, actor="boss", **s))
    odd = ok(careterm("--school", "s1", "transfer", "accept", "--to", "县一中", "--date", "2025-09-16", "--json",
                      actor="boss", **s)).json()
    assert (odd[0]["type"], odd[0]["data"]["pupil"]) == ("PupilTransferred", "accept")
    # a teacher of the receiving school may not see the list
    assert careterm("--school", "s2", "transfers", "--json", signin="T9", **s).code == 1


def test_the_receiving_leaders_home_flags_a_transfer_waiting_over_5_school_days_and_enter_accepts_it(tmp_path):
    """Sent on 2025-09-15; the app's today is 2026-11-20 (tests/tui_support.NOW), long past the
    fifth school day (2025-09-22): li's Home lists it first, flagged; Enter on it opens the
    accept form for P1, and saving it with the new id N1 enrols the pupil at s2."""
    import tui_support as S
    from textual.widgets import DataTable

    from careterm.tui.forms import FormScreen
    from test_tui_pilot import save_form

    path = tmp_path / "district.sqlite"
    s = dict(store=str(path))
    two_schools(s)
    ok(careterm("--school", "s1", "transfer", "P1", "--to", "s2", "--date", "2025-09-15", actor="boss", **s))

    async def go():
        app = S.make_app(path, "li")
        async with app.run_test(size=S.SIZE) as pilot:
            table = app.query_one("#home-school", DataTable)
            await S.wait_for(pilot, lambda: table.row_count > 0, 15, "the school's overview")
            keys = [str(k.value) for k in table.rows]
            assert keys[0].startswith("transfer|P1|"), keys
            text = S.screen_text(app)
            assert "转入超过5个工作日未接收" in text and "小明" in text, text
            await S.focus(pilot, "home-school")
            await S.send_keys(pilot, *["up"] * table.cursor_row, "enter")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the accept form")
            assert app.screen.query_one("#f-pupil-id").value == "P1"
            await S.type_into(pilot, "f-id", "N1")
            await save_form(pilot)
            assert not isinstance(app.screen, FormScreen), S.screen_text(app)

    S.run(go())
    events = S.new_events(path, 0)
    accepted = [e for e in events if e.type == "TransferAccepted"]
    assert [(e.school, e.pupil, e.from_school, e.from_pupil, e.actor, e.source) for e in accepted] == [
        ("s2", "N1", "s1", "P1", "li", "tui")]


def test_in_a_10_school_demo_district_a_transferred_pupil_waits_in_the_receiving_queue_with_their_history(tmp_path):
    """`demo --schools 10`: a pupil of s1 with a mentor and contacts is sent to s7 today and
    accepted by a leader of s7 (under a new id if theirs is taken there). s7's queue lists them
    as transferred_in; s7's history of them holds every entry s1's own history shows, marked s1."""
    from events import saved
    from events.model import current_pairing, status_on
    from events.store import Store

    path = str(tmp_path / "district.sqlite")
    ok(careterm("demo", "--schools", "10", store=path, timeout=600))
    with Store(path) as store:
        s1, s7 = saved.load(store, "s1"), saved.load(store, "s7")
    today = school_today()
    leader = lambda m: sorted(s.id for s in m.staff.values() if "leader" in s.roles and s.left is None)[0]  # noqa: E731
    pupil = next(
        p.id for p in sorted(s1.pupils.values(), key=lambda p: p.id)
        if status_on(p, today) == "enrolled" and current_pairing(p) is not None
        and sum(1 for e in p.entries if s1.entries[e].type == "ContactMade") >= 3
    )
    new_id = pupil if pupil not in s7.pupils else f"{pupil}-s1"
    s = dict(store=path)
    ok(careterm("--school", "s1", "transfer", pupil, "--to", "s7", actor=leader(s1), **s))
    incoming = ok(careterm("--school", "s7", "transfers", "--json", signin=leader(s7), **s)).json()["incoming"]
    assert [(r["pupil"], r["from"], r["accepted"]) for r in incoming] == [(pupil, "s1", None)]
    accept = ["--id", new_id] if new_id != pupil else []
    ok(careterm("--school", "s7", "transfer", "accept", pupil, *accept, actor=leader(s7), **s))

    queue = ok(careterm("--school", "s7", "queue", "--json", signin=leader(s7), **s)).json()["pupils"]
    assert [(p["pupil"], p["reason"]) for p in queue if p["pupil"] == new_id] == [(new_id, "transferred_in")]
    there = ok(careterm("--school", "s1", "history", pupil, "--json", signin=leader(s1), **s)).json()["events"]
    here = ok(careterm("--school", "s7", "history", new_id, "--json", signin=leader(s7), **s)).json()["events"]
    assert [e["id"] for e in here if e["school"] == "s1"] == [e["id"] for e in there]
    assert sum(e["type"] == "ContactMade" for e in here if e["school"] == "s1") >= 3
    assert [e["type"] for e in here if e["school"] == "s7"] == ["PupilRegistered", "TransferAccepted"]
