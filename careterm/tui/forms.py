"""Recording forms: one for each action the app offers, generated from its declaration
(careterm/actions.py: the same fields, kinds, choices and command as the command line), shown
by one generic modal.

A form calls the same command function as the command line; a refusal is shown in plain words
beside the field it names, and nothing is written until the command accepts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, SelectionList, Static, TextArea

from careterm import actions
from careterm.values import parse_date, parse_int, split_list
from events.errors import Refused


@dataclass(frozen=True)
class Field:
    """A declared field as a form shows it."""

    name: str  # the option or argument name of cli.md: refusals name it
    kind: str = "text"  # text | date | choice | choices | pupil | staff | number | lines
    choices: tuple[str, ...] = ()
    choice_prefix: str = ""  # catalog prefix for the choices' labels
    required: bool = True
    only_kind: str | None = None  # shown only while the form's --kind is this one (a semester report's parts)

    @classmethod
    def of(cls, declared: actions.Field) -> "Field":
        kind = "choices" if declared.kind == "list" and declared.choices else _WIDGETS.get(declared.kind, "text")
        return cls(declared.name, kind, declared.choices, declared.prefix, declared.required, declared.only_kind)


# the widget of each kind of declared field (the others are one line of text: ids, lists, amounts);
# a list of choices (a contact's topics) is a list to tick
_WIDGETS = {"choice": "choice", "lines": "lines", "date": "date", "pupil": "pupil", "staff": "staff", "int": "number"}


@dataclass(frozen=True)
class Form:
    key: str
    fields: tuple[Field, ...]
    build: Callable[[dict[str, Any]], Callable]  # values -> (state, ctx) -> events
    dated: bool = True  # has --date and --note
    # values -> (pupils, kind) of an entry that is most often a slip when made twice the same day
    repeats: Callable[[dict[str, Any]], tuple[list[str], str]] | None = None


def form_values(action: actions.Action, typed: dict[str, Any]) -> dict[str, Any]:
    """The fields' values for the command from what the form holds (name -> text): an empty
    field is not given (its declared default); a repeated one is a comma-separated list."""

    def given(f: actions.Field) -> Any:
        text = typed.get(f.name)
        if text is None or str(text).strip() == "":
            return None
        return split_list(str(text)) if f.repeated else str(text)

    return actions.values_from(action, given)


def form_of(action: actions.Action) -> Form:
    """The form of a declared action. Its values are read when the command runs, not before:
    an entry's number typed as the audit shows it (#12) is turned into its id first (`save`)."""

    def build(typed: dict[str, Any]) -> Callable:
        return lambda schools, ctx: actions.build(action, form_values(action, typed))(schools, ctx)

    def repeats(typed: dict[str, Any]) -> tuple[list[str], str]:
        return actions.repeated_entries(action, form_values(action, typed))

    return Form(
        action.form,
        tuple(Field.of(f) for f in action.fields if f.form),
        build,
        repeats=repeats if action.repeats else None,
    )


FORMS: dict[str, Form] = {key: form_of(action) for key, action in actions.BY_FORM.items()}

NOTE = Field(actions.NOTE.name, "lines", required=False)
DATE = Field(actions.DATE.name, "date")  # always filled: it starts as today


def field_label(t, name: str) -> str:
    """The catalog's label of an option or argument (--as -> 记录人), or "" if it has none."""
    key = "field." + name.strip("-").lower().replace("-", "_")
    label = t(key)
    return "" if label == key else label


class NoteArea(TextArea):
    """A note of several lines: Enter starts a new line, Tab leaves, Ctrl+S saves the form."""

    def __init__(self, text: str = "", **kw):
        super().__init__(text, tab_behavior="focus", soft_wrap=True, show_line_numbers=False, **kw)

    @property
    def value(self) -> str:  # read like the other fields
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self.text = text


class FormButtons(Horizontal):
    """Save and Cancel, docked at the bottom of a form (always in sight): last in the focus order.

    Textual orders the focus by place on the screen, so docked buttons came before the fields
    scrolled below them: in a long form (a contact with what was said) Enter in the third field
    moved to Save, and a second Enter saved."""

    @property
    def _focus_sort_key(self) -> tuple[int, int]:
        return (2**31, 0)


class ChoiceList(SelectionList):
    """Several choices ticked (Space) in a list: read like the other fields, as "code,code"."""

    @property
    def value(self) -> str:
        return ",".join(self.selected)


