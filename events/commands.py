"""The commands: every action, checked against the school's model and the rules, turned into events.

Each command is a function `(schools, ctx, ...) -> list[Event]`: `schools` maps a school's id to
its model (`events.model.SchoolModel`, the one fold the views read too). It either returns the
events to store or raises `Refused` naming the field and the reason. Commands write nothing
themselves: the service (`events.service`) stores what they return, atomically, or retries on a
moved head.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from events import permissions, rules
from events.calendar import Term, same_semester, semester, terms_overlap
from events.errors import Refused
from events import model as M
from events.model import EntryRec, PupilRec, SchoolModel, StaffRec
from events.types import (
    AidGranted,
    AidRevoked,
    CareActivityHeld,
    CategoryAdded,
    CategoryRemoved,
    ContactMade,
    EntryCorrected,
    EntryRetracted,
    Event,
    HandbookInspected,
    KeyAdded,
    KeyRevoked,
    HelpPlanReviewed,
    HelpPlanSet,
    IncidentReported,
    IncidentResolved,
    PairingAssigned,
    PairingEnded,
    Person,
    PupilAmended,
    PupilDroppedOut,
    PupilGraduated,
    PupilRegistered,
    PupilReturned,
    PupilTransferred,
    TransferAccepted,
    RulesSet,
    SchoolOpened,
    StaffJoined,
    StaffAmended,
    StaffLeft,
    TermAdded,
    PasswordSet,
    TokenCreated,
    TokenRevoked,
)

# Entries whose date (and kind) may be corrected, and which may be retracted. Structural entries
# (registration, pairing, exits, staff, calendar) are undone by the opposite action instead.
CORRECTABLE = frozenset(
    {
        "ContactMade",
        "CareActivityHeld",
        "HelpPlanSet",
        "HelpPlanReviewed",
        "IncidentReported",
        "IncidentResolved",
        "HandbookInspected",
    }
)
EXITS = frozenset(rules.EXIT_STATUS)
# the steps of an application: the application itself takes them all back with it; another
# step only while it is the application's last
AID_STEPS = frozenset({"AidApplied", "AidSurveyed", "AidDecided", "AidObjected"})
# cli.md "Retractions": any entry recorded by mistake, but the school's opening, staff and calendar
RETRACTABLE = CORRECTABLE | EXITS | {"AidGranted", "AidRevoked", "PupilAmended", "PupilReturned"} | {
    "CategoryAdded", "CategoryRemoved", "PairingAssigned", "PairingEnded"} | AID_STEPS | {"ConductRecorded", "ConductCleared"}
KINDS_OF = {"ContactMade": rules.CONTACT_KINDS, "CareActivityHeld": rules.ACTIVITY_KINDS}


Schools = Mapping[str, SchoolModel]


@dataclass(frozen=True)
class Context:
    """Who acts, for which school, on which effective date; `today` is the school's date."""

    school: str
    actor: str
    today: dt.date
    date: dt.date
    source: str = "cli"
    note: str = ""


def new_id() -> str:
    return uuid.uuid4().hex


def stream_of(school: str, kind: str, key: str = "") -> str:
    return f"{school}/{kind}/{key}" if key else f"{school}/{kind}"


# Free-text fields where a person may write several lines; every other text is one line.
MULTILINE = frozenset(
    {"note", "description", "goals", "measures", "resolution", "reason", "to_note", "items", "override"}
    | {"family", "study", "behaviour", "personality", "health", "mental"}
    | {"summary", "problem", "help_given", "follow_up", "thoughts", "life"}  # what was said in a contact
)
# The option that carries an event field, where it is not simply --field
OPTION_OF = {"class_": "--class", "parents": "--parent", "changes": "pupil amend", "pupils": "--pupils", "to": "--to",
             "origin": "--source", "name": "--name", "application": "APPLICATION_ID", "record": "EVENT_ID"}


# bidirectional embeddings, overrides, isolates and marks: they reorder what others read
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


# The characters of categories Cc (U+0000-001F, U+007F-009F), Zl (U+2028) and Zp (U+2029) and
# the bidirectional controls, as one class: a regex finds them in C (what was said in contacts
# is most of the text written, and a loop in Python over its characters cost the demo's build
# a tenth of its time); tests/test_what_was_said.py checks the class against unicodedata.
_CONTROLS = "\x0b-\x1f\x7f-\x9f\u2028\u2029" + "".join(sorted(BIDI_CONTROLS))
_CONTROL = re.compile(f"[\x00-\x1f{_CONTROLS}]")
_CONTROL_BUT_LINE_BREAK = re.compile(f"[\x00-\x09{_CONTROLS}]")


def clean_text(value: str, field: str, *, multiline: bool = False) -> str:
    """Refuse control characters in text a person typed (a terminal escape in a name reached
    other people's screens): a line break only where several lines are allowed, no tab, escape,
    bell or bidirectional override anywhere."""
    if (_CONTROL_BUT_LINE_BREAK if multiline else _CONTROL).search(value):
        raise Refused(field, "control_character", value=value.encode("unicode_escape").decode("ascii")[:60])
    return value


def _check_texts(value: object, field: str, name: str) -> None:
    """Every string inside an event's field (names in a guardian, a profile's values, ...)."""
    if isinstance(value, str):
        clean_text(value, field, multiline=name in MULTILINE)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _check_texts(inner, f"--{key}" if name == "changes" else field, str(key))
    elif isinstance(value, (list, tuple)):
        for inner in value:
            _check_texts(inner, field, name)
    elif isinstance(value, Person):
        for inner in (value.name, value.relation, value.workplace, value.phone):
            _check_texts(inner, field, name)


