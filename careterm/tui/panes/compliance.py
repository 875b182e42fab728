"""The compliance tab: duties owed, and the rates by mentor and by class, sortable."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from careterm import shown
from careterm.tui.panes.base import Pane
from careterm.tui.plain import plain_cells
from careterm.tui.words import status_cell


# the rates tables' columns, and how each sorts (None, a rate not owed yet, always last)
RATE_COLUMNS = {
    "#compliance-mentors": ("staff", "name", "rate"),
    "#compliance-classes": ("grade", "class", "rate"),
}


def _sort_key(column: str):
    if column == "name":
        from careterm.tui.search import initials

        return lambda r: (initials(r["name"] or ""), r["name"] or "") if r["name"] else None
    return lambda r: r[column]


def sorted_rates(rows: list[dict], column: str, descending: bool) -> list[dict]:
    """Rows by one column, ascending or descending; rows without a value (a rate not owed) last."""
    key = _sort_key(column)
    known = [r for r in rows if key(r) is not None]
    return sorted(known, key=key, reverse=descending) + [r for r in rows if key(r) is None]


class CompliancePane(Pane):
    # keyboard-first sorting of the rates tables (the one with the focus, else the mentors'):
    # `o` sorts by the next column, `O` turns the order round; a click on a heading sorts by it.
    # `x` writes the 帮扶工作考核表 (.xlsx) of the day shown into the export folder.
    BINDINGS = [
        Binding("o", "sort", "Sort", id="compliance.sort"),
        Binding("O", "reverse", "Reverse", id="compliance.reverse"),
        Binding("x", "export", "Export", id="compliance.export"),
    ]

    def __init__(self, **kw):
        super().__init__(**kw)
        self.rates: dict[str, list[dict]] = {}
        # by default the mentors and the classes in their order (id, grade and class)
        self.sorting: dict[str, tuple[int, bool]] = {table: (0, False) for table in RATE_COLUMNS}

    def compose(self) -> ComposeResult:
        yield Static(id="compliance-summary", markup=False)
        yield DataTable(id="compliance-table", cursor_type="row", zebra_stripes=True)
        with Horizontal():
            yield DataTable(id="compliance-mentors", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="compliance-classes", cursor_type="row", zebra_stripes=True)

    def load(self, when):
        return self.app.backend.view("compliance", when), self.app.backend.view("archive", when)

    def paint(self, data) -> None:
        d, archive = data
        t = self.t
        names = {p["pupil"]: p["name"] for p in archive["pupils"]}
        self.query_one("#compliance-summary", Static).update(
            t("compliance.summary", start=d["from"], end=d["to"], rate=shown.rate(d["school"]["rate"]))
        )
        from projections.compliance import shown_duties

        # the five duties, and those a school switched on (by their catalog names)
        duties = shown_duties(d)
        # the pupil by name only: with the id, the five duties do not fit in 80 columns (Enter
        # opens the pupil's file, id and all)
        self.table(
            "#compliance-table",
            ("staff", "name") + duties,
            [
                (p["staff"], names.get(p["pupil"]) or p["pupil"], *(status_cell(t, p["duties"].get(x, {}).get("status")) for x in duties))
                for p in d["pairings"]
            ],
            [p["pupil"] for p in d["pairings"]],
        )
        self.rates = {"#compliance-mentors": d["mentors"], "#compliance-classes": d["classes"]}
        for selector in RATE_COLUMNS:
            self.show_rates(selector)

    def show_rates(self, selector: str) -> None:
        from rich.cells import cell_len

        t = self.t
        columns = RATE_COLUMNS[selector]
        index, descending = self.sorting[selector]
        rows = sorted_rates(self.rates.get(selector, []), columns[index], descending)
        cells = [tuple("" if r[c] is None and c != "rate" else shown.rate(r[c]) if c == "rate" else str(r[c]) for c in columns) for r in rows]
        table = self.query_one(selector, DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        for i, column in enumerate(columns):
            label = t(f"col.{column}") + ((" ▼" if descending else " ▲") if i == index else "")
            width = max([cell_len(label)] + [cell_len(row[i]) for row in cells])
            table.add_column(label, width=min(width, 40))
        for row in cells:
            table.add_row(*plain_cells(*row))
        if cells:
            table.move_cursor(row=min(cursor, len(cells) - 1))

    def _rates_table(self) -> str:
        focused = self.app.focused
        return f"#{focused.id}" if focused is not None and f"#{focused.id}" in RATE_COLUMNS else "#compliance-mentors"

    def action_sort(self) -> None:
        selector = self._rates_table()
        index, _ = self.sorting[selector]
        index = (index + 1) % len(RATE_COLUMNS[selector])
        # a rate is ranked best first; ids, names, grades and classes in their order
        self.sorting[selector] = (index, RATE_COLUMNS[selector][index] == "rate")
        self.show_rates(selector)

    def action_reverse(self) -> None:
        selector = self._rates_table()
        index, descending = self.sorting[selector]
        self.sorting[selector] = (index, not descending)
        self.show_rates(selector)

    @on(DataTable.HeaderSelected)
    def _heading(self, event: DataTable.HeaderSelected) -> None:
        selector = f"#{event.data_table.id}"
        if selector not in RATE_COLUMNS:
            return
        index, descending = self.sorting[selector]
        column = RATE_COLUMNS[selector][event.column_index]
        same = event.column_index == index
        self.sorting[selector] = (event.column_index, not descending if same else column == "rate")
        self.show_rates(selector)

    def action_export(self) -> None:
        from careterm.paperwork.compliance_table import write_compliance
        from careterm.tui.exporting import export_file

        when = self.app.when
        export_file(self, self.t("table.compliance.file"), "xlsx",
                    lambda ws, path: write_compliance(ws, path, as_of=when.as_of, known_at=when.known_at))

    @on(DataTable.RowSelected, "#compliance-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.open_pupil(str(event.row_key.value))

