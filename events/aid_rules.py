"""The rules of the aid procedure (cli.md "The aid procedure"; domain.md "Aid, as a procedure"),
in one place, as pure functions: the public notice's working days, an application's status on a
day, its next step, and the eligibility a decision checks.

申请 → 核实 → 认定 → 公示 (5 working days) → 发放. The model (events.model) keeps each
application's steps; the commands and the views ask these functions the same questions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable, NamedTuple

from events import rules
from events.calendar import Term, same_semester, school_year

NOTICE_DAYS = 5  # 公示: at least five working days (教育部 资助 rules)
DAY = dt.timedelta(days=1)


def working_day(day: dt.date) -> bool:
    """Monday to Friday. Days between terms count too: the notice is to the public, and the
    office stays open in the holidays (cli.md)."""
    return day.weekday() < 5


def notice_window(decided: dt.date) -> tuple[dt.date, dt.date]:
    """(first, last) day of the notice of an approval decided on `decided`: the five working days
    after it. Approved Monday 2025-09-08: Tue 09-09 … Mon 09-15."""
    days: list[dt.date] = []
    day = decided
    while len(days) < NOTICE_DAYS:
        day += DAY
        if working_day(day):
            days.append(day)
    return days[0], days[-1]


def grantable_from(decided: dt.date) -> dt.date:
    """The first day an approval may be paid: the day after its notice's last day."""
    return notice_window(decided)[1] + DAY


class Step(NamedTuple):
    """One standing step of an application, as the model keeps it (retracted steps left out)."""

    type: str  # AidApplied | AidSurveyed | AidDecided | AidObjected | AidGranted
    date: dt.date
    actor: str
    entry: str
    data: dict[str, Any]
    revoked: dt.date | None = None  # a grant's revocation date


def standing(steps: Iterable[Step], day: dt.date) -> list[Step]:
    return [s for s in steps if s.date <= day]


def last_decision(steps: Iterable[Step]) -> Step | None:
    """The latest decision (a new one after an objection replaces the one before)."""
    return next((s for s in reversed(list(steps)) if s.type == "AidDecided"), None)


def status(steps: list[Step], day: dt.date) -> str | None:
    """The application's status on a day (None before it was made): applied, surveyed, approved
    (on its decision day, and after its notice until granted), in_notice, rejected, objected,
    granted, revoked."""
    now: str | None = None
    decided: dt.date | None = None
    for s in standing(steps, day):
        if s.type == "AidApplied":
            now = "applied"
        elif s.type == "AidSurveyed":
            now = "surveyed"
        elif s.type == "AidDecided":
            now, decided = ("approved", s.date) if s.data.get("approved") else ("rejected", None)
        elif s.type == "AidObjected":
            now = "objected"
        elif s.type == "AidGranted":
            now = "revoked" if s.revoked is not None and s.revoked <= day else "granted"
    if now == "approved" and decided is not None:
        first, last = notice_window(decided)
        if first <= day <= last:
            return "in_notice"
    return now


def survey_of(steps: list[Step]) -> Step | None:
    """The latest survey (a survey may be done again)."""
    return next((s for s in reversed(steps) if s.type == "AidSurveyed"), None)


def notices(steps: list[Step], day: dt.date) -> list[tuple[Step, dt.date, dt.date]]:
    """Every approval decided by `day` with its notice window: what is or was in notice."""
    return [(s, *notice_window(s.date)) for s in standing(steps, day) if s.type == "AidDecided" and s.data.get("approved")]


# the statuses whose approval stands: it counts as similar aid; RESERVED also holds the fund's money
STANDING = frozenset({"approved", "in_notice", "objected", "granted"})
RESERVED = frozenset({"approved", "in_notice", "objected"})

# the next step of each status, for the faces (who may take it: events.permissions)
NEXT_STEP = {
    "applied": "survey",
    "surveyed": "decide",
    "rejected": None,
    "in_notice": "object",
    "objected": "decide",
    "granted": None,
    "revoked": None,
}


def next_step(steps: list[Step], day: dt.date) -> str | None:
    """survey, decide, object, grant, or None (done, or waiting: approved today)."""
    now = status(steps, day)
    if now == "approved":
        decision = last_decision(standing(steps, day))
        return "grant" if decision is not None and day >= grantable_from(decision.date) else None
    return NEXT_STEP.get(now) if now else None


# --- eligibility ----------------------------------------------------------------------------


def needs_basis(kind: str) -> bool:
    return kind not in rules.POLICY_WAIVERS


def similar(kind: str) -> bool:
    return kind in rules.SIMILAR_AID


def similar_in_semester(kind: str, day: dt.date, others: Iterable[tuple[str, dt.date]], terms: list[Term]) -> bool:
    """Whether another similar aid (kind, counted date) falls in `day`'s semester. Policy waivers
    are not similar aid, before or after."""
    return similar(kind) and any(similar(k) and same_semester(when, day, terms) for k, when in others)


def conduct_blocks(day: dt.date, records: Iterable[tuple[dt.date, dt.date | None]]) -> dt.date | None:
    """The date of a disciplinary record (recorded, cleared or None) standing on `day` in the
    school year of `day`, or None: 表现良好、无处分 this school year."""
    year = school_year(day)
    for recorded, cleared in records:
        if year.start <= recorded <= day and (cleared is None or cleared > day):
            return recorded
    return None


def money(value: str | None) -> Decimal:
    return Decimal(value) if value else Decimal("0")


def fund_pays(kinds: list[str], kind: str) -> bool:
    return not kinds or kind in kinds
