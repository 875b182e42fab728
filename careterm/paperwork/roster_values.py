"""One roster cell into the value careterm keeps, or the reason it cannot be (cli.md "Import").

A cell is what openpyxl or the CSV reader gives: None, text, a number, or a date (an Excel date
cell). Each function returns the value or raises Refused(column key, code, **params), the same
refusal codes the commands use where they mean the same (bad_date, bad_grade, unknown_value), so
the reason reads the same wherever it is shown. Numbers, dates, grades, classes and genders are
read after NFKC (full-width digits typed on a Chinese keyboard are digits); names are kept as
typed. Pure: no store, no openpyxl, no Textual.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Sequence

from careterm.actions import code_of
from careterm.values import DATE_YEARS, parse_date
from events import rules
from events.errors import Refused

# what separates several categories or roles in one cell
SEPARATORS = re.compile(r"[、，,;；/／|]+")
# a stats category that is two stored ones
BOTH = {"left_behind_in_difficulty": ("left_behind", "in_difficulty")}


def blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def text(cell: Any) -> str | None:
    """A cell as text: stripped; a whole number without its `.0` (a phone typed into a number
    cell); a date as YYYY-MM-DD; None when blank."""
    if blank(cell):
        return None
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e16:
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat(sep=" ")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell).strip()


def _typed(cell: Any) -> str:
    return unicodedata.normalize("NFKC", text(cell) or "").strip()


def shown(cell: Any) -> str:
    """A cell quoted back in a report: as text, an ID number in it masked."""
    return masked(text(cell) or "")


# --- ID numbers: never stored, never quoted back in full ------------------------------------------

_ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx])(?![0-9])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _valid_id(number: str) -> bool:
    """The check digit of a resident ID number (GB 11643): digits that only look like one (a
    long phone, a date run into other digits) almost never pass it."""
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS))
    return "10X98765432"[total % 11] == number[17].upper()


def id_numbers(value: str) -> list[str]:
    return [m for m in _ID_NUMBER.findall(value) if _valid_id(m)]


def masked(value: str) -> str:
    """The value with any ID number in it shown as 1101************12."""
    for number in id_numbers(value):
        value = value.replace(number, number[:4] + "*" * 12 + number[-2:])
    return value


def kept_text(cell: Any, key: str) -> str | None:
    """A text careterm keeps (a name, a phone, a workplace): refused if it holds an ID number."""
    value = text(cell)
    if value is not None and id_numbers(value):
        raise Refused(key, "id_number_cell")
    return value


# --- dates ------------------------------------------------------------------------------------------

_MONTH = re.compile(r"^([0-9]{4})(?:[-/.]([0-9]{1,2})|年([0-9]{1,2})月?|([0-9]{2}))$")
_MIDNIGHT = re.compile(r"^(\S+)\s+0{1,2}:00(?::00)?$")  # 2016-03-01 00:00:00 (a date cell saved as CSV)


def day(cell: Any, key: str, *, month: bool = False) -> dt.date:
    """A day: an Excel date cell, or typed as careterm.values.parse_date reads it; with `month`
    (出生年月) also a month alone, 2016-03, 2016.3, 2016年3月 or 201603, meaning its 1st."""
    if isinstance(cell, dt.datetime):
        cell = cell.date()
    if isinstance(cell, dt.date):
        if not DATE_YEARS[0] <= cell.year <= DATE_YEARS[1]:
            raise Refused(key, "date_out_of_range", value=cell.isoformat(), low=DATE_YEARS[0], high=DATE_YEARS[1])
        return cell
    if isinstance(cell, float) and month and not cell.is_integer():
        return _month_number(cell, key)
    typed = _typed(cell)
    found = _MIDNIGHT.match(typed)
    if found:
        typed = found.group(1)
    if month:
        found = _MONTH.match(typed)
        if found:
            year, number = int(found.group(1)), int(next(g for g in found.groups()[1:] if g))
            return _first_of(year, number, typed, key)
    return parse_date(typed, key)  # Refused(key, "bad_date" | "date_out_of_range")


def _first_of(year: int, month: int, typed: str, key: str) -> dt.date:
    if not DATE_YEARS[0] <= year <= DATE_YEARS[1]:
        raise Refused(key, "date_out_of_range", value=typed, low=DATE_YEARS[0], high=DATE_YEARS[1])
    if not 1 <= month <= 12:
        raise Refused(key, "bad_month", value=typed)
    return dt.date(year, month, 1)


def _month_number(cell: float, key: str) -> dt.date:
    """出生年月 typed into a number cell: 2016.03 is March; 2016.1 cannot say whether January
    (2016.1) or October (2016.10, whose 0 the number cell dropped) was typed."""
    typed = repr(cell)
    year, _, decimals = typed.partition(".")
    if decimals == "1":
        raise Refused(key, "ambiguous_month", value=typed, year=year)
    if len(decimals) <= 2:  # 2016.2 is February: no month is 20
        return _first_of(int(year), int(decimals), typed, key)
    raise Refused(key, "bad_month", value=typed)


# --- numbers --------------------------------------------------------------------------------------

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def chinese_number(value: str) -> int | None:
    """一 .. 九十九 as a number (the way grades and classes are written: 三年级, 十二班)."""
    if not value or any(c not in _CN_DIGITS and c != "十" for c in value):
        return None
    if "十" not in value:
        return _CN_DIGITS[value] if len(value) == 1 else None
    tens, _, ones = value.partition("十")
    if "十" in ones or len(tens) > 1 or len(ones) > 1:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def _number(cell: Any, pattern: re.Pattern) -> int | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        return int(cell) if cell.is_integer() else None
    found = pattern.fullmatch(_typed(cell))
    if not found:
        return None
    digits = found.group(1)
    return int(digits) if digits.isdigit() else chinese_number(digits)


_GRADE = re.compile(r"([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*(?:年级|年)?")
_CLASS = re.compile(r"[(（]?\s*([0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*[)）]?\s*班?")


def grade(cell: Any, key: str) -> int:
    """3, 3.0 (a number cell), "3", "三年级", "3年级"; its range is the command's to check."""
    value = _number(cell, _GRADE)
    if value is None:
        raise Refused(key, "bad_grade", grade=text(cell))
    return value


