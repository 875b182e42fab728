"""The aid tab: the ledger, its totals, and a preview of the public notice."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from careterm import shown
from careterm.tui.panes.base import Pane


class AidPane(Pane):
    # `x` writes the notice previewed (the latest semester) as a Word document, for the wall
    BINDINGS = [Binding("x", "export", "Export notice", id="aid.export")]
    semester: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="aid-totals", markup=False)
        yield DataTable(id="aid-table", cursor_type="row", zebra_stripes=True)
        yield Label(self.t("aid.notice_preview"), classes="section")
        yield DataTable(id="aid-notice", cursor_type="row", zebra_stripes=True)

    def load(self, when):
        ledger = self.app.backend.view("aid_list", when)
        semester = ledger["grants"][-1]["semester"] if ledger["grants"] else None
        notice = self.app.backend.view("notice", when, semester=semester) if semester else {"semester": "-", "notice": []}
        return ledger, notice

    def paint(self, data) -> None:
        ledger, notice = data
        t = self.t
        self.semester = notice["semester"] if ledger["grants"] else None
        totals = [f"{t(f'aid.{k}')}: {shown.money(v, t.lang)}" for k, v in ledger["totals"].items()]
        self.query_one("#aid-totals", Static).update(packed(totals, self.size.width - 2) or shown.NONE)
        names = dict(self.app.pupils)  # (id, name) of the school's pupils, learnt at start-up
        self.table(
            "#aid-table",
            ("date", "pupil", "kind", "amount", "fund", "revoked"),
            [
                (
                    g["date"],
                    f"{names[g['pupil']]} ({g['pupil']})" if names.get(g["pupil"]) else g["pupil"],
                    t(f"aid.{g['kind']}"),
                    shown.money(g["amount"], t.lang) if g["amount"] else g["items"] or "",
                    g["fund"],
                    "✓" if g["revoked"] else "",
                )
                for g in reversed(ledger["grants"])
            ],
        )
        self.table(
            "#aid-notice",
            ("name", "class", "kind", "amount"),
            [
                (r["name"], r["class"], t(f"aid.{r['kind']}"), notice_amount(t, r["amount"]))
                for r in notice["notice"]
            ],
        )

    def action_export(self) -> None:
        from careterm.paperwork.notice import write_notice
        from careterm.tui.exporting import export_file

        semester, when = self.semester, self.app.when
        if semester is None:
            self.app.notify(self.t("table.notice.none"), severity="warning")
            return
        export_file(self, self.t("table.notice.file", semester=semester), "docx",
                    lambda ws, path: write_notice(ws, path, semester, as_of=when.as_of, known_at=when.known_at))


def packed(items: list[str], width: int) -> str:
    """Items two spaces apart, as many to a line as fit: a line breaks between items, never
    inside one (a total's amount stays beside its name)."""
    from rich.cells import cell_len

    lines: list[str] = []
    for item in items:
        if lines and cell_len(lines[-1]) + 2 + cell_len(item) <= max(width, 20):
            lines[-1] += "  " + item
        else:
            lines.append(item)
    return "\n".join(lines)


def notice_amount(t, value: str | None) -> str:
    """The notice's amount: yuan as money; in-kind aid (no amount) as such, never its text."""
    return shown.money(value, t.lang) if value else t("notice.in_kind")

