"""Any entry recorded by mistake can be retracted (issue 10, rule 5; cli.md "Retractions"),
unless the timeline without it breaks a rule with what was recorded since.

Each case runs through the real write side on a real SQLite file and is read back through the
views' own saved model; the expected values are worked out by hand in each docstring.
School s1 opens 2025-09-01 (helpers.OPENED); "today" is 2026-06-30; capacity is 3 by default.
"""

from __future__ import annotations

import datetime as dt

import pytest

from events import commands as C
from events import saved
from events.errors import Refused
from events.model import categories_on, current_pairing, status_on
from events.service import Service
from events.store import Store
from helpers import ctx, granted_aid, setup_school
from projections.views import archive, queue

D = dt.date


@pytest.fixture
def school(tmp_path):
    with Store(tmp_path / "s.sqlite", create=True) as store:
        service = Service(store)
        setup_school(service, staff=["t1", "t2"], pupils=["p1", "p2", "p3", "p4"])
        yield store, service


def do(service: Service, command, day: dt.date, *args, **kw):
    return service.execute(lambda s: command(s, ctx(day), *args, **kw))


def refused(service: Service, command, day: dt.date, *args, **kw) -> Refused:
    head = service.store.head()
    with pytest.raises(Refused) as caught:
        do(service, command, day, *args, **kw)
    assert service.store.head() == head, "a refused command wrote something"
    return caught.value


def test_a_mistaken_graduation_is_retracted_and_the_pairing_goes_on(school):
    """p1 is paired with t1 on 2025-09-10 and graduated by mistake on 2026-06-01 (that ends the
    pairing, reason graduated). Retracting the graduation writes two retractions (the exit and
    the pairing's end it caused). Then on 2026-06-30: p1 is enrolled, t1 is still p1's mentor
    (since 2025-09-10), the queue owes t1 no new pupil and p1 is not waiting; and on 2026-06-02
    (as of a day after the mistaken exit) p1 is enrolled too: a retraction applies at every
    as-of. A contact on 2026-06-15 is then accepted (before, `contact` refused: not enrolled)."""
    store, service = school
    do(service, C.pair, D(2025, 9, 10), "t1", "p1")
    exit_ = do(service, C.graduate, D(2026, 6, 1), "p1")[0]
    taken_back = do(service, C.retract, D(2026, 6, 30), exit_.id, reason="记错了")
    assert [e.type for e in taken_back] == ["EntryRetracted", "EntryRetracted"]
    model = saved.load(store, "s1")
    pupil = model.pupils["p1"]
    assert status_on(pupil, D(2026, 6, 30)) == "enrolled"
    assert status_on(pupil, D(2026, 6, 2)) == "enrolled"
    pairing = current_pairing(pupil)
    assert (pairing.staff, pairing.start, pairing.end) == ("t1", D(2025, 9, 10), None)
    rows = {r["pupil"]: r for r in archive(model, D(2026, 6, 30))["pupils"]}
    assert (rows["p1"]["status"], rows["p1"]["mentor"]) == ("enrolled", "t1")
    waiting = queue(model, D(2026, 6, 30))
    assert "p1" not in [p["pupil"] for p in waiting["pupils"]]
    do(service, C.contact, D(2026, 6, 15), "p1", kind="talk")


def test_a_retracted_exit_that_a_return_follows_is_refused(school):
    """p2 transfers out on 2026-03-01 and returns on 2026-04-01. Retracting the transfer would
    leave the return of 2026-04-01 returning a pupil who never left: refused, naming the return
    (rule status_order). Retracting the return first, then the transfer, is accepted: p2 is then
    enrolled throughout (on 2026-03-15 and 2026-06-30)."""
    store, service = school
    transfer = do(service, C.transfer, D(2026, 3, 1), "p2", to="县二小")[0]
    back = do(service, C.return_pupil, D(2026, 4, 1), "p2")[0]
    r = refused(service, C.retract, D(2026, 6, 30), transfer.id, reason="记错了")
    assert (r.field, r.code) == ("EVENT_ID", "retraction_conflicts")
    assert (r.params["entry"], r.params["rule"], r.params["entry_date"]) == (back.id, "status_order", D(2026, 4, 1))
    do(service, C.retract, D(2026, 6, 30), back.id, reason="记错了")
    do(service, C.retract, D(2026, 6, 30), transfer.id, reason="记错了")
    pupil = saved.load(store, "s1").pupils["p2"]
    assert status_on(pupil, D(2026, 3, 15)) == status_on(pupil, D(2026, 6, 30)) == "enrolled"


