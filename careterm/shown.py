"""How values are shown to people, in one place for the command line and the app.

JSON output keeps the raw values (rates as fractions, money as "500.00", times in ISO 8601 UTC);
what a person reads goes through these: rates as percentages, money in yuan, recording times in
the school's time zone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

NONE = "-"  # a value that does not exist yet (no duty owed, never recorded)

# control characters other than a line break, and bidirectional overrides: never printed raw
_UNPRINTABLE = {c: f"\\x{c:02x}" for c in range(32) if c != 10} | {127: "\\x7f"}
_UNPRINTABLE |= {c: f"\\u{c:04x}" for c in (*range(0x80, 0xA0), 0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def printable(text: str, *, lines: bool = True) -> str:
    """Text from the store or from a person, safe for a terminal: an escape code in a name
    (stored before careterm refused them, or quoted back in a refusal) is shown as `\x1b`,
    never sent to someone's screen. With `lines=False` a line break is shown as a space."""
    text = text.translate(_UNPRINTABLE)
    return text if lines else text.replace("\n", " ")


def rate(value: float | None) -> str:
    """0.6034 -> "60%"; None (nothing was owed) -> "-"."""
    return NONE if value is None else f"{value:.0%}"


def money(value: str | Decimal | None, lang: str = "zh") -> str:
    """"500.00" -> "500.00 元" (zh) or "¥500.00" (en); None -> "-"."""
    if value in (None, ""):
        return NONE
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(value)
    return f"{amount} 元" if lang == "zh" else f"¥{amount}"


def local_time(value: str | dt.datetime | None, zone: str | ZoneInfo, *, seconds: bool = False) -> str:
    """A recording time (ISO 8601 with offset, or an aware datetime) in the school's zone:
    "2026-12-01T19:36:00+00:00" in Asia/Shanghai -> "2026-12-02 03:36"."""
    if value in (None, ""):
        return NONE
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
