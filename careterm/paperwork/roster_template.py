"""The empty roster a school fills in (`export template pupils|staff --out FILE.xlsx`).

Sheet one holds the headers careterm reads (careterm.paperwork.roster, in the reader's language:
Chinese by default), the id and phone columns formatted as text (so Excel keeps a leading 0 and
does not turn a long number into 1.38E+10), the gender and grade columns with a drop-down of the
allowed values. Sheet two lists the allowed values by name (genders, grades, categories or
roles) and how dates and several categories are written. Saved whole or not at all.
"""

from __future__ import annotations

import os
from pathlib import Path

from careterm.i18n import Translator
from careterm.paperwork import roster
from careterm.paperwork.place import write_whole
from events import rules
from events.errors import Refused

TEXT_COLUMNS = {"pupil", "staff", "phone", "guardian_phone", "father_phone", "mother_phone"}
BLANK_ROWS = 500  # rows formatted and offered the drop-downs


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def allowed_values(kind: str, t: Translator) -> list[tuple[str, list[str]]]:
    """(the column's header, its allowed values by name) for the second sheet."""
    grades = t("template.grades").split(",")  # 一年级 … 六年级: as the importer reads them
    header = {f.key: f.header(t.lang) for f in roster.FIELDS[kind]}
    if kind == "pupils":
        return [
            (header["gender"], [t(f"gender.{g}") for g in ("M", "F")]),
            (header["grade"], grades),
            (header["categories"], [t(f"category.{c}") for c in rules.CATEGORIES]),
        ]
    return [(header["roles"], [t(f"role.{r}") for r in rules.ROLES]), (header["grade"], grades)]


def write_template(path: str | Path, kind: str, t: Translator) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(os.path.expanduser(str(path))).absolute()  # said back in full: where to find it
    if path.suffix.lower() != ".xlsx":
        raise Refused("--out", "out_extension", value=str(path), allowed=".xlsx")
    fields = roster.FIELDS[kind]
    book = Workbook()
    sheet = book.active
    sheet.title = t(f"template.sheet.{kind}")
    values = book.create_sheet(t("template.sheet.values"))
    bold = Font(bold=True)
    for i, f in enumerate(fields):
        cell = sheet.cell(row=1, column=i + 1, value=f.header(t.lang))
        cell.font = bold
        sheet.column_dimensions[_letter(i)].width = max(10, 2 * len(cell.value) + 4)
        if f.key in TEXT_COLUMNS:
            for row in range(2, BLANK_ROWS + 2):
                sheet.cell(row=row, column=i + 1).number_format = "@"
    sheet.freeze_panes = "A2"
    allowed = allowed_values(kind, t)
    for i, (header, names) in enumerate(allowed):
        values.cell(row=1, column=i + 1, value=header).font = bold
        values.column_dimensions[_letter(i)].width = 16
        for j, name in enumerate(names):
            values.cell(row=j + 2, column=i + 1, value=name)
    notes = len(allowed) + 1
    values.cell(row=1, column=notes + 1, value=t("template.notes")).font = bold
    values.column_dimensions[_letter(notes)].width = 60
    for j, key in enumerate(("template.note.dates", "template.note.several", "template.note.blank", "template.note.ignored")):
        values.cell(row=j + 2, column=notes + 1, value=t(key))
    # drop-downs for the one-value columns, from the second sheet's lists
    for i, (header, names) in enumerate(allowed):
        target = next((k for k, f in enumerate(fields) if f.header(t.lang) == header), None)
        if target is None or header == roster.field_of(kind, "categories" if kind == "pupils" else "roles").header(t.lang):
            continue  # several values in one cell: no drop-down
        source = f"'{values.title}'!${_letter(i)}$2:${_letter(i)}${len(names) + 1}"
        check = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=False)
        sheet.add_data_validation(check)
        check.add(f"{_letter(target)}2:{_letter(target)}{BLANK_ROWS + 1}")
    return write_whole(path, book.save)