def _event(cls, ctx: Context, stream: str, date: dt.date | None = None, **fields) -> Event:
    # one place where every text of every action is checked before it can be stored
    clean_text(ctx.note, "--note", multiline=True)
    for name, value in fields.items():
        _check_texts(value, OPTION_OF.get(name, "--" + name.replace("_", "-")), name)
    return cls(
        id=new_id(),
        school=ctx.school,
        stream=stream,
        date=date or ctx.date,
        actor=ctx.actor,
        source=ctx.source,
        note=ctx.note,
        **fields,
    )


# --- checks shared by the commands ---------------------------------------------------------


def school_of(schools: Schools, ctx: Context) -> SchoolModel:
    school = schools.get(ctx.school)
    if school is None or school.opened is None:
        raise Refused("--school", "unknown_school", school=ctx.school)
    return school


def check_date(school: SchoolModel, ctx: Context, day: dt.date | None = None, field: str = "--date") -> dt.date:
    day = day or ctx.date
    if day > ctx.today:
        raise Refused(field, "future_date", date=day, today=ctx.today)
    if day < school.opened:
        raise Refused(field, "before_school_opened", date=day, opened=school.opened)
    return day


def actor(school: SchoolModel, ctx: Context, action: str | None = None, day: dt.date | None = None, **subject) -> StaffRec:
    """The actor must be current staff now and may do `action` (a key of the one table,
    events.permissions.PERMISSIONS) about the subject on the entry's day."""
    return permissions.check(school, ctx.actor, ctx.today, action, day, **subject)


def pupil_of(school: SchoolModel, pupil_id: str, field: str = "PUPIL_ID") -> PupilRec:
    pupil = school.pupils.get(pupil_id)
    if pupil is None:
        raise Refused(field, "unknown_pupil", pupil=pupil_id)
    return pupil


def staff_of(school: SchoolModel, staff_id: str, field: str = "STAFF_ID") -> StaffRec:
    staff = school.staff.get(staff_id)
    if staff is None:
        raise Refused(field, "unknown_staff", staff=staff_id)
    return staff


def enrolled_on(pupil: PupilRec, day: dt.date, field: str = "PUPIL_ID", date_field: str = "--date") -> None:
    if day < pupil.registered:
        raise Refused(date_field, "before_registration", pupil=pupil.id, date=day, registered=pupil.registered)
    if not M.at_school_on(pupil, day):
        raise Refused(field, "pupil_not_enrolled", pupil=pupil.id, status=M.status_on(pupil, day), date=day)


def staff_active_on(staff: StaffRec, day: dt.date, field: str = "STAFF_ID") -> None:
    if not M.staff_active_on(staff, day):
        raise Refused(field, "staff_not_active", staff=staff.id, date=day)


def nothing_later(school: SchoolModel, pupil: PupilRec, day: dt.date) -> None:
    """A status change must not contradict entries already dated after it."""
    later = M.last_date(school, pupil)
    if later > day:
        raise Refused("--date", "later_entries_exist", pupil=pupil.id, date=day, later=later)


def choice(value: str, allowed: Iterable[str], field: str) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise Refused(field, "unknown_value", value=value, allowed=list(allowed))
    return value


def in_range(value: int | None, allowed: range, field: str) -> int | None:
    if value is not None and value not in allowed:
        raise Refused(field, "out_of_range", value=value, low=allowed.start, high=allowed.stop - 1)
    return value


def plausible_birth(birth: dt.date, day: dt.date) -> None:
    """A primary pupil is 3 to 20 years old on the day they are registered (1900-01-01 is a slip)."""
    age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    if age not in rules.PUPIL_AGES:
        raise Refused("--birth", "implausible_birth", birth=birth, age=age, low=rules.PUPIL_AGES.start, high=rules.PUPIL_AGES.stop - 1)


def text(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise Refused(field, "empty")
    return value.strip()


def identifier(value: str | None, field: str) -> str:
    """A new school, staff or pupil id: not empty, no "/" (it separates the parts of a stream's
    name: school/pupil/id) and no control characters (a database may refuse them)."""
    value = text(value, field)
    if "/" in value or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise Refused(field, "bad_id", value=value.encode("unicode_escape").decode("ascii"))
    return value


# --- school, calendar, rules ---------------------------------------------------------------


def init(
    schools: Schools, ctx: Context, *, name: str, admin_name: str, lang: str = "zh", timezone: str = "Asia/Shanghai"
) -> list[Event]:
    if ctx.school in schools and schools[ctx.school].opened is not None:
        raise Refused("--id", "school_exists", school=ctx.school)
    if ctx.date > ctx.today:
        raise Refused("--date", "future_date", date=ctx.date, today=ctx.today)
    choice(lang, ("zh", "en"), "--lang")
    _check_timezone(timezone)
    text(name, "--school")
    identifier(ctx.school, "--id")
    identifier(ctx.actor, "--as")
    opened = _event(SchoolOpened, ctx, stream_of(ctx.school, "school"), name=name.strip(), lang=lang, timezone=timezone)
    joined = _event(
        StaffJoined,
        ctx,
        stream_of(ctx.school, "staff", ctx.actor),
        staff=ctx.actor,
        name=text(admin_name, "--name"),
        roles=["admin", "leader"],
    )
    return [opened, joined]


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Refused("--timezone", "unknown_timezone", timezone=name) from None


def add_term(schools: Schools, ctx: Context, *, name: str, start: dt.date, end: dt.date) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "calendar")
    check_date(school, ctx)
    name = text(name, "--name")
    if end < start:
        raise Refused("--end", "end_before_start", start=start, end=end)
    term = Term(name, start, end)
    for other in school.terms_on(ctx.today):
        if other.name == name:
            raise Refused("--name", "term_exists", name=name)
        if terms_overlap(term, other):
            raise Refused("--start", "terms_overlap", other=other.name)
    return [_event(TermAdded, ctx, stream_of(ctx.school, "school"), name=name, start=start, end=end)]


