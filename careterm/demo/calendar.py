"""The school calendar of the demo: terms, public holidays, school years, local times of day."""

from __future__ import annotations

import datetime as dt

from events.calendar import Term

DAY = dt.timedelta(days=1)
_LOCAL = 8 * 3600  # Asia/Shanghai: UTC+8 all year (no daylight saving)
_EPOCH = dt.date(1970, 1, 1).toordinal()
_EPOCH_DT = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


_SPRING_FESTIVAL = {
    2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25),
    2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17),
    2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23), 2032: (2, 11),
    2033: (1, 31), 2034: (2, 19), 2035: (2, 8), 2036: (1, 28), 2037: (2, 15), 2038: (2, 4),
}
_MID_AUTUMN = {
    2015: (9, 27), 2016: (9, 15), 2017: (10, 4), 2018: (9, 24), 2019: (9, 13), 2020: (10, 1),
    2021: (9, 21), 2022: (9, 10), 2023: (9, 29), 2024: (9, 17), 2025: (10, 6), 2026: (9, 25),
    2027: (9, 15), 2028: (10, 3), 2029: (9, 22), 2030: (9, 12), 2031: (10, 1), 2032: (9, 19),
    2033: (9, 8), 2034: (9, 27), 2035: (9, 16), 2036: (10, 4), 2037: (9, 24), 2038: (9, 13),
}


def _spring_festival(year: int) -> dt.date:
    return dt.date(year, *_SPRING_FESTIVAL.get(year, (2, 5)))


def _mid_autumn(year: int) -> dt.date:
    return dt.date(year, *_MID_AUTUMN.get(year, (9, 20)))


def _monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(-day.weekday()) % 7)


def _friday_on_or_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - 4) % 7)


def school_terms(first_year: int, last_year: int) -> list[Term]:
    """春季学期 from after the Lantern Festival to early July, 秋季学期 from 1 September to
    before the Spring Festival; winter and summer holidays between."""
    out = []
    for year in range(first_year, last_year + 1):
        start = _monday_on_or_after(max(_spring_festival(year) + 12 * DAY, dt.date(year, 2, 16)))
        out.append(Term(f"{year}春季学期", start, _friday_on_or_before(dt.date(year, 7, 4))))
        winter = _spring_festival(year + 1) - 10 * DAY
        end = _friday_on_or_before(max(min(winter, dt.date(year + 1, 1, 24)), dt.date(year + 1, 1, 12)))
        out.append(Term(f"{year}秋季学期", dt.date(year, 9, 1), end))
    return out


def _public_holiday(day: dt.date) -> bool:
    md = (day.month, day.day)
    return (
        (day.month == 10 and day.day <= 7)  # 国庆
        or (day.month == 5 and day.day <= 5)  # 劳动节
        or md == (1, 1)
        or (day.month == 4 and 4 <= day.day <= 6)  # 清明
        or day == _mid_autumn(day.year)
    )


def _school_year(day: dt.date) -> int:
    return day.year if day.month >= 9 else day.year - 1


def _ts(day: dt.date, secs: int) -> int:
    """A local (Asia/Shanghai) time of day as seconds since the epoch, UTC."""
    return (day.toordinal() - _EPOCH) * 86400 + secs - _LOCAL


def _local_day(ts: int) -> dt.date:
    return dt.date.fromordinal(_EPOCH + (ts + _LOCAL) // 86400)


def _hm(h: int, m: int) -> int:
    return h * 3600 + m * 60

