"""The pupils tab: the archive, searched by name or pinyin initials, filtered."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from careterm.tui.panes.base import Pane
from events import rules


class PupilsPane(Pane):
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="pupils.search"),
        Binding("m", "mine", "My pupils", id="pupils.mine"),
        Binding("i", "import_roster", "Import", id="pupils.import"),
    ]

    def __init__(self, **kw):
        super().__init__(**kw)
        self.rows: list[dict] = []
        self.mine_only = False  # `m`: only the pupils I mentor (a teacher's own list)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="filters"):
            yield Input(placeholder=self.t("pupils.search"), id="pupil-search")
            yield Select([(self.t(f"category.{c}"), c) for c in rules.CATEGORIES], prompt=self.t("col.category"), id="pupil-category")
            yield Select(
                [(self.t(f"status.{s}"), s) for s in rules.PUPIL_STATUSES], prompt=self.t("col.status"), id="pupil-status"
            )
        yield Static(self.t("pupils.mine_only"), id="pupil-mine")
        yield DataTable(id="pupil-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#pupil-mine", Static).display = False

    def action_focus_search(self) -> None:
        self.query_one("#pupil-search", Input).focus()

    def action_mine(self) -> None:
        self.mine_only = not self.mine_only
        self.query_one("#pupil-mine", Static).display = self.mine_only
        self.refilter()

    def action_import_roster(self) -> None:
        """A class's roster from a spreadsheet, its report read before anything is written."""
        from careterm.tui.screens.import_roster import ImportRosterScreen

        if self.app.when.is_history:
            self.app.notify(self.t("history.read_only"), severity="warning")
            return
        self.app.push_screen(ImportRosterScreen("pupils"), self._imported)

    def _imported(self, done: dict | None) -> None:
        if done:
            self.app.notify(self.t("import.done", **done), markup=False)
            self.app.seen_head = -2  # the next poll reloads what is shown
            self.app.poll()

    def load(self, when):
        from careterm.tui.search import initials

        rows = self.app.backend.view("archive", when)["pupils"]
        for r in rows:
            r["initials"] = initials(r["name"] or "")
        return rows

    def paint(self, rows: list[dict]) -> None:
        self.rows = rows
        self.refilter()

    @on(Input.Changed, "#pupil-search")
    @on(Select.Changed)
    def refilter(self) -> None:
        from careterm.tui.search import matches

        text = self.query_one("#pupil-search", Input).value.strip()
        cat = self.query_one("#pupil-category", Select).value
        status = self.query_one("#pupil-status", Select).value
        t = self.t
        shown = [
            r
            for r in self.rows
            if matches(text, r)
            and (cat is Select.NULL or cat in r.get("categories", ()))
            and (status is Select.NULL or r["status"] == status)
            and (not self.mine_only or (r.get("mentor") is not None and r.get("mentor") == self.app.ws.actor))
        ]
        self.table(
            "#pupil-table",
            ("pupil", "name", "grade", "class", "categories", "status", "mentor"),
            [
                (
                    r["pupil"],
                    r["name"],
                    str(r["grade"]),
                    str(r["class"]),
                    # a pupil outside the reader's view: name, grade, class, status, and a word saying so
                    t("archive.restricted") if r.get("restricted") else "、".join(t(f"category.{c}") for c in r["categories"]),
                    t(f"status.{r['status']}"),
                    "" if r.get("restricted") else r["mentor"] or "-",
                )
                for r in shown
            ],
            [r["pupil"] for r in shown],
        )

    @on(Input.Submitted, "#pupil-search")
    def _to_table(self) -> None:
        self.query_one("#pupil-table", DataTable).focus()

    @on(DataTable.RowSelected, "#pupil-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.open_pupil(str(event.row_key.value))