def set_rules(
    schools: Schools,
    ctx: Context,
    *,
    capacity: int | None = None,
    duties: dict[str, str] | None = None,
    late_days: int | None = None,
) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "calendar")
    check_date(school, ctx)
    duties = duties or {}
    if capacity is None and late_days is None and not duties:
        raise Refused("rules", "nothing_to_set")
    in_range(capacity, rules.CAPACITIES, "--capacity")
    in_range(late_days, rules.LATE_DAYS, "--late-days")
    for duty, cadence in duties.items():
        choice(duty, rules.DUTIES, "--duty")
        if not rules.valid_cadence(cadence):
            raise Refused("--duty", "bad_cadence", duty=duty, cadence=cadence)
    return [
        _event(
            RulesSet, ctx, stream_of(ctx.school, "school"), capacity=capacity, late_days=late_days, duties=dict(duties)
        )
    ]


# --- staff ---------------------------------------------------------------------------------


def add_staff(
    schools: Schools,
    ctx: Context,
    staff_id: str,
    *,
    name: str,
    roles: Sequence[str] = ("teacher",),
    grade: int | None = None,
    class_: int | None = None,
) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "staff")
    check_date(school, ctx)
    staff_id = identifier(staff_id, "STAFF_ID")
    if staff_id in school.staff:
        raise Refused("STAFF_ID", "staff_exists", staff=staff_id)
    roles = list(dict.fromkeys(roles or ("teacher",)))
    for role in roles:
        choice(role, rules.ROLES, "--role")
    if grade is not None and grade not in rules.GRADES:
        raise Refused("--grade", "bad_grade", grade=grade)
    if class_ is not None:
        in_range(class_, rules.CLASSES, "--class")
    return [
        _event(
            StaffJoined,
            ctx,
            stream_of(ctx.school, "staff", staff_id),
            staff=staff_id,
            name=text(name, "--name"),
            roles=roles,
            grade=grade,
            class_=class_,
        )
    ]


def amend_staff(
    schools: Schools,
    ctx: Context,
    staff_id: str,
    *,
    name: str | None = None,
    roles: Sequence[str] | None = None,
    grade: int | None = None,
    class_: int | None = None,
) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "staff")
    day = check_date(school, ctx)
    staff = staff_of(school, staff_id)
    if day < staff.joined:
        raise Refused("--date", "before_joining", staff=staff_id, joined=staff.joined)
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = text(name, "--name")
    if roles:
        for role in roles:
            choice(role, rules.ROLES, "--role")
        changes["roles"] = list(dict.fromkeys(roles))
        if "admin" in staff.roles and "admin" not in changes["roles"]:
            keep_an_admin(school, staff_id, field="--role")
    if grade is not None:
        if grade not in rules.GRADES:
            raise Refused("--grade", "bad_grade", grade=grade)
        changes["grade"] = grade
    if class_ is not None:
        changes["class"] = in_range(class_, rules.CLASSES, "--class")
    if not changes:
        raise Refused("staff amend", "nothing_to_change")
    return [_event(StaffAmended, ctx, stream_of(ctx.school, "staff", staff_id), staff=staff_id, changes=changes)]


def keep_an_admin(school: SchoolModel, staff_id: str, field: str = "STAFF_ID") -> None:
    """The school always keeps an admin: without one nobody could add staff or set the rules."""
    others = [s for s in school.staff.values() if s.id != staff_id and "admin" in s.roles and s.left is None]
    if not others:
        raise Refused(field, "last_admin", staff=staff_id)


def still_on_staff(school: SchoolModel, staff_id: str, day: dt.date) -> StaffRec:
    """A staff member who has not left, and had joined by `day`."""
    staff = staff_of(school, staff_id)
    if staff.left is not None:
        raise Refused("STAFF_ID", "staff_already_left", staff=staff_id, date=staff.left)
    if day < staff.joined:
        raise Refused("--date", "before_joining", staff=staff_id, joined=staff.joined)
    return staff


def staff_leave(schools: Schools, ctx: Context, staff_id: str) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "staff")
    day = check_date(school, ctx)
    staff = still_on_staff(school, staff_id, day)
    if "admin" in staff.roles:
        keep_an_admin(school, staff_id)
    events = [_event(StaffLeft, ctx, stream_of(ctx.school, "staff", staff_id), staff=staff_id)]
    for pairing in staff.pairings:
        # a back-dated leave must not contradict pairings recorded after it
        if pairing.start > day:
            raise Refused("--date", "pairing_starts_later", pupil=pairing.pupil, start=pairing.start)
        if pairing.end is not None and pairing.end > day:
            raise Refused("--date", "pairing_ends_later", pupil=pairing.pupil, end=pairing.end)
        if pairing.end is None:
            events.append(_end_pairing(ctx, pairing.pupil, staff_id, "mentor_left"))
    needed = M.needed_until(school, staff_id)
    if needed is not None and needed >= day:
        raise Refused("--date", "staff_needed_later", staff=staff_id, later=needed)
    return events


def set_password(schools: Schools, ctx: Context, staff_id: str, *, once: bool = False) -> list[Event]:
    """That a password was set: one's own, or an admin anyone's (the hash itself is kept by the
    face, careterm/identity.py, never in the log). For current staff only."""
    school = school_of(schools, ctx)
    if staff_id != ctx.actor:
        actor(school, ctx, "staff")
    else:
        actor(school, ctx)
    staff = staff_of(school, staff_id)
    if staff.left is not None and staff.left <= ctx.today:
        raise Refused("STAFF_ID", "staff_not_active", staff=staff_id, date=ctx.today)
    return [_event(PasswordSet, ctx, stream_of(ctx.school, "staff", staff_id), ctx.today, staff=staff_id, once=once)]


def create_token(schools: Schools, ctx: Context, *, name: str, expires: dt.datetime, taken: Sequence[str] = ()) -> list[Event]:
    """That the actor made a token for scripts (named; `taken`: the names of their live tokens)."""
    school = school_of(schools, ctx)
    actor(school, ctx)
    name = text(name, "--name")
    if name in taken:
        raise Refused("--name", "token_exists", name=name)
    return [_event(TokenCreated, ctx, stream_of(ctx.school, "staff", ctx.actor), ctx.today, staff=ctx.actor, name=name,
                   expires=expires)]


