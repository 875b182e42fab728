"""Each write action is declared once (careterm/actions.py), and the command line and the app's
forms are generated from that declaration (issue 10, "Each action is declared twice").

- every declared action is a subcommand with exactly the declared arguments and options, and
  every write subcommand of the parser is declared;
- every form is a declared action with the declared fields, kinds and choices;
- the choices are events/rules.py's vocabularies, the commands and their keywords exist, and
  every word has its catalog key in both languages;
- the declared role is what the command checks (the real CLI on the base school);
- a CLI call and the same form, filled in the app, record the same event (real SQLite copies
  of the demo, the program as a subprocess, the app by Textual's Pilot);
- a repeated activity is said on the command line as the app asks about it (one declaration).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import json
import shutil
import sys

import pytest

import tui_support as S
from careterm import actions
from careterm.i18n import Translator, catalog
from events import commands as C
from events import permissions, rules
from test_cli import _RUN_ID, careterm, signed_in, sqlite_base  # noqa: F401 - the base school, built once


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every command path of the parser ("contact", "aid grant") -> its parser."""
    from careterm.cli import build_parser

    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found[f"{prefix}{name}"] = sub
                    walk(sub, f"{prefix}{name} ")

    walk(build_parser(), "")
    return found


# the options every write command has besides its own (global ones, --date, --note)
SHARED = {"-h", "--help", "--store", "--as", "--lang", "--school", "--json", "--date", "--note", "--key-file"}


def test_every_action_is_a_subcommand_with_its_declared_fields():
    """Each declared action: a subcommand whose positionals (in order) and own
    options (name, required, repeated) are exactly the declared fields."""
    from careterm.cli import cmd_action

    from careterm import cli

    commands = _subcommands()
    for action in actions.ACTIONS:
        parser = commands[action.path]
        # an action keeping a secret beside its event has the face's own handler, declared
        handler = getattr(cli, f"cmd_{action.handler}") if action.handler else cmd_action
        assert parser.get_default("handler") is handler and parser.get_default("declared") is action, action.path
        positionals = [a.dest for a in parser._actions if not a.option_strings]
        assert positionals == [f.key for f in action.fields if f.positional], action.path
        # a declared option may take a global's name in its own command (keys add --key-file)
        declared = {f.name for f in action.fields}
        options = {a.option_strings[0]: a for a in parser._actions
                   if a.option_strings and (a.option_strings[0] not in SHARED or a.option_strings[0] in declared)}
        assert list(options) == [f.name for f in action.fields if not f.positional], action.path
        for f in action.fields:
            if not f.positional:
                option = options[f.name]
                assert (option.dest, option.required) == (f.key, f.required), (action.path, f.name)
                assert isinstance(option, argparse._AppendAction) == f.repeated, (action.path, f.name)


def test_every_write_subcommand_is_declared():
    """A subcommand with --date is a write; each is declared, but `init` (it makes the store
    and so stands outside a school's actions) and the roster imports (each row is the declared
    `pupil add|amend` or `staff add|amend`, all rows one transaction: careterm/paperwork/importing.py)."""
    writes = {path for path, p in _subcommands().items() if any("--date" in a.option_strings for a in p._actions)}
    assert writes - {"init", "import pupils", "import staff"} == set(actions.BY_PATH)


def test_every_form_has_the_fields_of_its_action():
    """The app's forms are the declared actions it offers, in the record menu's order, each with
    the declared fields (the ones a form shows), their kinds, choices and names of choices."""
    from careterm.tui.forms import FORMS

    offered = sorted((a for a in actions.ACTIONS if a.form), key=lambda a: a.menu)
    assert list(FORMS) == [a.form for a in offered]
    widgets = {"choice": "choice", "lines": "lines", "date": "date", "pupil": "pupil", "staff": "staff", "int": "number"}
    for action in offered:
        form = FORMS[action.form]
        declared = [f for f in action.fields if f.form]
        assert [f.name for f in form.fields] == [f.name for f in declared], action.path
        for shown, f in zip(form.fields, declared):
            # a list of choices (a contact's topics) is a list to tick
            kind = "choices" if f.kind == "list" and f.choices else widgets.get(f.kind, "text")
            assert (shown.kind, shown.choices, shown.choice_prefix, shown.required, shown.only_kind) == (
                kind, f.choices, f.prefix, f.required, f.only_kind), (action.path, f.name)
        assert (form.repeats is not None) == (action.repeats is not None), action.path


