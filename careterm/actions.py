"""Every write action of the school, declared once.

Each declaration names the command path (`aid grant`), its fields (kind, choices, required,
default, the command argument each fills), the permission it needs (a key of the one table,
events.permissions.PERMISSIONS: who may record what), the
events.commands function it calls, and where the app offers it. From these the command line
builds its subcommands and turns parsed options into the command call (careterm/cli.py), and the
app builds its recording forms (careterm/tui/forms.py). Adding an action is one declaration here.

The words are in the catalogs, by keys derived from the declaration: a command's `cmd.PATH`, an
option's help `opt.PATH.DEST` or `opt.DEST`, its placeholder `meta.PATH.DEST` or `meta.DEST`, a
form field's label `field.NAME`, a form's title `form.KEY`.

No Textual here, nothing heavy: the command line imports this on every run.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from careterm.values import parse_date, parse_guardian, parse_int, parse_parent, split_list
from events import rules
from events.errors import Refused

# What a field holds, which says how its text becomes the command's value and how a form shows it.
KINDS = (
    "text",  # one line of text
    "lines",  # text of several lines (a form shows a text area)
    "date",  # a day as people write it (careterm.values.parse_date)
    "int",  # a whole number; its range (`span`) is checked by the command
    "choice",  # one code of `choices`, typed by its code or its name in either catalog
    "list",  # a comma-separated list (--pupils P1,P2); with `choices`, each item one of them, by code or name
    "person",  # a person as comma-separated parts (--guardian NAME,RELATION,PHONE), `parse` reads it
    "pairs",  # KEY=VALUE items into a dict (--duty talk=14d), `parse` reads one
    "pupil",  # a pupil's id
    "staff",  # a staff member's id
    "event",  # an entry's id
    "flag",  # a switch (--once): true when given
)


# plain (not frozen, compared by identity) dataclasses: frozen ones cost a millisecond more of
# every command line start, for declarations nothing changes anyway
@dataclass(eq=False)
class Field:
    """One argument or option of an action."""

    name: str  # as cli.md spells it, and as refusals name it: "PUPIL_ID" (positional), "--kind"
    kind: str = "text"
    required: bool = False
    # the command's keyword argument; None: passed by position, in the order declared; "group.key":
    # the value goes into the dict argument `group` under `key` (only when given)
    arg: str | None = None
    default: Any = None  # what the command gets when the field is not given
    choices: tuple[str, ...] = ()
    prefix: str = ""  # catalog prefix of the choices' names ("kind." -> kind.talk)
    repeated: bool = False  # given several times (--role a --role b): a list
    span: range | None = None  # an int's allowed range (stated here, checked by the command)
    parse: Callable[[str], Any] | None = None  # person / pairs: one item's text -> its value
    metavar: str | None = None  # the placeholder where the catalog has none
    dest: str | None = None  # the option's own key, when not its name ("--class" -> class_)
    role: str | None = None  # a further permission (events.permissions) the command checks when the field is given
    blank_is_absent: bool = False  # an empty value counts as not given
    form: bool = True  # shown in the app's form of the action (if it has one)
    face: bool = False  # read by the face's own handler (--password-stdin), not passed to the command
    only_kind: str | None = None  # a form shows it only while the action's --kind is this one

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind
        assert self.kind != "choice" or self.choices, self.name
        assert not self.choices or self.kind in ("choice", "list"), self.name

    @property
    def positional(self) -> bool:
        return not self.name.startswith("--")

    @property
    def key(self) -> str:
        """The parsed value's key (argparse dest): pupil_id, kind, to_date, class_."""
        return self.dest or self.name.strip("-").lower().replace("-", "_")

    @property
    def label_key(self) -> str:
        """The catalog key of the field's label in a form (field.pupil_id, field.to_kind)."""
        return "field." + self.name.strip("-").lower().replace("-", "_")

    def help_keys(self, path: str) -> tuple[str, ...]:
        """The catalog keys of the option's help on the command line, the first found is used."""
        return (f"opt.{path}.{self.key}", f"opt.{self.key}")


