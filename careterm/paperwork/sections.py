"""The parts of a pupil's record as they print, shared by the handbook and the 专项个人档案: the
profile, the family, the help plan, the duties, the contacts with what was said. Each takes the
document (careterm/paperwork/documents.py), the reader's catalog `t` and the plain data of
careterm/paperwork/records.py. Words come from the catalogs (`doc.…`, the names of codes, and
what was said under the labels `history` and the pupil file use: `entry.summary`, `medium.…`).
"""

from __future__ import annotations

from typing import Any, Sequence

from careterm import shown
from careterm.paperwork import documents as D
from careterm.paperwork.records import Contact, Duty, PlanStep, Profile
from careterm.said import keyed_parts
from careterm.said import named as word  # a code by its name in the reader's catalog

# the printed width (mm) of the contacts table's columns: date, how, what was said, who
CONTACT_WIDTHS = (24, 30, 82, 24)
# what was said that the "how" column holds; the rest is the "what was said" column
HOW = ("medium", "minutes")


def listed(t, values: Sequence[str]) -> str:
    return ("、" if t.lang == "zh" else ", ").join(values)


def grade_class(t, grade: Any, class_: Any) -> str:
    if grade in (None, "") and class_ in (None, ""):
        return ""
    return t("doc.grade_class", grade=grade if grade is not None else "-", class_=class_ if class_ is not None else "-")


def profile_fields(doc, t, p: Profile, extra: Sequence[tuple[str, Any]] = ()) -> None:
    """The pupil's particulars as a form, two to a row."""
    if p.restricted:
        D.fields(doc, [(t("doc.name"), p.name), (t("doc.pupil_id"), p.pupil),
                       (t("doc.grade_class_label"), grade_class(t, p.grade, p.class_)),
                       (t("doc.status"), word(t, "status.", p.status))])
        D.paragraph(doc, t("doc.restricted"))
        return
    pairs = [
        (t("doc.name"), p.name),
        (t("doc.pupil_id"), p.pupil),
        (t("doc.gender"), word(t, "gender.", p.gender) if p.gender else ""),
        (t("doc.birth"), p.birth),
        (t("doc.grade_class_label"), grade_class(t, p.grade, p.class_)),
        (t("doc.status"), word(t, "status.", p.status)),
        (t("doc.categories"), listed(t, [word(t, "category.", c) for c in p.categories])),
        (t("doc.phone"), p.phone),
        *extra,
    ]
    D.fields(doc, pairs)


def family(doc, t, p: Profile) -> None:
    """The guardian and the parents: who, relation, where they work, phone."""
    if p.restricted:
        return
    rows = []
    if p.guardian:
        g = p.guardian
        rows.append([t("doc.guardian"), g.get("name", ""), g.get("relation", ""), g.get("workplace", ""), g.get("phone", "")])
    for parent in p.parents:
        rows.append([t("doc.parent"), parent.get("name", ""), parent.get("relation", ""), parent.get("workplace", ""),
                     parent.get("phone", "")])
    if not rows:
        D.paragraph(doc, t("doc.none_recorded"))
        return
    D.table(doc, rows, [t("doc.role"), t("doc.name"), t("doc.relation"), t("doc.workplace"), t("doc.phone")],
            widths_mm=(20, 30, 20, 60, 30))


def profile_texts(doc, t, p: Profile) -> None:
    """The profile's texts (family situation, study, behaviour, …) the reader may see, in full."""
    for key, text in p.texts:
        D.paragraph(doc, text, bold_label=word(t, "profile.", key))


def help_plan(doc, t, steps: Sequence[PlanStep]) -> None:
    """帮扶计划: each plan as set (goals, measures, responsible), then its reviews."""
    if not steps:
        D.paragraph(doc, t("doc.no_plan"))
        return
    for s in (s for s in steps if s.step == "set"):
        responsible = t("named", name=s.responsible_name, id=s.responsible) if s.responsible else ""
        D.fields(doc, [(t("doc.plan_date"), s.date.isoformat()), (t("doc.recorded_by"), s.by_name),
                       (t("doc.goals"), s.goals), (t("doc.responsible"), responsible),
                       (t("doc.measures"), s.measures), (t("doc.note"), s.note)])
    reviews = [s for s in steps if s.step == "review"]
    if reviews:
        D.heading(doc, t("doc.plan_reviews"), 3)
        D.table(doc, [[r.date.isoformat(), _with_note(r.result, r.note, t), r.by_name] for r in reviews],
                [t("doc.date"), t("doc.review_result"), t("doc.recorded_by")], widths_mm=(24, 112, 24))


def duty_table(doc, t, duties: Sequence[Duty]) -> None:
    """The duties of the pairing on the day, as `compliance` and the pupil file show them."""
    if not duties:
        D.paragraph(doc, t("doc.no_duties"))
        return
    rows = []
    for d in duties:
        due = t("doc.birthday_on", date=d.aim) if d.aim else (d.due or shown.NONE)
        rows.append([word(t, "duty.", d.duty), word(t, "duty_status.", d.status), d.last or shown.NONE, due,
                     str(d.missed)])
    D.table(doc, rows, [t("doc.duty"), t("doc.duty_status"), t("doc.last_done"), t("doc.due"), t("doc.missed")],
            widths_mm=(40, 26, 32, 38, 24))


def how(t, c: Contact) -> str:
    """The contact's kind, then how it was held and how long: 谈心 / 面谈 · 30 分钟."""
    lines = [word(t, "kind.", c.kind)]
    if c.activity:
        lines.append(t("doc.activity"))
    means = [text for key, _, text in keyed_parts(t, c.said) if key in HOW]
    if means:
        lines.append(" · ".join(means))
    return "\n".join(lines)


def what_was_said(t, c: Contact) -> str:
    """What was said, each part on its own labelled line(s); a withheld counselling record says so."""
    if c.withheld:
        return t("doc.withheld")
    # the parts and their labels as `history` and the pupil file say them (careterm/said.py)
    lines = [f"{label}{_colon(t)}{text}" for key, label, text in keyed_parts(t, c.said) if key not in HOW]
    if c.note:
        lines.append(f"{t('doc.note')}{_colon(t)}{c.note}")
    return "\n".join(lines) or shown.NONE


def contact_table(doc, t, found: Sequence[Contact]) -> None:
    """Every contact in date order: date | how | what was said | who recorded it."""
    if not found:
        D.paragraph(doc, t("doc.no_contacts"))
        return
    D.table(doc, [[c.date.isoformat(), how(t, c), what_was_said(t, c), c.by_name] for c in found],
            [t("doc.date"), t("doc.how"), t("doc.what_was_said"), t("doc.recorded_by")], widths_mm=CONTACT_WIDTHS)


def _colon(t) -> str:
    return "：" if t.lang == "zh" else ": "


def _with_note(text: str, note: str, t) -> str:
    return f"{text}\n{t('doc.note')}{_colon(t)}{note}" if note else text