# Which vocabulary of events/rules.py each enumerated field takes (worked out from cli.md's
# Writing table). A new enumerated field must be added here, against the rules' tuple.
CHOICES = {
    ("staff add", "--role"): rules.ROLES,
    ("staff amend", "--role"): rules.ROLES,
    ("pupil add", "--gender"): rules.GENDERS,
    ("pupil add", "--category"): rules.CATEGORIES,
    ("pupil amend", "--gender"): rules.GENDERS,
    ("pupil amend", "--add-category"): rules.CATEGORIES,
    ("pupil amend", "--remove-category"): rules.CATEGORIES,
    ("contact", "--kind"): rules.CONTACT_KINDS,
    ("contact", "--medium"): rules.CONTACT_MEDIA,
    ("contact", "--topics"): rules.CONTACT_TOPICS,  # a list of choices, each by code or name
    ("activity", "--kind"): rules.ACTIVITY_KINDS,
    ("aid apply", "--kind"): rules.AID_KINDS,
    ("aid apply", "--basis"): rules.BASES,
    ("aid survey", "--result"): rules.SURVEY_RESULTS,
    ("aid survey", "--method"): rules.SURVEY_METHODS,
    ("aid grant", "--kind"): rules.AID_KINDS,
    ("aid grant", "--basis"): rules.BASES,
    ("fund add", "--source"): rules.FUND_SOURCES,
    ("inspect", "--result"): rules.INSPECTION_RESULTS,
    ("incident report", "--need"): rules.INCIDENT_NEEDS,
    ("correct", "--to-kind"): rules.ACTIVITY_KINDS,
}


def test_choices_are_the_rules_vocabularies():
    """Every enumerated field's choices are the very tuple of events/rules.py, and each choice
    has a name in both catalogs under the field's prefix."""
    enumerated = {(a.path, f.name): f for a in actions.ACTIONS for f in a.fields if f.choices}
    assert set(enumerated) == set(CHOICES)
    for key, f in enumerated.items():
        assert f.choices is CHOICES[key], key
        for lang in ("zh", "en"):
            missing = [c for c in f.choices if f.prefix + c not in catalog(lang)]
            assert not missing, (key, lang, missing)


def test_each_action_calls_a_command_with_the_declared_arguments():
    """The declared command exists in events.commands and takes the declared positionals and
    keywords (a dotted `group.key` fills the keyword `group`)."""
    for action in actions.ACTIONS:
        params = inspect.signature(getattr(C, action.command)).parameters
        names = list(params)[2:]  # after (schools, ctx)
        positional = [f for f in action.fields if f.arg is None and not f.face]  # face: read by the face only
        keywords = {f.arg.split(".")[0] for f in action.fields if f.arg is not None and not f.face}
        assert len(positional) == sum(params[n].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for n in names), action.path
        assert keywords <= {n for n in names if params[n].kind is inspect.Parameter.KEYWORD_ONLY}, action.path
        if action.role is not None:
            assert action.role in permissions.PERMISSIONS, action.path
        for f in action.fields:
            assert f.role is None or f.role in permissions.PERMISSIONS, (action.path, f.name)


def test_every_word_of_an_action_is_in_both_catalogs():
    """The command's words (cmd.PATH), every option's help (opt.PATH.DEST or opt.DEST), each
    form's title (form.KEY) and its fields' labels (field.NAME), in Chinese and English."""
    for lang in ("zh", "en"):
        words = catalog(lang)
        for action in actions.ACTIONS:
            assert action.help_key in words, (lang, action.path)
            for f in action.fields:
                if not f.positional:
                    assert any(k in words for k in f.help_keys(action.path)), (lang, action.path, f.name)
                if action.form and f.form:
                    assert f.label_key in words, (lang, action.form, f.name)
            if action.form:
                assert f"form.{action.form}" in words, (lang, action.form)


