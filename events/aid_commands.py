"""The aid procedure's commands (cli.md "The aid procedure"): apply, survey, decide, object,
grant (of an application, or direct emergency or material aid), funds, conduct records.

Like every command (events.commands) each returns the events to store or raises `Refused` naming
the field; the rules are events.aid_rules', the questions of the model events.model's. Every
step is checked against the whole timeline: it is dated on or after the application's last
standing step, and a fund's budget holds on every later day too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Sequence

from events import aid_rules as A
from events import model as M
from events import rules
from events.calendar import same_semester, semester
from events.commands import (
    open_entry,
    Context,
    Schools,
    actor,
    check_date,
    choice,
    enrolled_on,
    pupil_of,
    school_of,
    stream_of,
    text,
    _event,
)
from events.errors import Refused
from events.model import AppRec, PupilRec, SchoolModel
from events.types import (
    AidApplied,
    AidDecided,
    AidGranted,
    AidObjected,
    AidSurveyed,
    ConductCleared,
    ConductRecorded,
    Event,
    FundAdded,
)

STANDING, RESERVED = A.STANDING, A.RESERVED


# --- the questions the steps ask --------------------------------------------------------------


def _amount_or_items(amount: str | None, items: str | None) -> tuple[str | None, str | None]:
    if (amount is None) == (items is None):
        raise Refused("--amount", "amount_or_items")
    if amount is not None:
        canonical = rules.parse_amount(amount)
        if canonical is None:
            raise Refused("--amount", "bad_amount", value=amount)
        return canonical, None
    return None, text(items, "--items")


def _fund(school: SchoolModel, name: str, kind: str, day: dt.date) -> M.FundRec | None:
    """The fund named (None: no fund), known on the day and paying that kind; else refused."""
    if not name:
        return None
    fund = school.funds.get(name)
    if fund is None or fund.date > day:
        raise Refused("--fund", "unknown_fund", fund=name, known=sorted(school.funds))
    if not A.fund_pays(fund.kinds, kind):
        raise Refused("--fund", "fund_kind", fund=name, kind=kind, kinds=fund.kinds)
    return fund


def application(school: SchoolModel, app_id: str) -> tuple[AppRec, M.EntryRec, list[A.Step]]:
    app = school.applications.get(app_id)
    steps = M.steps_of(school, app) if app is not None else []
    if app is None or not steps:
        raise Refused("APPLICATION_ID", "unknown_application", id=app_id)
    return app, M.application_of(school, app), steps


def _after_last_step(steps: list[A.Step], day: dt.date) -> None:
    last = steps[-1].date
    if day < last:
        raise Refused("--date", "before_last_step", date=day, last=last)


def _status_is(steps: list[A.Step], day: dt.date, allowed: Sequence[str], app_id: str) -> str:
    now = A.status(steps, day)
    if now not in allowed:
        raise Refused("APPLICATION_ID", "application_status", id=app_id, state=now, states=list(allowed))
    return now


def _moments(school: SchoolModel, fund: M.FundRec, day: dt.date) -> list[dt.date]:
    """The day and every later day the fund's use changed: where its budget could break."""
    later: set[dt.date] = set()
    for e in map(school.entries.__getitem__, fund.grants):
        later |= {e.date, e.follow_up_date or e.date}
    for app_id in fund.applications:
        for step in M.steps_of(school, school.applications[app_id]):
            later.add(step.date)
            if step.type == "AidDecided":
                later.add(A.grantable_from(step.date))
    return [day, *sorted(d for d in later if d > day)]


def check_budget(school: SchoolModel, fund: M.FundRec | None, amount: str | None, day: dt.date, but: str = "") -> None:
    """Adding `amount` to the fund from `day` on must not overdraw it, on that day or later (an
    application decided again, after an objection, holds its money already: `but`)."""
    if fund is None or not amount:
        return
    budget = Decimal(fund.budget)
    for moment in _moments(school, fund, day):
        spent, reserved = M.fund_use(school, fund.name, moment, but)
        remaining = budget - spent - reserved
        if Decimal(amount) > remaining:
            raise Refused("--fund", "fund_overdrawn", fund=fund.name, amount=amount, remaining=f"{remaining:.2f}", date=moment)