@dataclass(eq=False)
class Action:
    """One thing a person records."""

    path: str  # the command as typed after `careterm`: "contact", "aid grant"
    command: str  # the events.commands function it calls
    fields: tuple[Field, ...]
    role: str | None = None  # its permission: the key of events.permissions.PERMISSIONS the command checks (None: any staff)
    form: str | None = None  # the app's form for it (form.KEY), None: the command line only
    menu: int | None = None  # its place in the app's record menu
    # (pupils field, kind field): a second identical entry the same day is most often a slip, so
    # the faces say so (the command line) or ask first (the app); never a refusal
    repeats: tuple[str, str] | None = None
    # the face's own handler (careterm.cli.cmd_<handler>) for an action that keeps a secret
    # beside its event (a password's hash, a token's): it reads the secret, then records
    handler: str | None = None
    # its words are one command beside a command of its first word (`transfer accept` beside
    # `transfer PUPIL_ID`): the command line joins the two words before parsing
    spaced: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.path.split())

    @property
    def help_key(self) -> str:
        return f"cmd.{self.path}"

    def field(self, name: str) -> Field | None:
        """The field a refusal names (--kind, PUPIL_ID), or None."""
        return next((f for f in self.fields if f.name == name or f.key == name.lstrip("-").replace("-", "_")), None)

    def call(self) -> Callable:
        """The command function, looked up when called: a view's command line never imports the
        write side (start-up time)."""
        from events import commands as C

        return getattr(C, self.command)


# --- the fields most actions share -----------------------------------------------------------

PUPIL = Field("PUPIL_ID", "pupil", required=True)
STAFF = Field("STAFF_ID", "staff", required=True)
EVENT = Field("EVENT_ID", "event", required=True)
APPLICATION = Field("APPLICATION_ID", "event", required=True)
REASON = Field("--reason", required=True, arg="reason")
# every write takes these two: the effective date (default today) and a note
DATE = Field("--date", "date")
NOTE = Field("--note", "lines", default="")
GRADE = Field("--grade", "int", arg="grade", span=rules.GRADES)
CLASS = Field("--class", "int", arg="class_", span=rules.CLASSES, dest="class_")


def _role(default: Any = None) -> Field:
    return Field("--role", "choice", arg="roles", choices=rules.ROLES, prefix="role.", repeated=True, default=default)


def _duty(item: str) -> tuple[str, str]:
    """talk=14d -> ("talk", "14d"); the command checks the duty and the cadence."""
    duty, sep, cadence = item.partition("=")
    if not sep:
        raise Refused("--duty", "bad_cadence", duty=duty, cadence="")
    return duty.strip(), cadence.strip()


