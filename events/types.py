"""The event types: one frozen msgspec Struct per action of the care programme.

These structs are the schema of record. Their names are stable: a stored event is found again
by its type name (see `events.codec`), never by a Python module path, so classes may move.
Renamed types keep their old name in `ALIASES`; changed fields go through upcasters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import msgspec


class Person(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """A guardian or a parent of a pupil."""

    name: str
    relation: str = ""
    phone: str = ""
    workplace: str = ""  # 务工地址, for parents working away


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope every event carries.

    `recorded_at` and `version` are set by the store when the event is appended, never by the
    caller; `date` is the day the thing happened (entries are often late).
    """

    schema: ClassVar[int] = 1

    id: str
    school: str
    stream: str
    date: dt.date
    actor: str
    source: str = "cli"
    note: str = ""
    corrects: str | None = None
    version: int = 0
    recorded_at: dt.datetime | None = None

    @property
    def type(self) -> str:
        return type(self).__name__


# --- school, calendar and rules ------------------------------------------------------------


class SchoolOpened(Event, frozen=True, kw_only=True):
    name: str
    lang: str = "zh"
    timezone: str = "Asia/Shanghai"


class TermAdded(Event, frozen=True, kw_only=True):
    name: str
    start: dt.date
    end: dt.date


class RulesSet(Event, frozen=True, kw_only=True):
    """Rules in force from `date`. Only the fields given change; None keeps the current value."""

    capacity: int | None = None
    late_days: int | None = None
    duties: dict[str, str] = {}  # duty -> cadence ("7d", "month", "semester", "year", "off")


# --- staff ---------------------------------------------------------------------------------


class StaffJoined(Event, frozen=True, kw_only=True):
    # schema 1 had one `role: str`; schema 2 holds several (see codec.UPCASTERS)
    schema: ClassVar[int] = 2

    staff: str
    name: str
    roles: list[str]
    grade: int | None = None
    class_: int | None = msgspec.field(default=None, name="class")


class StaffLeft(Event, frozen=True, kw_only=True):
    staff: str


class StaffAmended(Event, frozen=True, kw_only=True):
    """Changed fields of a staff member: any of name, roles, grade, class (a class teacher moving
    up with their class)."""

    staff: str
    changes: dict[str, Any] = {}


class PasswordSet(Event, frozen=True, kw_only=True):
    """A staff member's password was set (by themself, or an admin): that it was, by whom and
    when. The password and its hash are never in the log (careterm/identity.py keeps the hash).
    `once`: it must be changed at the next sign-in."""

    staff: str
    once: bool = False


class TokenCreated(Event, frozen=True, kw_only=True):
    """A token for scripts made by `staff`, named, valid until `expires`; the token itself is
    never in the log."""

    staff: str
    name: str
    expires: dt.datetime


class TokenRevoked(Event, frozen=True, kw_only=True):
    staff: str
    name: str


class HandbookInspected(Event, frozen=True, kw_only=True):
    staff: str
    result: str  # ok | needs_improvement


class KeyAdded(Event, frozen=True, kw_only=True):
    """An SSH public key bound to a staff member (`key`: TYPE BASE64, as authorized_keys takes it)."""

    staff: str
    key: str
    fingerprint: str  # SHA256:..., as `ssh-keygen -lf` prints it
    comment: str = ""


class KeyRevoked(Event, frozen=True, kw_only=True):
    staff: str
    fingerprint: str


# --- pupils --------------------------------------------------------------------------------


class PupilRegistered(Event, frozen=True, kw_only=True):
    pupil: str
    name: str
    gender: str
    birth: dt.date
    grade: int
    class_: int = msgspec.field(name="class")
    categories: list[str] = []
    phone: str = ""
    guardian: Person | None = None
    parents: list[Person] = []
    profile: dict[str, str] = {}  # family, study, behaviour, personality, health, mental


class PupilAmended(Event, frozen=True, kw_only=True):
    """Changed profile fields. Keys are the names of PupilRegistered's fields (or profile keys)."""

    pupil: str
    changes: dict[str, Any] = {}


class CategoryAdded(Event, frozen=True, kw_only=True):
    pupil: str
    category: str


class CategoryRemoved(Event, frozen=True, kw_only=True):
    pupil: str
    category: str


class PupilGraduated(Event, frozen=True, kw_only=True):
    pupil: str


class PupilTransferred(Event, frozen=True, kw_only=True):
    """`to`: where the pupil went, as written; `district`: `to` is the id of another school of
    the same store, which receives the file (`transfer accept`, events/transfers.py)."""

    pupil: str
    to: str
    district: bool = False


class TransferAccepted(Event, frozen=True, kw_only=True):
    """The receiving school took in a pupil sent to it within the district: `pupil` is their id
    here (registered by the PupilRegistered beside this), `from_pupil` their id at `from_school`,
    `transfer` the PupilTransferred there, sent on `sent`."""

    pupil: str
    from_school: str
    from_pupil: str
    transfer: str
    sent: dt.date


class PupilDroppedOut(Event, frozen=True, kw_only=True):
    pupil: str
    reason: str


class PupilReturned(Event, frozen=True, kw_only=True):
    pupil: str


# --- pairing and care ----------------------------------------------------------------------


class PairingAssigned(Event, frozen=True, kw_only=True):
    pupil: str
    staff: str


class PairingEnded(Event, frozen=True, kw_only=True):
    pupil: str
    staff: str
    reason: str  # graduated | transferred | dropped_out | mentor_left | free text