def similar_counted(school: SchoolModel, pupil: PupilRec, but: str = "") -> list[tuple[str, dt.date]]:
    """(kind, date) of the pupil's similar aid that counts: standing approvals (at their decision)
    and the grants without application (old one-step grants)."""
    found = [(g.kind, g.date) for g in M.grants_of(school, pupil) if not g.data.get("application")]
    for app in M.applications_of(school, pupil.id):
        steps = M.steps_of(school, app)
        if app.id == but or not steps or A.status(steps, dt.date.max) not in STANDING:
            continue
        decision = A.last_decision(steps)
        if decision is not None and decision.data.get("approved"):
            found.append((school.entries[app.id].kind, decision.date))
    return found


def eligibility(school: SchoolModel, pupil: PupilRec, applied: M.EntryRec, steps: list[A.Step], day: dt.date,
                override: str | None) -> None:
    """What an approval checks on its day (cli.md): a confirmed survey, a hardship basis, no other
    similar aid that semester and no disciplinary record this school year (both passed by a
    leader's override), the fund's kinds and remaining budget."""
    survey = A.survey_of(steps)
    if survey is None:
        raise Refused("APPLICATION_ID", "survey_missing", id=applied.id)
    if survey.data.get("result") != "confirmed":
        raise Refused("APPLICATION_ID", "survey_not_confirmed", id=applied.id, date=survey.date)
    basis = applied.data.get("basis")
    if A.needs_basis(applied.kind) and not rules.has_hardship(M.categories_on(pupil, day), basis):
        raise Refused("--basis", "no_hardship_basis", pupil=pupil.id, kind=applied.kind)
    if override is None:
        terms = school.terms_on(dt.date.max)
        others = similar_counted(school, pupil, but=applied.id)
        if A.similar_in_semester(applied.kind, day, others, terms):
            kind = next(k for k, when in others if A.similar(k) and same_semester(when, day, terms))
            raise Refused("--kind", "similar_aid_this_semester", pupil=pupil.id, kind=kind,
                          semester=semester(day, terms).name)
        record = A.conduct_blocks(day, M.conduct_records(school, pupil))
        if record is not None:
            raise Refused("APPLICATION_ID", "conduct_record", pupil=pupil.id, date=record)
    fund = _fund(school, applied.data.get("fund", ""), applied.kind, day)
    check_budget(school, fund, applied.data.get("amount"), day, but=applied.id)


# --- the steps --------------------------------------------------------------------------------


def apply_aid(
    schools: Schools, ctx: Context, pupil_id: str, *, kind: str, amount: str | None = None, items: str | None = None,
    fund: str = "", basis: str | None = None, reason: str = "",
) -> list[Event]:
    """申请, by the pupil's class teacher or mentor, or a leader."""
    school = school_of(schools, ctx)
    actor(school, ctx)
    day = check_date(school, ctx)
    pupil = pupil_of(school, pupil_id)
    actor(school, ctx, "aid_apply", day, pupil=pupil)
    choice(kind, rules.AID_KINDS, "--kind")
    amount, items = _amount_or_items(amount, items)
    if basis is not None:
        choice(basis, rules.BASES, "--basis")
    enrolled_on(pupil, day)
    _fund(school, fund, kind, day)
    return [_event(AidApplied, ctx, stream_of(ctx.school, "pupil", pupil_id), pupil=pupil_id, kind=kind,
                   amount=amount, items=items, fund=fund, basis=basis, reason=reason)]