def test_a_retracted_return_with_care_after_it_is_refused(school):
    """p3 drops out on 2026-02-01, returns on 2026-03-01, and has a talk on 2026-03-10.
    Retracting the return would leave the talk on a day p3 was away: refused, naming the talk
    (rule not_at_school, date 2026-03-10)."""
    store, service = school
    do(service, C.drop_out, D(2026, 2, 1), "p3", reason="外出")
    back = do(service, C.return_pupil, D(2026, 3, 1), "p3")[0]
    talk = do(service, C.contact, D(2026, 3, 10), "p3", kind="talk")[0]
    r = refused(service, C.retract, D(2026, 6, 30), back.id, reason="记错了")
    assert (r.params["entry"], r.params["rule"], r.params["entry_date"]) == (talk.id, "not_at_school", D(2026, 3, 10))


def test_a_retracted_unpairing_whose_mentor_is_full_again_is_refused(school):
    """Capacity set to 1 from 2025-09-01. t1 mentors p1 from 2025-09-10, unpaired on
    2025-10-01, then mentors p2 from 2025-10-02. Retracting the unpairing would give t1 two
    pupils from 2025-10-02 with a capacity of 1: refused, naming the pairing with p2 (rule
    mentor_full). Retracting the pairing with p2 first (its end does not exist: it goes alone),
    then the unpairing, is accepted: t1 mentors p1 again, since 2025-09-10."""
    store, service = school
    do(service, C.set_rules, D(2025, 9, 1), capacity=1)
    do(service, C.pair, D(2025, 9, 10), "t1", "p1")
    unpaired = do(service, C.unpair, D(2025, 10, 1), "p1", reason="调整")[0]
    second = do(service, C.pair, D(2025, 10, 2), "t1", "p2")[0]
    r = refused(service, C.retract, D(2026, 6, 30), unpaired.id, reason="记错了")
    assert (r.params["entry"], r.params["rule"]) == (second.id, "mentor_full")
    assert len(do(service, C.retract, D(2026, 6, 30), second.id, reason="记错了")) == 1
    do(service, C.retract, D(2026, 6, 30), unpaired.id, reason="记错了")
    model = saved.load(store, "s1")
    assert current_pairing(model.pupils["p2"]) is None
    pairing = current_pairing(model.pupils["p1"])
    assert (pairing.staff, pairing.start) == ("t1", D(2025, 9, 10))
    assert [p.pupil for p in model.staff["t1"].pairings] == ["p1"]


def test_a_retracted_pairing_takes_its_end_with_it(school):
    """t2 mentors p4 from 2025-09-15 to 2025-12-01 (unpaired). Retracting the pairing writes
    two retractions (the pairing and its end): p4 never had a mentor, t2 never mentored p4 (the
    staff list shows no pupil of t2 on 2025-10-01), and p4 may be paired with t1 from
    2025-10-01 (before, the retracted pairing would have overlapped)."""
    store, service = school
    paired = do(service, C.pair, D(2025, 9, 15), "t2", "p4")[0]
    do(service, C.unpair, D(2025, 12, 1), "p4", reason="调整")
    assert len(do(service, C.retract, D(2026, 6, 30), paired.id, reason="记错了")) == 2
    model = saved.load(store, "s1")
    assert model.pupils["p4"].pairings == [] and model.staff["t2"].pairings == []
    do(service, C.pair, D(2025, 10, 1), "t1", "p4")


