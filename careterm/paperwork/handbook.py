"""The mentor's 帮扶工作手册 (`export handbook STAFF_ID [--from D --to D] --out FILE.docx`).

A cover page (the mentor, the range, the mentees, the mentor's rate over the range), then for each
mentee, each on new pages: the profile page (particulars, family, the profile's texts), the help
plan and its reviews, the duty status on the day, and every contact during the pairing inside the
range, in date order, with what was said; last, the inspections of this handbook (`inspect`).

Who may export it: the mentor themselves, a leader or an auditor (any mentor's). Each mentee's
part is what the reader may see of the pupil (careterm/paperwork/records.py); each mentee shown
is logged as an opening via "export" before the file is written. The default range is the
current school year (1 September – 31 August) up to the day asked.

`gather` is pure (tests read its data without Word); `write_handbook(ws, path, staff_id, …)` is
what the command line and the app call.
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
from events.calendar import school_year
from events.errors import Refused
from events.model import SchoolModel
from projections import visibility as V
from projections.compliance import compliance


@dataclass(frozen=True)
class Mentee:
    profile: R.Profile
    spans: tuple[tuple[dt.date, dt.date | None], ...]  # the pairings with this mentor (end: last day, None: ongoing)
    plan: tuple[R.PlanStep, ...]
    contacts: tuple[R.Contact, ...]
    duties: tuple[R.Duty, ...]
    own_entries_only: bool  # a former mentee: the entries the reader recorded themselves


@dataclass(frozen=True)
class Handbook:
    school: str
    staff: str
    staff_name: str
    start: dt.date
    end: dt.date
    day: dt.date
    mentees: tuple[Mentee, ...]
    inspections: tuple[R.Inspection, ...]
    rate: float | None  # the mentor's compliance rate over the range (None: nothing owed)


def require_reader(viewer: V.Viewer, model: SchoolModel, staff_id: str) -> None:
    """A handbook is the mentor's own, or any mentor's for a leader or auditor."""
    if staff_id not in model.staff:
        raise Refused("STAFF_ID", "unknown_staff", staff=staff_id)
    if viewer.staff != staff_id and not viewer.sees_all:
        raise Refused("STAFF_ID", "handbook_not_own", staff=viewer.staff, mentor=staff_id)


def default_range(day: dt.date, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """[start, end]: the school year of `day` up to `day` unless given (an end after `day` is `day`)."""
    R.require_range(start, end)
    end = min(end or day, day)
    start = start or school_year(end).start
    return start, end


def mentee_ids(model: SchoolModel, staff_id: str, start: dt.date, end: dt.date) -> list[str]:
    """The pupils paired with the mentor on some day of [start, end], by when the pairing began."""
    found: dict[str, dt.date] = {}
    for p in model.staff[staff_id].pairings:
        last = p.end  # the exit day still counts for the mentor (cli.md: who may record)
        if p.start <= end and (last is None or last >= start) and p.pupil in model.pupils:
            found.setdefault(p.pupil, p.start)
    return sorted(found, key=lambda pupil: (found[pupil], pupil))


def gather(model: SchoolModel, day: dt.date, viewer: V.Viewer | None, staff_id: str, start: dt.date, end: dt.date,
           rows: dict[str, dict]) -> Handbook:
    """The handbook's data: pure, from the read model, the reader and the log's rows
    (records.said_rows of the mentees)."""
    view = compliance(model, day, start, end, viewer=viewer)
    rate = next((m["rate"] for m in view["mentors"] if m["staff"] == staff_id), None)
    mentees = []
    for pupil_id in mentee_ids(model, staff_id, start, end):
        pupil = model.pupils[pupil_id]
        spans = tuple((p.start, p.end) for p in pupil.pairings if p.staff == staff_id and p.start <= end)
        own = V.own_entries_only(viewer, model, pupil_id, day)
        if not own and not V.in_view(viewer, model, pupil_id, day):
            continue  # neither theirs now nor once theirs: nothing of the pupil is the reader's
        found = R.contacts(model, pupil, day, viewer, rows, start=start, end=end, spans=list(spans),
                           only_by=viewer.staff if own and viewer else None)
        mentees.append(Mentee(
            profile=R.profile(model, pupil, day, viewer),
            spans=spans,
            plan=() if own else tuple(R.plan(model, pupil, day)),
            contacts=tuple(found),
            duties=() if own else tuple(R.duties(view, staff_id, pupil_id)),
            own_entries_only=own,
        ))
    return Handbook(model.name, staff_id, R.staff_name(model, staff_id), start, end, day, tuple(mentees),
                    tuple(R.inspections(model, staff_id, day, start, end)), rate)


def render(h: Handbook, t, printed: dt.date | None = None) -> Any:
    """The document: a cover page, each mentee on new pages, the inspections last."""
    from careterm import shown

    doc = D.new_document(t("doc.handbook.title"), h.school, printed or h.day, t.lang)  # the header: the day it is printed
    D.fields(doc, [
        (t("doc.school"), h.school),
        (t("doc.mentor"), t("named", name=h.staff_name, id=h.staff)),
        (t("doc.range"), t("doc.range_value", start=h.start.isoformat(), end=h.end.isoformat())),
        (t("doc.as_of"), h.day.isoformat()),
        (t("doc.mentee_count"), str(len(h.mentees))),
        (t("doc.contact_count"), str(sum(len(m.contacts) for m in h.mentees))),
        (t("doc.rate"), shown.rate(h.rate)),
        (t("doc.inspection_count"), str(len(h.inspections))),
    ], columns=1)
    if h.mentees:
        D.heading(doc, t("doc.handbook.mentees"), 2)
        D.table(doc, [[str(i), m.profile.name, m.profile.pupil, S.grade_class(t, m.profile.grade, m.profile.class_),
                       _spans(t, m.spans), str(len(m.contacts))] for i, m in enumerate(h.mentees, 1)],
                [t("doc.number"), t("doc.name"), t("doc.pupil_id"), t("doc.grade_class_label"), t("doc.paired"),
                 t("doc.contact_count")], widths_mm=(12, 26, 28, 26, 46, 22))
    else:
        D.paragraph(doc, t("doc.handbook.no_mentees"))
    for i, m in enumerate(h.mentees, 1):
        mentee(doc, t, i, m)
    D.heading(doc, t("doc.handbook.inspections"), 1, new_page=True)
    if h.inspections:
        D.table(doc, [[x.date.isoformat(), S.word(t, "result.", x.result), x.by_name, x.note] for x in h.inspections],
                [t("doc.date"), t("doc.inspection_result"), t("doc.inspector"), t("doc.note")], widths_mm=(24, 26, 26, 84))
    else:
        D.paragraph(doc, t("doc.no_inspections"))
    return doc


def mentee(doc, t, number: int, m: Mentee) -> None:
    p = m.profile
    D.heading(doc, t("doc.handbook.mentee", number=number, name=p.name, pupil=p.pupil), 1, new_page=True)
    D.heading(doc, t("doc.section.profile"), 2)
    S.profile_fields(doc, t, p, extra=[(t("doc.paired"), _spans(t, m.spans)),
                                       (t("doc.mentor"), p.mentor_name if p.mentor else "")] if not p.restricted else ())
    if m.own_entries_only:
        D.paragraph(doc, t("doc.own_entries_only"))
    if not p.restricted:
        D.heading(doc, t("doc.section.family"), 2)
        S.family(doc, t, p)
        if p.texts:
            D.heading(doc, t("doc.section.texts"), 2)
            S.profile_texts(doc, t, p)
        D.heading(doc, t("doc.section.plan"), 2)
        S.help_plan(doc, t, m.plan)
        D.heading(doc, t("doc.section.duties"), 2)
        S.duty_table(doc, t, m.duties)
    D.heading(doc, t("doc.section.contacts", count=len(m.contacts)), 2)
    S.contact_table(doc, t, m.contacts)


def _spans(t, spans) -> str:
    return "\n".join(t("doc.range_value", start=a.isoformat(), end=b.isoformat()) if b else t("doc.since", start=a.isoformat())
                     for a, b in spans)


def write_handbook(ws, path: str | Path, staff_id: str, *, start: dt.date | None = None, end: dt.date | None = None,
                   as_of: dt.date | None = None, known_at: dt.datetime | None = None) -> dict:
    """Check, gather, log each mentee's opening, write the .docx. Returns what --json prints."""
    from careterm.access import log_opening

    D.require_docx(path)
    model, day = ws.model_as_of(as_of, known_at)
    viewer = V.viewer_of(model, ws.actor)
    require_reader(viewer, model, staff_id)
    start, end = default_range(day, start, end)
    pupils = mentee_ids(model, staff_id, start, end)
    rows = R.said_rows(ws.store(), ws.school_id(), pupils, known_at)
    h = gather(model, day, viewer, staff_id, start, end, rows)
    doc = render(h, ws.t, ws.today())
    for m in h.mentees:  # who looked: each mentee's file, before it is written
        log_opening(ws, m.profile.pupil, "export")
    D.save(doc, path)
    return {"out": os.path.abspath(path), "staff": staff_id, "from": start.isoformat(), "to": end.isoformat(),
            "mentees": len(h.mentees), "contacts": sum(len(m.contacts) for m in h.mentees),
            "inspections": len(h.inspections)}
