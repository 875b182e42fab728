"""A roster compared with the school and written all or nothing (cli.md "Import").

`check(kind, table, schools, ctx)` is pure: each data row of the table (careterm.paperwork.roster)
is read cell by cell (roster_values), then checked by the very commands `pupil add` / `pupil
amend` and `staff add` / `staff amend` call (events.commands), against a copy of the school's
model into which every good row before it has been folded: the rules live once, in the
commands, and a roster is judged as if its rows had been recorded one after another. A pupil
already in the school is amended where a cell differs and left alone where none does; a blank
cell says nothing (it never clears what is recorded). Every bad cell and every refused row is a
Problem with its row number as the spreadsheet shows it.

`run(ws, kind, path, …)` does it for a workspace's signed-in person: with `dry_run` it only
checks; otherwise the whole roster is one command of the write side (`Workspace.record` ->
events.service.Service.execute): its events are appended in one transaction under the head
guard, and checked again if someone else wrote first. A roster with one bad row is refused as a
whole (BadRows inside the command: nothing is stored). The command line and the app call the
same functions. No Textual here.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import msgspec

from careterm.i18n import LANGS, Translator, catalog
from careterm.paperwork import roster
from careterm.paperwork import roster_values as V
from events import commands as C
from events import model as M
from events import permissions
from events.errors import Refused
from events.model import SchoolModel
from events.types import Person


@dataclass
class Problem:
    """One bad cell, or a row (or the header row) a rule refused."""

    row: int
    column: str | None  # the header as the file has it; None: the row as a whole
    value: str | None  # the cell as written (an ID number in it masked)
    code: str  # a refusal code: the reason is the catalog's refused.<code>
    params: dict[str, Any]
    field: str | None = None  # the roster field, to name a column the file lacks
    prefix: str = ""  # the catalog prefix naming the codes of params["allowed"]
    index: int = -1  # the column's place, to order a row's problems as the sheet does

    def __post_init__(self) -> None:
        # the one place a row's words are made safe: a refusal's own params quote the cell too
        # (bad_date's value, bad_grade's grade…), and reason() formats them into text and --json
        self.value = None if self.value is None else V.masked(self.value)
        self.params = {key: _masked(value) for key, value in self.params.items()}


def _masked(param: Any) -> Any:
    """A refusal's param with any ID number in it masked (in a list's items too)."""
    if isinstance(param, str):
        return V.masked(param)
    if isinstance(param, (list, tuple)):
        return type(param)(_masked(item) for item in param)
    return param


@dataclass
class Report:
    kind: str  # pupils | staff
    file: str
    sheet: str
    rows: int = 0
    added: list[str] = field(default_factory=list)
    amended: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # an amended id -> the fields that change
    events: list = field(default_factory=list)  # what is (or would be) recorded
    written: bool = False
    dry_run: bool = False


class BadRows(Exception):
    """Raised inside the write command when any row is bad: the service stores nothing."""

    def __init__(self, report: Report):
        super().__init__(f"{len(report.errors)} bad rows")
        self.report = report


# --- reading a row's cells --------------------------------------------------------------------

Reader = Callable[[Any, str, roster.Column], Any]


READERS: dict[str, Reader] = {
    "gender": lambda cell, key, column: V.gender(cell, key),
    "birth": lambda cell, key, column: V.day(cell, key, month=column.month),
    "grade": lambda cell, key, column: V.grade(cell, key),
    "class": lambda cell, key, column: V.class_number(cell, key),
    "categories": lambda cell, key, column: V.categories(cell, key),
    "roles": lambda cell, key, column: V.roles(cell, key),
}
PREFIX = {"gender": "gender.", "categories": "category.", "roles": "role."}


def _cells(table: roster.Table, number: int, cells: tuple) -> tuple[dict[str, Any], list[Problem]]:
    """The row's values by field (blank cells left out) and the problems of its cells."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, column in table.columns.items():
        cell = cells[column.index] if column.index < len(cells) else None
        if V.blank(cell):
            continue
        try:
            reader = READERS.get(key)  # none: a text careterm keeps as typed
            values[key] = reader(cell, key, column) if reader else V.kept_text(cell, key)
        except Refused as refused:
            problems.append(Problem(number, column.header, V.shown(cell), refused.code, dict(refused.params), key,
                                    PREFIX.get(key, ""), column.index))
    return values, problems


