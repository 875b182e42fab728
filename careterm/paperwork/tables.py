"""Tables written out as .xlsx (openpyxl) or .csv, in one place for every table careterm exports.

A table is plain data (`Table`): a title (the school, what it is, the date), its columns (a
heading, a kind, a width, and optionally a group heading over several columns), and its rows. The
modules that make a table (stats_table.py, notice.py, compliance_table.py) build `Table`s from
the views; this module writes them:

- .xlsx: each table on a sheet of its own. The title in the first row, the headings under it (a
  group heading merged over its columns, a column without one merged down both heading rows),
  thin black borders on every cell of the table, every cell in 宋体, total rows in bold. Printed on
  A4 (landscape when the table is wider than a portrait page), fitted to the page's width, the
  title and heading rows repeated on every page, the school's name and the date in the header
  and 第 N 页 共 M 页 in the footer. Counts and money are numbers (money with the format 0.00),
  rates are fractions with the format 0% (Excel shows 60%).
- .csv: the one table (a file holds one), UTF-8 with a BOM so that Excel opens Chinese right;
  its first line is the headings, a grouped column's heading being "group（column）"; no title
  line (the file stays a table another program can read). Money as the views give it ("500.00"),
  rates as people read them (shown.rate: "60%").

Text from the store goes through documents.clean (a control character cannot be written into a
file) and can never become a formula: in .xlsx it is stored as text, in .csv a cell starting
with = + - @ gets a leading apostrophe, as OWASP advises for files Excel opens.

Files are written whole or not at all (a temporary file beside them, then renamed over them).
openpyxl is imported only when an .xlsx is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Sequence

from careterm import shown
from careterm.i18n import catalog
from careterm.paperwork.documents import clean
from careterm.paperwork.place import write_whole
from events.errors import Refused

FONT = "宋体"  # SimSun: on every Chinese Windows and in WPS
SIZE = 11
TITLE_SIZE = 14
PORTRAIT_WIDTH = 95  # the sum of column widths (Excel's character units) a portrait A4 page holds
KINDS = ("text", "count", "money", "rate")
A4 = "9"  # the paper size code of A4 in SpreadsheetML
NUMBER_FORMATS = {"count": "0", "money": "0.00", "rate": "0%"}
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")


@dataclass(frozen=True)
class Col:
    """A column: its heading, what it holds, its width in Excel's character units, and the group
    heading printed over it (consecutive columns of one group share one)."""

    label: str
    kind: str = "text"
    width: float = 10
    group: str | None = None


@dataclass
class Table:
    sheet: str  # the sheet's name in the workbook (at most 31 characters, no []:*?/\)
    title: str  # the first row: the school, what the table is, its date
    columns: Sequence[Col]
    rows: list[list[Any]] = field(default_factory=list)
    totals: set[int] = field(default_factory=set)  # indices of rows printed in bold (totals)

    @property
    def grouped(self) -> bool:
        return any(c.group for c in self.columns)

    def flat_header(self, t) -> list[str]:
        """One heading per column, a group's columns named with it (the .csv's first line)."""
        return [t("table.grouped", group=c.group, column=c.label) if c.group else c.label for c in self.columns]


@dataclass(frozen=True)
class Page:
    """What the printed page says around the table: the school and the day it is printed in the
    header (the day the record is read as of is in the title), as the documents have it."""

    school: str
    day: dt.date
    lang: str = "zh"


# --- the file's format ---------------------------------------------------------------------------

def format_of(path: str | Path, allowed: Sequence[str]) -> str:
    """The format the file's extension chooses ("xlsx", "csv", "docx"), or refused naming --out
    with the extensions this table can be written as (nothing is written)."""
    ext = Path(str(path)).suffix.lower().lstrip(".")
    if ext not in allowed:
        raise Refused("--out", "out_extension", value=str(path), allowed=" / ".join(f".{a}" for a in allowed))
    return ext


def write(path: str | Path, tables: Sequence[Table], page: Page, t) -> int:
    """Write the tables to `path` in the format of its extension (.xlsx: every table, a sheet
    each; .csv: the first, the file's own table). Returns the number of rows of that first table
    (headings not counted), the same in either format."""
    ext = Path(str(path)).suffix.lower()
    if ext == ".csv":
        write_whole(path, lambda tmp: write_csv(tmp, tables[0], t))
    else:
        write_whole(path, lambda tmp: write_xlsx(tmp, tables, page, t))
    return len(tables[0].rows)


# --- values -------------------------------------------------------------------------------------

def money(value: Any) -> Decimal | None:
    """"500.00" -> Decimal("500.00"); None or not a number -> None."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def csv_cell(value: Any, kind: str) -> str:
    """A value as the .csv holds it."""
    if value is None:
        return ""
    if kind == "rate" and isinstance(value, (int, float)):
        return shown.rate(value)
    if kind == "money" and not isinstance(value, str):
        amount = money(value)
        return f"{amount}" if amount is not None else ""
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    text = clean(value)
    return "'" + text if _FORMULA_START.match(text) and text != shown.NONE else text


def write_csv(path: str | Path, table: Table, t) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([csv_cell(h, "text") for h in table.flat_header(t)])
        kinds = [c.kind for c in table.columns]
        for row in table.rows:
            out.writerow([csv_cell(v, k) for v, k in zip(row, kinds)])


# --- .xlsx --------------------------------------------------------------------------------------

def write_xlsx(path: str | Path, tables: Sequence[Table], page: Page, t) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.creator = clean(page.school) or "careterm"
    wb.properties.language = "zh-CN" if page.lang == "zh" else "en-GB"
    st = _Styles()
    for table in tables:
        _sheet(wb, table, page, t, st)
    wb.save(path)


class _Styles:
    """The few cell styles of a workbook's tables, and each combination's style once made."""

    def __init__(self):
        from openpyxl.styles import Alignment, Border, Font, Side

        self.made: dict[tuple, Any] = {}  # (font, border, alignment, format) -> its StyleArray
        thin = Side(style="thin", color="000000")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.font = Font(name=FONT, size=SIZE)
        self.bold = Font(name=FONT, size=SIZE, bold=True)
        self.title = Font(name=FONT, size=TITLE_SIZE, bold=True)
        self.centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.text = Alignment(vertical="center", wrap_text=True)
        self.number = Alignment(horizontal="right", vertical="center")


def _cell(ws, st: _Styles, value: Any, *, font, border=None, alignment=None, number_format: str | None = None, text: bool = False):
    """A cell with its style. The style is made once per kind of cell and copied (openpyxl's
    own way of copying a style): setting fonts and borders on every cell took most of the
    time of a table of a few thousand cells."""
    from copy import copy

    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    if text and isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    key = (id(font), id(border), id(alignment), number_format)  # st's own objects: their ids stay
    style = st.made.get(key)
    if style is None:
        cell.font = font
        if border is not None:
            cell.border = border
        if alignment is not None:
            cell.alignment = alignment
        if number_format:
            cell.number_format = number_format
        st.made[key] = copy(cell._style)
        return cell
    cell._style = copy(style)
    return cell


def _sheet(wb, table: Table, page: Page, t, st: _Styles) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    ws = wb.create_sheet(_sheet_name(table.sheet))
    n = len(table.columns)
    heads = 2 if table.grouped else 1
    first_body = 2 + heads  # row 1 the title, then the heading rows
    # what a write-only sheet needs before its first row: the columns, the frozen headings
    for i, col in enumerate(table.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = f"A{first_body}"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    # the title, over the table's width
    ws.row_dimensions[1].height = 22 * _title_lines(table)
    ws.append([_cell(ws, st, clean(table.title), font=st.title, alignment=st.text, text=True)])
    if n > 1:
        ws.merged_cells.add(f"A1:{get_column_letter(n)}1")
    for row in _heading_rows(ws, table, st, t):
        ws.append(row)
    for i, values in enumerate(table.rows):
        font = st.bold if i in table.totals else st.font
        ws.append([_value_cell(ws, st, v, c.kind, font) for v, c in zip(values, table.columns)])
    _print_setup(ws, table, page, heads, t)


def _heading_rows(ws, table: Table, st: _Styles, t) -> list[list[Any]]:
    from openpyxl.utils import get_column_letter

    def head(text: str | None):
        return _cell(ws, st, clean(text) if text else None, font=st.bold, border=st.border, alignment=st.centre, text=True)

    if not table.grouped:
        return [[head(c.label) for c in table.columns]]
    top, under = [], []
    i = 0
    cols = list(table.columns)
    while i < len(cols):
        group = cols[i].group
        span = 1
        while group and i + span < len(cols) and cols[i + span].group == group:
            span += 1
        a, b = get_column_letter(i + 1), get_column_letter(i + span)
        if group:
            top += [head(group)] + [head(None) for _ in range(span - 1)]
            under += [head(c.label) for c in cols[i:i + span]]
            if span > 1:
                ws.merged_cells.add(f"{a}2:{b}2")
        else:  # a column of its own: its heading down both rows
            top.append(head(cols[i].label))
            under.append(head(None))
            ws.merged_cells.add(f"{a}2:{a}3")
        i += span
    return [top, under]


def _value_cell(ws, st: _Styles, value: Any, kind: str, font):
    if kind == "money" and value is not None and not isinstance(value, (int, float, Decimal)):
        amount = money(value)
        value = amount if amount is not None else value  # in-kind aid: its words stay text
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if kind not in NUMBER_FORMATS:  # a grade or class: a number, as a label
            return _cell(ws, st, value, font=font, border=st.border, alignment=st.centre)
        return _cell(ws, st, value, font=font, border=st.border, alignment=st.number, number_format=NUMBER_FORMATS[kind])
    text = shown.NONE if value is None and kind == "rate" else (clean(value) if value is not None else None)
    return _cell(ws, st, text, font=font, border=st.border,
                 alignment=st.number if kind != "text" else st.text, text=True)


def _print_setup(ws, table: Table, page: Page, heads: int, t) -> None:
    """A4, landscape when wide, fitted to the page's width (as many pages down as it takes), the
    title and headings on every page, the school and date in the header, page N of M below."""
    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape" if sum(c.width for c in table.columns) > PORTRAIT_WIDTH else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.print_title_rows = f"1:{1 + heads}"
    font = f"{FONT},Regular"
    ws.oddHeader.left.text = _header_text(clean(page.school))
    ws.oddHeader.left.font = font
    ws.oddHeader.right.text = page.day.isoformat()
    ws.oddHeader.right.font = font
    template = catalog(page.lang).get("doc.page_of") or catalog("zh")["doc.page_of"]
    ws.oddFooter.center.text = template.replace("{page}", "&P").replace("{pages}", "&N")
    ws.oddFooter.center.font = font


def _title_lines(table: Table) -> int:
    """How many lines the title takes across the table (it wraps; a CJK character is two of
    Excel's character units wide, and the title's font is larger than the body's)."""
    import unicodedata

    width = sum(c.width for c in table.columns)
    needed = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in table.title) * TITLE_SIZE / SIZE
    return max(1, min(4, -(-int(needed) // max(int(width), 1))))


def _header_text(text: str) -> str:
    return text.replace("&", "&&")  # & starts a code in a header (&P: the page)


def _sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "-", clean(name))[:31] or "Sheet"
