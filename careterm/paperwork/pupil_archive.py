"""The pupil's 专项个人档案 (`export archive PUPIL_ID --out FILE.docx`).

The whole file up to the day asked: particulars, care categories (and when each was added or
removed), family, the profile's texts, the mentors over time, the help plan and its reviews, the
duties now, every contact with what was said, aid received (revoked grants marked), family
incidents and how they were resolved, exits and returns.

Only a reader who sees the pupil in full may export it; counselling content and the `mental`
field are in it only for who may read them (records.py). The export is logged before the file
is written.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from careterm import shown
from careterm.paperwork import documents as D
from careterm.paperwork import records as R
from careterm.paperwork import sections as S
from events.errors import Refused
from events.model import SchoolModel
from projections import visibility as V
from projections.compliance import compliance


@dataclass(frozen=True)
class CategoryChange:
    date: dt.date
    category: str
    added: bool


@dataclass(frozen=True)
class Archive:
    school: str
    day: dt.date
    profile: R.Profile
    category_changes: tuple[CategoryChange, ...]
    mentoring: tuple[R.Mentoring, ...]
    plan: tuple[R.PlanStep, ...]
    duties: tuple[R.Duty, ...]
    contacts: tuple[R.Contact, ...]
    grants: tuple[R.Grant, ...]
    incidents: tuple[R.Incident, ...]
    status_changes: tuple[R.StatusChange, ...]


def gather(model: SchoolModel, day: dt.date, viewer: V.Viewer | None, pupil_id: str, rows: dict[str, dict]) -> Archive:
    """The archive's data (pure): the pupil's whole record up to `day`, as the reader may read it."""
    pupil = model.pupils[pupil_id]
    base = [CategoryChange(pupil.registered, c, True) for c in pupil.base.get("categories", [])]
    changes = [CategoryChange(d.date, d.value, d.what == "category+") for d in pupil.timeline
               if d.what in ("category+", "category-") and not d.retracted and d.date <= day]
    return Archive(
        school=model.name,
        day=day,
        profile=R.profile(model, pupil, day, viewer),
        category_changes=tuple(base + changes),
        mentoring=tuple(R.mentoring(model, pupil, day)),
        plan=tuple(R.plan(model, pupil, day)),
        duties=tuple(R.duties(compliance(model, day, viewer=viewer), None, pupil_id)),
        contacts=tuple(R.contacts(model, pupil, day, viewer, rows)),
        grants=tuple(R.grants(model, pupil, day)),
        incidents=tuple(R.incidents(model, pupil, day)),
        status_changes=tuple(R.status_changes(pupil, day, rows)),
    )


def render(a: Archive, t, printed: dt.date | None = None) -> Any:
    p = a.profile
    doc = D.new_document(t("doc.archive.title"), a.school, printed or a.day, t.lang)  # the header: the day it is printed
    D.paragraph(doc, t("doc.archive.as_of", date=a.day.isoformat()))
    D.heading(doc, t("doc.section.profile"), 1)
    S.profile_fields(doc, t, p, extra=[(t("doc.registered"), p.registered),
                                       (t("doc.mentor"), t("named", name=p.mentor_name, id=p.mentor) if p.mentor else "")])
    D.heading(doc, t("doc.section.categories"), 2)
    if a.category_changes:
        D.table(doc, [[c.date.isoformat(), S.word(t, "category.", c.category), t("doc.added" if c.added else "doc.removed")]
                      for c in a.category_changes],
                [t("doc.date"), t("doc.category"), t("doc.change")], widths_mm=(30, 70, 60))
    else:
        D.paragraph(doc, t("doc.none_recorded"))
    D.heading(doc, t("doc.section.family"), 2)
    S.family(doc, t, p)
    if p.texts:
        D.heading(doc, t("doc.section.texts"), 2)
        S.profile_texts(doc, t, p)
    D.heading(doc, t("doc.section.mentoring"), 1)
    if a.mentoring:
        D.table(doc, [[t("named", name=m.name, id=m.staff), m.start.isoformat(), m.end.isoformat() if m.end else shown.NONE,
                       S.word(t, "reason.", m.reason) if m.reason else ""] for m in a.mentoring],
                [t("doc.mentor"), t("doc.start"), t("doc.end"), t("doc.end_reason")], widths_mm=(45, 30, 30, 55))
    else:
        D.paragraph(doc, t("doc.no_mentor"))
    D.heading(doc, t("doc.section.duties"), 2)
    S.duty_table(doc, t, a.duties)
    D.heading(doc, t("doc.section.plan"), 1)
    S.help_plan(doc, t, a.plan)
    D.heading(doc, t("doc.section.contacts", count=len(a.contacts)), 1)
    S.contact_table(doc, t, a.contacts)
    D.heading(doc, t("doc.section.aid"), 1)
    if a.grants:
        D.table(doc, [[g.date.isoformat(), S.word(t, "aid.", g.kind),
                       shown.money(g.amount, t.lang) if g.amount else (g.items or ""), g.fund,
                       t("doc.revoked_on", date=g.revoked_on.isoformat()) if g.revoked_on else ""] for g in a.grants],
                [t("doc.date"), t("doc.aid_kind"), t("doc.amount"), t("doc.fund"), t("doc.revoked")],
                widths_mm=(24, 34, 40, 36, 26))
    else:
        D.paragraph(doc, t("doc.none_recorded"))
    D.heading(doc, t("doc.section.incidents"), 1)
    if a.incidents:
        D.table(doc, [[i.date.isoformat(), S.word(t, "need.", i.need), i.description,
                       i.resolved_on.isoformat() if i.resolved_on else t("doc.open"), i.resolution] for i in a.incidents],
                [t("doc.date"), t("doc.need"), t("doc.description"), t("doc.resolved_on"), t("doc.resolution")],
                widths_mm=(24, 22, 50, 24, 40))
    else:
        D.paragraph(doc, t("doc.none_recorded"))
    D.heading(doc, t("doc.section.status"), 1)
    if a.status_changes:
        D.table(doc, [[c.date.isoformat(), t("doc.returned") if c.status == "enrolled" else S.word(t, "status.", c.status),
                       c.detail] for c in a.status_changes],
                [t("doc.date"), t("doc.status_change"), t("doc.detail")], widths_mm=(30, 40, 90))
    else:
        D.paragraph(doc, t("doc.status_unchanged", status=S.word(t, "status.", p.status)))
    return doc


def write_archive(ws, path: str | Path, pupil_id: str, *, as_of: dt.date | None = None,
                  known_at: dt.datetime | None = None) -> dict:
    """Check, gather, log the opening, write the .docx. Returns what --json prints."""
    from careterm.access import log_opening

    D.require_docx(path)
    model, day = ws.model_as_of(as_of, known_at)
    if pupil_id not in model.pupils:
        raise Refused("PUPIL_ID", "unknown_pupil", pupil=pupil_id)
    viewer = V.viewer_of(model, ws.actor)
    V.require_pupil(viewer, model, pupil_id, day)
    rows = R.said_rows(ws.store(), ws.school_id(), [pupil_id], known_at)
    archive = gather(model, day, viewer, pupil_id, rows)
    doc = render(archive, ws.t, ws.today())
    log_opening(ws, pupil_id, "export")
    D.save(doc, path)
    return {"out": os.path.abspath(path), "pupil": pupil_id, "contacts": len(archive.contacts), "grants": len(archive.grants),
            "incidents": len(archive.incidents), "plans": len(archive.plan), "exits": len(archive.status_changes)}