def _key_file(path: str) -> str:
    """`keys add --key-file PATH`: the text of a public key file (a .pub is well under 16 kB)."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as f:
            return f.read(65536)
    except (OSError, UnicodeDecodeError, ValueError):
        raise Refused("--key-file", "unreadable_file", path=path) from None


def _pupil_fields(adding: bool) -> tuple[Field, ...]:
    """pupil add / pupil amend: the same options; add requires the file's core and takes whole
    values, amend sends only what was given, as changes."""

    def opt(name: str, kind: str = "text", *, key: str | None = None, **kw: Any) -> Field:
        key = key or name.strip("-")
        core = kw.pop("core", False)
        return Field(name, kind, required=adding and core, arg=key if adding else f"changes.{key}", **kw)

    gender = opt("--gender", "choice", choices=rules.GENDERS, prefix="gender.", metavar="F|M", core=True)
    fields = [
        PUPIL,
        opt("--name", core=True),
        gender,
        opt("--birth", "date", metavar="DATE", core=True),
        opt("--grade", "int", span=rules.GRADES, core=True),
        opt("--class", "int", key="class_" if adding else "class", span=rules.CLASSES, dest="class_", core=True),
        Field("--phone", arg="phone" if adding else "changes.phone", default="" if adding else None),
        opt("--guardian", "person", parse=parse_guardian, metavar="NAME,RELATION,PHONE"),
        opt("--parent", "person", key="parents", parse=parse_parent, repeated=True, default=[] if adding else None,
            metavar="NAME,RELATION,WORKPLACE,PHONE"),
    ]
    # the profile's texts: in a registration a blank one is no text; in an amendment it clears it
    fields += [
        Field(f"--{key}", arg=f"profile.{key}" if adding else f"changes.{key}", blank_is_absent=adding)
        for key in rules.PROFILE_FIELDS
    ]
    category = dict(kind="choice", choices=rules.CATEGORIES, prefix="category.", repeated=True, default=[])
    if adding:
        fields.append(Field("--category", arg="categories", **category))
    else:
        fields += [Field("--add-category", arg="add_categories", **category),
                   Field("--remove-category", arg="remove_categories", **category)]
    return tuple(fields)


# --- the registry, in the command line's order ------------------------------------------------

ACTIONS: tuple[Action, ...] = (
    Action("staff add", "add_staff", (
        STAFF,
        Field("--name", required=True, arg="name"),
        _role(default=["teacher"]),
        GRADE,
        CLASS,
    ), role="staff"),
    Action("staff amend", "amend_staff", (
        STAFF,
        Field("--name", arg="name"),
        _role(),
        GRADE,
        CLASS,
    ), role="staff"),
    Action("staff leave", "staff_leave", (STAFF,), role="staff"),
    # SSH keys (careterm/ssh.py installs them and signs their staff in); `keys list` and
    # `keys install` write nothing to the log, so they are plain subcommands of the group
    Action("keys add", "add_key", (
        STAFF,
        Field("--key", arg="key", metavar="KEY"),
        Field("--key-file", arg="key_file", parse=_key_file, metavar="PATH", dest="ssh_key_file"),
    ), role="staff"),
    Action("keys revoke", "revoke_key", (Field("FINGERPRINT", required=True),), role="staff"),
    # that a password was set or a token made: the secrets themselves never enter the log
    Action("staff password", "set_password", (
        STAFF,
        Field("--once", "flag", arg="once", default=False),
        Field("--password-stdin", "flag", face=True),
    ), handler="staff_password"),
    Action("token create", "create_token", (
        Field("--name", required=True, arg="name"),
        Field("--days", "int", span=range(1, 3651), face=True),
    ), handler="token_create"),
    Action("token revoke", "revoke_token", (Field("NAME", required=True, arg="name"),), handler="token_revoke"),
    Action("pupil add", "add_pupil", _pupil_fields(adding=True), role="pupil_file"),
    Action("pupil amend", "amend_pupil", _pupil_fields(adding=False), role="pupil_file"),
    Action("pair", "pair", (STAFF, PUPIL), role="pair", form="pair", menu=3),
    Action("unpair", "unpair", (PUPIL, REASON), role="pair", form="unpair", menu=4),
    Action("contact", "contact", (
        PUPIL,
        Field("--kind", "choice", required=True, arg="kind", choices=rules.CONTACT_KINDS, prefix="kind."),
        Field("--by", "staff", arg="by", metavar="STAFF_ID", role="contact_by"),
        # what was said, as the handbook has it (cli.md "What was said"); the command checks each
        Field("--medium", "choice", arg="medium", choices=rules.CONTACT_MEDIA, prefix="medium."),
        Field("--minutes", "int", arg="minutes", span=rules.CONTACT_MINUTES),
        Field("--topics", "list", arg="topics", default=[], choices=rules.CONTACT_TOPICS, prefix="topic."),
        *(Field(f"--{name}", "lines", arg=name.replace("-", "_"), default="")
          for name in ("summary", "problem", "help-given", "follow-up")),
        # the parts only one kind carries (rules.CONTACT_KIND_ONLY): a form shows them for that kind only
        *(Field(f"--{name}", "lines", arg=name, default="", only_kind=rules.CONTACT_KIND_ONLY[name])
          for name in ("study", "thoughts", "life")),
        Field("--gift", arg="gift", default="", only_kind=rules.CONTACT_KIND_ONLY["gift"]),
    ), role="contact", form="contact", menu=1, repeats=("PUPIL_ID", "--kind")),
    Action("activity", "activity", (
        Field("--kind", "choice", required=True, arg="kind", choices=rules.ACTIVITY_KINDS, prefix="kind."),
        Field("--pupils", "list", required=True, arg="pupils", metavar="ID,ID,…"),
    ), role="activity", form="activity", menu=2, repeats=("--pupils", "--kind")),
    # the aid procedure (cli.md "The aid procedure"): apply, survey, decide, object, grant
    Action("aid apply", "apply_aid", (
        PUPIL,
        Field("--kind", "choice", required=True, arg="kind", choices=rules.AID_KINDS, prefix="aid."),
        Field("--amount", arg="amount", metavar="YUAN"),
        Field("--items", arg="items"),
        Field("--fund", arg="fund", default="", metavar="NAME"),
        Field("--basis", "choice", arg="basis", choices=rules.BASES, prefix="basis."),
        Field("--reason", arg="reason", default=""),
    ), role="aid_apply", form="aid_apply", menu=18),
    Action("aid survey", "survey_aid", (
        APPLICATION,
        Field("--result", "choice", required=True, arg="result", choices=rules.SURVEY_RESULTS, prefix="survey.",
              metavar="confirmed|not_confirmed"),
        Field("--method", "choice", required=True, arg="method", choices=rules.SURVEY_METHODS, prefix="survey.",
              metavar="home_visit|interview|documents"),
    ), role="aid_survey", form="aid_survey", menu=19),
    Action("aid decide", "decide_aid", (
        APPLICATION,
        Field("--approve", "flag", arg="approve", default=False),
        Field("--reject", "flag", arg="reject", default=False),
        Field("--override", arg="override", metavar="REASON", role="override"),
    ), role="aid_decide"),
    Action("aid object", "object_aid", (APPLICATION,), form="aid_object", menu=20),
    # of an application after its notice, or emergency / material aid directly (`--kind`)
    Action("aid grant", "grant_aid", (
        Field("PUPIL_ID", "pupil", required=True, metavar="APPLICATION_ID|PUPIL_ID"),
        Field("--kind", "choice", arg="kind", choices=rules.AID_KINDS, prefix="aid."),
        Field("--amount", arg="amount", metavar="YUAN"),
        Field("--items", arg="items"),
        Field("--fund", arg="fund", default="", metavar="NAME"),
        Field("--basis", "choice", arg="basis", choices=rules.BASES, prefix="basis."),
        Field("--override", arg="override", metavar="REASON", role="override"),
        Field("--incident", "event", arg="incident", metavar="EVENT_ID"),
    ), role="aid_grant", form="aid", menu=5),
    Action("aid revoke", "revoke_aid", (EVENT, REASON), role="aid", form="aid_revoke", menu=6),
    Action("fund add", "add_fund", (
        Field("NAME", required=True),
        Field("--budget", required=True, arg="budget", metavar="YUAN"),
        Field("--kinds", "list", arg="kinds", default=[], metavar="K,K…"),
        Field("--source", "choice", arg="source", choices=rules.FUND_SOURCES, prefix="source.", default="school",
              metavar="government|donation|school"),
    ), role="fund"),
    Action("conduct record", "record_conduct", (PUPIL,), role="conduct", form="conduct", menu=21),
    Action("conduct clear", "clear_conduct", (EVENT, REASON), role="conduct", form="conduct_clear", menu=22),
    Action("graduate", "graduate", (PUPIL,), role="pupil", form="graduate", menu=7),
    Action("return", "return_pupil", (PUPIL,), role="pupil", form="return", menu=10),
    Action("transfer", "transfer", (PUPIL, Field("--to", required=True, arg="to", metavar="SCHOOL")),
           role="pupil", form="transfer", menu=8),
    # a pupil another school of the store sent here (events/transfers.py)
    Action("transfer accept", "accept_transfer", (PUPIL, Field("--id", arg="new_id", metavar="NEW")),
           role="transfer_accept", form="transfer_accept", menu=23, spaced=True),
    Action("dropout", "drop_out", (PUPIL, REASON), role="pupil", form="dropout", menu=9),
    Action("inspect", "inspect_handbook", (
        STAFF,
        Field("--result", "choice", required=True, arg="result", choices=rules.INSPECTION_RESULTS, prefix="result.",
              metavar="ok|needs_improvement"),
    ), role="inspect", form="inspect", menu=15),
    Action("terms add", "add_term", (
        Field("--name", required=True, arg="name"),
        Field("--start", "date", required=True, arg="start"),
        Field("--end", "date", required=True, arg="end"),
    ), role="calendar"),
    Action("rules set", "set_rules", (
        Field("--capacity", "int", arg="capacity", span=rules.CAPACITIES),
        Field("--duty", "pairs", arg="duties", repeated=True, parse=_duty, default={}, metavar="DUTY=CADENCE"),
        Field("--late-days", "int", arg="late_days", span=rules.LATE_DAYS),
    ), role="calendar"),
    Action("plan set", "set_plan", (
        PUPIL,
        Field("--goals", required=True, arg="goals"),
        Field("--measures", arg="measures", default=""),
        Field("--responsible", "staff", arg="responsible", default="", metavar="STAFF_ID"),
    ), form="plan", menu=13),
    Action("plan review", "review_plan", (PUPIL, Field("--result", required=True, arg="result")),
           form="plan_review", menu=14),
    Action("incident report", "report_incident", (
        PUPIL,
        Field("--need", "choice", required=True, arg="need", choices=rules.INCIDENT_NEEDS, prefix="need.",
              metavar="accommodation|custody|supplies|other"),
        Field("--description", arg="description", default=""),
    ), form="incident", menu=11),
    Action("incident resolve", "resolve_incident", (EVENT, Field("--resolution", arg="resolution", default="")),
           form="incident_resolve", menu=12),
    # retract and correct: any staff member for their own entries, "correct_others" for another's
    Action("retract", "retract", (EVENT, REASON), form="retract", menu=16),
    Action("correct", "correct", (
        EVENT,
        REASON,
        Field("--to-date", "date", arg="to_date"),
        Field("--to-kind", "choice", arg="to_kind", choices=rules.ACTIVITY_KINDS, prefix="kind."),
        Field("--to-note", "lines", arg="to_note"),
    ), form="correct", menu=17),
)

BY_PATH: dict[str, Action] = {a.path: a for a in ACTIONS}
BY_FORM: dict[str, Action] = {a.form: a for a in sorted(ACTIONS, key=lambda a: a.menu or 0) if a.form}


# --- values: typed text -> what the command takes ----------------------------------------------


def code_of(value: str, prefix: str, codes: Sequence[str]) -> str:
    """The code a person meant: the code itself, or its name in either catalog (谈心, 男, talk,
    "class teacher"; case and surrounding spaces do not matter). Anything else is returned as
    typed, for the command to refuse naming the option."""
    from careterm.i18n import LANGS, catalog

    typed = value.strip()
    if typed in codes:
        return typed
    wanted = typed.casefold()
    for lang in LANGS:
        words = catalog(lang)
        for code in codes:
            name = words.get(prefix + code)
            if name is not None and name.casefold() == wanted:
                return code
    for code in codes:
        if code.casefold() == wanted:
            return code
    return value


def codes_by_name(field: Field, value: Any) -> Any:
    """An enumerated field's value (one text or a list) with names turned into codes."""
    if not field.choices:
        return value
    if isinstance(value, str):
        return code_of(value, field.prefix, field.choices)
    if isinstance(value, list):
        return [code_of(v, field.prefix, field.choices) if isinstance(v, str) else v for v in value]
    return value


