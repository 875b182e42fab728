"""The public notice of aid, 公示 (`export notice --semester NAME --out FILE.xlsx|.docx|.csv`).

What `aid notice` shows (projections.views.aid_notice, the one place that decides it): for each
grant of the semester not revoked, the pupil's name, class, the kind of aid and its amount in
yuan, and nothing else (教财厅函〔2017〕28号: never an id number, address, phone, birth date, bank
card, category or family detail). In-kind aid shows as 实物 1 份, never what was written of it.
The notice is public (projections/visibility.py: the same for every viewer) and posted on the
wall, so opening it is not logged as an opening of any pupil's file.

.xlsx and .csv through tables.py; .docx on the page every document prints on (documents.py: A4,
宋体, the school's name and the date in the header, page N of M in the footer), with the title,
the semester and the table. `rows_of(notice, t)` is pure; `write_notice(ws, path, semester, …)`
is what the command line and the app call.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from careterm.paperwork import tables as T
from events.errors import Refused
from projections import visibility as V

FORMATS = ("xlsx", "docx", "csv")


def amount(t, value: str | None):
    """The notice's amount: yuan as the view gives it ("500.00"); in-kind aid as such."""
    return value if value else t("notice.in_kind")


def rows_of(notice: dict, t) -> list[list]:
    """Name, class, kind, amount: the four things a notice holds, row by row."""
    return [[r["name"], r["class"], t(f"aid.{r['kind']}"), amount(t, r["amount"])] for r in notice["notice"]]


def columns(t) -> list[T.Col]:
    return [T.Col(t("col.name"), width=16), T.Col(t("col.class"), width=10), T.Col(t("col.kind"), width=26),
            T.Col(t("table.amount_yuan"), "money", 14)]


def table_of(notice: dict, school: str, t) -> T.Table:
    return T.Table(t("table.notice.sheet"), t("table.notice.title", school=school, semester=notice["semester"]),
                   columns(t), rows_of(notice, t))


def write_docx(path: str | Path, notice: dict, school: str, printed: dt.date, t) -> None:
    from careterm.paperwork import documents as D

    doc = D.new_document(t("table.notice.title", school=school, semester=notice["semester"]), school, printed, t.lang)
    D.paragraph(doc, t("table.notice.intro", semester=notice["semester"], count=len(notice["notice"])))
    table = D.table(doc, rows_of(notice, t), [c.label for c in columns(t)], widths_mm=(40, 30, 60, 30))
    _amounts_right(table)
    D.save(doc, path)


def _amounts_right(table) -> None:
    """Amounts lined up on the right, as money is read."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    for row in table.rows:
        row.cells[-1].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


def write_notice(ws, path: str | Path, semester: str, *, as_of: dt.date | None = None,
                 known_at: dt.datetime | None = None) -> dict:
    """Check the file's format and the semester, write the notice. Returns what --json prints:
    {"out", "rows"} (rows: the grants on the notice)."""
    from projections.views import aid_notice

    ext = T.format_of(path, FORMATS)
    model, day = ws.model_as_of(as_of, known_at)
    viewer = V.viewer_of(model, ws.actor)
    V.require_view(viewer, "notice")
    notice = aid_notice(model, day, semester, viewer)
    if notice is None:
        raise Refused("--semester", "unknown_semester", semester=semester)
    if ext == "docx":
        write_docx(path, notice, model.name, ws.today(), ws.t)
        rows = len(notice["notice"])
    else:
        rows = T.write(path, [table_of(notice, model.name, ws.t)], T.Page(model.name, ws.today(), ws.t.lang), ws.t)
    return {"out": os.path.abspath(path), "rows": rows, "semester": semester}