def class_number(cell: Any, key: str) -> int:
    """2, "2", "2班", "(2)班", "二班"; its range is the command's to check."""
    value = _number(cell, _CLASS)
    if value is None:
        raise Refused(key, "bad_class", value=text(cell))
    return value


# --- enumerated values ----------------------------------------------------------------------------


def gender(cell: Any, key: str) -> str:
    typed = _typed(cell)
    code = code_of(typed, "gender.", rules.GENDERS)
    if code not in rules.GENDERS:
        raise Refused(key, "unknown_value", value=typed, allowed=list(rules.GENDERS))
    return code


def codes(cell: Any, key: str, prefix: str, allowed: Sequence[str], both: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """Several codes in one cell, by code or by name in either language, separated by any of
    、，,;/ (categories, roles); each once, in the order written."""
    found: list[str] = []
    for part in SEPARATORS.split(text(cell) or ""):
        part = part.strip()
        if not part:
            continue
        known = tuple(allowed) + tuple(both or ())
        code = code_of(part, prefix, known)
        if code not in known:
            raise Refused(key, "unknown_value", value=part, allowed=list(allowed))
        for one in (both or {}).get(code, (code,)):
            if one not in found:
                found.append(one)
    return found


def categories(cell: Any, key: str) -> list[str]:
    return codes(cell, key, "category.", rules.CATEGORIES, BOTH)


def roles(cell: Any, key: str) -> list[str]:
    return codes(cell, key, "role.", rules.ROLES)