def _one(field: Field, text: str) -> Any:
    if field.kind == "date":
        return parse_date(text, field.name)
    if field.kind == "int":
        return parse_int(text, field.name)
    if field.kind == "choice":
        return code_of(text, field.prefix, field.choices)
    if field.kind == "list":
        if not field.choices:
            return split_list(text)
        # names as people write a list of them: 学习、安全 or 学习，安全 as well as study,safety
        return [code_of(item, field.prefix, field.choices) for item in split_list(text.replace("，", ",").replace("、", ","))]
    if field.parse is not None:
        return field.parse(text)
    return text


def value_of(field: Field, raw: str | list[str] | None) -> Any:
    """A field's value for the command, from its text (a list of texts when repeated; None when
    not given: the default). A bad date or number is refused naming the field."""
    if field.kind == "flag":
        return bool(raw)
    if raw is None or (field.blank_is_absent and raw == ""):
        return field.default.copy() if isinstance(field.default, (list, dict)) else field.default
    if field.repeated:
        items = [_one(field, r) for r in raw]
        return dict(items) if field.kind == "pairs" else items
    return _one(field, raw)


def values_from(action: Action, given: Callable[[Field], Any]) -> dict[str, Any]:
    """Every field's value, read in the order declared (the first bad one is refused)."""
    return {f.name: value_of(f, given(f)) for f in action.fields}


