"""The aid procedure (issue 14; cli.md "The aid procedure"): apply, survey, decide, the public
notice of five working days, objections, the grant; funds and their budgets; disciplinary
records; emergencies granted directly.

The rules are checked as pure functions (events.aid_rules) and through the real program
(`careterm`, a subprocess) on a copy of the base school of test_cli.py: admin (admin, leader),
L1 leader, CT class teacher of 3-2, T1 mentor of P1, T3 mentor of P4 (from 2026-03-01); P2
economic_hardship in 3-2 with a living subsidy decided 2025-09-23 and granted 2025-10-01; P3
left_behind (grade 4) with a disciplinary record of 2025-11-05; P4 orphan (grade 2); P1's living
subsidy approved on Monday 2026-03-02 (in notice 03-03 … 03-09); the fund 扶助基金 (100000 yuan).
The cases marked by the `school` fixture run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest

from events import aid_rules as A
from test_cli import check_rows, school, sqlite_base, sqlite_school  # noqa: F401 - fixtures are used by name
from test_cli_refusals import message

D = dt.date


# --- the notice: five working days -------------------------------------------------------------


def test_the_notice_across_a_weekend():
    """Approved Monday 2025-09-08: the five working days after it are Tue 09-09, Wed 09-10,
    Thu 09-11, Fri 09-12 and (over the weekend 13-14) Mon 09-15; grantable from Tue 09-16.
    Approved Thursday 2025-09-11: Fri 12, Mon 15, Tue 16, Wed 17, Thu 18; grantable Fri 09-19.
    Approved Saturday 2025-09-13: Mon 15 … Fri 19; grantable Sat 09-20 (the day after the fifth)."""
    assert A.notice_window(D(2025, 9, 8)) == (D(2025, 9, 9), D(2025, 9, 15))
    assert A.grantable_from(D(2025, 9, 8)) == D(2025, 9, 16)
    assert A.notice_window(D(2025, 9, 11)) == (D(2025, 9, 12), D(2025, 9, 18))
    assert A.grantable_from(D(2025, 9, 11)) == D(2025, 9, 19)
    assert A.notice_window(D(2025, 9, 13)) == (D(2025, 9, 15), D(2025, 9, 19))
    assert A.grantable_from(D(2025, 9, 13)) == D(2025, 9, 20)


def test_the_notice_across_a_holiday_between_terms(sqlite_school):
    """Terms 2025秋 (09-01 … 2026-01-16) and 2026春 (02-20 …): the days between them count as
    working days (Monday to Friday). P4's tuition waiver approved Thursday 2026-01-15: in notice
    Fri 01-16 (the term's last day), then Mon 01-19, Tue 01-20, Wed 01-21, Thu 01-22 in the
    holiday; grantable from Fri 01-23. A grant on 01-22 is refused naming --date; on 01-23 it is
    recorded, and `aid notice --semester 2025秋` shows the days 01-16 … 01-22."""
    s = sqlite_school
    s.write("terms", "add", "--name", "2025秋", "--start", "2025-09-01", "--end", "2026-01-16", "--date", "2025-09-01")
    s.write("terms", "add", "--name", "2026春", "--start", "2026-02-20", "--end", "2026-07-10", "--date", "2025-09-01")
    app = s.write("aid", "apply", "P4", "--kind", "tuition_waiver", "--amount", "300", "--date", "2026-01-12",
                  actor="T2")[0]["id"]  # T2 was P4's mentor until 2026-01-31
    s.write("aid", "survey", app, "--result", "confirmed", "--method", "documents", "--date", "2026-01-13", actor="CT")
    s.write("aid", "decide", app, "--approve", "--date", "2026-01-15", actor="L1")
    s.refused("aid", "grant", app, "--date", "2026-01-22", field="--date", actor="L1")
    check_rows(s.write("aid", "grant", app, "--date", "2026-01-23", actor="L1"), ["AidGranted"], actor="L1")
    [row] = [r for r in s.read("aid", "notice", "--semester", "2025秋")["notice"] if r["kind"] == "tuition_waiver"]
    assert (row["start"], row["end"], row["amount"]) == ("2026-01-16", "2026-01-22", "300.00")


# --- the whole procedure, replayed -----------------------------------------------------------


def _statuses(s, app: str, days: list[str], **kw) -> list[tuple[str, str | None]]:
    found = []
    for day in days:
        rows = [a for a in s.read("aid", "list", "--as-of", day, *kw.get("extra", ()))["applications"] if a["id"] == app]
        found.append((rows[0]["status"], rows[0]["next"]) if rows else (None, None))
    return found


def test_every_step_replayed_on_its_date_and_as_known_then(school):
    """P4's living subsidy of 600 from the fund 助学基金 (1000 yuan, living subsidies): applied
    for by T3 (P4's mentor) on Mon 2026-03-16, surveyed by CT on Wed 03-18 (home visit,
    confirmed), approved by L1 on Mon 03-23 (in notice Tue 03-24 … Mon 03-30), granted by L1 on
    Tue 03-31 (a grant on 03-30 is refused naming --date). `aid list --as-of` on each step's date
    says applied, surveyed, approved, in_notice (03-24 and 03-30), granted; before the
    application, nothing. Known at the decision's recording time, 03-31 shows it approved, the
    grant its next step. The fund: 1000 left on 03-20; 600 reserved, 400 left from 03-23; 600
    spent, 400 left from 03-31."""
    s = school
    s.write("fund", "add", "助学基金", "--budget", "1000", "--kinds", "living_subsidy", "--source", "government",
            "--date", "2026-03-02", actor="L1")
    app = s.write("aid", "apply", "P4", "--kind", "living_subsidy", "--amount", "600", "--fund", "助学基金",
                  "--reason", "父母双亡,随祖母生活", "--date", "2026-03-16", actor="T3")[0]["id"]
    s.write("aid", "survey", app, "--result", "confirmed", "--method", "home_visit", "--date", "2026-03-18", actor="CT")
    decided = s.write("aid", "decide", app, "--approve", "--date", "2026-03-23", actor="L1")[0]
    s.refused("aid", "grant", app, "--date", "2026-03-30", field="--date", actor="L1")
    grant = s.write("aid", "grant", app, "--date", "2026-03-31", actor="L1")[0]
    assert (grant["data"]["application"], grant["data"]["amount"], grant["data"]["fund"]) == (app, "600.00", "助学基金")

    days = ["2026-03-15", "2026-03-16", "2026-03-18", "2026-03-23", "2026-03-24", "2026-03-30", "2026-03-31"]
    assert _statuses(s, app, days) == [
        (None, None), ("applied", "survey"), ("surveyed", "decide"), ("approved", None),
        ("in_notice", "object"), ("in_notice", "object"), ("granted", None),
    ]
    [row] = [a for a in s.read("aid", "list", "--as-of", "2026-03-31")["applications"] if a["id"] == app]
    assert [(st["step"], st["date"], st["actor"]) for st in row["steps"]] == [
        ("apply", "2026-03-16", "T3"), ("survey", "2026-03-18", "CT"), ("decide", "2026-03-23", "L1"),
        ("grant", "2026-03-31", "L1"),
    ]
    assert (row["steps"][2]["notice_start"], row["steps"][2]["notice_end"]) == ("2026-03-24", "2026-03-30")
    assert _statuses(s, app, ["2026-03-31"], extra=("--known-at", decided["recorded_at"])) == [("approved", "grant")]

    def fund(day: str) -> tuple:
        [f] = [f for f in s.read("fund", "list", "--as-of", day)["funds"] if f["name"] == "助学基金"]
        assert {"name", "budget", "spent", "remaining", "kinds"} <= set(f)
        return f["budget"], f["spent"], f["remaining"], f["kinds"]

    assert fund("2026-03-20") == ("1000.00", "0.00", "1000.00", ["living_subsidy"])
    assert fund("2026-03-23") == ("1000.00", "0.00", "400.00", ["living_subsidy"])
    assert fund("2026-03-31") == ("1000.00", "600.00", "400.00", ["living_subsidy"])
    # the grant is in the ledger as the application's
    [ledger] = [g for g in s.read("aid", "list")["grants"] if g["id"] == grant["id"]]
    assert ledger["application"] == app and ledger["direct"] is False


def test_old_one_step_grants_show_as_granted_without_an_application(sqlite_school):
    """A grant recorded before issue 14 (`aid grant PUPIL --kind …` in one step) has no
    application: the ledger lists it (application null, not direct), the applications do not."""
    from events.types import AidGranted

    grant = AidGranted(id="x", school="s1", stream="s1/pupil/P2", date=D(2025, 10, 1), actor="admin", pupil="P2",
                       kind="living_subsidy", amount="500.00")
    from events import model as M

    model = M.new_model("s1")
    M.apply(model, 1, grant)
    assert model.entries["x"].data.get("application") is None and not model.applications
    from projections.views import aid_list

    model.pupils["P2"] = M.PupilRec("P2", D(2025, 9, 1), {"name": "小红", "grade": 3, "class": 2})
    rows = aid_list(model, D(2026, 1, 1))
    assert [(g["id"], g["application"], g["direct"]) for g in rows["grants"]] == [("x", None, False)]
    assert rows["applications"] == []


# --- the budget ------------------------------------------------------------------------------


def test_a_grant_that_overdraws_a_fund_is_refused_naming_the_fund(school):
    """The fund 应急基金 (500 yuan; emergencies and material aid) from 2026-03-02. An emergency
    grant of 300 to P2 on 03-10: 200 left. A back-dated one of 300 on 03-05 would fit that day
    (500 left) but overdraw on 03-10 (600 > 500): refused naming --fund, nothing written; 250
    on 03-11: refused (250 > 200); 200 on 03-11: recorded, 0 left. A decision that would
    overdraw is refused too: an application of 2026春 for 300 from 助学金 (400 yuan) after one of
    200 approved leaves 200: refused naming --fund; a leader's override does not pass it."""
    s = school
    s.write("fund", "add", "应急基金", "--budget", "500", "--kinds", "emergency,material", "--source", "school",
            "--date", "2026-03-02", actor="L1")
    check_rows(s.write("aid", "grant", "P2", "--kind", "emergency", "--amount", "300", "--fund", "应急基金",
                       "--date", "2026-03-10", actor="L1"), ["AidGranted"], actor="L1")
    run = s.refused("aid", "grant", "P2", "--kind", "emergency", "--amount", "300", "--fund", "应急基金",
                    "--date", "2026-03-05", field="--fund", actor="L1")
    assert message("--fund", "fund_overdrawn").search(run.err), run
    s.refused("aid", "grant", "P2", "--kind", "emergency", "--amount", "250", "--fund", "应急基金", "--date",
              "2026-03-11", field="--fund", actor="L1")
    s.write("aid", "grant", "P2", "--kind", "emergency", "--amount", "200", "--fund", "应急基金", "--date",
            "2026-03-11", actor="L1")
    [f] = [f for f in s.read("fund", "list")["funds"] if f["name"] == "应急基金"]
    assert (f["spent"], f["remaining"]) == ("500.00", "0.00")

    s.write("fund", "add", "助学金", "--budget", "400", "--date", "2026-03-02", actor="L1")

    def surveyed(pupil: str, amount: str, actor: str) -> str:
        app = s.write("aid", "apply", pupil, "--kind", "grant", "--amount", amount, "--fund", "助学金",
                      "--date", "2026-03-12", actor=actor)[0]["id"]
        s.write("aid", "survey", app, "--result", "confirmed", "--method", "documents", "--date", "2026-03-12",
                actor="CT")
        return app

    first, second = surveyed("P2", "200", "CT"), surveyed("P4", "300", "T3")
    s.write("aid", "decide", first, "--approve", "--date", "2026-03-13", actor="L1")
    s.refused("aid", "decide", second, "--approve", "--date", "2026-03-13", field="--fund", actor="L1")
    s.refused("aid", "decide", second, "--approve", "--override", "特别困难", "--date", "2026-03-13", field="--fund",
              actor="L1")


# --- eligibility ---------------------------------------------------------------------------------


def _surveyed(s, pupil: str, kind: str, day: str, *extra: str, actor: str = "admin", result: str = "confirmed") -> str:
    app = s.write("aid", "apply", pupil, "--kind", kind, "--amount", "300", *extra, "--date", day, actor=actor)[0]["id"]
    s.write("aid", "survey", app, "--result", result, "--method", "home_visit", "--date", day, actor="CT")
    return app


def test_a_disabled_pupil_is_eligible(sqlite_school):
    """disabled (残疾儿童) is a hardship category (cli.md): P7, registered in 3-2 as disabled only,
    gets a living subsidy approved without --basis; P6 (left_behind only) is refused naming
    --basis, and approved once the application gives --basis parents_unable_to_work."""
    s = sqlite_school
    s.write("pupil", "add", "P7", "--name", "小亮", "--gender", "M", "--birth", "2016-04-01", "--grade", "3",
            "--class", "2", "--category", "disabled", "--date", "2026-03-02", actor="CT")
    app = _surveyed(s, "P7", "living_subsidy", "2026-03-03", actor="CT")
    check_rows(s.write("aid", "decide", app, "--approve", "--date", "2026-03-04", actor="L1"), ["AidDecided"], actor="L1")
    other = _surveyed(s, "P6", "living_subsidy", "2026-03-03")
    run = s.refused("aid", "decide", other, "--approve", "--date", "2026-03-04", field="--basis", actor="L1")
    assert message("--basis", "no_hardship_basis").search(run.err), run
    based = _surveyed(s, "P6", "living_subsidy", "2026-03-03", "--basis", "parents_unable_to_work")
    s.write("aid", "decide", based, "--approve", "--date", "2026-03-04", actor="L1")


def test_a_waiver_then_a_living_subsidy_in_the_same_semester(sqlite_school):
    """P4 (orphan) in 2025-2026-2 (02-01 … 08-31, no terms): a tuition waiver approved on
    2026-03-04 and granted on 03-12 (notice 03-05 … 03-11), then a living subsidy approved on
    03-16: allowed, a policy waiver is not similar aid. A scholarship approved after it in the
    same semester is refused naming --kind (the living subsidy is)."""
    s = sqlite_school
    waiver = _surveyed(s, "P4", "tuition_waiver", "2026-03-03", actor="T3")
    s.write("aid", "decide", waiver, "--approve", "--date", "2026-03-04", actor="L1")
    s.write("aid", "grant", waiver, "--date", "2026-03-12", actor="L1")
    subsidy = _surveyed(s, "P4", "living_subsidy", "2026-03-13", actor="T3")
    check_rows(s.write("aid", "decide", subsidy, "--approve", "--date", "2026-03-16", actor="L1"), ["AidDecided"],
               actor="L1")
    scholarship = _surveyed(s, "P4", "scholarship", "2026-03-17", actor="T3")
    run = s.refused("aid", "decide", scholarship, "--approve", "--date", "2026-03-18", field="--kind", actor="L1")
    assert message("--kind", "similar_aid_this_semester").search(run.err), run


def test_an_override_passes_similar_aid_but_never_skips_the_survey(school):
    """P2 has a living subsidy this semester (2025-2026-1, approved 2025-09-23). A scholarship
    decided on 2025-12-01 is refused naming --kind; with a leader's --override it is approved
    (the reason kept on the decision). A grant applied for and never surveyed: approving it with
    --override is refused naming APPLICATION_ID (no survey); one whose survey did not confirm the
    family's situation: refused too, override or not."""
    s = school
    app = _surveyed(s, "P2", "scholarship", "2025-11-28", actor="CT")
    s.refused("aid", "decide", app, "--approve", "--date", "2025-12-01", field="--kind", actor="L1")
    rows = s.write("aid", "decide", app, "--approve", "--override", "家庭特别困难", "--date", "2025-12-01", actor="L1")
    assert rows[0]["data"]["override"] == "家庭特别困难" and rows[0]["data"]["approved"] is True
    bare = s.write("aid", "apply", "P2", "--kind", "grant", "--amount", "300", "--date", "2025-11-28", actor="CT")[0]["id"]
    run = s.refused("aid", "decide", bare, "--approve", "--override", "家庭特别困难", "--date", "2025-12-01",
                    field="APPLICATION_ID", actor="L1")
    assert message("APPLICATION_ID", "survey_missing").search(run.err), run
    unconfirmed = _surveyed(s, "P2", "grant", "2025-11-28", actor="CT", result="not_confirmed")
    run = s.refused("aid", "decide", unconfirmed, "--approve", "--override", "家庭特别困难", "--date", "2025-12-01",
                    field="APPLICATION_ID", actor="L1")
    assert message("APPLICATION_ID", "survey_not_confirmed").search(run.err), run
    check_rows(s.write("aid", "decide", unconfirmed, "--reject", "--date", "2025-12-01", actor="L1"), ["AidDecided"],
               actor="L1")


def test_a_disciplinary_record_stops_an_approval_this_school_year(sqlite_school):
    """P3's record of 2025-11-05 (school year 2025-2026): a tuition waiver decided on 2025-12-01
    is refused naming APPLICATION_ID; a leader's --override passes it. Once the record is cleared
    (2026-01-05), another decided on 2026-01-10 is approved without override. A record back-dated
    to 2025-11-20, before the approval of 2026-01-10 (no override) in the same school year, is
    refused naming --date; dated 2026-01-12, after it, it is recorded."""
    s = sqlite_school
    app = _surveyed(s, "P3", "tuition_waiver", "2025-11-28")
    run = s.refused("aid", "decide", app, "--approve", "--date", "2025-12-01", field="APPLICATION_ID", actor="L1")
    assert message("APPLICATION_ID", "conduct_record").search(run.err), run
    s.write("aid", "decide", app, "--approve", "--override", "已深刻认识错误", "--date", "2025-12-01", actor="L1")
    s.write("conduct", "clear", s.ids["conduct"], "--reason", "表现良好", "--date", "2026-01-05", actor="CT")
    later = _surveyed(s, "P3", "free_textbooks", "2026-01-06")
    check_rows(s.write("aid", "decide", later, "--approve", "--date", "2026-01-10", actor="L1"), ["AidDecided"],
               actor="L1")
    s.refused("conduct", "record", "P3", "--note", "打架", "--date", "2025-11-20", field="--date", actor="CT")
    check_rows(s.write("conduct", "record", "P3", "--note", "打架", "--date", "2026-01-12", actor="CT"),
               ["ConductRecorded"], actor="CT")


# --- objections ------------------------------------------------------------------------------------


def test_an_objection_holds_the_grant_until_a_new_decision_whose_notice_restarts(school):
    """P1's living subsidy, approved Monday 2026-03-02 (notice 03-03 … 03-09). An objection on
    the decision day is refused (not yet in notice, --date); T2 objects on Wed 03-04: objected, and
    a grant on 03-10 is refused (APPLICATION_ID: objected). A leader approves again on Thu 03-05:
    a new notice Fri 03-06, Mon 03-09, Tue 03-10, Wed 03-11, Thu 03-12; a grant on 03-12 is
    refused naming --date, on Fri 03-13 it is recorded. The public notice shows both notices."""
    s = school
    app = s.ids["application"]
    s.refused("aid", "object", app, "--note", "情况不实", "--date", "2026-03-02", field="--date", actor="T2")
    s.refused("aid", "object", app, "--date", "2026-03-04", field="--note", actor="T2")
    check_rows(s.write("aid", "object", app, "--note", "有家长反映情况不实", "--date", "2026-03-04", actor="T2"),
               ["AidObjected"], actor="T2")
    s.refused("aid", "grant", app, "--date", "2026-03-10", field="APPLICATION_ID", actor="L1")
    assert _statuses(s, app, ["2026-03-04", "2026-03-10"]) == [("objected", "decide"), ("objected", "decide")]
    s.write("aid", "decide", app, "--approve", "--date", "2026-03-05", actor="L1")
    assert _statuses(s, app, ["2026-03-06", "2026-03-12", "2026-03-13"]) == [
        ("in_notice", "object"), ("in_notice", "object"), ("approved", "grant")]
    s.refused("aid", "grant", app, "--date", "2026-03-12", field="--date", actor="L1")
    check_rows(s.write("aid", "grant", app, "--date", "2026-03-13", actor="L1"), ["AidGranted"], actor="L1")
    rows = [r for r in s.read("aid", "notice", "--semester", "2025-2026-2")["notice"] if r["name"] == "小明"]
    assert [(r["start"], r["end"]) for r in rows] == [("2026-03-03", "2026-03-09"), ("2026-03-06", "2026-03-12")]


# --- emergencies -------------------------------------------------------------------------------


def test_emergency_aid_granted_directly_for_an_incident(sqlite_school):
    """A leader grants emergency or material aid at once, without application or basis (P3 has
    no hardship category), linked to the incident it answers; any other kind given directly is
    refused naming --kind; a class teacher may not grant (--as)."""
    s = sqlite_school
    incident = s.write("incident", "report", "P3", "--need", "accommodation", "--date", "2026-03-02", actor="CT")[0]["id"]
    rows = s.write("aid", "grant", "P3", "--kind", "emergency", "--amount", "800", "--incident", incident,
                   "--date", "2026-03-02", actor="L1")
    assert (rows[0]["data"]["direct"], rows[0]["data"]["incident"]) == (True, incident)
    check_rows(s.write("aid", "grant", "P3", "--kind", "material", "--items", "被褥两床", "--date", "2026-03-02",
                       actor="L1"), ["AidGranted"], actor="L1")
    run = s.refused("aid", "grant", "P3", "--kind", "living_subsidy", "--amount", "100", field="--kind", actor="L1",
                    walk=False)
    assert message("--kind", "direct_kind").search(run.err), run
    s.refused("aid", "grant", "P3", "--kind", "emergency", "--amount", "100", field="--as", actor="CT")
    [ledger] = [g for g in s.read("aid", "list")["grants"] if g["id"] == rows[0]["id"]]
    assert (ledger["direct"], ledger["incident"], ledger["application"]) == (True, incident, None)
    audit = [e for e in s.audit("--pupil", "P3") if e["id"] == rows[0]["id"]]
    assert audit and audit[0]["type"] == "AidGranted"


# --- refusals name their field --------------------------------------------------------------------

REFUSALS = {
    "apply for another's pupil": (("aid", "apply", "P2", "--kind", "grant", "--amount", "1"), "T2", "PUPIL_ID",
                                  "not_your_pupil_aid"),
    "a teacher may not survey": (("aid", "survey", "{applied}", "--result", "confirmed", "--method", "interview"), "T1",
                                 "--as", "actor_lacks_role"),
    "a class teacher may not decide": (("aid", "decide", "{applied}", "--reject"), "CT", "--as", "actor_lacks_role"),
    "approve or reject": (("aid", "decide", "{applied}"), "L1", "--approve", "approve_or_reject"),
    "approve and reject": (("aid", "decide", "{applied}", "--approve", "--reject"), "L1", "--approve",
                           "approve_or_reject"),
    "unknown application": (("aid", "survey", "nope", "--result", "confirmed", "--method", "interview"), "CT",
                            "APPLICATION_ID", "unknown_application"),
    "survey before the application": (("aid", "survey", "{applied}", "--result", "confirmed", "--method",
                                       "interview", "--date", "2026-03-01"), "CT", "--date", "before_last_step"),
    "unknown survey result": (("aid", "survey", "{applied}", "--result", "maybe", "--method", "interview"), "CT",
                              "--result", "unknown_value"),
    "unknown fund": (("aid", "apply", "P2", "--kind", "grant", "--amount", "1", "--fund", "无此基金"), "CT", "--fund",
                     "unknown_fund"),
    "a fund that does not pay the kind": (("aid", "apply", "P2", "--kind", "grant", "--amount", "1", "--fund",
                                           "教科书"), "CT", "--fund", "fund_kind"),
    "grant a pupil without --kind": (("aid", "grant", "P2"), "L1", "--kind", "direct_kind"),
    "grant before the notice ends": (("aid", "grant", "{application}", "--date", "2026-03-09"), "L1", "--date",
                                     "in_notice"),
    "grant an application not decided": (("aid", "grant", "{applied}"), "L1", "APPLICATION_ID", "application_status"),
    "an unknown incident": (("aid", "grant", "P2", "--kind", "emergency", "--amount", "1", "--incident", "nope"), "L1",
                            "--incident", "unknown_incident"),
    "a fund twice": (("fund", "add", "扶助基金", "--budget", "1"), "L1", "NAME", "fund_exists"),
    "a bad budget": (("fund", "add", "新基金", "--budget", "abc"), "L1", "--budget", "bad_amount"),
    "a teacher may not add a fund": (("fund", "add", "新基金", "--budget", "5"), "T1", "--as", "actor_lacks_role"),
    "a teacher may not record conduct": (("conduct", "record", "P2", "--note", "x"), "T1", "--as", "actor_lacks_role"),
    "conduct without a note": (("conduct", "record", "P2"), "CT", "--note", "empty"),
    "clear a record twice": (("conduct", "clear", "{cleared}", "--reason", "r"), "CT", "EVENT_ID",
                             "conduct_already_cleared"),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusals_name_their_field(sqlite_school, name):
    s = sqlite_school
    args, actor, field, code = REFUSALS[name]
    if "{cleared}" in args:
        s.write("conduct", "clear", s.ids["conduct"], "--reason", "已改正", actor="CT")
        s.ids["cleared"] = s.ids["conduct"]
    if "教科书" in args:
        s.write("fund", "add", "教科书", "--budget", "1000", "--kinds", "free_textbooks", actor="L1")
    args = tuple(a.format(**s.ids) if "{" in a else a for a in args)
    run = s.refused(*args, field=field, actor=actor)
    assert message(field, code).search(run.err), run


# --- the app: the aid tab walks an application to its next step ------------------------------------


def test_the_aid_tab_walks_an_application_to_its_next_step(demo, store_path):
    """On the demo (its today 2026-11-20), the leader's Home lists the applications awaiting a
    decision or a grant; on the aid tab the one surveyed and awaiting a decision shows its next
    step; Enter opens the decision form with its id filled in, approve is chosen, Ctrl+S records
    one AidDecided (approved, by the leader, dated today) and the row then says approved. A
    class teacher's Enter on that application offers no form (deciding is the leadership's)."""
    import asyncio

    from textual.widgets import DataTable

    import tui_support as S
    from careterm.tui.forms import FormScreen

    ws = S.workspace(store_path, S.LEADER)
    model, day = ws.model_as_of(None, None)
    ws.close()
    from projections.aid import applications

    waiting = [a for a in applications(model, day) if a["next"] == "decide"]
    assert waiting, "the demo has an application awaiting its decision"
    target = waiting[0]
    before = S.head_of(store_path)

    async def go():
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            home = app.query_one("#home-aid", DataTable)
            await S.wait_for(pilot, lambda: home.row_count > 0, 10, "Home's applications")
            assert target["id"] in [str(k.value) for k in home.rows]
            await S.send_keys(pilot, "5")
            apps = app.query_one("#aid-apps", DataTable)
            await S.wait_for(pilot, lambda: apps.row_count > 0, 10, "the aid tab")
            keys = [str(k.value) for k in apps.rows]
            row = keys.index(target["id"])
            assert str(apps.get_row_at(row)[3]) == "▶ " + app.t("aid_step.decide")  # ▶: a step of mine
            apps.focus()
            apps.move_cursor(row=row)
            await S.send_keys(pilot, "enter")
            await S.wait_for(pilot, lambda: isinstance(app.screen, FormScreen), 5, "the decision form")
            form = app.screen
            assert form.form.key == "aid_decide"
            assert form.query_one("#f-application-id").value == target["id"]
            await S.choose(pilot, "f-decision", "approve")
            await S.send_keys(pilot, "ctrl+s")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 10, "the form to save")
            await S.wait_for(pilot, lambda: str(apps.get_row_at([str(k.value) for k in apps.rows].index(target["id"]))[2])
                             == app.t("aid_status.approved"), 10, "the row to say approved")

    S.run(go())
    [event] = S.new_events(store_path, before)
    assert (event.type, event.application, event.approved, event.actor, event.date) == (
        "AidDecided", target["id"], True, S.LEADER, S.UNTIL)

    teacher = next(s.id for s in model.staff.values() if s.roles == ["class_teacher"] or "class_teacher" in s.roles
                   and "leader" not in s.roles)

    async def as_teacher():
        app = S.make_app(store_path, teacher)
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            await S.send_keys(pilot, "5")
            apps = app.query_one("#aid-apps", DataTable)
            await S.wait_for(pilot, lambda: apps.row_count >= 0, 10, "the aid tab")
            await S.settle(pilot)
            pane = app.query_one("AidPane")
            for a in pane.apps.values():
                assert not (a["next"] in ("decide", "grant") and a.get("mine")), a
            await asyncio.sleep(0)

    S.run(as_teacher())


def test_a_step_goes_back_only_as_the_last_and_an_application_with_all_its_steps(sqlite_school):
    """P1's application (applied, surveyed, approved on 2026-03-02): retracting its survey is
    refused naming EVENT_ID (a later step rests on it); retracting the decision puts it back to
    surveyed. Approved again and granted on 03-10, the whole application is retracted: the
    decision, the survey and the grant go with it (one retraction each, in one write), it leaves
    the applications and the ledger, and another living subsidy for P1 that semester is approved."""
    s = sqlite_school
    app = s.ids["application"]

    def row(day: str = "2026-06-30") -> dict | None:
        return next((a for a in s.read("aid", "list", "--as-of", day)["applications"] if a["id"] == app), None)

    survey, decision = [st["id"] for st in row()["steps"][1:3]]
    s.refused("retract", survey, "--reason", "记错", field="EVENT_ID")
    s.write("retract", decision, "--reason", "认定有误")
    assert row()["status"] == "surveyed"
    decided = s.write("aid", "decide", app, "--approve", "--date", "2026-03-02", actor="L1")[0]["id"]
    grant = s.write("aid", "grant", app, "--date", "2026-03-10", actor="L1")[0]["id"]
    rows = s.write("retract", app, "--reason", "录错学生")
    assert [r["type"] for r in rows] == ["EntryRetracted"] * 4
    assert [r["corrects"] for r in rows] == [app, grant, decided, survey]
    assert row() is None and grant not in {g["id"] for g in s.read("aid", "list")["grants"]}
    again = _surveyed(s, "P1", "living_subsidy", "2026-03-11", "--basis", "dibao", actor="T1")
    check_rows(s.write("aid", "decide", again, "--approve", "--date", "2026-03-12", actor="L1"), ["AidDecided"],
               actor="L1")
