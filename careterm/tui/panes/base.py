"""What every tab's pane does: fetch its data in a worker thread, paint it on the UI thread."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.widget import Widget
from textual.widgets import DataTable
from textual.worker import get_current_worker

from careterm.tui.bindings import translate_bindings
from careterm.tui.messages import Loaded, ReportsWorkErrors
from careterm.tui.plain import fill_table


class Pane(ReportsWorkErrors, Widget):
    """A tab's content: `reload()` fetches in a worker, `paint(data)` shows it."""

    can_focus = False

    @property
    def t(self):
        return self.app.t

    def on_mount(self) -> None:
        translate_bindings(self, self.t)

    def reload(self) -> None:
        self.fetch(self.app.when)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def fetch(self, when) -> None:
        # a failure is shown by the app (WorkFailed); the pane keeps what it showed
        data = self.load(when)
        if not get_current_worker().is_cancelled:  # a newer fetch is on its way
            self.post_message(Loaded(data))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.paint(message.data)

    def focus_first(self) -> None:
        """Focus the pane's first table (its keys then work at once), else its first field."""
        for selector in ("DataTable", "Input"):
            for widget in self.query(selector):
                if widget.display and widget.focusable:
                    widget.focus()
                    return

    def load(self, when) -> Any:  # runs in a worker thread
        raise NotImplementedError

    def paint(self, data: Any) -> None:
        raise NotImplementedError

    def table(
        self, selector: str, columns: tuple[str, ...], rows: list[tuple], keys: list[str] | None = None, widest: int = 40
    ) -> DataTable:
        table = self.query_one(selector, DataTable)
        cursor = table.cursor_row
        fill_table(table, [self.t(f"col.{c}") for c in columns], rows, keys, widest)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        return table


