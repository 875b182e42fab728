"""The vocabulary and the fixed rules of the domain (docs: the programme's rules), in one place."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

CATEGORIES = (
    "left_behind",
    "in_difficulty",
    "orphan",
    "disabled",
    "economic_hardship",
    "learning_difficulty",
    "psychological",
    "other",
)

# Who waits first for a mentor: a pupil's need is the best (lowest) rank it matches.
NEED_ORDER: tuple[frozenset[str], ...] = (
    frozenset({"orphan"}),
    frozenset({"in_difficulty"}),
    frozenset({"disabled"}),
    frozenset({"left_behind", "economic_hardship"}),  # left-behind *and* poor
    frozenset({"left_behind"}),
    frozenset({"economic_hardship"}),
    frozenset({"learning_difficulty"}),
    frozenset({"psychological"}),
    frozenset({"other"}),
)


def need_rank(categories: set[str] | frozenset[str] | list[str]) -> int:
    cats = set(categories)
    for rank, needed in enumerate(NEED_ORDER):
        if needed <= cats:
            return rank
    return len(NEED_ORDER)


GENDERS = ("F", "M")
# the texts of a pupil's profile (家庭情况, 学习情况…): a registration holds them under
# `profile`, an amendment beside the other fields it changes
PROFILE_FIELDS = ("family", "study", "behaviour", "personality", "health", "mental")
GRADES = range(1, 7)  # primary school: grades 1 to 6
# The ranges of the numbers a person types, checked where they enter: a stored value out of
# them (a 23-digit class) once made every saved view unreadable.
CLASSES = range(1, 100)
CAPACITIES = range(1, 11)  # mentees per staff member
LATE_DAYS = range(1, 366)  # how late an entry may be recorded before it is flagged
PUPIL_AGES = range(3, 21)  # a primary pupil's age in years on the day they are registered
MAX_SCHOOLS = 1000  # a demo district
# A write dated by the clock alone (no --date) whose day is more than this past the latest
# entry's recording day is refused: a clock that ran ahead would otherwise date it, and stamp
# every later recording time, in the future. Given with --date, the person has looked at the day.
CLOCK_LEAD_DAYS = 1


def clock_ran_ahead(today: dt.date, last_recorded_day: dt.date | None) -> bool:
    """Whether the clock's day is suspect: more than CLOCK_LEAD_DAYS past the latest entry's."""
    return last_recorded_day is not None and (today - last_recorded_day).days > CLOCK_LEAD_DAYS

ROLES = ("teacher", "class_teacher", "leader", "counselor", "auditor", "admin")

# The five duties of the 一对一 policy, then those the policies leave to each school's rate
# (off until `rules set` gives them a cadence; they apply to every pairing), the last of them
# the handbook inspection of each mentor with a pairing (met by `inspect STAFF_ID`).
INSPECTION = "inspection"
MORE_DUTIES = ("home_visit", "homework_signature", "guardian_contact", "tutoring", "counseling", INSPECTION)
DUTIES = ("parent_call", "talk", "parent_phone_visit", "semester_report", "birthday") + MORE_DUTIES
DEFAULT_CADENCES = {
    "parent_call": "7d",
    "talk": "14d",
    "parent_phone_visit": "month",
    "semester_report": "semester",
    "birthday": "year",
    **{duty: "off" for duty in MORE_DUTIES},
}
# Duties owed to left-behind pupils only (their parents are away).
LEFT_BEHIND_DUTIES = ("parent_call", "parent_phone_visit")
DEFAULT_CAPACITY = 1
DEFAULT_LATE_DAYS = 7

CONTACT_KINDS = (
    "parent_call",
    "talk",
    "parent_phone_visit",
    "semester_report",
    "birthday",
    "home_visit",
    "guardian_contact",
    "tutoring",
    "counseling",
    "homework_signature",
)
ACTIVITY_KINDS = CONTACT_KINDS + ("holiday_visit", "performance")

# What was said in a contact, as the mentor's handbook has it (帮扶工作手册): the topics talked
# about, how it was held, for how long (minutes, a school day at most); the parts only one kind
# carries: the semester report's three (学习、思想、生活情况) and a birthday's gift.
CONTACT_TOPICS = ("study", "life", "thoughts", "safety", "health", "family")
CONTACT_MEDIA = ("in_person", "phone", "video", "message")
CONTACT_MINUTES = range(1, 601)
CONTACT_KIND_ONLY = {"study": "semester_report", "thoughts": "semester_report", "life": "semester_report",
                     "gift": "birthday"}

AID_KINDS = (
    "tuition_waiver",
    "living_subsidy",
    "scholarship",
    "grant",
    "free_textbooks",
    "material",
    "boarding_meal",
    "emergency",
    "donation",
)
SIMILAR_AID = frozenset({"living_subsidy", "grant", "scholarship"})  # one per pupil per semester
POLICY_WAIVERS = frozenset({"tuition_waiver", "free_textbooks"})  # need no hardship basis
HARDSHIP_CATEGORIES = frozenset({"economic_hardship", "orphan", "in_difficulty", "disabled"})
# granted at once by a leader, without application, survey, basis or notice (家庭突发事件)
DIRECT_AID_KINDS = frozenset({"emergency", "material"})
FUND_SOURCES = ("government", "donation", "school")
SURVEY_RESULTS = ("confirmed", "not_confirmed")
SURVEY_METHODS = ("home_visit", "interview", "documents")
APPLICATION_STATUSES = ("applied", "surveyed", "approved", "rejected", "in_notice", "objected", "granted", "revoked")
BASES = ("dibao", "poverty_certificate", "parents_unable_to_work", "illness_or_accident", "special")

EXIT_REASONS = ("graduated", "transferred", "dropped_out", "mentor_left")
INSPECTION_RESULTS = ("ok", "needs_improvement")
INCIDENT_NEEDS = ("accommodation", "custody", "supplies", "other")

PUPIL_STATUSES = ("enrolled", "graduated", "transferred", "dropped_out")
# the status each exit leaves a pupil in (the pairing it ends ends for that reason); a return
# comes back from the statuses in AWAY only (a graduate does not return)
EXIT_STATUS = {"PupilGraduated": "graduated", "PupilTransferred": "transferred", "PupilDroppedOut": "dropped_out"}
AWAY = frozenset({"transferred", "dropped_out"})
# a transfer inside the district not accepted within this many school days (Monday to Friday)
# after it was sent is flagged on the receiving leader's Home
TRANSFER_ACCEPT_DAYS = 5

# Which roles may do what. Every action needs a current staff member; these need more.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "staff": frozenset({"admin"}),
    "calendar": frozenset({"admin", "leader"}),
    "pupil": frozenset({"class_teacher", "leader", "admin"}),
    "pair": frozenset({"leader"}),
    "transfer_accept": frozenset({"leader"}),  # a pupil sent by another school of the district
    "aid": frozenset({"leader", "class_teacher", "admin"}),  # revoke
    "aid_survey": frozenset({"leader", "class_teacher"}),
    "aid_decide": frozenset({"leader"}),
    "aid_grant": frozenset({"leader"}),
    "fund": frozenset({"leader"}),
    "conduct": frozenset({"leader", "class_teacher"}),
    "override": frozenset({"leader"}),
    "inspect": frozenset({"leader", "auditor"}),
    "correct_others": frozenset({"leader", "admin"}),
}

def in_force(changes, day) -> tuple[int, int, dict[str, str]]:
    """The rules in force on a day: the defaults, then each `rules set` effective by then, in
    (date, order) order. `changes` yields (date, capacity | None, late days | None, cadences);
    None keeps the value before. Both the write side and the read model judge by this."""
    capacity, late, cadences = DEFAULT_CAPACITY, DEFAULT_LATE_DAYS, dict(DEFAULT_CADENCES)
    for when, new_capacity, new_late, duties in changes:
        if when > day:
            break
        capacity = capacity if new_capacity is None else new_capacity
        late = late if new_late is None else new_late
        cadences.update(duties)
    return capacity, late, cadences


_AMOUNT = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
_CADENCE = re.compile(r"^(?:([1-9][0-9]{0,2})d|month|semester|year|off)$")


def valid_cadence(text: str) -> bool:
    return bool(_CADENCE.match(text))


def needs_hardship_basis(kind: str) -> bool:
    return kind not in POLICY_WAIVERS


def has_hardship(categories: set[str] | list[str], basis: str | None) -> bool:
    return bool(basis) or bool(HARDSHIP_CATEGORIES & set(categories))


def parse_amount(text: str) -> str | None:
    """Yuan with at most two decimals, above zero, as the canonical "500.00"; None if invalid."""
    if not isinstance(text, str) or not _AMOUNT.match(text.strip()):
        return None  # digits with an optional point and decimals: no exponents, signs or spaces
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        return None
    if value >= Decimal("10000000"):
        return None
    return f"{value:.2f}"