def revoke_token(schools: Schools, ctx: Context, *, name: str, known: Sequence[str] = ()) -> list[Event]:
    """That the actor revoked one of their tokens by its name (`known`: their live tokens' names)."""
    school = school_of(schools, ctx)
    actor(school, ctx)
    if name not in known:
        raise Refused("NAME", "unknown_token", name=name)
    return [_event(TokenRevoked, ctx, stream_of(ctx.school, "staff", ctx.actor), ctx.today, staff=ctx.actor, name=name)]


def add_key(schools: Schools, ctx: Context, staff_id: str, *, key: str | None = None,
            key_file: str | None = None) -> list[Event]:
    """Bind an SSH public key to a current staff member (admins): `key` is the line itself,
    `key_file` the text of a .pub file (exactly one of them). A key bound before, even if revoked
    since, is refused: a revoked key stays revoked (a new key pair is made instead)."""
    from events import sshkeys

    school = school_of(schools, ctx)
    actor(school, ctx, "staff")
    day = check_date(school, ctx)
    still_on_staff(school, staff_id, day)
    if (key is None) == (key_file is None):
        raise Refused("--key", "key_or_key_file")
    found = sshkeys.parse_public_key(key) if key is not None else sshkeys.key_in_file(key_file)
    field = "--key" if key is not None else "--key-file"
    bound = school.keys.get(found.fingerprint)
    if bound is not None:
        code = "key_was_revoked" if bound.revoked is not None else "key_bound"
        raise Refused(field, code, fingerprint=found.fingerprint, staff=bound.staff)
    clean_text(found.comment, field)
    return [_event(KeyAdded, ctx, stream_of(ctx.school, "staff", staff_id), staff=staff_id, key=found.text,
                   fingerprint=found.fingerprint, comment=found.comment)]


def revoke_key(schools: Schools, ctx: Context, fingerprint: str) -> list[Event]:
    """Take an SSH key back (admins): it no longer signs anyone in, even where a line of it is
    still in an authorized_keys file. "SHA256:" may be left out."""
    school = school_of(schools, ctx)
    actor(school, ctx, "staff")
    check_date(school, ctx)
    wanted = fingerprint.strip() if fingerprint.strip().startswith("SHA256:") else "SHA256:" + fingerprint.strip()
    bound = school.keys.get(wanted)
    if bound is None:
        raise Refused("FINGERPRINT", "unknown_key", fingerprint=fingerprint)
    if bound.revoked is not None:
        raise Refused("FINGERPRINT", "key_already_revoked", fingerprint=wanted, date=bound.revoked)
    return [_event(KeyRevoked, ctx, stream_of(ctx.school, "staff", bound.staff), staff=bound.staff, fingerprint=wanted)]


def inspect_handbook(schools: Schools, ctx: Context, staff_id: str, *, result: str) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "inspect")
    day = check_date(school, ctx)
    staff = staff_of(school, staff_id)
    staff_active_on(staff, day)
    choice(result, rules.INSPECTION_RESULTS, "--result")
    return [_event(HandbookInspected, ctx, stream_of(ctx.school, "staff", staff_id), staff=staff_id, result=result)]


# --- pupils --------------------------------------------------------------------------------


PROFILE_FIELDS = rules.PROFILE_FIELDS


def add_pupil(
    schools: Schools,
    ctx: Context,
    pupil_id: str,
    *,
    name: str,
    gender: str,
    birth: dt.date,
    grade: int,
    class_: int,
    categories: Sequence[str] = (),
    phone: str = "",
    guardian: Person | None = None,
    parents: Sequence[Person] = (),
    profile: dict[str, str] | None = None,
) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx)
    day = check_date(school, ctx)
    pupil_id = identifier(pupil_id, "PUPIL_ID")
    if pupil_id in school.pupils:
        raise Refused("PUPIL_ID", "pupil_exists", pupil=pupil_id)
    choice(gender, rules.GENDERS, "--gender")
    if birth >= day:
        raise Refused("--birth", "birth_not_before_date", birth=birth, date=day)
    plausible_birth(birth, day)
    if grade not in rules.GRADES:
        raise Refused("--grade", "bad_grade", grade=grade)
    in_range(class_, rules.CLASSES, "--class")
    for category in categories:
        choice(category, rules.CATEGORIES, "--category")
    for key in profile or {}:
        choice(key, PROFILE_FIELDS, "profile")
    actor(school, ctx, "pupil_file", day, pupil_id=pupil_id, grade=grade, class_=class_)
    return [
        _event(
            PupilRegistered,
            ctx,
            stream_of(ctx.school, "pupil", pupil_id),
            pupil=pupil_id,
            name=text(name, "--name"),
            gender=gender,
            birth=birth,
            grade=grade,
            class_=class_,
            categories=list(dict.fromkeys(categories)),
            phone=phone,
            guardian=guardian,
            parents=list(parents),
            profile=dict(profile or {}),
        )
    ]


AMENDABLE = ("name", "gender", "birth", "grade", "class", "phone", "guardian", "parents") + PROFILE_FIELDS