def test_values_go_to_the_command_as_the_command_line_always_sent_them():
    """Worked out by hand from the handlers this replaced:
    - pupil add: --family "" is no profile text; --parent twice is two people; no --category is [];
    - pupil amend: only what is given is a change, a birth as the text 2016-03-01, --class as
      the key "class", --phone "" is a change (it clears the phone);
    - rules set: --duty talk=14d twice-keyed into one dict; no --capacity is None;
    - staff add with no --role is a teacher."""
    add = actions.BY_PATH["pupil add"]
    values = actions.values_from(add, lambda f: {"PUPIL_ID": "P9", "--name": "小雨", "--gender": "女", "--birth": "2016-3-1",
                                                 "--grade": "2", "--class": "3", "--family": "",
                                                 "--parent": ["甲,父亲,东莞,1", "乙,母亲,东莞,2"]}.get(f.name))
    positional, kw = actions.arguments(add, values)
    assert positional == ["P9"]
    assert (kw["gender"], kw["birth"].isoformat(), kw["grade"], kw["class_"]) == ("F", "2016-03-01", 2, 3)
    assert kw["profile"] == {} and kw["categories"] == [] and kw["phone"] == "" and kw["guardian"] is None
    assert [p.name for p in kw["parents"]] == ["甲", "乙"]

    amend = actions.BY_PATH["pupil amend"]
    given = {"PUPIL_ID": "P1", "--birth": "2016/3/1", "--class": "4", "--phone": ""}
    _, kw = actions.arguments(amend, actions.values_from(amend, lambda f: given.get(f.name)))
    assert kw == {"changes": {"birth": "2016-03-01", "class": 4, "phone": ""}, "add_categories": [], "remove_categories": []}

    rules_set = actions.BY_PATH["rules set"]
    _, kw = actions.arguments(rules_set, actions.values_from(
        rules_set, lambda f: {"--duty": ["talk=14d", " birthday = off "]}.get(f.name)))
    assert kw == {"capacity": None, "duties": {"talk": "14d", "birthday": "off"}, "late_days": None}

    staff_add = actions.BY_PATH["staff add"]
    _, kw = actions.arguments(staff_add, actions.values_from(staff_add, lambda f: {"STAFF_ID": "T9", "--name": "x"}.get(f.name)))
    assert kw["roles"] == ["teacher"] and (kw["grade"], kw["class_"]) == (None, None)


# --- the declared role is what the command checks ---------------------------------------------------

# One call of each action that T3 (a plain teacher of the base school, see test_cli.build_base)
# could make but for its role: with valid values, so the role is the first thing refused.
AS_TEACHER = {
    "staff add": ("staff", "add", "T9", "--name", "新老师"),
    "staff amend": ("staff", "amend", "T1", "--name", "王明"),
    "staff leave": ("staff", "leave", "T2"),
    "keys add": ("keys", "add", "T3", "--key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFXS2NEK3dxDZ6JwIxi9NNvhM2gEr23sZEcg5x7GLLSE"),
    "keys revoke": ("keys", "revoke", "SHA256:8fiAasIniAfZaPV4typxwQORBDrlN73Fo2bxMGiGne4"),
    "pupil add": ("pupil", "add", "P9", "--name", "小雨", "--gender", "F", "--birth", "2016-01-01", "--grade", "2",
                  "--class", "1"),
    "pupil amend": ("pupil", "amend", "P1", "--name", "小明明"),
    "pair": ("pair", "T2", "P3"),
    "unpair": ("unpair", "P1", "--reason", "调岗"),
    "contact": ("contact", "P4", "--kind", "talk"),
    "activity": ("activity", "--kind", "birthday", "--pupils", "P4"),
    # the aid procedure (issue 14): T3 may apply for their mentee P4 and object to a notice
    "aid apply": ("aid", "apply", "P4", "--kind", "tuition_waiver", "--amount", "100"),
    "aid survey": ("aid", "survey", "{applied}", "--result", "confirmed", "--method", "interview"),
    "aid decide": ("aid", "decide", "{applied}", "--reject"),
    "aid object": ("aid", "object", "{application}", "--note", "有异议", "--date", "2026-03-04"),
    "aid grant": ("aid", "grant", "P2", "--kind", "emergency", "--amount", "100"),
    "fund add": ("fund", "add", "助学基金", "--budget", "100"),
    "conduct record": ("conduct", "record", "P3", "--note", "打架"),
    "conduct clear": ("conduct", "clear", "{conduct}", "--reason", "已改正"),
    "aid revoke": ("aid", "revoke", "{grant}", "--reason", "重复"),
    "graduate": ("graduate", "P3"),
    "return": ("return", "P6"),
    "transfer": ("transfer", "P3", "--to", "城关小学"),
    "transfer accept": ("transfer", "accept", "P3"),
    "dropout": ("dropout", "P3", "--reason", "外出"),
    "inspect": ("inspect", "T1", "--result", "ok"),
    "terms add": ("terms", "add", "--name", "2025秋", "--start", "2025-09-01", "--end", "2026-01-20"),
    "rules set": ("rules", "set", "--capacity", "2"),
    "plan set": ("plan", "set", "P3", "--goals", "按时完成作业"),
    "plan review": ("plan", "review", "P3", "--result", "有进步"),
    "incident report": ("incident", "report", "P3", "--need", "other"),
    "incident resolve": ("incident", "resolve", "{incident}", "--resolution", "已解决"),
    "retract": ("retract", "{mine}", "--reason", "记错"),
    "correct": ("correct", "{mine}", "--reason", "记错", "--to-note", "改"),
    # no role declared: one's own password and tokens (another's password: the command checks admin)
    "staff password": ("staff", "password", "T3", "--password-stdin"),
    "token create": ("token", "create", "--name", "脚本"),
    "token revoke": ("token", "revoke", f"tests-{_RUN_ID}"),  # the test helper's own token of T3
}


