"""A roster file read into rows of cells, and its headers matched to the fields careterm keeps.

`read_table(path, kind, sheet)` is the one entry: an .xlsx through openpyxl (read-only: a
2,000-row sheet streams, nothing is kept but the cells' values), or a .csv in UTF-8, UTF-8 with a
BOM, or GB18030 (what Chinese Excel and WPS write). The header row is the first of the top rows
that holds the id column (学号 / 工号; cli.md: row 1, but the national registration form puts
its title above the headers); row numbers are kept as the spreadsheet shows them.

A header is matched by its Chinese or English name as cli.md "Import" lists them (spaces,
line breaks, `*` marks, `_` and `-` and case do not matter). Any other column is `ignored`: its
header is reported and its cells are never read, so what careterm does not keep (民族, 身份证号,
户籍地址, …) never reaches a check, a report or the store. Pure, apart from reading the file;
openpyxl is imported only when an .xlsx is read. No Textual here.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from events.errors import Refused

HEADER_SEARCH = 10  # the header row is looked for in the first rows that hold anything
MOST_ROWS = 20_000  # rows in one import: a whole school's roster is a few thousand
# rows read at most (blank ones and those above the header too): past them the file is refused anyway
MOST_READ = MOST_ROWS + HEADER_SEARCH + 1000
# a CSV's bytes at most, refused before decoding: 20,000 full rows of Chinese text are ~6 MB
MOST_CSV_MB = 32


@dataclass(frozen=True)
class Field:
    """One kept column: its key, its Chinese headers (the first is the template's), its English."""

    key: str
    zh: tuple[str, ...]
    en: tuple[str, ...]
    month_headers: tuple[str, ...] = ()  # headers under which a month alone (2016-03) is a date

    def header(self, lang: str) -> str:
        """How the template and the reports name the column when the file has none."""
        return (self.en if lang == "en" else self.zh)[0]

    @property
    def names(self) -> tuple[str, ...]:
        return self.zh + self.en


PUPIL_FIELDS: tuple[Field, ...] = (
    Field("pupil", ("学号", "学籍号"), ("pupil",)),
    Field("name", ("姓名",), ("name",)),
    Field("gender", ("性别",), ("gender",)),
    Field("birth", ("出生日期", "出生年月"), ("birth",), month_headers=("出生年月",)),
    Field("grade", ("年级",), ("grade",)),
    Field("class", ("班级",), ("class",)),
    Field("categories", ("类别",), ("categories",)),
    Field("phone", ("联系电话",), ("phone",)),
    # the national registration form (农村留守儿童基本情况登记表) names the same columns its own way
    Field("guardian", ("监护人", "委托监护人姓名"), ("guardian",)),
    Field("guardian_relation", ("监护人关系", "与儿童关系"), ("guardian_relation",)),
    Field("guardian_phone", ("监护人电话", "监护人联系电话", "委托监护人联系电话"), ("guardian_phone",)),
    Field("father", ("父亲", "父亲姓名"), ("father",)),
    Field("father_workplace", ("父亲务工地址", "父亲务工地点"), ("father_workplace",)),
    Field("father_phone", ("父亲电话", "父亲联系电话"), ("father_phone",)),
    Field("mother", ("母亲", "母亲姓名"), ("mother",)),
    Field("mother_workplace", ("母亲务工地址", "母亲务工地点"), ("mother_workplace",)),
    Field("mother_phone", ("母亲电话", "母亲联系电话"), ("mother_phone",)),
)

STAFF_FIELDS: tuple[Field, ...] = (
    Field("staff", ("工号",), ("staff",)),
    Field("name", ("姓名",), ("name",)),
    Field("roles", ("身份",), ("roles",)),
    Field("grade", ("年级",), ("grade",)),
    Field("class", ("班级",), ("class",)),
)

FIELDS = {"pupils": PUPIL_FIELDS, "staff": STAFF_FIELDS}
ID_FIELD = {"pupils": "pupil", "staff": "staff"}


def field_of(kind: str, key: str) -> Field:
    return next(f for f in FIELDS[kind] if f.key == key)


@dataclass(frozen=True)
class Column:
    key: str  # the field
    header: str  # as the file heads it
    index: int  # 0-based
    month: bool = False  # a month alone is a date here (出生年月)


@dataclass
class Table:
    """A roster's sheet: its kept columns, the headers it does not keep, the data rows."""

    kind: str
    sheet: str
    header_row: int
    columns: dict[str, Column]
    ignored: list[str]
    rows: list[tuple[int, tuple]]  # (row number as the spreadsheet shows it, cells), blank rows left out
    # problems of the header row itself: (row, column header, code, params)
    problems: list[tuple[int, str, str, dict[str, Any]]] = field(default_factory=list)


def normal(header: Any) -> str:
    """A header as compared: no spaces or line breaks (full-width ones too), no `*` or `＊` marks
    of a required column, no `_` or `-`, case folded."""
    if header is None:
        return ""
    text = str(header)
    return re.sub(r"[\s\u3000*＊_\-]+", "", text).casefold()


_BY_NAME = {kind: {normal(n): f for f in fields for n in f.names} for kind, fields in FIELDS.items()}


def match(kind: str, headers: Sequence[Any]) -> tuple[dict[str, Column], list[str], list[tuple[str, str, dict]]]:
    """(kept columns, ignored headers, problems) of a header row. Where one field is headed twice
    by its different names (学号 and 学籍号), the name listed first is read and the other ignored;
    the very same field headed twice by one name is a problem (which would be meant?)."""
    found: dict[str, list[tuple[int, Column]]] = {}
    ignored: list[str] = []
    problems: list[tuple[str, str, dict]] = []
    for index, raw in enumerate(headers):
        shown = _shown_header(raw)
        if not shown:
            continue  # a column without a header: nothing to say what it holds
        f = _BY_NAME[kind].get(normal(raw))
        if f is None:
            ignored.append(shown)
            continue
        rank = next(i for i, n in enumerate(f.names) if normal(n) == normal(raw))
        column = Column(f.key, shown, index, month=normal(raw) in {normal(h) for h in f.month_headers})
        same = [c for r, c in found.get(f.key, []) if r == rank]
        if same:
            problems.append((shown, "duplicate_column", {"column": shown, "first": _letter(same[0].index),
                                                          "second": _letter(index)}))
            continue
        found.setdefault(f.key, []).append((rank, column))
    columns: dict[str, Column] = {}
    for key, candidates in found.items():
        candidates.sort(key=lambda rc: (rc[0], rc[1].index))
        columns[key] = candidates[0][1]
        ignored += [c.header for _, c in candidates[1:]]
    return columns, ignored, problems


def _shown_header(raw: Any) -> str:
    return re.sub(r"\s+", " ", str(raw)).strip() if raw is not None else ""


def _letter(index: int) -> str:
    """A column as Excel names it: 0 -> A, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def read_table(path: str, kind: str, sheet: str | None = None) -> Table:
    """The roster at `path`: its header row matched, its data rows. Refused (naming FILE or
    --sheet) when the file cannot be read, is no .xlsx or .csv, or has no id column."""
    name, rows = read_sheet(path, sheet)
    id_field = field_of(kind, ID_FIELD[kind])
    wanted = {normal(n) for n in id_field.names}
    kept = [(number, cells) for number, cells in rows if any(not _blank(c) for c in cells)]
    for position, (number, cells) in enumerate(kept[:HEADER_SEARCH]):
        if wanted & {normal(c) for c in cells if isinstance(c, str)}:
            columns, ignored, problems = match(kind, cells)
            data = kept[position + 1:]
            if len(data) > MOST_ROWS:
                raise Refused("FILE", "roster_too_long", rows=len(data), most=MOST_ROWS)
            return Table(kind, name, number, columns, ignored, data, [(number, *p) for p in problems])
    raise Refused("FILE", "roster_no_header", path=os.path.basename(path), rows=HEADER_SEARCH,
                  header=id_field.zh[0], allowed=list(id_field.names))


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def read_sheet(path: str, sheet: str | None = None) -> tuple[str, list[tuple[int, tuple]]]:
    """(sheet name, [(row number, cells)]) of an .xlsx sheet (the first unless `sheet`) or a CSV."""
    shown = os.path.basename(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".xlsx", ".xlsm", ".csv"):
        raise Refused("FILE", "roster_format", path=shown)
    if not os.path.isfile(path):
        raise Refused("FILE", "unreadable_file", path=path)
    if ext == ".csv":
        return shown, list(_csv_rows(path))
    return _xlsx_rows(path, sheet)


def _xlsx_rows(path: str, sheet: str | None) -> tuple[str, list[tuple[int, tuple]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        # read-only streams the sheet; data_only: a formula's last computed value, not its text
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError) as problem:
        raise Refused("FILE", "unreadable_file", path=path) from problem
    except Exception as problem:  # noqa: BLE001 - openpyxl's own errors for a file that is no workbook
        raise Refused("FILE", "unreadable_file", path=path) from problem
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            raise Refused("--sheet", "unknown_sheet", sheet=sheet, allowed=names)
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        ws.reset_dimensions()  # some writers store a wrong size: read what is there
        rows = []
        for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            _within_limit(number)
            rows.append((number, tuple(cells)))
        return ws.title, rows
    except Refused:
        raise
    except Exception as problem:  # noqa: BLE001 - a damaged sheet
        raise Refused("FILE", "unreadable_file", path=path) from problem
    finally:
        book.close()


ENCODINGS = ("utf-8", "gb18030")  # what a CSV is read as, in turn (a BOM says UTF-8 first)


def decode(data: bytes) -> str | None:
    """A CSV's text: UTF-8 with or without a BOM, else GB18030; None if it is neither."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _within_limit(number: int) -> None:
    """Row `number` is read only within MOST_READ: a longer file is not read to its end."""
    if number > MOST_READ:
        raise Refused("FILE", "roster_too_long", rows=f"{number}+", most=MOST_ROWS)


def _csv_rows(path: str) -> Iterator[tuple[int, tuple]]:
    most = MOST_CSV_MB * 1024 * 1024
    try:
        with open(path, "rb") as f:
            data = f.read(most + 1)  # no more: a bigger file is refused before it is decoded
    except OSError as problem:
        raise Refused("FILE", "unreadable_file", path=path) from problem
    if len(data) > most:
        raise Refused("FILE", "roster_too_big", path=os.path.basename(path), most=MOST_CSV_MB)
    text = decode(data)
    if text is None or "\x00" in text:  # UTF-16 (Excel's "Unicode text") has NULs between the letters
        raise Refused("FILE", "roster_encoding", path=os.path.basename(path))
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first and "，" not in first else ","
    # a row of the file is a row of the spreadsheet, even with a line break inside a quoted cell
    for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        _within_limit(number)
        yield number, tuple(c if c.strip() else None for c in cells)