def amend_pupil(
    schools: Schools,
    ctx: Context,
    pupil_id: str,
    *,
    changes: dict[str, object] | None = None,
    add_categories: Sequence[str] = (),
    remove_categories: Sequence[str] = (),
) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx)
    day = check_date(school, ctx)
    pupil = pupil_of(school, pupil_id)
    if day < pupil.registered:
        raise Refused("--date", "before_registration", pupil=pupil_id, date=day, registered=pupil.registered)
    actor(school, ctx, "pupil_file", day, pupil=pupil)
    changes = dict(changes or {})
    if not changes and not add_categories and not remove_categories:
        raise Refused("pupil amend", "nothing_to_change")
    for key, value in changes.items():
        choice(key, AMENDABLE, f"--{key}")
        if key == "gender":
            choice(str(value), rules.GENDERS, "--gender")
        if key == "grade" and value not in rules.GRADES:
            raise Refused("--grade", "bad_grade", grade=value)
        if key == "class":
            if not isinstance(value, int):
                raise Refused("--class", "bad_class", value=value)
            in_range(value, rules.CLASSES, "--class")
        if key == "birth":
            plausible_birth(dt.date.fromisoformat(str(value)), day)
        if key == "name":
            text(str(value), "--name")
    stream = stream_of(ctx.school, "pupil", pupil_id)
    events: list[Event] = []
    if changes:
        events.append(_event(PupilAmended, ctx, stream, pupil=pupil_id, changes=changes))
    for category in dict.fromkeys(add_categories):
        choice(category, rules.CATEGORIES, "--add-category")
        if category in M.categories_on(pupil, day):
            raise Refused("--add-category", "category_present", category=category)
        events.append(_event(CategoryAdded, ctx, stream, pupil=pupil_id, category=category))
    for category in dict.fromkeys(remove_categories):
        choice(category, rules.CATEGORIES, "--remove-category")
        if category not in M.categories_on(pupil, day):
            raise Refused("--remove-category", "category_absent", category=category)
        events.append(_event(CategoryRemoved, ctx, stream, pupil=pupil_id, category=category))
    return events


def _end_pairing(ctx: Context, pupil_id: str, staff_id: str, reason: str) -> Event:
    return _event(PairingEnded, ctx, stream_of(ctx.school, "pupil", pupil_id), pupil=pupil_id, staff=staff_id, reason=reason)


def _exit(schools: Schools, ctx: Context, pupil_id: str, cls, **fields) -> list[Event]:
    # the pairing ends for the exit's own reason (rules.EXIT_STATUS); `fields` may hold the
    # event's own `reason` (drop_out)
    school = school_of(schools, ctx)
    actor(school, ctx, "pupil")
    day = check_date(school, ctx)
    pupil = pupil_of(school, pupil_id)
    enrolled_on(pupil, day)
    if M.status_on(pupil, day) != "enrolled":  # already left that very day
        raise Refused("PUPIL_ID", "pupil_not_enrolled", pupil=pupil_id, status=M.status_on(pupil, day), date=day)
    nothing_later(school, pupil, day)
    events = [_event(cls, ctx, stream_of(ctx.school, "pupil", pupil_id), pupil=pupil_id, **fields)]
    current = M.current_pairing(pupil)
    if current is not None:
        # the exit ends the pairing by itself; the mentor is owed a new pupil
        events.append(_end_pairing(ctx, pupil_id, current.staff, rules.EXIT_STATUS[cls.__name__]))
    return events


def graduate(schools: Schools, ctx: Context, pupil_id: str) -> list[Event]:
    return _exit(schools, ctx, pupil_id, PupilGraduated)


def transfer(schools: Schools, ctx: Context, pupil_id: str, *, to: str) -> list[Event]:
    """Out of the school. When `to` is the id of another school of this store (a district), that
    school receives the file (events/transfers.py): its leader accepts the pupil there."""
    to = text(to, "--to")
    if to == ctx.school:
        raise Refused("--to", "transfer_to_own_school", school=to)
    district = to in schools and schools[to].opened is not None
    return _exit(schools, ctx, pupil_id, PupilTransferred, to=to, district=district)


def accept_transfer(schools: Schools, ctx: Context, pupil_id: str, *, new_id: str | None = None) -> list[Event]:
    """Take in a pupil another school of the store sent here: registered with the file as it
    stood on the day sent (profile, categories, guardian, parents), under the same id unless
    it is taken here (`--id NEW`), then waiting for a mentor (queue reason `transferred_in`)."""
    from events import transfers as T

    school = school_of(schools, ctx)
    actor(school, ctx, "transfer_accept")
    day = check_date(school, ctx)
    pupil_id = text(pupil_id, "PUPIL_ID")
    found = [(sid, sent) for sid in T.senders(schools, ctx.school) for sent in T.pending(schools[sid], school)
             if sent.pupil == pupil_id]
    if not found:
        raise Refused("PUPIL_ID", "no_incoming_transfer", pupil=pupil_id)
    if len({sid for sid, _ in found}) > 1:  # ids are each school's own: two schools sent a "P1"
        raise Refused("PUPIL_ID", "incoming_transfer_ambiguous", pupil=pupil_id, schools=sorted({sid for sid, _ in found}))
    sender_id, sent = max(found, key=lambda f: f[1].date)
    if day < sent.date:
        raise Refused("--date", "before_transfer_sent", pupil=pupil_id, date=day, sent=sent.date)
    new = identifier(new_id, "--id") if new_id is not None else pupil_id
    if new in school.pupils:
        raise Refused("--id" if new_id is not None else "PUPIL_ID", "pupil_id_taken", pupil=new)
    record = schools[sender_id].pupils[pupil_id]
    carried = M.profile_on(record, sent.date)
    stream = stream_of(ctx.school, "pupil", new)
    guardian = carried.get("guardian")
    return [
        _event(
            PupilRegistered,
            ctx,
            stream,
            pupil=new,
            name=carried["name"],
            gender=carried["gender"],
            birth=dt.date.fromisoformat(str(carried["birth"])),
            grade=carried["grade"],
            class_=carried["class"],
            categories=M.categories_on(record, sent.date),
            phone=carried.get("phone") or "",
            guardian=Person(**guardian) if isinstance(guardian, dict) else guardian,
            parents=[Person(**p) if isinstance(p, dict) else p for p in carried.get("parents") or []],
            profile={k: v for k, v in carried["profile"].items() if v},
        ),
        _event(TransferAccepted, ctx, stream, pupil=new, from_school=sender_id, from_pupil=pupil_id,
               transfer=sent.id, sent=sent.date),
    ]