def _main(url: str, actor: str, *argv: str) -> tuple[int, str, str]:
    """The real command line in this process (as test_fuzz_commands does), on the store."""
    from careterm.cli import main

    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.StringIO("a-new-password\n")  # what --password-stdin reads
    try:
        with signed_in(url, actor), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--store", url, "--as", actor, *argv])
    finally:
        sys.stdin = stdin
    return code, out.getvalue(), err.getvalue()


def test_the_declared_role_is_the_one_the_command_checks(sqlite_base, tmp_path):  # noqa: F811
    """T3 holds no role but teacher. An action declaring permission R of roles alone is refused
    naming --as and R's roles by name (events.permissions.PERMISSIONS[R].who); pupil add/amend
    (pupil_file: a class teacher of the pupil's class, or a leader) too, naming class teacher and
    leader; contact and activity about T3's own mentee P4 (since 2026-03-01) and the actions
    declaring none are not refused for a role. retract/correct act on T3's own contact
    (another's needs correct_others)."""
    assert set(AS_TEACHER) == set(actions.BY_PATH)
    t = Translator("zh")
    for path, argv in AS_TEACHER.items():
        url = str(tmp_path / f"{path.replace(' ', '_')}.sqlite")
        shutil.copy(sqlite_base.url, url)
        ids = dict(sqlite_base.ids)
        if "{mine}" in argv:
            code, out, _ = _main(url, "T3", "contact", "P4", "--kind", "talk", "--json")
            ids["mine"] = json.loads(out)[0]["id"]
        argv = tuple(a.format(**ids) for a in argv)
        code, out, err = _main(url, "T3", *argv)
        action = actions.BY_PATH[path]
        permission = permissions.PERMISSIONS[action.role] if action.role else None
        lacks = t.refusal("--as", "actor_lacks_role", {"staff": "T3", "roles": permission.who}) if permission else None
        # refused for the role: a permission of roles alone, or whose rule is for roles T3 lacks
        # (pupil_file: class teachers); contact and activity are for T3's own mentee P4
        if permission is not None and (permission.rule is None or permission.rule_roles is not None):
            assert code == 1 and lacks in err, (path, code, err)
        else:
            assert code == 0, (path, code, err)


def test_a_further_role_declared_on_a_field_is_checked_when_it_is_given(sqlite_base, tmp_path):  # noqa: F811
    """contact --by needs "contact_by" (leaders, class teachers): T3 may record a contact for
    their mentee P4, but not --by T1; the refusal names --by. (Before issue 14 this was shown
    with aid grant --override; granting is now for leaders alone, who may override too.)
    aid decide and aid grant still declare --override's own role, "override"."""
    url = str(tmp_path / "s.sqlite")
    shutil.copy(sqlite_base.url, url)
    [by] = [f for f in actions.BY_PATH["contact"].fields if f.role]
    assert (by.name, by.role) == ("--by", "contact_by")
    for path in ("aid decide", "aid grant"):
        assert [(f.name, f.role) for f in actions.BY_PATH[path].fields if f.role] == [("--override", "override")]
    code, _, err = _main(url, "T3", "contact", "P4", "--kind", "talk", "--by", "T1")
    expected = Translator("zh").refusal("--by", "by_other_not_allowed", {"staff": "T3", "by": "T1",
                                                                         "roles": permissions.PERMISSIONS["contact_by"].who})
    assert code == 1 and expected in err, err
    code, _, err = _main(url, "T3", "contact", "P4", "--kind", "talk")
    assert code == 0, err


# --- the same event from the command line and from the form --------------------------------------


