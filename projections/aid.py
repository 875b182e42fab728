"""The aid procedure as the views show it: applications with their steps and status, the public
notice with its days, the funds' budgets. Pure functions of the model and a date (as-of); the
rules are events.aid_rules', the same the commands ask.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from events import aid_rules as A
from events import model as M
from events.model import SchoolModel
from projections import visibility as V

STEP_NAMES = {"AidApplied": "apply", "AidSurveyed": "survey", "AidDecided": "decide", "AidObjected": "object",
              "AidGranted": "grant"}


def _step_row(step: A.Step, day: dt.date) -> dict[str, Any]:
    row: dict[str, Any] = {"step": STEP_NAMES[step.type], "id": step.entry, "date": step.date.isoformat(),
                           "actor": step.actor}
    if step.type == "AidSurveyed":
        row.update(result=step.data.get("result"), method=step.data.get("method"))
    elif step.type == "AidDecided":
        row.update(approved=bool(step.data.get("approved")), override=step.data.get("override"))
        if step.data.get("approved"):
            start, end = A.notice_window(step.date)
            row.update(notice_start=start.isoformat(), notice_end=end.isoformat(),
                       grant_from=A.grantable_from(step.date).isoformat())
    elif step.type == "AidGranted" and step.revoked is not None and step.revoked <= day:  # as of the day
        row.update(revoked=step.revoked.isoformat())
    return row


def application_row(model: SchoolModel, app: M.AppRec, day: dt.date) -> dict[str, Any] | None:
    steps = A.standing(M.steps_of(model, app), day)
    if not steps:
        return None
    applied = M.application_of(model, app)
    return {
        "id": app.id,
        "pupil": app.pupil,
        "kind": applied.kind,
        "amount": applied.data.get("amount"),
        "items": applied.data.get("items"),
        "fund": applied.data.get("fund", ""),
        "basis": applied.data.get("basis"),
        "status": A.status(steps, day),
        "next": A.next_step(steps, day),
        "steps": [_step_row(s, day) for s in steps],
    }


def applications(model: SchoolModel, day: dt.date, viewer: V.Viewer | None = None) -> list[dict[str, Any]]:
    """Every application made by the day, of the pupils the viewer sees in full, oldest first."""
    rows = []
    for app in model.applications.values():
        if not V.in_view(viewer, model, app.pupil, day):
            continue
        row = application_row(model, app, day)
        if row is not None:
            rows.append(row)
    rows.sort(key=lambda r: r["steps"][0]["date"])
    return rows


def notice_rows(model: SchoolModel, day: dt.date, in_semester) -> list[dict[str, Any]]:
    """What is or was in notice by the day, each approval with its days (`in_semester(date)`:
    whether its first day is in the semester asked), but the aid revoked by then (as a revoked
    grant leaves the notice). Name, class, kind, amount only."""
    rows = []
    for app in model.applications.values():
        applied = M.application_of(model, app)
        steps = M.steps_of(model, app)
        if A.status(steps, day) == "revoked":
            continue
        for decision, start, end in A.notices(steps, day):
            if not in_semester(start):
                continue
            p = M.profile_on(model.pupils[app.pupil], decision.date)
            rows.append({"name": p.get("name"), "class": f"{p.get('grade')}-{p.get('class')}", "kind": applied.kind,
                         "amount": applied.data.get("amount"), "start": start.isoformat(), "end": end.isoformat()})
    rows.sort(key=lambda r: (r["start"], r["class"], r["name"] or ""))
    return rows


def fund_list(model: SchoolModel, day: dt.date, viewer: V.Viewer | None = None) -> dict:
    """The funds known by the day: budget, spent (granted less revoked), remaining (less what
    standing approvals hold too). Totals only, no pupil: for every staff member."""
    rows = []
    for fund in sorted(model.funds.values(), key=lambda f: (f.date, f.name)):
        if fund.date > day:
            continue
        spent, reserved = M.fund_use(model, fund.name, day)
        budget = Decimal(fund.budget)
        rows.append({"name": fund.name, "budget": f"{budget:.2f}", "spent": f"{spent:.2f}",
                     "reserved": f"{reserved:.2f}", "remaining": f"{budget - spent - reserved:.2f}",
                     "kinds": list(fund.kinds), "source": fund.source, "since": fund.date.isoformat()})
    return {"as_of": day.isoformat(), "funds": rows}


def awaiting(model: SchoolModel, day: dt.date, viewer: V.Viewer | None, steps: set[str]) -> list[dict[str, Any]]:
    """The applications in view whose next step is one of `steps` (Home: what waits for me)."""
    return [r for r in applications(model, day, viewer) if r["next"] in steps]