class FormScreen(ModalScreen[list]):
    """Any recording form. Dismisses with the recorded events, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Save", id="form.submit"),
        Binding("f1", "help", "Help", id="form.help"),
    ]

    def action_help(self) -> None:
        self.app.push_screen(FormHelp(self.form))

    def __init__(self, form: Form, *, prefill: dict[str, str] | None = None, pupils=(), staff=(), about: str = ""):
        super().__init__()
        self.form = form
        self.prefill = prefill or {}
        self.about = about  # what a prefilled form is about (the entry to retract), under the title
        self.pupils = list(pupils)  # (id, name)
        self.staff = list(staff)

    @property
    def t(self):
        return self.app.t

    def _wid(self, name: str) -> str:
        return "f-" + name.strip("-").lower().replace("_", "-")

    def compose(self) -> ComposeResult:
        t = self.t
        with VerticalScroll(id="form"):
            yield Static(t(f"form.{self.form.key}"), classes="form-title")
            if self.about:
                yield Static(self.about, id="form-about", markup=False)
            yield Label("", id="form-error", classes="error", markup=False)
            fields = list(self.form.fields)
            if self.form.dated:
                fields += [DATE, NOTE]
            for f in fields:
                label = t("field." + f.name.strip("-").lower().replace("-", "_")) + ("" if f.required else t("field.optional"))
                yield Label(label, classes="field-label", id=self._wid(f.name) + "-label")
                yield self._widget(f)
                yield Label("", id=self._wid(f.name) + "-error", classes="error field-error", markup=False)
            with FormButtons(classes="buttons"):
                yield Button(t("button.save"), id="save", variant="primary")
                yield Button(t("button.cancel"), id="cancel")

    def on_mount(self) -> None:
        """Typing goes to the first empty field at once (the prefilled ones are skipped)."""
        self._show_for_kind()
        for widget in self.query("Input, Select, NoteArea"):
            value = widget.value
            if value in ("", None, Select.NULL):
                widget.focus()
                return
        first = self.query("Input, Select, NoteArea")
        if first:
            first.first().focus()

    def _kind(self) -> Any:
        found = self.query("#f-kind")
        return found.first().value if found else None

    def _shown(self, f: Field) -> bool:
        return f.only_kind is None or self._kind() == f.only_kind

    @on(Select.Changed, "#f-kind")
    def _show_for_kind(self) -> None:
        """The parts only one kind carries (a semester report's 学习、思想、生活, a birthday's gift)
        are shown while that kind is chosen; hidden, they are not given."""
        for f in self.form.fields:
            if f.only_kind is not None:
                shown = self._shown(f)
                for part in ("-label", "", "-error"):
                    self.query_one("#" + self._wid(f.name) + part).display = shown

    def _widget(self, f: Field):
        wid = self._wid(f.name)
        value = self.prefill.get(f.name, "")
        if f.kind == "choice":
            options = [(self.t(f"{f.choice_prefix}{c}"), c) for c in f.choices]
            default = value if value in f.choices else (Select.NULL if not f.required else f.choices[0])
            return Select(options, value=default, allow_blank=not f.required, id=wid, prompt=self.t("form.not_given"))
        if f.kind == "choices":
            ticked = set(value.split(",")) if value else set()
            return ChoiceList(*((self.t(f"{f.choice_prefix}{c}"), c, c in ticked) for c in f.choices), id=wid)
        if f.kind == "lines":
            area = NoteArea(value, id=wid)
            if f is not NOTE:  # what was said: as tall as what is written (up to a few lines), the note stays as it was
                area.styles.height = "auto"
                area.styles.min_height = 3
                area.styles.max_height = 8
            return area
        if f.kind == "date":  # a plain field: parse_date reads 2026-03-15, 2026/3/15, 2026年3月15日…
            default = value or (self.app.today.isoformat() if f.name == "--date" else "")
            return Input(value=default, placeholder="2026-03-15", id=wid)
        suggestions: list[str] = []
        if f.kind == "pupil":
            suggestions = [f"{pid} {name}" for pid, name in self.pupils]
        elif f.kind == "staff":
            suggestions = [f"{sid} {name}" for sid, name in self.staff]
        suggester = SuggestFromList(suggestions, case_sensitive=False) if suggestions else None
        return Input(value=value, id=wid, suggester=suggester)

    def _values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        fields = list(self.form.fields) + ([DATE, NOTE] if self.form.dated else [])
        for f in fields:
            widget = self.query_one("#" + self._wid(f.name))
            raw = widget.value if self._shown(f) else ""  # a part of another kind, hidden: not given
            if raw is Select.NULL or raw is None:
                raw = ""
            raw = str(raw).strip()
            if f.kind in ("pupil", "staff"):
                raw = self._resolve(raw, self.pupils if f.kind == "pupil" else self.staff)
            if f.required and not raw:
                raise Refused(f.name, "empty")
            if f.kind == "date" and raw:
                parse_date(raw, f.name)  # refused here, quoting what was typed, before anything is asked
            values[f.name] = raw
        return values

    @staticmethod
    def _resolve(text: str, people: list[tuple[str, str]]) -> str:
        """An id, "id name" as suggested, or a name that only one person has."""
        head = text.split(" ", 1)[0]
        ids = {pid for pid, _ in people}
        if head in ids:
            return head
        named = [pid for pid, name in people if name == text]
        return named[0] if len(named) == 1 else text

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_submit()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field: the form is saved only by Ctrl+S or the Save button."""
        event.stop()
        self.focus_next()

    def action_submit(self) -> None:
        for label in self.query(".error"):
            label.update("")
        try:
            values = self._values()
            day = parse_date(values["--date"], "--date") if self.form.dated else None
            build = self.form.build(values)
        except Refused as refused:
            self.show_refusal(refused)
            return
        self.save(build, day, values.get("--note", ""), values)

    @work(thread=True, exclusive=True, group="record")
    def save(self, build, day, note, values, confirmed: bool = False) -> None:
        backend = self.app.backend
        try:
            entry = values.get("EVENT_ID", "").lstrip("#")
            if entry.isdigit() and len(entry) < 32:  # the entry's number as the audit shows it (ids have 32)
                values["EVENT_ID"] = backend.event_id_of(int(entry)) or entry
            if self.form.repeats and not confirmed:
                pupils, kind = self.form.repeats(values)
                same = backend.same_entries(pupils, kind, day or backend.today())
                if same:
                    self.app.call_from_thread(self.ask_repeat, (build, day, note, values), same, kind, day or backend.today())
                    return
            events = backend.record(build, date=day, note=note)
        except Refused as refused:
            self.app.call_from_thread(self.show_refusal, refused)
            return
        except Exception as problem:  # a store problem: say so, keep the form open
            self.app.call_from_thread(self.show_problem, str(problem))
            return
        self.app.call_from_thread(self.dismiss, events)

    def ask_repeat(self, args: tuple, same: dict[str, list[str]], kind: str, day: dt.date) -> None:
        """A second identical entry that day: say so, and save only if the user says yes."""
        names = dict(self.pupils)
        who = "、".join(names.get(p) or p for p in same) if self.t.lang == "zh" else ", ".join(names.get(p) or p for p in same)
        message = self.t("form.repeat", who=who, kind=self.t(f"kind.{kind}"), date=day.isoformat(), count=max(map(len, same.values())))
        self.app.push_screen(ConfirmScreen(message), lambda yes: yes and self.save(*args, confirmed=True))

    def show_refusal(self, refused: Refused) -> None:
        message = self.t(f"refused.{refused.code}", **self.t.refusal_params(refused.params))
        target = self.query("#" + self._wid(refused.field) + "-error")
        if target:
            target.first().update(message)
            try:
                self.query_one("#" + self._wid(refused.field)).focus()
            except Exception:
                pass
        else:  # a field the form does not show (who records, --as): named by its label, never its option
            label = field_label(self.t, refused.field)
            prefix = self.t("refused.prefix", field=label) if label else self.t("refused.prefix_plain")
            self.query_one("#form-error", Label).update(prefix + message)

    def show_problem(self, message: str) -> None:
        self.query_one("#form-error", Label).update(self.t("store.error", message=message))