def drop_out(schools: Schools, ctx: Context, pupil_id: str, *, reason: str) -> list[Event]:
    return _exit(schools, ctx, pupil_id, PupilDroppedOut, reason=text(reason, "--reason"))


def return_pupil(schools: Schools, ctx: Context, pupil_id: str) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "pupil")
    day = check_date(school, ctx)
    pupil = pupil_of(school, pupil_id)
    status = M.status_on(pupil, day)
    if status not in rules.AWAY:
        raise Refused("PUPIL_ID", "pupil_not_away", pupil=pupil_id, status=status)
    last = [d for d in pupil.timeline if d.what == "status" and not d.retracted][-1]
    sent = school.sent.get(last.entry)
    if sent is not None and sent.to in schools and sent.id in schools[sent.to].arrivals:
        # taken in by the other school of the district: coming back is a transfer from there
        raise Refused("PUPIL_ID", "transfer_accepted", id=sent.id, school=sent.to)
    nothing_later(school, pupil, day)
    return [_event(PupilReturned, ctx, stream_of(ctx.school, "pupil", pupil_id), pupil=pupil_id)]


# --- pairing -------------------------------------------------------------------------------


def pair(schools: Schools, ctx: Context, staff_id: str, pupil_id: str) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "pair")
    day = check_date(school, ctx)
    staff = staff_of(school, staff_id)
    pupil = pupil_of(school, pupil_id)
    staff_active_on(staff, day)
    if staff.left is not None:
        raise Refused("STAFF_ID", "staff_leaves_later", staff=staff_id, left=staff.left)
    enrolled_on(pupil, day)
    # a pairing may not start when the pupil leaves that day or changes status later
    later = [when for when, status in M.statuses(pupil)[1:] if when > day or (when == day and status != "enrolled")]
    if later:
        raise Refused("--date", "later_status_change", pupil=pupil_id, later=min(later))
    for other in pupil.pairings:
        if other.end is None or other.end > day:
            raise Refused("PUPIL_ID", "pupil_has_mentor", pupil=pupil_id, staff=other.staff, since=other.start)
    # capacity: at the new start, at every later start of this mentor's pairings, and at every
    # later change of the rules (a capacity lowered from a later date binds this pairing too)
    later_rules = {r.date for r in school.rules if r.date > day}
    for moment in sorted({day} | {p.start for p in staff.pairings if p.start > day} | later_rules):
        load = sum(1 for p in staff.pairings if p.active_on(moment))
        capacity = school.rules_on(moment).capacity
        if load + 1 > capacity:
            raise Refused("STAFF_ID", "mentor_full", staff=staff_id, capacity=capacity, date=moment)
    return [_event(PairingAssigned, ctx, stream_of(ctx.school, "pupil", pupil_id), pupil=pupil_id, staff=staff_id)]


def unpair(schools: Schools, ctx: Context, pupil_id: str, *, reason: str) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "pair")
    day = check_date(school, ctx)
    pupil = pupil_of(school, pupil_id)
    reason = text(reason, "--reason")
    current = M.current_pairing(pupil)
    if current is None:
        raise Refused("PUPIL_ID", "pupil_has_no_mentor", pupil=pupil_id)
    if current.start > day:
        raise Refused("--date", "pairing_starts_later", pupil=pupil_id, start=current.start)
    return [_end_pairing(ctx, pupil_id, current.staff, reason)]


# --- care ----------------------------------------------------------------------------------


def contact(
    schools: Schools, ctx: Context, pupil_id: str, *, kind: str, by: str | None = None, summary: str = "",
    topics: Sequence[str] = (), problem: str = "", help_given: str = "", medium: str | None = None,
    minutes: int | None = None, follow_up: str = "", study: str = "", thoughts: str = "", life: str = "",
    gift: str = "",
) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx)
    day = check_date(school, ctx)
    pupil = pupil_of(school, pupil_id)
    choice(kind, rules.CONTACT_KINDS, "--kind")
    said = what_was_said(kind, summary=summary, topics=topics, problem=problem, help_given=help_given,
                         medium=medium, minutes=minutes, follow_up=follow_up, study=study, thoughts=thoughts,
                         life=life, gift=gift)
    by = by or ctx.actor
    staff_active_on(staff_of(school, by, "--by"), day, "--by")
    actor(school, ctx, "contact", day, pupil=pupil, kind=kind)
    actor(school, ctx, "contact_by", day, by=by)
    enrolled_on(pupil, day)
    return [_event(ContactMade, ctx, stream_of(ctx.school, "pupil", pupil_id), pupil=pupil_id, kind=kind, by=by,
                   **said)]


def what_was_said(kind: str, *, topics: Sequence[str], medium: str | None, minutes: int | None, **texts: str) -> dict:
    """A contact's handbook entry, checked: topics and medium from their vocabularies, minutes in
    range, the parts only one kind carries (rules.CONTACT_KIND_ONLY) refused on another, naming
    the option. Texts are kept without surrounding blanks (their characters: `_event`)."""
    texts = {key: (value or "").strip() for key, value in texts.items()}
    for key, only in rules.CONTACT_KIND_ONLY.items():
        if texts.get(key) and kind != only:
            raise Refused(f"--{key}", "only_for_kind", kind=only)  # study, thoughts, life, gift: one word each
    named = list(dict.fromkeys(t.strip() for t in topics or () if t and t.strip()))
    for topic in named:
        choice(topic, rules.CONTACT_TOPICS, "--topics")
    if medium:
        choice(medium, rules.CONTACT_MEDIA, "--medium")
    in_range(minutes, rules.CONTACT_MINUTES, "--minutes")
    return {**texts, "topics": named, "medium": medium or "", "minutes": minutes}


