"""The audit tab: the trail, filtered, a page at a time."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from careterm import shown
from careterm.tui.panes.base import Pane
from careterm.tui.screens.entry import EntryScreen
from careterm.tui.words import people, subject_name
from projections.audit import FLAGS


PAGE = 200  # rows shown at once in long lists (the audit trail); PageUp/PageDown for more


class PagedTable(DataTable):
    """A table showing one page of a longer list: PageDown on its last row turns to the next page,
    PageUp on its first row to the page before (the pane that holds it knows the pages)."""

    def action_page_down(self) -> None:
        if not (self.cursor_row >= self.row_count - 1 and self._turn(1)):
            super().action_page_down()

    def action_page_up(self) -> None:
        if not (self.cursor_row <= 0 and self._turn(-1)):
            super().action_page_up()

    def _turn(self, direction: int) -> bool:
        for node in self.ancestors:
            if isinstance(node, AuditPane):
                return node.turn(direction)
        return False


class AuditPane(Pane):
    # the pane's PageUp/PageDown reach it from the filter boxes (they have no such keys): the
    # table pages as if it had the focus
    BINDINGS = [
        Binding("pageup", "page(-1)", "Page up", id="audit.earlier"),
        Binding("pagedown", "page(1)", "Page down", id="audit.later"),
    ]

    def __init__(self, **kw):
        super().__init__(**kw)
        self.rows: list[dict] = []
        self.page_start = 0  # index in `rows` (log order) of the oldest row of the page shown

    def compose(self) -> ComposeResult:
        with Horizontal(classes="filters"):
            yield Input(placeholder=self.t("audit.actor"), id="audit-actor")
            yield Input(placeholder=self.t("audit.pupil"), id="audit-pupil")
            yield Select([(self.t(f"type.{n}"), n) for n in _event_types()], prompt=self.t("col.type"), id="audit-type")
            yield Select([(self.t(f"flag_short.{f}"), f) for f in FLAGS], prompt=self.t("audit.any_flag"), id="audit-flag")
        yield Static(id="audit-status", markup=False)
        yield PagedTable(id="audit-table", cursor_type="row", zebra_stripes=True)

    def load(self, when):
        actor = self.query_one("#audit-actor", Input).value.strip() or None
        pupil = self.query_one("#audit-pupil", Input).value.strip() or None
        kind = self.query_one("#audit-type", Select).value
        flag = self.query_one("#audit-flag", Select).value
        types = () if kind is Select.NULL else (kind,)
        if not self.app.backend.may_view("audit"):
            return None  # the audit trail is for leaders and auditors (projections/visibility.py)
        return self.app.backend.history(pupil, when, actor=actor, types=types, flag=None if flag is Select.NULL else flag)

    def paint(self, rows: list[dict] | None) -> None:
        self.refused = rows is None
        self.rows = rows or []
        self.page_start = max(0, len(self.rows) - PAGE)  # newest page first
        self.show_page()

    def show_page(self, cursor: int | None = None) -> None:
        t = self.t
        page = self.rows[self.page_start : self.page_start + PAGE][::-1]  # newest first
        self.query_one("#audit-status", Static).update(
            t("view.leaders_auditors_only") if getattr(self, "refused", False) else
            t("audit.page", first=self.page_start + 1 if page else 0, last=self.page_start + len(page), total=len(self.rows))
        )
        names = people(self.app)
        zone = self.app.zone or "UTC"
        # short type names, the subject's name alone and the flag beside the date: the flags show
        # in 80 columns (Enter shows the entry in full, ids and all)
        table = self.table(
            "#audit-table",
            ("seq", "type", "subject", "date", "flags", "recorded_at", "by"),
            [
                (
                    str(r["seq"]),
                    t(f"type_short.{r['type']}"),
                    subject_name(t, names, r["subject"], with_id=False),
                    r["date"],
                    # the strongest flag: a back-filled entry is a late one too (the detail says both)
                    t(f"flag_short.{r['flags'][-1]}") if r["flags"] else "",
                    shown.local_time(r["recorded_at"], zone),
                    r["actor"],
                )
                for r in page
            ],
            [r["id"] for r in page],
        )
        if cursor is not None and page:
            table.move_cursor(row=min(cursor, len(page) - 1) if cursor >= 0 else len(page) - 1)

    def turn(self, direction: int) -> bool:
        """The next page down the table (older entries) or up (newer); False if there is none."""
        start = self.page_start - direction * PAGE
        start = max(0, min(start, max(0, len(self.rows) - PAGE)))
        if start == self.page_start:
            return False
        self.page_start = start
        self.show_page(cursor=0 if direction > 0 else -1)
        return True

    def action_page(self, direction: int) -> None:
        table = self.query_one("#audit-table", PagedTable)
        (table.action_page_down if direction > 0 else table.action_page_up)()

    @on(Input.Submitted)
    @on(Select.Changed)
    def _filter(self) -> None:
        self.reload()

    @on(DataTable.RowSelected, "#audit-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(EntryScreen(str(event.row_key.value)))


def _event_types() -> list[str]:
    from events.types import EVENT_TYPES

    return [cls.__name__ for cls in EVENT_TYPES]