# --- the rows against the school --------------------------------------------------------------


def scratch_copy(model: SchoolModel) -> SchoolModel:
    """A model of the school the check may fold into: the service's own must stay as stored
    (a write that loses the race is checked again against it)."""
    from events.saved import decoder, encoder

    return decoder.decode(encoder.encode(model))


def may_import(kind: str, school: SchoolModel, ctx: C.Context) -> None:
    """Whether the person may import at all: those who may add one (events.permissions: a
    pupil's file — leaders, and class teachers for their class; staff — the staff permission).
    Each row is then checked by its command, for its own grade and class."""
    name = "pupil_file" if kind == "pupils" else "staff"
    staff = permissions.current_staff(school, ctx.actor, ctx.today)
    who = permissions.PERMISSIONS[name].who
    if not set(who) & set(staff.roles):
        raise Refused("--as", "actor_lacks_role", staff=staff.id, roles=who)


def check(kind: str, table: roster.Table, schools: C.Schools, ctx: C.Context, *, file: str = "") -> Report:
    """Every row of the roster checked as if recorded in order; the events they make (none if
    any row is bad)."""
    school = C.school_of(schools, ctx)
    may_import(kind, school, ctx)
    scratch = scratch_copy(school)
    view = {ctx.school: scratch}
    report = Report(kind, os.path.basename(file), table.sheet, rows=len(table.rows), ignored=list(table.ignored))
    report.errors += [Problem(row, header, None, code, params, index=-1) for row, header, code, params in table.problems]
    id_key = roster.ID_FIELD[kind]
    required = REQUIRED[kind]
    absent = [key for key in required if key not in table.columns]
    said_absent = False
    seen: dict[str, int] = {}
    events: list = []
    row_check = _pupil_row if kind == "pupils" else _staff_row
    for number, cells in table.rows:
        values, problems = _cells(table, number, cells)
        the_id = values.get(id_key)
        id_column = table.columns.get(id_key)
        if the_id is None and id_column is not None and not any(p.field == id_key for p in problems):
            problems.append(Problem(number, id_column.header, "", "empty", {}, id_key, index=id_column.index))
        elif the_id is not None and the_id in seen:
            problems.append(Problem(number, id_column.header, the_id, "duplicate_in_file", {"id": the_id, "first": seen[the_id]},
                                    id_key, index=id_column.index))
        if the_id is not None:
            seen.setdefault(the_id, number)
        existing = the_id is not None and _exists(kind, scratch, the_id)
        if the_id is not None and not existing:
            for key in required:  # a new one needs its core; a blank cell there is a bad cell
                column = table.columns.get(key)
                if column is not None and key not in values and not any(p.field == key for p in problems):
                    problems.append(Problem(number, column.header, "", "empty", {}, key, index=column.index))
            if absent and not said_absent:
                said_absent = True
                report.errors += [Problem(table.header_row, None, None, "missing_column",
                                          {"column": roster.field_of(kind, key).zh[0], "row": number, "id": the_id}, key)
                                  for key in absent]
        if problems or the_id is None or absent and not existing:
            report.errors += sorted(problems, key=lambda p: p.index)
            continue
        try:
            made, changed = row_check(table, number, values, view, ctx, existing)
        except _RowProblem as bad:
            report.errors.append(bad.problem)
            continue
        except Refused as refused:
            report.errors.append(_refused_row(kind, table, number, cells, refused))
            continue
        if not existing:
            report.added.append(the_id)
        elif made:
            report.amended.append(the_id)
            report.changed[the_id] = changed
        else:
            report.unchanged.append(the_id)
        for event in made:  # the next rows are checked against the school as it would be
            M.apply(scratch, scratch.position + 1, event)
        events += made
    report.errors.sort(key=lambda p: (p.row, p.index))
    report.events = [] if report.errors else events
    return report


class _RowProblem(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.code)
        self.problem = problem


REQUIRED = {"pupils": ("name", "gender", "birth", "grade", "class"), "staff": ("name",)}


