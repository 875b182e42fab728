"""The school calendar: semesters and school years, with or without recorded terms.

Without terms the school year runs 1 September to 31 August, its semesters 1 September to
31 January and 1 February to 31 August. With terms, a date belongs to the term that contains
it, or to the last term started before it (a holiday belongs to the term it follows).
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
    """The semester a date belongs to (for aid once per semester and the semester report)."""
    current = None
    for term in sorted(terms, key=lambda t: t.start):
        if term.start <= day:
            current = term
        else:
            break
    if current is None:
        return default_semester(day)
    return Period(current.name, current.start, current.end)


def terms_overlap(a: Term, b: Term) -> bool:
    return a.start <= b.end and b.start <= a.end