def _event_facts(event) -> dict:
    """An event's own values, without what differs between two recordings (id, time, face)."""
    from projections.audit import full_row

    row = full_row(0, event)
    return {"type": row["type"], "subject": row["subject"], "date": row["date"], "actor": row["actor"], "data": row["data"]}


def _cli_event(demo, tmp_path, actor: str, *argv: str):
    copy = S.copy_store(demo[0], tmp_path / "cli")
    before = S.head_of(copy)
    run = careterm(*argv, store=str(copy), actor=actor)
    assert run.code == 0, run
    [event] = S.new_events(copy, before)
    return event


@pytest.fixture
def cli_dir(tmp_path):
    (tmp_path / "cli").mkdir()
    return tmp_path


def test_a_contact_from_the_command_line_and_from_its_form_is_the_same_event(demo, facts, store_path, cli_dir):
    """`contact PUPIL --kind 谈心 --note 谈学习 --date 2026-11-20` (the kind by its name) and the
    contact form filled with the pupil, 谈心 and the note on the demo's today (2026-11-20) record
    one ContactMade each, with the same pupil, kind talk, by the mentor, date and note."""
    from careterm.tui.forms import FormScreen

    mentor, pupil = facts["mentor"], facts["pupil"]
    made = _cli_event(demo, cli_dir, mentor, "contact", pupil, "--kind", "谈心", "--note", "谈学习", "--date", "2026-11-20")
    before = S.head_of(store_path)

    async def go():
        app = S.make_app(store_path, mentor)
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            await S.open_form(pilot, "contact")
            form = app.screen
            await S.type_into(pilot, "f-pupil-id", pupil)
            await S.choose(pilot, "f-kind", "talk")
            await S.focus(pilot, "f-note", limit=8)
            await S.send_keys(pilot, *"谈学习")
            assert form.query_one("#f-date").value == "2026-11-20"  # the demo's today, as the CLI's --date
            await S.send_keys(pilot, "ctrl+s")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 10, "the form to save")

    S.run(go())
    [event] = S.new_events(store_path, before)
    assert _event_facts(event) == _event_facts(made)
    assert (event.type, event.pupil, event.kind, event.by, event.note) == ("ContactMade", pupil, "talk", mentor, "谈学习")


def test_an_aid_grant_from_the_command_line_and_from_its_form_is_the_same_event(demo, facts, store_path, cli_dir):
    """`aid grant PUPIL --kind 临时救助 --amount 300 --fund 爱心企业捐助 --basis illness_or_accident`
    and the aid form with emergency, 300, 爱心企业捐助 (a fund of the demo, issue 14) and that
    basis record the same AidGranted:
    amount "300.00", no items, the fund, the basis."""
    from careterm.tui.forms import FormScreen

    pupil = facts["hardship"][0]
    emergency = catalog("zh")["aid.emergency"]
    made = _cli_event(demo, cli_dir, S.LEADER, "aid", "grant", pupil, "--kind", emergency, "--amount", "300",
                      "--fund", "爱心企业捐助", "--basis", "illness_or_accident", "--date", "2026-11-20")
    before = S.head_of(store_path)

    async def go():
        app = S.make_app(store_path, S.LEADER)
        async with app.run_test(size=S.SIZE) as pilot:
            await S.started(app, pilot)
            await S.open_form(pilot, "aid")
            form = app.screen
            await S.type_into(pilot, "f-pupil-id", pupil)
            await S.choose(pilot, "f-kind", "emergency")
            await S.type_into(pilot, "f-amount", "300")
            await S.type_into(pilot, "f-fund", "爱心企业捐助")
            await S.choose(pilot, "f-basis", "illness_or_accident")
            assert form.query_one("#f-date").value == "2026-11-20"  # the demo's today, as the CLI's --date
            await S.send_keys(pilot, "ctrl+s")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), 10, "the form to save")

    S.run(go())
    [event] = S.new_events(store_path, before)
    assert _event_facts(event) == _event_facts(made)
    assert (event.kind, event.amount, event.items, event.fund, event.basis) == (
        "emergency", "300.00", None, "爱心企业捐助", "illness_or_accident")


# --- one declaration, both faces -----------------------------------------------------------------


