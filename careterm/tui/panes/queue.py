"""The reassignment queue tab: suggested pairs (confirmed with one key), pupils and mentors waiting."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from careterm.tui.forms import ConfirmScreen
from careterm.tui.panes.base import Pane


class QueuePane(Pane):
    BINDINGS = [Binding("y", "confirm", "Confirm pair", id="queue.confirm")]

    def compose(self) -> ComposeResult:
        # one above the other: side by side at 80 columns, each table lost its last columns
        # (since when, and why, a pupil or a mentor is waiting)
        restricted = Static(self.t("view.leaders_only"), id="queue-restricted", markup=False)
        restricted.display = False
        yield restricted
        yield Label(self.t("queue.suggestions"), classes="section")
        yield DataTable(id="queue-suggestions", cursor_type="row", zebra_stripes=True)
        yield Label(self.t("queue.pupils"), classes="section")
        yield DataTable(id="queue-pupils", cursor_type="row", zebra_stripes=True)
        yield Label(self.t("queue.mentors"), classes="section")
        yield DataTable(id="queue-mentors", cursor_type="row", zebra_stripes=True)

    def load(self, when):
        return self.app.backend.view("queue", when)

    def paint(self, d: dict) -> None:
        t = self.t
        # the queue is the leaders' (projections/visibility.py): others see it said, and nothing else
        self.query_one("#queue-restricted", Static).display = bool(d.get("restricted"))
        names = {p["pupil"]: p["name"] for p in d["pupils"]}
        staff = {m["staff"]: m["name"] for m in d["mentors"]}
        self.named = {s["staff"] + "|" + s["pupil"]: (staff.get(s["staff"], ""), names.get(s["pupil"], "")) for s in d["suggestions"]}
        sep = "、" if t.lang == "zh" else ", "
        self.table(
            "#queue-suggestions",
            ("mentor", "pupil_named", "why"),
            [
                (
                    f"{staff.get(s['staff'], '')} ({s['staff']})",
                    f"{names.get(s['pupil'], '')} ({s['pupil']})",
                    sep.join(t(f"why.{w}") for w in s.get("why", [])),
                )
                for s in d["suggestions"]
            ],
            [f"{s['staff']}|{s['pupil']}" for s in d["suggestions"]],
            widest=44,  # the reasons in full: what is left of 80 columns beside two names with ids
        )
        self.table(
            "#queue-pupils",
            ("pupil", "name", "categories", "waiting_since", "reason"),
            [
                (p["pupil"], p["name"], "、".join(t(f"category.{c}") for c in p["categories"]), p["waiting_since"], t(f"reason.{p['reason']}"))
                for p in d["pupils"]
            ],
        )
        self.table(
            "#queue-mentors",
            ("staff", "name", "free_places", "waiting_since", "reason"),
            [(m["staff"], m["name"], str(m["free_places"]), m["waiting_since"], t(f"reason.{m['reason']}")) for m in d["mentors"]],
        )

    def action_confirm(self) -> None:
        """Pair the suggestion under the cursor, once the leader says yes to it by name."""
        table = self.query_one("#queue-suggestions", DataTable)
        if not table.row_count or self.app.when.is_history:
            return
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        staff, pupil = key.split("|")
        staff_name, pupil_name = getattr(self, "named", {}).get(key, ("", ""))
        t = self.t
        question = t(
            "queue.confirm_pair",
            staff=t("named", name=staff_name, id=staff) if staff_name else staff,
            pupil=t("named", name=pupil_name, id=pupil) if pupil_name else pupil,
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.record_now("pair", {"STAFF_ID": staff, "PUPIL_ID": pupil})

        self.app.push_screen(PairConfirm(question), answered)

    @on(DataTable.RowSelected, "#queue-suggestions")
    def _selected(self) -> None:
        self.action_confirm()


class PairConfirm(ConfirmScreen):
    """The yes/no of a suggested pair: the forms' confirmation, its buttons saying what yes does."""

    def __init__(self, message: str):
        super().__init__(message, yes="queue.pair_yes", no="queue.pair_no")


