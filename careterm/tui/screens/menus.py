"""The small menus: what to record, which school to look at."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import OptionList

from careterm.tui.bindings import Translated
from careterm.tui.forms import FORMS
from careterm.tui.messages import Loaded, ReportsWorkErrors


class RecordMenu(Translated, ModalScreen[str]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="menu.cancel")]

    def compose(self) -> ComposeResult:
        t = self.app.t
        options = OptionList(*[t(f"form.{key}") for key in FORMS], id="record-menu")
        yield options

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(list(FORMS)[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class SchoolMenu(ReportsWorkErrors, Translated, ModalScreen[str]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="school.cancel")]

    def compose(self) -> ComposeResult:
        yield OptionList(id="school-menu")

    def on_mount(self) -> None:
        super().on_mount()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        self.post_message(Loaded(self.app.backend.schools()))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.show(message.data)

    def show(self, schools: list[tuple[str, str]]) -> None:
        self.ids = [sid for sid, _ in schools]
        menu = self.query_one(OptionList)
        menu.add_options([f"{name} ({sid})" for sid, name in schools])
        menu.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.ids[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)