def test_a_repeated_activity_is_said_on_the_command_line(sqlite_base, tmp_path):  # noqa: F811
    """activity declares `repeats` as contact does, so the command line says a second birthday
    activity for P1 on 2026-05-20 (the app asks, test_tui_forms): recorded (exit 0), and stderr
    names 小明（P1）, the date and the first activity's id. Before, only `contact` said so."""
    url = str(tmp_path / "s.sqlite")
    shutil.copy(sqlite_base.url, url)
    argv = ("activity", "--kind", "birthday", "--pupils", "P1,P3", "--date", "2026-05-20", "--json")
    code, out, err = _main(url, "admin", *argv)
    assert code == 0 and err == "", err
    first = json.loads(out)[0]["id"]
    code, out, err = _main(url, "admin", *argv)
    assert code == 0 and len(json.loads(out)) == 1, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "小明（P1）" in lines[0] and "2026-05-20" in lines[0] and first in lines[0], err
    assert "P3" in lines[1] and first in lines[1], err


# valid calls by the admin of the base school, into which an int field's value is put
AS_ADMIN = {
    "staff add": ("staff", "add", "T9", "--name", "新老师"),
    "staff amend": ("staff", "amend", "T1"),
    "pupil add": ("pupil", "add", "P9", "--name", "小雨", "--gender", "F", "--birth", "2016-01-01", "--grade", "2",
                  "--class", "1"),
    "pupil amend": ("pupil", "amend", "P1"),
    "rules set": ("rules", "set"),
    "token create": ("token", "create", "--name", "脚本"),
    "contact": ("contact", "P1", "--kind", "talk"),
}


def test_a_declared_span_is_the_range_the_command_allows(sqlite_base, tmp_path):  # noqa: F811
    """Every int field declares its range (grades 1-6, classes 1-99, capacity 1-10, late days
    1-365, a contact's minutes 1-600: events/rules.py). Just outside it at either end (0 and 7 for a
    grade, 0 and 100 for a class, 0 and 11 for the capacity, 0 and 366 for late days, 0 and 601
    minutes) the command refuses naming that
    option (exit 1)."""
    url = str(tmp_path / "s.sqlite")
    shutil.copy(sqlite_base.url, url)
    spans = {(a.path, f.name): f.span for a in actions.ACTIONS for f in a.fields if f.kind == "int"}
    assert {path for path, _ in spans} == set(AS_ADMIN) and all(spans.values())
    for (path, name), span in spans.items():
        for value in (span.start - 1, span.stop):
            argv = [a for a in AS_ADMIN[path]]
            if name in argv:
                argv[argv.index(name) + 1] = str(value)
            else:
                argv += [name, str(value)]
            code, _, err = _main(url, "admin", *argv)
            assert code == 1 and name in err, (path, name, value, err)


def test_the_parser_of_one_command_is_that_command_of_the_whole_tree():
    """build_parser(only=WORD) builds the command run: for every top-level word its options,
    positionals and subcommands (in the same order) are those the whole tree gives it."""
    import argparse

    from careterm.cli import build_parser

    def shape(parser: argparse.ArgumentParser) -> dict:
        found = {}
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                found["sub"] = {name: shape(p) for name, p in action.choices.items()}
                found["order"] = list(action.choices)  # a group lists its subcommands in one order
            else:
                found[action.dest] = (tuple(action.option_strings), action.required, action.default, action.metavar, action.help)
        return found

    whole = shape(build_parser())["sub"]
    assert len(whole) > 40
    for word, expected in whole.items():
        alone = shape(build_parser(only=word))["sub"]
        assert list(alone) == [word], word
        assert alone[word] == expected, word
    assert list(shape(build_parser(only="no-such-command"))["sub"]) == list(whole)


def test_the_words_joined_before_parsing_are_those_declared():
    """careterm.cli.SPACED_FIRST_WORDS (read without importing the declarations) holds the
    first word of every action of two words that is one command (`transfer accept`)."""
    from careterm import actions
    from careterm.cli import SPACED_FIRST_WORDS

    assert set(SPACED_FIRST_WORDS) == {a.words[0] for a in actions.ACTIONS if a.spaced}


def test_transfer_accept_is_one_command_only_without_to():
    """`transfer accept P1` is the command `transfer accept`; `transfer accept --to S2` (or
    `--to=S2`) transfers the pupil whose id is "accept"; global options may come first."""
    from careterm.cli import joined_words

    assert joined_words(["--store", "x", "transfer", "accept", "P1"]) == ["--store", "x", "transfer accept", "P1"]
    assert joined_words(["transfer", "accept", "--to", "s2"]) == ["transfer", "accept", "--to", "s2"]
    assert joined_words(["transfer", "accept", "--to=s2"]) == ["transfer", "accept", "--to=s2"]
    assert joined_words(["queue", "transfer", "accept"]) == ["queue", "transfer", "accept"]