def survey_aid(schools: Schools, ctx: Context, app_id: str, *, result: str, method: str) -> list[Event]:
    """核实: the family economic survey (a class teacher or a leader); it may be done again
    before the decision."""
    school = school_of(schools, ctx)
    actor(school, ctx, "aid_survey")
    day = check_date(school, ctx)
    app, _, steps = application(school, app_id)
    choice(result, rules.SURVEY_RESULTS, "--result")
    choice(method, rules.SURVEY_METHODS, "--method")
    _after_last_step(steps, day)
    _status_is(steps, day, ("applied", "surveyed"), app_id)
    return [_event(AidSurveyed, ctx, stream_of(ctx.school, "pupil", app.pupil), pupil=app.pupil,
                   application=app_id, result=result, method=method)]


def decide_aid(
    schools: Schools, ctx: Context, app_id: str, *, approve: bool = False, reject: bool = False,
    override: str | None = None,
) -> list[Event]:
    """认定, by a leader: an approval checks the eligibility on its day and starts the notice; a
    new decision after an objection starts a new one."""
    school = school_of(schools, ctx)
    actor(school, ctx, "aid_decide")
    day = check_date(school, ctx)
    app, applied, steps = application(school, app_id)
    if approve == reject:
        raise Refused("--approve", "approve_or_reject")
    if override is not None:
        override = text(override, "--override")
        actor(school, ctx, "override")
    _after_last_step(steps, day)
    # a first decision, a new one after an objection, or a second look at a rejection; an
    # approval of one never surveyed is refused by the eligibility, naming the survey
    _status_is(steps, day, ("applied", "surveyed", "objected", "rejected"), app_id)
    if approve:
        pupil = school.pupils[app.pupil]
        enrolled_on(pupil, day)
        eligibility(school, pupil, applied, steps, day, override)
    return [_event(AidDecided, ctx, stream_of(ctx.school, "pupil", app.pupil), pupil=app.pupil,
                   application=app_id, approved=approve, override=override)]


def object_aid(schools: Schools, ctx: Context, app_id: str) -> list[Event]:
    """An objection during the notice (any staff member records it, its text in --note): no grant
    until a leader decides again."""
    school = school_of(schools, ctx)
    actor(school, ctx)
    day = check_date(school, ctx)
    app, _, steps = application(school, app_id)
    text(ctx.note, "--note")
    _after_last_step(steps, day)
    if A.status(steps, day) != "in_notice":
        raise Refused("--date", "not_in_notice", id=app_id, date=day, state=A.status(steps, day))
    return [_event(AidObjected, ctx, stream_of(ctx.school, "pupil", app.pupil), pupil=app.pupil, application=app_id)]


def grant_aid(
    schools: Schools, ctx: Context, target: str, *, kind: str | None = None, amount: str | None = None,
    items: str | None = None, fund: str = "", basis: str | None = None, override: str | None = None,
    incident: str | None = None,
) -> list[Event]:
    """发放, by a leader: an application after its notice (`target` its id), or emergency or
    material aid directly (`target` a pupil's id, with --kind), perhaps answering an incident."""
    school = school_of(schools, ctx)
    actor(school, ctx, "aid_grant")
    day = check_date(school, ctx)
    if target in school.applications and kind is None and amount is None and items is None:
        return _grant_application(school, ctx, target, day)
    if kind is None:
        if target in school.pupils:
            raise Refused("--kind", "direct_kind", kinds=sorted(rules.DIRECT_AID_KINDS))
        raise Refused("APPLICATION_ID", "unknown_application", id=target)
    pupil = pupil_of(school, target)
    choice(kind, rules.AID_KINDS, "--kind")
    amount, items = _amount_or_items(amount, items)
    if basis is not None:
        choice(basis, rules.BASES, "--basis")
    if override is not None:
        text(override, "--override")
    enrolled_on(pupil, day)
    if kind not in rules.DIRECT_AID_KINDS:
        raise Refused("--kind", "direct_kind", kinds=sorted(rules.DIRECT_AID_KINDS))
    if incident:
        found = school.entries.get(incident)
        if found is None or found.type != "IncidentReported" or found.retracted or found.pupils != [target]:
            raise Refused("--incident", "unknown_incident", id=incident)
        if day < found.date:
            raise Refused("--date", "before_entry", date=day, entry_date=found.date)
    check_budget(school, _fund(school, fund, kind, day), amount, day)
    return [_event(AidGranted, ctx, stream_of(ctx.school, "pupil", target), pupil=target, kind=kind, amount=amount,
                   items=items, fund=fund, basis=basis, override=override, direct=True, incident=incident or None)]


