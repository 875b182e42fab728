"""The 学期信息表 for the parents (`export report PUPIL_ID --semester NAME --out FILE.docx`).

What the mentor wrote that semester in the semester report (the `semester_report` contact's
study, thoughts and life: 学习、思想、生活情况), on one page with a box for the parents' reply
and the signatures. The semester is named as the school's calendar names it: a term's name, or
without terms (and before the first term) the default semesters 2025-2026-1 and 2025-2026-2
(records.semester_named, by the one definition of events.calendar).

It goes home: it holds the pupil's name, grade and class, the semester, the mentor and the three
parts, and nothing else: no care category (孤儿, 低保 …), no family details, no note, no other
record, no counselling. Only a reader who sees the pupil in full may export it; the export is
logged before the file is written.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from careterm.paperwork import documents as D
from careterm.paperwork import records as R
from careterm.paperwork import sections as S
from events.calendar import Period
from events.calendar import semester as semester_of
from events.errors import Refused
from events.model import SchoolModel, mentor_on, profile_on
from projections import visibility as V


@dataclass(frozen=True)
class Report:
    date: dt.date
    by_name: str
    study: str
    thoughts: str
    life: str


@dataclass(frozen=True)
class Sheet:
    school: str
    pupil: str
    name: str
    grade: Any
    class_: Any
    semester: Period
    mentor_name: str
    reports: tuple[Report, ...]
    day: dt.date


def gather(model: SchoolModel, day: dt.date, viewer: V.Viewer | None, pupil_id: str, semester: Period,
           rows: dict[str, dict]) -> Sheet:
    """The sheet's data (pure): the semester reports of the semester up to `day`, three parts each."""
    pupil = model.pupils[pupil_id]
    last = min(semester.end, day)
    found = R.contacts(model, pupil, day, viewer, rows, start=semester.start, end=last, kinds=("semester_report",))
    reports = tuple(Report(c.date, c.by_name, *(str(c.said.get(k) or "") for k in R.REPORT_PARTS)) for c in found)
    profile = profile_on(pupil, last)
    mentor = reports[-1].by_name if reports else R.staff_name(model, mentor_on(pupil, last))
    return Sheet(model.name, pupil_id, str(profile.get("name") or ""), profile.get("grade"), profile.get("class"),
                 semester, mentor, reports, day)


def render(s: Sheet, t, printed: dt.date | None = None) -> Any:
    doc = D.new_document(t("doc.report.title"), s.school, printed or s.day, t.lang)  # the header: the day it is printed
    D.fields(doc, [
        (t("doc.name"), s.name),
        (t("doc.grade_class_label"), S.grade_class(t, s.grade, s.class_)),
        (t("doc.semester"), s.semester.name),
        (t("doc.mentor"), s.mentor_name),
        (t("doc.report_date"), "、".join(r.date.isoformat() for r in s.reports) if t.lang == "zh"
         else ", ".join(r.date.isoformat() for r in s.reports)),
    ])
    D.paragraph(doc, t("doc.report.greeting"))
    reports = s.reports or (Report(s.day, s.mentor_name, "", "", ""),)  # an empty form to fill in by hand
    for r in reports:
        if len(s.reports) > 1:
            D.heading(doc, t("doc.report.of_date", date=r.date.isoformat()), 2)
        for part in R.REPORT_PARTS:
            D.heading(doc, t(f"doc.report.{part}"), 3)
            D.box(doc, getattr(r, part), min_height_mm=22)
    D.heading(doc, t("doc.report.parents_reply"), 3)
    D.box(doc, "", min_height_mm=28)
    D.paragraph(doc, t("doc.report.signatures"))
    return doc


def write_report(ws, path: str | Path, pupil_id: str, semester_name: str | None, *, as_of: dt.date | None = None,
                 known_at: dt.datetime | None = None) -> dict:
    """Check, gather, log the opening, write the .docx. Returns what --json prints. No
    semester name: the semester of the day (the app's key on the pupil file)."""
    from careterm.access import log_opening

    D.require_docx(path)
    model, day = ws.model_as_of(as_of, known_at)
    if pupil_id not in model.pupils:
        raise Refused("PUPIL_ID", "unknown_pupil", pupil=pupil_id)
    viewer = V.viewer_of(model, ws.actor)
    V.require_pupil(viewer, model, pupil_id, day)
    if semester_name is None:
        semester_name = semester_of(day, model.terms_on(day)).name
    semester = R.semester_named(model, day, semester_name)
    if semester is None:
        raise Refused("--semester", "unknown_semester", semester=semester_name)
    rows = R.said_rows(ws.store(), ws.school_id(), [pupil_id], known_at)
    sheet = gather(model, day, viewer, pupil_id, semester, rows)
    doc = render(sheet, ws.t, ws.today())
    log_opening(ws, pupil_id, "export")
    D.save(doc, path)
    return {"out": os.path.abspath(path), "pupil": pupil_id, "semester": semester.name, "from": semester.start.isoformat(),
            "to": semester.end.isoformat(), "reports": len(sheet.reports)}
