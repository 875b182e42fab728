"""The demo school: built through the real commands into a real SQLite store, once per module.

The store's clock is pinned (NOW) so that the tests do not depend on the machine's date; the demo
sets the clock to each simulated recording time during the build and restores it afterwards.
"""

from __future__ import annotations

import collections
import datetime as dt
import re

import pytest

from careterm.demo import CAPACITY, build_demo
from events import rules
from events.commands import CORRECTABLE, RETRACTABLE
from events.service import Service
from events.store import Store

UNTIL = dt.date(2026, 10, 30)
NOW = dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.timezone.utc)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _build(path, *, schools: int = 1, seed: int = 2026, until: dt.date = UNTIL):
    store = Store(path, create=True, clock=lambda: NOW)
    service = Service(store)
    summary = build_demo(service, schools=schools, seed=seed, until=until)
    events = [e for _, e in store.read()]
    return store, service, summary, events


def _local(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def _fingerprint(events) -> list[tuple]:
    return [(e.type, e.stream, e.date, e.recorded_at) for e in events]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    store, service, summary, events = _build(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    yield store, service, summary, events
    store.close()


@pytest.fixture(scope="module")
def events(built):
    return built[3]


@pytest.fixture(scope="module")
def by_type(events):
    found = collections.defaultdict(list)
    for e in events:
        found[e.type].append(e)
    return found


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    store, service, summary, events = _build(tmp_path_factory.mktemp("district") / "district.sqlite", schools=3)
    yield store, summary, events
    store.close()


# --- size and shape ---------------------------------------------------------------------------


def test_counts_in_the_expected_ranges(built, by_type):
    _, _, summary, events = built
    assert summary["schools"] == 1 and summary["school_ids"] == ["s1"]
    assert summary["events"] == len(events) > 10_000
    assert 38 <= summary["staff"] <= 50
    assert summary["staff"] == len(by_type["StaffJoined"])
    # about 150 pupils in care at any time; the total includes those who left and the new intake
    assert summary["pupils"] == len(by_type["PupilRegistered"])
    assert 150 <= summary["pupils"] <= 240
    assert 130 <= summary["enrolled"] <= 170
    registered_early = [e for e in by_type["PupilRegistered"] if e.date < by_type["SchoolOpened"][0].date + dt.timedelta(30)]
    assert 140 <= len(registered_early) <= 160
    assert summary["by_type"] == {t: len(v) for t, v in sorted(by_type.items())}


def test_every_category_with_realistic_proportions(by_type):
    pupils = by_type["PupilRegistered"]
    counts = collections.Counter(c for e in pupils for c in e.categories)
    assert set(counts) == set(rules.CATEGORIES)
    assert counts["left_behind"] > len(pupils) * 0.4  # most are 留守儿童
    assert counts["left_behind"] > counts["economic_hardship"] > counts["orphan"]
    assert sum(1 for e in pupils if len(e.categories) >= 2) >= 10


def test_pupils_look_real(by_type):
    pupils = by_type["PupilRegistered"]
    assert len({e.pupil for e in pupils}) == len(pupils)
    assert len({e.name for e in pupils}) == len(pupils)
    assert {e.gender for e in pupils} == {"F", "M"}
    for e in pupils:
        assert 2 <= len(e.name) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in e.name)
        # six on 31 August of the year they entered grade 1 (some started a year late)
        entered = (e.date.year if e.date.month >= 9 else e.date.year - 1) - e.grade + 1
        age = (dt.date(entered, 8, 31) - e.birth).days / 365.25
        assert 6.0 <= age < 8.0, (e.pupil, e.birth, e.grade, e.date)
        assert e.guardian is not None and e.guardian.phone.startswith("1") and len(e.guardian.phone) == 11
        assert e.profile.get("family")
        if "left_behind" in e.categories and "orphan" not in e.categories:
            assert any(p.workplace and "务工" not in p.workplace for p in e.parents)
    relations = collections.Counter(e.guardian.relation for e in pupils)
    assert relations["奶奶"] + relations["爷爷"] + relations["外婆"] + relations["外公"] > len(pupils) / 3


def test_staff_roles(by_type):
    joined = by_type["StaffJoined"]
    roles = collections.Counter(r for e in joined for r in e.roles)
    assert by_type["SchoolOpened"][0].actor == "admin"
    assert set(joined[0].roles) == {"admin", "leader"} and joined[0].staff == "admin"
    assert roles["leader"] >= 3 and roles["counselor"] >= 1 and roles["auditor"] >= 1
    class_teachers = [e for e in joined if "class_teacher" in e.roles]
    assert 12 <= len(class_teachers) <= 18
    assert {e.grade for e in class_teachers} == set(range(1, 7))
    assert all(e.class_ for e in class_teachers)


def test_calendar_and_rules(by_type, events):
    opened = by_type["SchoolOpened"][0].date
    assert dt.timedelta(days=530) <= UNTIL - opened <= dt.timedelta(days=560)
    terms = sorted(by_type["TermAdded"], key=lambda e: e.start)
    assert len(terms) >= 3
    assert all(t.name.endswith(("春季学期", "秋季学期")) for t in terms)
    for a, b in zip(terms, terms[1:]):
        assert a.end < b.start  # holidays between
    capacities = [e.capacity for e in by_type["RulesSet"] if e.capacity]
    assert capacities == [1, CAPACITY]


# --- the recording times ------------------------------------------------------------------------


def test_recording_times_are_possible(events):
    previous = None
    for e in events:
        assert e.recorded_at is not None and e.recorded_at <= NOW
        assert _local(e.recorded_at) >= e.date and e.recorded_at.date() >= e.date
        assert e.date <= UNTIL and _local(e.recorded_at) <= UNTIL
        if previous is not None:
            assert e.recorded_at >= previous  # the log is in recording order
        previous = e.recorded_at
    assert {e.source for e in events} == {"demo"}


def test_late_entries(by_type):
    contacts = by_type["ContactMade"]
    delays = [(_local(e.recorded_at) - e.date).days for e in contacts]
    assert sum(1 for d in delays if d <= 3) > 0.6 * len(delays)  # most within three days
    assert sum(1 for d in delays if d > 7) > 300  # but quite a few later than a week
    assert sum(1 for d in delays if 8 <= d <= 30) > 200


def test_back_dated_burst_before_an_inspection(by_type):
    contacts = collections.defaultdict(list)
    for e in by_type["ContactMade"]:
        contacts[e.actor].append(e)
    leaders = {e.staff for e in by_type["StaffJoined"] if {"leader", "auditor"} & set(e.roles)}
    bursts = []
    for inspection in by_type["HandbookInspected"]:
        assert inspection.actor in leaders and inspection.actor != inspection.staff
        day = inspection.date
        late = [
            e for e in contacts[inspection.staff]
            if day - dt.timedelta(days=7) <= _local(e.recorded_at) < day
            and (_local(e.recorded_at) - e.date).days > 7
        ]
        if len(late) >= 10:
            bursts.append((inspection.staff, day, len(late)))
    assert len({staff for staff, _, _ in bursts}) >= 1
    assert len(bursts) >= 3


def test_no_contacts_in_holidays_mostly(by_type):
    terms = by_type["TermAdded"]
    contacts = by_type["ContactMade"]
    corrected = {e.corrects for e in by_type["EntryCorrected"]}
    in_holiday = [e for e in contacts if not any(t.start <= e.date <= t.end for t in terms)]
    assert len(in_holiday) < 0.02 * len(contacts)
    assert all(e.kind == "home_visit" for e in in_holiday if e.id not in corrected)  # 寒假家访


# --- the story ----------------------------------------------------------------------------------


def test_pairings_queue_and_a_mentor_leaving(by_type, events):
    assigned = by_type["PairingAssigned"]
    first_day = min(e.date for e in assigned)
    assert len([e for e in assigned if e.date == first_day]) <= 45  # capacity 1 at first: most wait
    assert len({e.pupil for e in assigned}) >= 140
    left = by_type["StaffLeft"]
    assert left
    ended = [e for e in by_type["PairingEnded"] if e.reason == "mentor_left"]
    assert ended
    for end in ended:
        later = [e for e in assigned if e.pupil == end.pupil and e.date >= end.date]
        if later:  # the pupil waits, then gets a new mentor
            assert later[0].staff != end.staff and later[0].date > end.date
    assert any(any(e.pupil == end.pupil and e.date > end.date for e in assigned) for end in ended)
    # nobody mentors more than the rules allow
    active: dict[str, set[str]] = collections.defaultdict(set)
    for e in events:
        if e.type == "PairingAssigned":
            active[e.staff].add(e.pupil)
            assert len(active[e.staff]) <= CAPACITY
        elif e.type == "PairingEnded":
            active[e.staff].discard(e.pupil)


def test_exits_and_returns(by_type):
    graduated = by_type["PupilGraduated"]
    assert len([e for e in graduated if e.date.year == 2026 and e.date.month == 7]) >= 15
    assert all(e.date.month == 7 for e in graduated)
    assert len(by_type["PupilTransferred"]) >= 2
    assert all(e.to for e in by_type["PupilTransferred"])
    dropped = {e.pupil: e for e in by_type["PupilDroppedOut"]}
    returned = {e.pupil: e for e in by_type["PupilReturned"]}
    assert dropped and returned and set(returned) <= set(dropped)
    assert all(returned[p].date > dropped[p].date for p in returned)
    assert set(dropped) - set(returned)  # one is still away: the alarm
    exits = {e.pupil: e.date for t in ("PupilGraduated", "PupilTransferred") for e in by_type[t]}
    for e in by_type["ContactMade"]:
        assert e.pupil not in exits or e.date < exits[e.pupil]
    # the grade goes up every September
    assert any(e.changes.get("grade") for e in by_type["PupilAmended"] if e.date.month == 9)


def test_corrections_and_retractions_point_at_existing_entries(by_type, events):
    seen: dict[str, object] = {}
    for e in events:
        if e.type in ("EntryCorrected", "EntryRetracted"):
            target = seen.get(e.corrects)
            assert target is not None, e
            allowed = CORRECTABLE if e.type == "EntryCorrected" else RETRACTABLE
            assert target.type in allowed and target.stream == e.stream
            assert e.reason and e.recorded_at > target.recorded_at
        seen[e.id] = e
    corrected = by_type["EntryCorrected"]
    assert any(e.to_date for e in corrected) and any(e.to_kind for e in corrected)
    assert len(by_type["EntryRetracted"]) >= 2
    for e in corrected:
        if e.to_date:
            assert e.to_date < seen[e.corrects].date


def test_aid_plans_incidents_and_activities(by_type):
    grants = {e.id: e for e in by_type["AidGranted"]}
    kinds = collections.Counter(e.kind for e in grants.values())
    for kind in ("living_subsidy", "grant", "tuition_waiver", "free_textbooks", "material", "emergency", "donation"):
        assert kinds[kind], kind
    assert all(rules.parse_amount(e.amount) == e.amount for e in grants.values() if e.amount)
    assert any(e.items == "冬衣两套" or "冬衣" in (e.items or "") for e in grants.values())
    overrides = [e for e in grants.values() if e.override]
    assert len(overrides) == 1
    twin = [g for g in grants.values() if g.pupil == overrides[0].pupil and g.kind in rules.SIMILAR_AID and g is not overrides[0]]
    assert twin  # the double aid a leader recommended
    revoked = by_type["AidRevoked"]
    assert revoked and all(e.grant in grants and grants[e.grant].pupil == e.pupil for e in revoked)
    incidents = {e.id: e for e in by_type["IncidentReported"]}
    assert {e.need for e in incidents.values()} >= {"custody", "accommodation", "supplies"}
    assert all(e.incident in incidents for e in by_type["IncidentResolved"])
    assert len(by_type["IncidentResolved"]) == len(incidents)
    assert by_type["HelpPlanSet"] and by_type["HelpPlanReviewed"]
    activities = collections.Counter(e.kind for e in by_type["CareActivityHeld"])
    assert activities["birthday"] >= 10 and activities["holiday_visit"] >= 1


def test_aid_follows_the_procedure(built, by_type):
    """Issue 14: every grant but the direct emergency and material aid is an application's, each
    after its survey, its approval and its five working days of notice; a rejected application,
    an objection followed by a new decision, an emergency answering an incident, the funds (one
    nearly spent: less than 10% left on the demo's last day), a disciplinary record cleared."""
    from events import aid_rules as A
    from projections.aid import applications, fund_list

    _, service, _, _ = built
    school = service.models["s1"]
    grants = by_type["AidGranted"]
    direct = [g for g in grants if g.direct]
    assert direct and all(g.kind in rules.DIRECT_AID_KINDS and g.application is None for g in direct)
    assert all(g.application in school.applications for g in grants if not g.direct)
    assert any(g.incident for g in direct)
    rows = applications(school, UNTIL)
    assert len(rows) == len(by_type["AidApplied"])
    statuses = collections.Counter(r["status"] for r in rows)
    assert statuses["granted"] > 100 and statuses["rejected"] >= 1, statuses
    for row in rows:
        steps = [s["step"] for s in row["steps"]]
        if row["status"] in ("granted", "revoked"):
            assert steps[:3] == ["apply", "survey", "decide"] and steps[-1] == "grant", row
            decision = [s for s in row["steps"] if s["step"] == "decide"][-1]
            assert row["steps"][-1]["date"] >= decision["grant_from"], row
            assert A.grantable_from(dt.date.fromisoformat(decision["date"])).isoformat() == decision["grant_from"]
    objected = [r for r in rows if "object" in [s["step"] for s in r["steps"]]]
    assert objected and all([s["step"] for s in r["steps"]].count("decide") == 2 for r in objected)
    funds = fund_list(school, UNTIL)["funds"]
    assert len(funds) >= 2
    nearly = [f for f in funds if float(f["remaining"]) < 0.1 * float(f["budget"])]
    assert nearly and all(float(f["remaining"]) >= 0 for f in funds), funds
    assert by_type["ConductRecorded"] and by_type["ConductCleared"]


# --- the store ----------------------------------------------------------------------------------


def test_store_verifies_and_replays(built, events):
    store, service, summary, _ = built
    verified = store.verify()
    assert verified.events == len(events) == store.head()
    assert store.clock() == NOW  # restored after the build
    fresh = Service(store)
    fresh.catch_up()
    school = fresh.models["s1"]
    assert len(school.pupils) == summary["pupils"] and len(school.staff) == summary["staff"]
    assert fresh.position == service.position == store.head()


def _said(events) -> list[tuple]:
    return [tuple(getattr(e, k) for k in SAID) for e in events if e.type == "ContactMade"]


def test_deterministic(tmp_path, events):
    store, _, _, again = _build(tmp_path / "again.sqlite")
    store.close()
    assert _fingerprint(again) == _fingerprint(events)
    assert _said(again) == _said(events)  # what was said too
    assert [e.id for e in again] != [e.id for e in events]  # only the ids differ


SAID = ("summary", "topics", "problem", "help_given", "medium", "minutes", "follow_up", "study", "thoughts", "life", "gift")
CJK_TEXT = re.compile(r"^[\u4e00-\u9fff，。、：；！？“”《》（）0-9]+$")


def test_contacts_say_what_was_said(by_type):
    """The handbook of the demo reads real (careterm/demo/said.py): most contacts have a
    Chinese summary, a medium and topics of the vocabularies, minutes in range (never for a
    message); nearly every semester report has its 学习、思想、生活情况, most birthdays a gift,
    and these parts are on those kinds only; some contacts record a problem with the help given.
    The demo's careful mentors write nearly always, the sloppy ones about half the time, so the
    share of contacts with a summary is between 70% and 95%."""
    contacts = by_type["ContactMade"]
    summaries = [e for e in contacts if e.summary]
    assert 0.70 * len(contacts) <= len(summaries) <= 0.95 * len(contacts)
    assert all(CJK_TEXT.match(e.summary) for e in summaries), next(e.summary for e in summaries if not CJK_TEXT.match(e.summary))
    media = collections.Counter(e.medium for e in contacts)
    assert set(media) <= set(rules.CONTACT_MEDIA) | {""} and media.most_common(1)[0][0] == "in_person"
    assert all(set(e.topics) <= set(rules.CONTACT_TOPICS) and len(set(e.topics)) == len(e.topics) for e in contacts)
    timed = [e for e in contacts if e.minutes is not None]
    assert len(timed) > len(contacts) / 3 and all(e.minutes in rules.CONTACT_MINUTES and e.medium != "message" for e in timed)
    reports = [e for e in by_type["ContactMade"] if e.kind == "semester_report"]
    assert sum(1 for e in reports if e.study and e.thoughts and e.life) >= 0.9 * len(reports) > 0
    birthdays = [e for e in contacts if e.kind == "birthday"]
    assert sum(1 for e in birthdays if e.gift) >= 0.8 * len(birthdays) > 0
    for e in contacts:
        assert (not (e.study or e.thoughts or e.life) or e.kind == "semester_report") and (not e.gift or e.kind == "birthday")
    problems = [e for e in contacts if e.problem]
    assert len(problems) > 100 and all(e.help_given for e in problems)


def test_refuses_a_store_that_is_not_empty_or_a_future_until(built, tmp_path):
    store, service, _, _ = built
    with pytest.raises(ValueError):
        build_demo(service, until=UNTIL)
    other = Store(tmp_path / "future.sqlite", create=True, clock=lambda: NOW)
    with pytest.raises(ValueError):
        build_demo(Service(other), until=_local(NOW) + dt.timedelta(days=1))
    assert other.is_empty()
    other.close()


def test_district_of_three_schools(district, events):
    store, summary, district_events = district
    opened = [e for e in district_events if e.type == "SchoolOpened"]
    assert sorted(e.school for e in opened) == ["s1", "s2", "s3"] == summary["school_ids"]
    assert len({e.name for e in opened}) == 3
    assert summary["schools"] == 3 and summary["events"] == len(district_events) > 30_000
    per_school = collections.Counter(e.school for e in district_events)
    assert all(n > 10_000 for n in per_school.values())
    assert all(e.stream.startswith(e.school + "/") for e in district_events)
    stamps = [e.recorded_at for e in district_events]
    assert stamps == sorted(stamps)  # the schools are interleaved in recording order
    # each school is drawn from its own random stream: s1 is the single school again
    assert _fingerprint([e for e in district_events if e.school == "s1"]) == _fingerprint(events)
    assert store.verify().events == len(district_events)
