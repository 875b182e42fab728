"""The statistics table (弱势群体情况统计表), as pure functions of a school's model and a date.

Who counts: pupils in a care category on the date (the 弱势群体; a pupil in no category is not in
the table). Enrolled ones are counted by category, with and without a mentor; those who dropped
out and have not returned are `dropouts` (the policy's first promise is 不辍学); a left-behind
pupil whose file lacks a guardian or a parent's workplace or phone is `incomplete`
(projections.completeness decides). Every fact is taken as of the date: categories, status,
grade and class, mentor. Each pupil is counted once per row (class, grade, school), and once in
each of their categories; `left_behind_in_difficulty` (困境留守) counts the pupils who are both
left-behind and in difficulty.

JSON (cli.md, "Reading" and "The statistics table"):
  by_category  {C: {total, with_mentor}}                  the school, enrolled pupils
  by_class     {"G-C": {C: {total, with_mentor}}}         every column C, zeros included
  class_totals {"G-C": {total, with_mentor, dropouts, incomplete}}
  by_grade     {"G": {total, with_mentor, dropouts, incomplete, by_category: {C: {…}}}}
  total        {total, with_mentor, in_care, dropouts, incomplete}; and `dropouts`, `incomplete`
  aid          {KIND: "YUAN"}                              every grant effective by the date
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, NamedTuple

from events import rules
from events.model import PupilRec, SchoolModel, categories_on, mentor_on, profile_on, status_on
from projections.completeness import incomplete_on
from projections.views import aid_list

LEFT_BEHIND_IN_DIFFICULTY = "left_behind_in_difficulty"
# the table's category columns: the care categories, then 困境留守
COLUMNS = (*rules.CATEGORIES, LEFT_BEHIND_IN_DIFFICULTY)


class Counted(NamedTuple):
    """One pupil of the table, as of the date."""

    grade: str
    class_: str
    columns: tuple[str, ...]  # the category columns the pupil counts in
    enrolled: bool  # False: dropped out and not returned
    mentored: bool
    incomplete: bool


def columns_of(categories: Iterable[str]) -> tuple[str, ...]:
    """The columns a pupil in these categories counts in (困境留守 when both)."""
    cats = tuple(c for c in COLUMNS if c in set(categories))
    if "left_behind" in cats and "in_difficulty" in cats:
        cats += (LEFT_BEHIND_IN_DIFFICULTY,)
    return cats


def counted(pupil: PupilRec, day: dt.date) -> Counted | None:
    """The pupil as the table counts them on a day; None if not in it (not registered yet, in no
    care category, graduated or transferred)."""
    status = status_on(pupil, day)
    if status not in ("enrolled", "dropped_out"):
        return None
    columns = columns_of(categories_on(pupil, day))
    if not columns:
        return None
    profile = profile_on(pupil, day)
    enrolled = status == "enrolled"
    return Counted(
        grade=str(profile.get("grade")),
        class_=str(profile.get("class")),
        columns=columns,
        enrolled=enrolled,
        mentored=enrolled and mentor_on(pupil, day) is not None,
        incomplete=bool(incomplete_on(pupil, day)),
    )


def _columns() -> dict[str, dict[str, int]]:
    return {c: {"total": 0, "with_mentor": 0} for c in COLUMNS}


def _totals() -> dict[str, int]:
    return {"total": 0, "with_mentor": 0, "dropouts": 0, "incomplete": 0}


def _add(totals: dict[str, int], columns: dict[str, dict[str, int]] | None, row: Counted) -> None:
    if not row.enrolled:
        totals["dropouts"] += 1
        return
    totals["total"] += 1
    totals["with_mentor"] += row.mentored
    totals["incomplete"] += row.incomplete
    for c in row.columns if columns is not None else ():
        columns[c]["total"] += 1
        columns[c]["with_mentor"] += row.mentored


def _number(text: str) -> tuple:
    """"10" after "9": grades and classes sort as numbers (anything else after them)."""
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def table(rows: Iterable[Counted]) -> dict:
    """The counts of the table from the pupils it counts."""
    school_columns, school = _columns(), _totals()
    classes: dict[tuple[str, str], tuple[dict, dict]] = {}
    grades: dict[str, tuple[dict, dict]] = {}
    for row in rows:
        _add(school, school_columns, row)
        _add(*classes.setdefault((row.grade, row.class_), (_totals(), _columns())), row)
        _add(*grades.setdefault(row.grade, (_totals(), _columns())), row)
    by_class = sorted(classes.items(), key=lambda kv: (_number(kv[0][0]), _number(kv[0][1])))
    by_grade = sorted(grades.items(), key=lambda kv: _number(kv[0]))
    return {
        "by_category": school_columns,
        "by_class": {f"{g}-{c}": columns for (g, c), (_, columns) in by_class},
        "class_totals": {f"{g}-{c}": totals for (g, c), (totals, _) in by_class},
        "by_grade": {g: {**totals, "by_category": columns} for g, (totals, columns) in by_grade},
        "total": {**school, "in_care": school["total"]},
        "dropouts": school["dropouts"],
        "incomplete": school["incomplete"],
    }


def stats(model: SchoolModel, day: dt.date) -> dict:
    """弱势群体情况统计表 as of a day, with the aid granted by then (by kind, less revocations)."""
    rows = (counted(p, day) for p in model.pupils.values())
    aid = aid_list(model, day)["totals"]
    return {
        "as_of": day.isoformat(),
        **table(r for r in rows if r is not None),
        "aid": {k: aid[k] for k in rules.AID_KINDS if k in aid},
    }
