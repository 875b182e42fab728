"""Is a pupil's file complete? The one place for the rule (issue 10, item 8).

The 一对一 policy makes knowing (知情) three things the mentor's first duty for a left-behind
pupil: the child, the guardian (监护人的基本情况), and where the parents work and their phone
(父母外出务工的去向及联系电话). A left-behind pupil's file is incomplete while it lacks a guardian,
or any recorded parent's workplace or phone (no parent recorded: both are missing). A parent at
home has a workplace too for this rule: the class teacher writes where they are (在家).

The file shown (`history`, `archive`, the app's pupil file), the class teacher's list
(`archive --incomplete`) and the statistics table (`stats`) all ask `incomplete_on`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

from events.model import PupilRec, categories_on, profile_on, status_on

# what can be missing, in the order a file lists them (catalog keys `missing.<code>`)
MISSING = ("guardian", "parent_workplace", "parent_phone")


def _has(person: Any, field: str) -> bool:
    """A person's field holds something other than blanks (a stored dict or a Person)."""
    if person is None:
        return False
    value = person.get(field) if isinstance(person, Mapping) else getattr(person, field, "")
    return bool(str(value or "").strip())


def missing(categories: Iterable[str], profile: Mapping[str, Any]) -> list[str]:
    """What a file lacks (codes of MISSING, in that order); [] when complete or not left-behind."""
    if "left_behind" not in categories:
        return []
    gaps = []
    if not _has(profile.get("guardian"), "name"):
        gaps.append("guardian")
    parents = [p for p in profile.get("parents") or [] if _has(p, "name")]
    if not parents or not all(_has(p, "workplace") for p in parents):
        gaps.append("parent_workplace")
    if not parents or not all(_has(p, "phone") for p in parents):
        gaps.append("parent_phone")
    return gaps


def incomplete_on(pupil: PupilRec, day: dt.date) -> list[str]:
    """What an enrolled pupil's file lacks on a day (the categories and family as of that day);
    [] for a pupil not enrolled then: a file closed by an exit is no longer the mentor's to fill."""
    if status_on(pupil, day) != "enrolled":
        return []
    return missing(categories_on(pupil, day), profile_on(pupil, day))
