"""A district through the command line: schools added to one store, each school's commands and
views kept apart by `--school` (or the acting user's only school), on SQLite and PostgreSQL."""

from __future__ import annotations

from test_cli import careterm

OPENED = "2025-09-01"


def ok(run):
    assert run.code == 0, run
    return run


def test_schools_added_to_one_store_keep_their_records_apart(store_url):
    s = dict(store=store_url)
    ok(careterm("init", "--school", "石砚小学", "--name", "王校长", "--date", OPENED, actor="boss", **s))
    # a second school in the same store, with its own first staff member
    ok(careterm("init", "--school", "青山小学", "--id", "s2", "--name", "李校长", "--date", OPENED, actor="li", **s))
    refused = careterm("init", "--school", "又一所", "--id", "s2", actor="li", **s)
    assert refused.code == 1 and "--id" in refused.err, refused

    for school, actor, teacher, pupil in (("s1", "boss", "T1", "P1"), ("s2", "li", "T9", "Q1")):
        ok(careterm("--school", school, "staff", "add", teacher, "--name", "老师", "--date", OPENED, actor=actor, **s))
        ok(careterm("--school", school, "pupil", "add", pupil, "--name", "学生", "--gender", "F", "--birth",
                    "2016-03-01", "--grade", "3", "--class", "1", "--category", "left_behind", "--date", OPENED,
                    actor=actor, **s))
        ok(careterm("--school", school, "pair", teacher, pupil, "--date", OPENED, actor=actor, **s))

    # without --school, the acting user's only school is used
    ok(careterm("contact", "Q1", "--kind", "talk", actor="T9", **s))
    wrong = careterm("contact", "P1", "--kind", "talk", actor="T9", **s)
    assert wrong.code == 1, wrong  # P1 is not a pupil of T9's school

    one = ok(careterm("--school", "s1", "archive", "--json", signin="boss", **s)).json()
    two = ok(careterm("--school", "s2", "archive", "--json", signin="li", **s)).json()
    assert [p["pupil"] for p in one["pupils"]] == ["P1"]
    assert [(p["pupil"], p["mentor"]) for p in two["pupils"]] == [("Q1", "T9")]
    audit = ok(careterm("--school", "s2", "audit", "--json", signin="li", **s)).json()["events"]
    assert audit and {e["subject"].split("/")[0] for e in audit} <= {"school", "staff", "pupil"}
    assert any(e["type"] == "ContactMade" and e["actor"] == "T9" for e in audit)
    assert not any(e["actor"] == "boss" for e in audit)

    rebuilt = ok(careterm("rebuild", "--json", **s)).json()
    assert set(rebuilt["schools"]) == {"s1", "s2"}
    assert ok(careterm("--school", "s2", "archive", "--json", signin="li", **s)).json() == two
    assert ok(careterm("verify", "--json", **s)).json()["events"] == rebuilt["events"]
