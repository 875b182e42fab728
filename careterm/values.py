"""Values typed by people (dates, numbers, times, lists), checked into Python values.

A bad value is a refusal (exit 1 on the command line, a message beside the field in the TUI)
naming the field, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import re

from events.errors import Refused

# The ways people write a day: 2025-09-01, 2025-9-1, 2025/9/1, 2025.9.1, 2025年9月1日. ASCII
# digits only ([0-9], not \d, which takes full-width and other scripts' digits); one separator
# throughout. Not fromisoformat: it also takes week dates (2025-W40-1) and 20250901.
_DATE = re.compile(r"^([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})$|^([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日?$")
# Years a school record can mean; past 9998 a date cannot be moved a day forward safely.
DATE_YEARS = (1900, 9998)


def parse_date(value: str | None, field: str) -> dt.date | None:
    """A day typed by a person, as a date (shown back as YYYY-MM-DD); None if not given."""
    if value is None:
        return None
    found = _DATE.match(value.strip())
    if not found:
        raise Refused(field, "bad_date", value=value)
    g = found.groups()
    year, month, day = (int(x) for x in (g[0:1] + g[2:4] if g[0] else g[4:7]))
    if not DATE_YEARS[0] <= year <= DATE_YEARS[1]:
        raise Refused(field, "date_out_of_range", value=value, low=DATE_YEARS[0], high=DATE_YEARS[1])
    try:
        return dt.date(year, month, day)
    except ValueError:  # 2025-2-30, month 13
        raise Refused(field, "bad_date", value=value) from None


_INTEGER = re.compile(r"-?[0-9]{1,30}")


def parse_int(value: str | None, field: str) -> int | None:
    """A whole number in ASCII digits: Python's int() also takes "３", "٣", "+2" and "1_0",
    which nobody types as a class number on purpose. Its range is checked where it is used."""
    if value is None:
        return None
    if not _INTEGER.fullmatch(value.strip()):
        raise Refused(field, "bad_number", value=value)
    return int(value.strip())


def parse_time(value: str | None, field: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise Refused(field, "bad_time", value=value) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def parse_guardian(value: str):
    """--guardian NAME,RELATION,PHONE as a person."""
    from events.types import Person

    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 3 or not parts[0]:
        raise Refused("--guardian", "bad_guardian", value=value)
    return Person(name=parts[0], relation=parts[1], phone=parts[2])


def parse_parent(value: str):
    """--parent NAME,RELATION,WORKPLACE,PHONE as a person."""
    from events.types import Person

    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 4 or not parts[0]:
        raise Refused("--parent", "bad_parent", value=value)
    return Person(name=parts[0], relation=parts[1], workplace=parts[2], phone=parts[3])
