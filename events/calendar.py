"""The school calendar: semesters and school years, with or without recorded terms.

Without terms the school year runs 1 September to 31 August, its semesters 1 September to
31 January and 1 February to 31 August. With terms, a date belongs to the latest term that
started on or before it, so the holiday after a term belongs to that term's semester; a day
before the first term belongs to its default semester. The write side (one similar aid per
semester) and every view use this one definition: `semester`.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Sequence


class Term(NamedTuple):
    name: str
    start: dt.date
    end: dt.date


class Period(NamedTuple):
    name: str
    start: dt.date
    end: dt.date  # inclusive


def school_year(day: dt.date) -> Period:
    first = day.year if day.month >= 9 else day.year - 1
    return Period(f"{first}-{first + 1}", dt.date(first, 9, 1), dt.date(first + 1, 8, 31))


def default_semester(day: dt.date) -> Period:
    year = school_year(day)
    first = year.start.year
    if day.month >= 9 or day.month == 1:
        end = dt.date(first + 1, 1, 31)
        return Period(f"{year.name}-1", year.start, end)
    return Period(f"{year.name}-2", dt.date(first + 1, 2, 1), year.end)


def semester(day: dt.date, terms: Sequence[Term] = ()) -> Period:
    """The semester a date belongs to: the latest term started on or before it, running until
    the day before the next term starts (its holiday included); the last term runs at least
    to `day`. Before the first term, or without terms, the default semester."""
    ordered = sorted(terms, key=lambda t: t.start)
    current = None
    following = None
    for term in ordered:
        if term.start <= day:
            current = term
        else:
            following = term
            break
    if current is None:
        return default_semester(day)
    end = following.start - dt.timedelta(days=1) if following is not None else max(current.end, day)
    return Period(current.name, current.start, end)


def same_semester(a: dt.date, b: dt.date, terms: Sequence[Term] = ()) -> bool:
    first, second = semester(a, terms), semester(b, terms)
    return (first.name, first.start) == (second.name, second.start)


def terms_overlap(a: Term, b: Term) -> bool:
    return a.start <= b.end and b.start <= a.end
