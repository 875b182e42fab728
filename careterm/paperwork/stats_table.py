"""The 弱势群体情况统计表 (`export stats --out FILE.xlsx|.csv`): the numbers of `stats --json`
(projections/stats.py), as a table for the county and the wall.

One row per class (grade, class), each grade's classes followed by the grade's subtotal row, the
school's total last. Columns: grade, class; for each category column of the statistics (the care
categories, then 困境留守) the pupils counted and how many of them have a mentor; then the row's
totals: pupils, with a mentor, dropped out and not returned, left-behind with an incomplete file.
The .csv is the same table with one heading line ("留守儿童（人数）", …); the .xlsx has it under
the title (the school, the date) on the first sheet, and on a second sheet the aid granted by the
date, by kind, with its total.

Everyone may export it (counts: projections/visibility.py); it names no pupil, so no opening is
logged. `table_of(stats, …)` is pure; `write_stats(ws, path, …)` is what the command line and the
app call.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from careterm.paperwork import tables as T
from projections import visibility as V
from projections.stats import COLUMNS

FORMATS = ("xlsx", "csv")
COUNTS = ("total", "with_mentor")
ROW_TOTALS = ("total", "with_mentor", "dropouts", "incomplete")


def columns(t) -> list[T.Col]:
    cols = [T.Col(t("col.grade"), width=7), T.Col(t("col.class"), width=7)]
    for c in COLUMNS:
        cols += [T.Col(t(f"col.{k}"), "count", 6.5, group=t(f"category.{c}")) for k in COUNTS]
    cols += [T.Col(t(f"col.{k}"), "count", 7, group=t("table.total")) for k in COUNTS]
    cols += [T.Col(t("table.dropouts"), "count", 9), T.Col(t("col.incomplete"), "count", 9)]
    return cols


def _label(text: str):
    """A grade or class as a number when it is one (Excel then shows no 'number as text' mark)."""
    return int(text) if text.isdigit() else text


def _row(grade: str, class_: str, cells: dict, totals: dict) -> list:
    return [_label(grade), _label(class_), *(cells[c][k] for c in COLUMNS for k in COUNTS), *(totals[k] for k in ROW_TOTALS)]


def class_rows(stats: dict, t) -> tuple[list[list], set[int]]:
    """The rows (classes, grade subtotals, the school) and which of them are totals."""
    rows: list[list] = []
    totals: set[int] = set()
    by_grade: dict[str, list[str]] = {}
    for key in stats["by_class"]:  # "G-C", in the order of the statistics (grades, classes as numbers)
        grade, _, _ = key.partition("-")
        by_grade.setdefault(grade, []).append(key)
    for grade, g in stats["by_grade"].items():
        for key in by_grade.get(grade, []):
            rows.append(_row(grade, key.partition("-")[2], stats["by_class"][key], stats["class_totals"][key]))
        totals.add(len(rows))
        rows.append(_row(grade, t("table.subtotal"), g["by_category"], g))
    totals.add(len(rows))
    rows.append(_row(t("col.school"), "", stats["by_category"], stats["total"]))
    return rows, totals


def aid_rows(stats: dict, t) -> tuple[list[list], set[int]]:
    rows = [[t(f"aid.{k}"), v] for k, v in stats["aid"].items()]
    total = sum((Decimal(v) for v in stats["aid"].values()), Decimal("0"))
    return rows + [[t("table.total"), f"{total:.2f}"]], {len(rows)}


def table_of(stats: dict, school: str, t) -> list[T.Table]:
    """The statistics table (first) and the aid by kind, from `stats --json`'s data."""
    day = stats["as_of"]
    rows, totals = class_rows(stats, t)
    main = T.Table(t("table.stats.sheet"), t("table.stats.title", school=school, date=day), columns(t), rows, totals)
    aid, aid_totals = aid_rows(stats, t)
    money = T.Table(t("table.stats.aid_sheet"), t("table.stats.aid_title", school=school, date=day),
                    [T.Col(t("col.kind"), width=28), T.Col(t("table.amount_yuan"), "money", 16)], aid, aid_totals)
    return [main, money]


def write_stats(ws, path: str | Path, *, as_of: dt.date | None = None, known_at: dt.datetime | None = None) -> dict:
    """Check the file's format, read the statistics as of the day, write the file. Returns what
    --json prints: {"out", "rows"} (rows: the table's rows, the headings not counted)."""
    import os

    from projections.stats import stats

    T.format_of(path, FORMATS)
    model, day = ws.model_as_of(as_of, known_at)
    V.require_view(V.viewer_of(model, ws.actor), "stats")
    found = table_of(stats(model, day), model.name, ws.t)
    rows = T.write(path, found, T.Page(model.name, ws.today(), ws.t.lang), ws.t)
    return {"out": os.path.abspath(path), "rows": rows}
