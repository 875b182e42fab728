"""Values typed by people (dates, numbers, times, lists), checked into Python values.

A bad value is a refusal (exit 1 on the command line, a message beside the field in the TUI)
naming the field, never a traceback.
"""

from __future__ import annotations

import datetime as dt

from events.errors import Refused



def parse_date(value: str | None, field: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Refused(field, "bad_date", value=value) from None


def parse_int(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise Refused(field, "bad_number", value=value) from None


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