def activity(schools: Schools, ctx: Context, *, kind: str, pupils: Sequence[str]) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx)
    day = check_date(school, ctx)
    choice(kind, rules.ACTIVITY_KINDS, "--kind")
    pupils = list(dict.fromkeys(p.strip() for p in pupils if p.strip()))
    if not pupils:
        raise Refused("--pupils", "empty")
    for pupil_id in pupils:
        enrolled_on(pupil_of(school, pupil_id, "--pupils"), day, "--pupils")
    actor(school, ctx, "activity", day, pupils=[school.pupils[p] for p in pupils])
    return [_event(CareActivityHeld, ctx, stream_of(ctx.school, "school"), kind=kind, pupils=pupils)]


def set_plan(
    schools: Schools, ctx: Context, pupil_id: str, *, goals: str, measures: str = "", responsible: str = ""
) -> list[Event]:
    school, pupil = _pupil_action(schools, ctx, pupil_id)
    if responsible:
        staff_of(school, responsible, "--responsible")
    return [
        _event(
            HelpPlanSet,
            ctx,
            stream_of(ctx.school, "pupil", pupil_id),
            pupil=pupil_id,
            goals=text(goals, "--goals"),
            measures=measures,
            responsible=responsible,
        )
    ]


def review_plan(schools: Schools, ctx: Context, pupil_id: str, *, result: str) -> list[Event]:
    _pupil_action(schools, ctx, pupil_id)
    return [
        _event(HelpPlanReviewed, ctx, stream_of(ctx.school, "pupil", pupil_id), pupil=pupil_id, result=text(result, "--result"))
    ]


def report_incident(schools: Schools, ctx: Context, pupil_id: str, *, need: str, description: str = "") -> list[Event]:
    _pupil_action(schools, ctx, pupil_id)
    choice(need, rules.INCIDENT_NEEDS, "--need")
    return [
        _event(
            IncidentReported, ctx, stream_of(ctx.school, "pupil", pupil_id), pupil=pupil_id, need=need, description=description
        )
    ]


def open_entry(school: SchoolModel, entry_id: str, type_: str, day: dt.date, unknown: str, done: str) -> EntryRec:
    """The standing entry a follow-up answers (a grant revoked, an incident resolved, a conduct
    record cleared): refused naming EVENT_ID if unknown, of another type, retracted or already
    followed up, and naming --date if the follow-up is dated before it."""
    entry = school.entries.get(entry_id)
    if entry is None or entry.type != type_ or entry.retracted:
        raise Refused("EVENT_ID", unknown, id=entry_id)
    if entry.follow_up is not None:
        raise Refused("EVENT_ID", done, id=entry_id)
    if day < entry.date:
        raise Refused("--date", "before_entry", date=day, entry_date=entry.date)
    return entry


def resolve_incident(schools: Schools, ctx: Context, incident_id: str, *, resolution: str = "") -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx)
    day = check_date(school, ctx)
    entry = open_entry(school, incident_id, "IncidentReported", day, "unknown_incident", "incident_already_resolved")
    pupil_id = entry.pupils[0]
    return [
        _event(
            IncidentResolved,
            ctx,
            stream_of(ctx.school, "pupil", pupil_id),
            pupil=pupil_id,
            incident=incident_id,
            resolution=resolution,
        )
    ]


def _pupil_action(schools: Schools, ctx: Context, pupil_id: str) -> tuple[SchoolModel, PupilRec]:
    school = school_of(schools, ctx)
    actor(school, ctx)
    day = check_date(school, ctx)
    pupil = pupil_of(school, pupil_id)
    enrolled_on(pupil, day)
    return school, pupil


# --- aid -----------------------------------------------------------------------------------


def revoke_aid(schools: Schools, ctx: Context, grant_id: str, *, reason: str) -> list[Event]:
    school = school_of(schools, ctx)
    actor(school, ctx, "aid")
    day = check_date(school, ctx)
    grant = open_entry(school, grant_id, "AidGranted", day, "unknown_grant", "grant_already_revoked")
    return [
        _event(
            AidRevoked,
            ctx,
            stream_of(ctx.school, "pupil", grant.pupils[0]),
            pupil=grant.pupils[0],
            grant=grant_id,
            reason=text(reason, "--reason"),
        )
    ]


# --- corrections ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """An entry a correction or retraction points at, as the model knows it."""

    id: str
    type: str
    actor: str
    date: dt.date
    stream: str
    pupils: tuple[str, ...]
    retracted: bool
    follow_up: str | None = None


def _stream_of_record(school: SchoolModel, entry: EntryRec) -> str:
    if entry.type == "CareActivityHeld":
        return stream_of(school.id, "school")
    if entry.type == "HandbookInspected":
        return stream_of(school.id, "staff", entry.by or "")
    return stream_of(school.id, "pupil", entry.pupils[0])


def find_entry(school: SchoolModel, entry_id: str) -> Target | None:
    entry = school.entries.get(entry_id)
    if entry is not None:
        stream = _stream_of_record(school, entry)
        return Target(entry_id, entry.type, entry.actor, entry.date, stream, tuple(entry.pupils), entry.retracted, entry.follow_up)
    mark = school.marks.get(entry_id)
    if mark is None:
        return None
    pupil = M.pupil_of_stream(mark.stream)
    return Target(entry_id, mark.type, mark.actor, mark.date, mark.stream, (pupil,) if pupil else (), mark.retracted)


def _target(school: SchoolModel, ctx: Context, entry_id: str, allowed: frozenset[str]) -> Target:
    entry = find_entry(school, entry_id)
    if entry is None:
        raise Refused("EVENT_ID", "unknown_entry", id=entry_id)
    if entry.retracted:
        raise Refused("EVENT_ID", "entry_retracted", id=entry_id)
    if entry.type not in allowed:
        raise Refused("EVENT_ID", "entry_not_correctable", id=entry_id, type=entry.type)
    staff = actor(school, ctx)
    if entry.actor != ctx.actor and permissions.verdict(school, staff, "correct_others", ctx.today) is not None:
        raise Refused("--as", "not_your_entry", id=entry_id, actor=entry.actor)
    return entry


