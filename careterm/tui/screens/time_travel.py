"""Any view as it was: as of a date and/or known at a time."""

from __future__ import annotations

import datetime as dt

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from careterm.backend import When
from careterm.shown import local_time
from careterm.tui.bindings import Translated
from careterm.values import parse_date, parse_time
from events.errors import Refused


class TimeTravelScreen(Translated, ModalScreen[When]):
    """Any view as it was: as of a date (the state that day) and/or known at a time."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="travel.cancel")]

    def __init__(self, when: When):
        super().__init__()
        self.when = when

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#as-of", Input).focus()

    def compose(self) -> ComposeResult:
        t = self.app.t
        with VerticalScroll(id="form"):
            yield Static(t("history.title"), classes="form-title")
            yield Label(t("field.as_of"), classes="field-label")
            yield Input(value=self.when.as_of.isoformat() if self.when.as_of else "", placeholder="2026-03-15", id="as-of")
            yield Label("", id="as-of-error", classes="error", markup=False)
            yield Label(t("field.known_at"), classes="field-label")
            yield Input(value=local_time(self.when.known_at, self.app.zone or "UTC") if self.when.known_at else "", placeholder="2026-03-01 18:00", id="known-at")
            yield Label("", id="known-at-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(t("button.go"), id="go", variant="primary")
                yield Button(t("button.now"), id="now")

    @on(Button.Pressed, "#go")
    @on(Input.Submitted)
    def _go(self) -> None:
        raw_date = self.query_one("#as-of", Input).value.strip()
        raw_time = self.query_one("#known-at", Input).value.strip()
        try:
            as_of = parse_date(raw_date, "--as-of") if raw_date else None
            known_at = school_time(raw_time, self.app.zone) if raw_time else None
        except Refused as refused:
            target = "#as-of-error" if refused.field == "--as-of" else "#known-at-error"
            self.query_one(target, Label).update(self.app.t(f"refused.{refused.code}", **refused.params))
            return
        self.dismiss(When(as_of, known_at))

    @on(Button.Pressed, "#now")
    def _now(self) -> None:
        self.dismiss(When())

    def action_cancel(self) -> None:
        self.dismiss(None)


def school_time(raw: str, zone) -> dt.datetime:
    """A recording time typed in the app: with no offset it is the school's wall-clock time."""
    moment = parse_time(raw, "--known-at")
    try:
        naive = dt.datetime.fromisoformat(raw.strip()).tzinfo is None
    except ValueError:  # a form parse_time reads and fromisoformat does not: keep what parse_time made of it
        naive = False
    return moment.replace(tzinfo=zone) if naive and zone is not None else moment