def arguments(action: Action, values: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """(positional, keyword) arguments of the command from the fields' values."""
    positional: list = []
    keywords: dict[str, Any] = {}
    for f in action.fields:
        value = values.get(f.name, f.default)
        if f.face:
            continue
        if f.arg is None:
            positional.append(value)
        elif "." in f.arg:  # a dict of what was given (pupil amend's changes, a profile)
            group, key = f.arg.split(".", 1)
            keywords.setdefault(group, {})
            if value is not None:  # a dict goes into the event as it is: a day as YYYY-MM-DD
                keywords[group][key] = value.isoformat() if isinstance(value, dt.date) else value
        else:
            keywords[f.arg] = value
    return positional, keywords


def build(action: Action, values: dict[str, Any]) -> Callable:
    """(schools, ctx) -> events: the command call with these values, for Workspace.record."""
    positional, keywords = arguments(action, values)
    command = action.call()
    return lambda schools, ctx: command(schools, ctx, *positional, **keywords)


def repeated_entries(action: Action, values: dict[str, Any]) -> tuple[list[str], str] | None:
    """(pupils, kind) of an entry that is most often a slip when made twice the same day."""
    if action.repeats is None:
        return None
    pupils_field, kind_field = action.repeats
    pupils = values.get(pupils_field)
    return (list(pupils) if isinstance(pupils, list) else [pupils] if pupils else []), values.get(kind_field)


__all__ = ["ACTIONS", "Action", "BY_FORM", "BY_PATH", "DATE", "Field", "KINDS", "NOTE", "build", "code_of",
           "codes_by_name", "repeated_entries", "value_of", "values_from"]