def retract(schools: Schools, ctx: Context, entry_id: str, *, reason: str) -> list[Event]:
    """Take an entry back. An exit takes back the end of the pairing it caused with it (the
    pairing goes on); a pairing takes back its end. The timeline without the entry must still keep the rules with what was
    recorded since (`events.consistency`): else refused, naming the entry that would break."""
    school = school_of(schools, ctx)
    check_date(school, ctx)
    entry = _target(school, ctx, entry_id, RETRACTABLE)
    reason = text(reason, "--reason")
    if entry.type in ("AidGranted", "IncidentReported", "ConductRecorded") and entry.follow_up is not None:
        raise Refused("EVENT_ID", "entry_has_follow_up", id=entry_id)
    targets = [entry] + _aid_steps_with(school, entry)
    if entry.type == "PairingEnded" and not _pairing_of_end(school, entry):
        raise Refused("EVENT_ID", "pairing_retracted", id=entry_id)
    sent = school.sent.get(entry.id)
    if sent is not None and sent.to in schools and entry.id in schools[sent.to].arrivals:
        # the other school took the pupil in: the file is theirs now (they may send them back)
        raise Refused("EVENT_ID", "transfer_accepted", id=entry_id, school=sent.to)
    ended = _pairing_ended_by(school, entry) if entry.type in EXITS else _end_of_pairing(school, entry)
    if ended is not None:
        targets.append(find_entry(school, ended))
    events = [_event(EntryRetracted, ctx, t.stream, corrects=t.id, reason=reason) for t in targets]
    from events.consistency import first_conflict

    conflict = first_conflict(school, events, pupils=set(entry.pupils))
    if conflict is not None:
        raise Refused("EVENT_ID", "retraction_conflicts", id=entry_id, **conflict.params())
    return events


def _aid_steps_with(school: SchoolModel, entry: Target) -> list[Target]:
    """A retracted application never was: its standing steps (and its grant's revocation) go
    with it. Any other step of an application goes back only while it is the last one."""
    app_id = entry.id if entry.type == "AidApplied" else None
    if app_id is None and (entry.type in AID_STEPS or entry.type == "AidGranted"):
        record = school.entries[entry.id]
        app_id = record.data.get("application")
        app = school.applications.get(app_id) if app_id else None
        if app is not None and M.steps_of(school, app)[-1].entry != entry.id:
            raise Refused("EVENT_ID", "not_last_step", id=entry.id)
        return []
    app = school.applications.get(app_id) if app_id else None
    if app is None:
        return []
    found = []
    for step in reversed(M.steps_of(school, app)[1:]):
        follow = school.entries[step.entry].follow_up
        if follow is not None:
            found.append(find_entry(school, follow))
        found.append(find_entry(school, step.entry))
    return found


def _pairing_of_end(school: SchoolModel, entry: Target) -> bool:
    pupil = school.pupils.get(entry.pupils[0]) if entry.pupils else None
    return pupil is not None and any(p.end_entry == entry.id for p in pupil.pairings)


def _end_of_pairing(school: SchoolModel, entry: Target) -> str | None:
    """A retracted pairing never was: its end goes with it."""
    if entry.type != "PairingAssigned":
        return None
    pupil = school.pupils[entry.pupils[0]]
    return next((p.end_entry for p in pupil.pairings if p.entry == entry.id), None)


def _pairing_ended_by(school: SchoolModel, exit: Target) -> str | None:
    """The unpairing an exit recorded with itself: same pupil, same day, the exit's reason."""
    status = M.STATUS_OF[exit.type]
    pupil = school.pupils[exit.pupils[0]]
    for pairing in pupil.pairings:
        if pairing.end == exit.date and pairing.reason == status and pairing.end_entry is not None:
            return pairing.end_entry
    return None


def correct(
    schools: Schools,
    ctx: Context,
    entry_id: str,
    *,
    reason: str,
    to_date: dt.date | None = None,
    to_kind: str | None = None,
    to_note: str | None = None,
) -> list[Event]:
    school = school_of(schools, ctx)
    check_date(school, ctx)
    if to_date is None and to_kind is None and to_note is None:
        raise Refused("correct", "nothing_to_change")
    allowed = CORRECTABLE if (to_date is not None or to_kind is not None) else RETRACTABLE | CORRECTABLE | {
        "PupilRegistered",
        "StaffJoined",
        "StaffLeft",
        "TermAdded",
        "RulesSet",
    }
    entry = _target(school, ctx, entry_id, allowed)
    reason = text(reason, "--reason")
    if to_kind is not None:
        if entry.type not in KINDS_OF:
            raise Refused("--to-kind", "entry_has_no_kind", type=entry.type)
        choice(to_kind, KINDS_OF[entry.type], "--to-kind")
    if to_date is not None:
        check_date(school, ctx, to_date, "--to-date")
        for pupil_id in entry.pupils:
            enrolled_on(school.pupils[pupil_id], to_date, "--to-date", "--to-date")
    return [
        _event(
            EntryCorrected,
            ctx,
            entry.stream,
            corrects=entry_id,
            reason=reason,
            to_date=to_date,
            to_kind=to_kind,
            to_note=to_note,
        )
    ]


# the aid procedure's commands live in their own module (events/aid_commands.py, which imports
# this one); the declarations find them here, looked up when first asked for (PEP 562), so that
# either module may be imported first
_AID_COMMANDS = frozenset({"add_fund", "apply_aid", "clear_conduct", "decide_aid", "grant_aid", "object_aid", "record_conduct", "survey_aid"})


def __getattr__(name: str):
    if name in _AID_COMMANDS:
        from events import aid_commands

        return getattr(aid_commands, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