def _grant_application(school: SchoolModel, ctx: Context, app_id: str, day: dt.date) -> list[Event]:
    app, applied, steps = application(school, app_id)
    _after_last_step(steps, day)
    now = _status_is(steps, day, ("approved", "in_notice"), app_id)
    decision = A.last_decision(steps)
    start = A.grantable_from(decision.date)
    if now == "in_notice" or day < start:
        raise Refused("--date", "in_notice", id=app_id, date=day, start=start)
    enrolled_on(school.pupils[app.pupil], day)
    data = applied.data
    return [_event(AidGranted, ctx, stream_of(ctx.school, "pupil", app.pupil), pupil=app.pupil, kind=applied.kind,
                   amount=data.get("amount"), items=data.get("items"), fund=data.get("fund", ""),
                   basis=data.get("basis"), override=decision.data.get("override"), application=app_id)]


# --- funds and conduct ------------------------------------------------------------------------


def add_fund(schools: Schools, ctx: Context, name: str, *, budget: str, kinds: Sequence[str] = (),
             source: str = "school") -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "fund")
    check_date(school, ctx)
    name = text(name, "NAME")
    if name in school.funds:
        raise Refused("NAME", "fund_exists", fund=name)
    canonical = rules.parse_amount(budget)
    if canonical is None:
        raise Refused("--budget", "bad_amount", value=budget)
    kinds = list(dict.fromkeys(kinds or ()))
    for kind in kinds:
        choice(kind, rules.AID_KINDS, "--kinds")
    choice(source, rules.FUND_SOURCES, "--source")
    return [_event(FundAdded, ctx, stream_of(ctx.school, "school"), name=name, budget=canonical, kinds=kinds, origin=source)]


def record_conduct(schools: Schools, ctx: Context, pupil_id: str) -> list[Event]:
    """A disciplinary record (class teacher or leader), its text in --note. A back-dated one may
    not fall before an approval it would have stopped (no override) in its school year."""
    school = school_of(schools, ctx)
    actor(school, ctx, "conduct")
    day = check_date(school, ctx)
    pupil = pupil_of(school, pupil_id)
    text(ctx.note, "--note")
    enrolled_on(pupil, day)
    for app in M.applications_of(school, pupil_id):
        steps = M.steps_of(school, app)
        decision = A.last_decision(steps) if steps else None
        if (decision is not None and decision.data.get("approved") and decision.data.get("override") is None
                and A.conduct_blocks(decision.date, [(day, None)]) is not None
                and A.status(steps, dt.date.max) in STANDING):
            raise Refused("--date", "conduct_before_approval", id=app.id, decided=decision.date)
    return [_event(ConductRecorded, ctx, stream_of(ctx.school, "pupil", pupil_id), pupil=pupil_id)]


def clear_conduct(schools: Schools, ctx: Context, record_id: str, *, reason: str) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "conduct")
    day = check_date(school, ctx)
    record = open_entry(school, record_id, "ConductRecorded", day, "unknown_conduct", "conduct_already_cleared")
    pupil_id = record.pupils[0]
    return [_event(ConductCleared, ctx, stream_of(ctx.school, "pupil", pupil_id), pupil=pupil_id, record=record_id,
                   reason=text(reason, "--reason"))]