def _exists(kind: str, school: SchoolModel, the_id: str) -> bool:
    return the_id in (school.pupils if kind == "pupils" else school.staff)


# which roster field a command's refusal is about (the option it names)
OPTION_FIELD = {
    "PUPIL_ID": "pupil", "STAFF_ID": "staff", "--name": "name", "--gender": "gender", "--birth": "birth",
    "--grade": "grade", "--class": "class", "--category": "categories", "--add-category": "categories",
    "--remove-category": "categories", "--phone": "phone", "--role": "roles", "--roles": "roles",
    "--guardian": "guardian", "--parent": "father", "--parents": "father",
}
# a person's fields, by the columns that give them
GROUPS = {
    "guardian": ("guardian", "guardian_relation", "guardian_phone"),
    "father": ("father", "father_workplace", "father_phone", "mother", "mother_workplace", "mother_phone"),
}


def _refused_row(kind: str, table: roster.Table, number: int, cells: tuple, refused: Refused) -> Problem:
    key = OPTION_FIELD.get(refused.field)
    if refused.code == "not_your_class":  # the class the row gives (or the pupil is in) is not theirs
        key = "class"
    if key in GROUPS:  # the first column of the person the file has
        key = next((k for k in GROUPS[key] if k in table.columns), key)
    column = table.columns.get(key or "")
    prefix = PREFIX.get(key or "", "")
    if column is None:
        return Problem(number, None, None, refused.code, dict(refused.params), key, prefix)
    cell = cells[column.index] if column.index < len(cells) else None
    return Problem(number, column.header, V.shown(cell), refused.code, dict(refused.params), key, prefix, column.index)


# --- pupils -------------------------------------------------------------------------------------

PERSONS = {
    "guardian": (("guardian", "name"), ("guardian_relation", "relation"), ("guardian_phone", "phone")),
    "father": (("father", "name"), ("father_workplace", "workplace"), ("father_phone", "phone")),
    "mother": (("mother", "name"), ("mother_workplace", "workplace"), ("mother_phone", "phone")),
}
EMPTY_PERSON = {"name": "", "relation": "", "phone": "", "workplace": ""}


def relation_words(who: str) -> set[str]:
    """How a parent's relation may be written (the demo and a Chinese school: 父亲, 母亲)."""
    return {catalog(lang)[f"relation.{who}"].casefold() for lang in LANGS} | {"爸爸" if who == "father" else "妈妈"}


def _person_dict(person: Any) -> dict[str, str] | None:
    if person is None:
        return None
    found = msgspec.to_builtins(person) if isinstance(person, Person) else dict(person)
    return {k: str(found.get(k) or "") for k in EMPTY_PERSON}


def _person(values: dict, who: str, old: dict | None, relation: str, table: roster.Table, number: int) -> dict | None:
    """The person the row gives, over the one recorded (a blank cell keeps what is there)."""
    given = {attr: values[key] for key, attr in PERSONS[who] if key in values}
    if not given:
        return old
    merged = {**(old or EMPTY_PERSON), **given}
    if not merged["relation"] and relation:
        merged["relation"] = relation
    if not merged["name"]:  # a phone or a workplace with nobody's name
        key = PERSONS[who][0][0]
        column = table.columns.get(key)
        raise _RowProblem(Problem(number, column.header if column else None, "", "empty" if column else "missing_column",
                                  {} if column else {"column": roster.field_of("pupils", key).zh[0], "row": number,
                                                     "id": values.get("pupil", "")}, key,
                                  index=column.index if column else -1))
    return merged


def _parents(values: dict, old: list, lang: str, table: roster.Table, number: int) -> list[dict]:
    """The parents the row gives: the father and the mother replaced where they were, added
    after anyone else recorded."""
    parents = [_person_dict(p) for p in old]
    for who in ("father", "mother"):
        words = relation_words(who)
        at = next((i for i, p in enumerate(parents) if p["relation"].casefold() in words), None)
        person = _person(values, who, parents[at] if at is not None else None, catalog(lang)[f"relation.{who}"], table, number)
        if person is None:
            continue
        if at is None:
            parents.append(person)
        else:
            parents[at] = person
    return parents