def test_a_mistaken_category_is_retracted_unless_aid_rests_on_it(school):
    """p1 (left_behind) gets economic_hardship added on 2025-11-01, and a living subsidy of 300
    on 2025-11-10 with no --basis (the category is its hardship basis). Retracting the category
    would leave the grant without a basis: refused, naming the grant (rule no_hardship_basis).
    A category learning_difficulty (not a hardship) added by mistake on 2025-11-05, with nothing resting
    on it, is retracted: p1's categories on 2026-06-30 are then left_behind and
    economic_hardship."""
    store, service = school
    added = do(service, C.amend_pupil, D(2025, 11, 1), "p1", add_categories=["economic_hardship"])[0]
    mistaken = do(service, C.amend_pupil, D(2025, 11, 5), "p1", add_categories=["learning_difficulty"])[0]
    *_, decision, grant = do(service, granted_aid, D(2025, 11, 10), "p1", kind="living_subsidy", amount="300")
    r = refused(service, C.retract, D(2026, 6, 30), added.id, reason="记错了")
    # (issue 14) the basis is judged at the approval: the conflict names the decision
    assert (r.params["entry"], r.params["rule"]) == (decision.id, "no_hardship_basis")
    do(service, C.retract, D(2026, 6, 30), mistaken.id, reason="记错了")
    pupil = saved.load(store, "s1").pupils["p1"]
    assert sorted(categories_on(pupil, D(2026, 6, 30))) == ["economic_hardship", "left_behind"]


def test_a_retracted_revocation_clashing_with_a_later_similar_grant_is_refused(school):
    """p2 gets economic_hardship; a living subsidy on 2025-10-01, revoked on 2025-10-05, and a
    grant (similar aid) on 2025-10-10 in the same semester (autumn, no terms: 09-01..01-31).
    Retracting the revocation would make two similar aids count that semester: refused, naming
    the grant of 2025-10-10 (rule similar_aid)."""
    store, service = school
    do(service, C.amend_pupil, D(2025, 9, 20), "p2", add_categories=["economic_hardship"])
    first = do(service, granted_aid, D(2025, 10, 1), "p2", kind="living_subsidy", amount="300")[-1]
    revoked = do(service, C.revoke_aid, D(2025, 10, 5), first.id, reason="重复")[0]
    *_, second, _ = do(service, granted_aid, D(2025, 10, 10), "p2", kind="grant", amount="200")
    r = refused(service, C.retract, D(2026, 6, 30), revoked.id, reason="记错了")
    # (issue 14) similar aid is judged at the approval: the second's decision, 2025-10-02 (the
    # latest day whose notice of five working days, 10-03 … 10-09, ends before the grant on 10-10)
    assert (r.params["entry"], r.params["rule"], r.params["entry_date"]) == (second.id, "similar_aid", D(2025, 10, 2))


def test_a_retraction_cannot_be_retracted_and_the_school_s_own_entries_stay(school):
    """A retraction is not retractable (cli.md); neither are staff joining nor rules: each is
    refused with entry_not_correctable, and nothing is written."""
    store, service = school
    talk = do(service, C.contact, D(2026, 5, 1), "p1", kind="talk")[0]
    taken_back = do(service, C.retract, D(2026, 6, 30), talk.id, reason="记错了")[0]
    rules = do(service, C.set_rules, D(2026, 1, 1), capacity=2)[0]
    joined = next(e for _, e in store.read() if e.type == "StaffJoined" and e.staff == "t1")
    for entry in (taken_back, rules, joined):
        assert refused(service, C.retract, D(2026, 6, 30), entry.id, reason="x").code == "entry_not_correctable"


def test_the_refusal_reads_in_chinese_on_the_command_line(tmp_path):
    """Through the real program: a transfer of p1 on 2026-03-01 and its return on 2026-04-01;
    `retract` of the transfer exits 1, and the message names the return's id, its date
    2026-04-01, its type by its Chinese name (返校) and the rule in words, with no code."""
    from test_cli import careterm

    store = str(tmp_path / "s.sqlite")
    careterm("init", "--school", "石砚小学", "--name", "校长", "--date", "2025-09-01", store=store, actor="admin")
    careterm("pupil", "add", "p1", "--name", "小明", "--gender", "M", "--birth", "2016-03-01", "--grade", "3",
             "--class", "2", "--category", "left_behind", "--date", "2025-09-01", store=store, actor="admin")
    transfer = careterm("transfer", "p1", "--to", "县二小", "--date", "2026-03-01", "--json", store=store, actor="admin").json()[0]
    back = careterm("return", "p1", "--date", "2026-04-01", "--json", store=store, actor="admin").json()[0]
    run = careterm("retract", transfer["id"], "--reason", "记错了", store=store, actor="admin")
    assert run.code == 1, run
    assert back["id"] in run.err and "2026-04-01" in run.err and "返校" in run.err
    assert "status_order" not in run.err and "PupilReturned" not in run.err