__all__ = ["FORMS", "ConfirmScreen", "Form", "FormScreen", "Field", "parse_int"]


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no to one question, by y / n (Esc is no); the focus starts on no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, message: str, *, yes: str = "button.yes", no: str = "button.no"):
        super().__init__()
        self.message = message
        self.labels = (yes, no)  # catalog keys: the buttons may say what yes does

    def compose(self) -> ComposeResult:
        t = self.app.t
        with VerticalScroll(id="confirm"):
            yield Static(self.message, id="confirm-message", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(t(self.labels[0]), id="yes", variant="warning")
                yield Button(t(self.labels[1]), id="no", variant="primary")

    def on_mount(self) -> None:
        from careterm.tui.bindings import translate_bindings

        translate_bindings(self, self.app.t)
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")


class FormHelp(ModalScreen):
    """F1 in a form: what the form records, its fields (which may stay empty) and the keys."""

    BINDINGS = [Binding("escape,f1", "app.pop_screen", "Close", id="form_help.close")]

    def __init__(self, form: Form):
        super().__init__()
        self.form = form

    def compose(self) -> ComposeResult:
        t = self.app.t
        fields = list(self.form.fields)
        if self.form.dated:
            fields += [DATE, NOTE]
        lines = [
            "  " + t("field." + f.name.strip("-").lower().replace("-", "_")) + ("" if f.required else t("field.optional"))
            for f in fields
        ]
        with VerticalScroll(id="help"):
            yield Static(f"[b]{t(f'form.{self.form.key}')}[/b]\n{t('help.form')}\n\n" + "\n".join(lines))
