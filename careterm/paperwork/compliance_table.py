"""The compliance table for staff evaluation, 帮扶工作考核表
(`export compliance [--from D --to D] --out FILE.xlsx|.csv`): what `compliance --json` holds
(projections/compliance.py), for the leadership group's evaluation (用于评优树模的必要条件).

The first table, the rates: one row per mentor, then one per class, then the school, each with
the duty-time owed over the range, the part of it met, and the rate (met / owed) as a percentage
("-" when nothing was owed). The second, each pairing's duties on the day asked: one row per
pairing and duty, with its status, when it was last done, when it is due and the periods missed.
The .xlsx holds both, a sheet each; the .csv, a file holding one table, the rates.

It holds what the reader may see of compliance (projections/visibility.py): a leader or auditor
every mentor's rate and every pairing; a class teacher their class's pairings and rate and their
own; a mentor their own; the school's rate is for everyone. Names of pupils are what anyone sees
of a pupil; no pupil's file is opened, so nothing is logged. `tables_of(view, …)` is pure;
`write_compliance(ws, path, …)` is what the command line and the app call.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from careterm.paperwork import tables as T
from events.errors import Refused
from projections import visibility as V

FORMATS = ("xlsx", "csv")


def rate_columns(t) -> list[T.Col]:
    return [T.Col(t("table.scope"), width=8), T.Col(t("table.code"), width=10), T.Col(t("table.named"), width=22),
            T.Col(t("table.owed"), "count", 10), T.Col(t("table.met"), "count", 10),
            T.Col(t("col.rate"), "rate", 10)]


def rate_rows(view: dict, school: str, t) -> tuple[list[list], set[int]]:
    """Mentors, classes, the school: scope, id, name, owed, met, rate."""
    rows = [[t("table.scope.mentor"), m["staff"], m.get("name") or "", m["owed"], m["met"], m["rate"]]
            for m in view["mentors"]]
    rows += [[t("table.scope.class"), f"{c['grade']}-{c['class']}", t("doc.grade_class", grade=c["grade"], class_=c["class"]),
              c["owed"], c["met"], c["rate"]] for c in view.get("classes", [])]
    s = view["school"]
    return rows + [[t("col.school"), "", school, s["owed"], s["met"], s["rate"]]], {len(rows)}


def duty_columns(t) -> list[T.Col]:
    return [T.Col(t("col.staff"), width=9), T.Col(t("table.mentor_name"), width=12), T.Col(t("col.pupil"), width=12),
            T.Col(t("table.pupil_name"), width=12), T.Col(t("table.since"), width=12), T.Col(t("col.duty"), width=12),
            T.Col(t("col.duty_state"), width=9), T.Col(t("col.last"), width=12), T.Col(t("col.due"), width=12),
            T.Col(t("doc.missed"), "count", 9)]


def duty_rows(view: dict, staff_names: dict[str, str], pupil_names: dict[str, str], t) -> list[list]:
    """Each pairing's duties in the compliance table's order (the five, then those switched on)."""
    from projections.compliance import shown_duties

    order = shown_duties(view)
    rows = []
    for p in view["pairings"]:
        for duty in (d for d in order if d in p["duties"]):
            r = p["duties"][duty]
            rows.append([p["staff"], staff_names.get(p["staff"], ""), p["pupil"], pupil_names.get(p["pupil"], ""),
                         p["since"], t(f"duty.{duty}"), t(f"duty_status.{r['status']}"), r.get("last") or "",
                         r.get("due") or "", r.get("missed", 0)])
    return rows


def tables_of(view: dict, school: str, staff_names: dict[str, str], pupil_names: dict[str, str], t) -> list[T.Table]:
    """The rates (first) and each pairing's duties, from `compliance --json`'s data."""
    when = dict(school=school, start=view["from"], end=view["to"], date=view["as_of"])
    rates, totals = rate_rows(view, school, t)
    return [
        T.Table(t("table.compliance.sheet"), t("table.compliance.title", **when), rate_columns(t), rates, totals),
        T.Table(t("table.compliance.duties_sheet"), t("table.compliance.duties_title", **when), duty_columns(t),
                duty_rows(view, staff_names, pupil_names, t)),
    ]


def write_compliance(ws, path: str | Path, *, start: dt.date | None = None, end: dt.date | None = None,
                     as_of: dt.date | None = None, known_at: dt.datetime | None = None) -> dict:
    """Check the file's format and the range, write the table. Returns what --json prints:
    {"out", "rows", "pairings"} (rows: the rates' rows, mentors, classes and the school)."""
    from events.model import profile_on
    from projections.compliance import compliance

    T.format_of(path, FORMATS)
    if start and end and end < start:
        raise Refused("--to", "end_before_start", start=start, end=end)
    model, day = ws.model_as_of(as_of, known_at)
    viewer = V.viewer_of(model, ws.actor)
    V.require_view(viewer, "compliance")
    view = compliance(model, day, start, end, viewer=viewer)
    staff_names = {s.id: s.name for s in model.staff.values()}
    # a pairing's pupil by name: what anyone sees of a pupil (visibility.restricted_row)
    pupil_names = {p["pupil"]: profile_on(model.pupils[p["pupil"]], day).get("name") or ""
                   for p in view["pairings"] if p["pupil"] in model.pupils}
    found = tables_of(view, model.name, staff_names, pupil_names, ws.t)
    rows = T.write(path, found, T.Page(model.name, ws.today(), ws.t.lang), ws.t)
    return {"out": os.path.abspath(path), "rows": rows, "pairings": len(view["pairings"]),
            "from": view["from"], "to": view["to"]}