def _as_person(found: dict | None) -> Person | None:
    return None if found is None else Person(**found)


def _pupil_row(table, number, values, view, ctx, existing) -> tuple[list, list[str]]:
    school = view[ctx.school]
    pupil_id = values["pupil"]
    if not existing:
        guardian = _person(values, "guardian", None, "", table, number)
        parents = _parents(values, [], school.lang, table, number)
        made = C.add_pupil(
            view, ctx, pupil_id, name=values["name"], gender=values["gender"], birth=values["birth"],
            grade=values["grade"], class_=values["class"], categories=values.get("categories", []),
            phone=values.get("phone", ""), guardian=_as_person(guardian), parents=[Person(**p) for p in parents],
        )
        return made, []
    pupil = school.pupils[pupil_id]
    # whose file it is, before any cell is compared: "unchanged" would tell someone who may not
    # amend the pupil (a class teacher, of another class) what the file holds
    C.actor(school, ctx, "pupil_file", ctx.date, pupil=pupil)
    now = M.profile_on(pupil, ctx.date)
    changes: dict[str, Any] = {}
    for key in ("name", "gender", "grade", "class", "phone"):
        if key in values and values[key] != now.get(key, "" if key == "phone" else None):
            changes[key] = values[key]
    if "birth" in values and values["birth"].isoformat() != str(now.get("birth")):
        changes["birth"] = values["birth"].isoformat()  # as `pupil amend --birth` sends it
    old_guardian = _person_dict(now.get("guardian"))
    guardian = _person(values, "guardian", old_guardian, "", table, number)
    if guardian != old_guardian:
        changes["guardian"] = _as_person(guardian)
    old_parents = [_person_dict(p) for p in now.get("parents") or []]
    parents = _parents(values, old_parents, school.lang, table, number)
    if parents != old_parents:
        changes["parents"] = [Person(**p) for p in parents]
    add: list[str] = []
    remove: list[str] = []
    if "categories" in values:
        current = M.categories_on(pupil, ctx.date)
        add = [c for c in values["categories"] if c not in current]
        remove = [c for c in current if c not in values["categories"]]
    changed = list(changes) + (["categories"] if add or remove else [])
    if not changed:
        return [], []
    return C.amend_pupil(view, ctx, pupil_id, changes=changes, add_categories=add, remove_categories=remove), changed


# --- staff --------------------------------------------------------------------------------------


def _staff_row(table, number, values, view, ctx, existing) -> tuple[list, list[str]]:
    school = view[ctx.school]
    staff_id = values["staff"]
    if not existing:
        made = C.add_staff(view, ctx, staff_id, name=values["name"], roles=values.get("roles") or ["teacher"],
                           grade=values.get("grade"), class_=values.get("class"))
        return made, []
    staff = school.staff[staff_id]
    changes: dict[str, Any] = {}
    if "name" in values and values["name"] != staff.name:
        changes["name"] = values["name"]
    if values.get("roles") and set(values["roles"]) != set(staff.roles):
        changes["roles"] = values["roles"]
    if "grade" in values and values["grade"] != staff.grade:
        changes["grade"] = values["grade"]
    if "class" in values and values["class"] != staff.class_:
        changes["class_"] = values["class"]
    if not changes:
        return [], []
    made = C.amend_staff(view, ctx, staff_id, **changes)
    return made, ["class" if k == "class_" else k for k in changes]


# --- for a workspace ----------------------------------------------------------------------------


def run(ws, kind: str, path: str, *, sheet: str | None = None, dry_run: bool = False,
        date: dt.date | None = None, note: str = "") -> Report:
    """Read the roster at `path`, check it for the workspace's signed-in person and, unless
    `dry_run` or a row is bad, record it whole. Refused for a file that cannot be read or a
    person who may not import; a report with `errors` when rows are bad (nothing written)."""
    table = roster.read_table(os.path.expanduser(path), kind, sheet)
    if dry_run:
        service = ws.service
        service.catch_up()
        report = check(kind, table, service.models, ws.context(date=date, note=note), file=path)
        report.dry_run = True
        return report
    checked: dict[str, Report] = {}

    def build(schools, ctx) -> list:
        report = check(kind, table, schools, ctx, file=path)
        checked["report"] = report
        if report.errors:
            raise BadRows(report)
        return report.events

    try:
        stored = ws.record(build, date=date, note=note)
    except BadRows as bad:
        return bad.report
    report = checked["report"]
    report.events, report.written = stored, bool(stored)
    return report