class ContactMade(Event, frozen=True, kw_only=True):
    """A contact, and what was said as the mentor's handbook records it (each part may be empty).

    Schema 1 had only pupil, kind and by; schema 2 adds what was said (see codec.UPCASTERS).
    """

    schema: ClassVar[int] = 2

    pupil: str
    kind: str
    by: str
    summary: str = ""
    topics: list[str] = []  # codes of rules.CONTACT_TOPICS
    problem: str = ""  # a problem found
    help_given: str = ""
    medium: str = ""  # a code of rules.CONTACT_MEDIA, "" when not said
    minutes: int | None = None
    follow_up: str = ""
    # a semester_report's three parts (学习、思想、生活情况), a birthday's gift: rules.CONTACT_KIND_ONLY
    study: str = ""
    thoughts: str = ""
    life: str = ""
    gift: str = ""


class CareActivityHeld(Event, frozen=True, kw_only=True):
    """One activity for many pupils; it counts as a contact of `kind` for each of them."""

    kind: str
    pupils: list[str]


class HelpPlanSet(Event, frozen=True, kw_only=True):
    pupil: str
    goals: str
    measures: str = ""
    responsible: str = ""


class HelpPlanReviewed(Event, frozen=True, kw_only=True):
    pupil: str
    result: str


class IncidentReported(Event, frozen=True, kw_only=True):
    pupil: str
    need: str  # accommodation | custody | supplies | other
    description: str = ""


class IncidentResolved(Event, frozen=True, kw_only=True):
    pupil: str
    incident: str  # id of the IncidentReported event
    resolution: str = ""


# --- aid -----------------------------------------------------------------------------------


class AidApplied(Event, frozen=True, kw_only=True):
    """申请: the first step of the aid procedure; its id is the application's id."""

    pupil: str
    kind: str
    amount: str | None = None  # yuan with two decimals, "500.00"
    items: str | None = None
    fund: str = ""
    basis: str | None = None
    reason: str = ""


class AidSurveyed(Event, frozen=True, kw_only=True):
    """核实: the family economic survey of an application."""

    pupil: str
    application: str
    result: str  # confirmed | not_confirmed
    method: str  # home_visit | interview | documents


class AidDecided(Event, frozen=True, kw_only=True):
    """认定: a leader's decision; an approval starts the public notice."""

    pupil: str
    application: str
    approved: bool
    override: str | None = None  # a leader's reason for passing the similar-aid and conduct rules


class AidObjected(Event, frozen=True, kw_only=True):
    """An objection during the notice (its text is the note): it holds the application."""

    pupil: str
    application: str


class AidGranted(Event, frozen=True, kw_only=True):
    """发放. Of an application (`application`), or direct (emergency or material aid by a leader,
    `direct`, perhaps answering an incident). Old one-step grants have neither."""

    pupil: str
    kind: str
    amount: str | None = None  # yuan with two decimals, "500.00"
    items: str | None = None
    fund: str = ""
    basis: str | None = None
    override: str | None = None  # a leader's reason for granting despite the rule
    application: str | None = None
    direct: bool = False
    incident: str | None = None


class AidRevoked(Event, frozen=True, kw_only=True):
    pupil: str
    grant: str  # id of the AidGranted event
    reason: str


class FundAdded(Event, frozen=True, kw_only=True):
    """A fund (扶助基金): its budget in yuan and the kinds it pays (none listed: any kind)."""

    name: str
    budget: str
    kinds: list[str] = []
    origin: str = "school"  # government | donation | school (`fund add --source`; `source` is the envelope's)


class ConductRecorded(Event, frozen=True, kw_only=True):
    """A disciplinary record (处分) of a pupil; its text is the note."""

    pupil: str


class ConductCleared(Event, frozen=True, kw_only=True):
    pupil: str
    record: str  # id of the ConductRecorded event
    reason: str


# --- corrections ---------------------------------------------------------------------------


class EntryRetracted(Event, frozen=True, kw_only=True):
    """The entry `corrects` no longer counts."""

    reason: str


class EntryCorrected(Event, frozen=True, kw_only=True):
    """The entry `corrects` counts with these values instead (None keeps the original)."""

    reason: str
    to_date: dt.date | None = None
    to_kind: str | None = None
    to_note: str | None = None


EVENT_TYPES: tuple[type[Event], ...] = (
    SchoolOpened,
    TermAdded,
    RulesSet,
    StaffJoined,
    StaffLeft,
    StaffAmended,
    HandbookInspected,
    KeyAdded,
    KeyRevoked,
    PupilRegistered,
    PupilAmended,
    CategoryAdded,
    CategoryRemoved,
    PupilGraduated,
    PupilTransferred,
    PupilDroppedOut,
    PupilReturned,
    TransferAccepted,
    PairingAssigned,
    PairingEnded,
    ContactMade,
    CareActivityHeld,
    HelpPlanSet,
    HelpPlanReviewed,
    IncidentReported,
    IncidentResolved,
    AidGranted,
    AidRevoked,
    AidApplied,
    AidSurveyed,
    AidDecided,
    AidObjected,
    FundAdded,
    ConductRecorded,
    ConductCleared,
    EntryRetracted,
    EntryCorrected,
    PasswordSet,
    TokenCreated,
    TokenRevoked,
)

BY_NAME: dict[str, type[Event]] = {cls.__name__: cls for cls in EVENT_TYPES}

# Old type names that must still decode (a renamed class keeps its old stored name here).
ALIASES: dict[str, str] = {}

PUPIL_EXITS = (PupilGraduated, PupilTransferred, PupilDroppedOut)