# --- the report in words ------------------------------------------------------------------------


def reason(t: Translator, kind: str, problem: Problem) -> str:
    params = dict(problem.params)
    if problem.code == "missing_column" and problem.field:  # named in the reader's language
        params["column"] = roster.field_of(kind, problem.field).header(t.lang)
    if problem.prefix and isinstance(params.get("allowed"), (list, tuple)):
        params["allowed"] = t.names(list(params["allowed"]), problem.prefix)
    return t(f"refused.{problem.code}", **t.refusal_params(params))


def column_of(t: Translator, kind: str, problem: Problem) -> str | None:
    """The column as the file heads it; one the file lacks by its name in the reader's language."""
    if problem.column is not None:
        return problem.column
    if problem.code == "missing_column" and problem.field:
        return roster.field_of(kind, problem.field).header(t.lang)
    return None


def as_json(report: Report, t: Translator) -> dict[str, Any]:
    """cli.md: {"rows","added","amended","unchanged","ignored","errors":[{"row","column","value","reason"}]},
    and beside them what was read and what was written."""
    return {
        "rows": report.rows,
        "added": report.added,
        "amended": report.amended,
        "unchanged": report.unchanged,
        "ignored": report.ignored,
        "errors": [
            {"row": p.row, "column": column_of(t, report.kind, p), "value": p.value, "reason": reason(t, report.kind, p), "code": p.code}
            for p in report.errors
        ],
        "file": report.file,
        "sheet": report.sheet,
        "dry_run": report.dry_run,
        "written": len(report.events) if report.written else 0,
    }


def error_line(t: Translator, kind: str, problem: Problem) -> str:
    """第 5 行「出生日期」“2016-02-30”：日期“2016-02-30”不对……"""
    column = column_of(t, kind, problem)
    where = t("import.row", row=problem.row)
    if column:
        where += t("import.column", column=column)
    if problem.value:
        where += t("import.value", value=problem.value)
    return t("import.problem", where=where, reason=reason(t, kind, problem))


SHOWN_IDS = 20  # ids listed in words; --json lists them all


def _ids(t: Translator, ids: list[str], described: Callable[[str], str] = str) -> str:
    sep = "、" if t.lang == "zh" else ", "
    shown = sep.join(described(i) for i in ids[:SHOWN_IDS])
    return shown + (t("import.more", count=len(ids) - SHOWN_IDS) if len(ids) > SHOWN_IDS else "")


def _field_name(t: Translator, kind: str, key: str) -> str:
    if any(f.key == key for f in roster.FIELDS[kind]):
        return roster.field_of(kind, key).header(t.lang)
    return t("import.field.parents")  # the one change that is several columns


def report_lines(t: Translator, report: Report) -> list[str]:
    """The report in words, for the command line and the app alike: what was read, who is added,
    who is amended (and in which columns), how many are unchanged, the columns left out, every
    bad row."""
    sep = "、" if t.lang == "zh" else ", "

    def amended(the_id: str) -> str:
        fields = sep.join(_field_name(t, report.kind, key) for key in report.changed.get(the_id, ()))
        return t("import.changed", id=the_id, fields=fields)

    lines = [t("import.read", file=report.file, sheet=report.sheet, rows=report.rows)]
    if report.added:
        lines.append(t("import.added", count=len(report.added), ids=_ids(t, report.added)))
    if report.amended:
        lines.append(t("import.amended", count=len(report.amended), ids=_ids(t, report.amended, amended)))
    if report.unchanged:
        lines.append(t("import.unchanged", count=len(report.unchanged)))
    if report.ignored:
        lines.append(t("import.ignored", headers=report.ignored))
    if report.errors:
        lines.append(t("import.errors", count=len(report.errors)))
        lines += ["  " + error_line(t, report.kind, p) for p in report.errors]
    return lines
