"""The home tab: my duties, and for leaders the school's overview."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from careterm.tui.panes.base import Pane
from careterm.tui.words import due_cell, status_cell
from events import rules


class HomePane(Pane):
    # `x` writes the 弱势群体情况统计表 (.xlsx) of the day shown: counts, for everyone
    BINDINGS = [
        Binding("h", "export_handbook", "Handbook", id="home.export_handbook"),
        Binding("x", "export_stats", "Statistics", id="home.export_stats"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="home-summary", markup=False)
        yield Label(self.t("home.mine"), classes="section")
        yield DataTable(id="home-mine", cursor_type="row", zebra_stripes=True)
        yield Label(self.t("home.aid"), classes="section aid-waiting")
        yield DataTable(id="home-aid", cursor_type="row", zebra_stripes=True, classes="aid-waiting")
        yield Label(self.t("home.school"), classes="section leader-only")
        yield DataTable(id="home-school", cursor_type="row", zebra_stripes=True, classes="leader-only")

    def load(self, when):
        return self.app.backend.home(when)

    def paint(self, d: dict) -> None:
        t = self.t
        names = d["names"]
        self.my_pupils = d["my_pupils"]
        mine = ", ".join(f"{names.get(p, p)}({p})" for p in d["my_pupils"]) or t("home.no_pupil")
        hello = "home.hello_history" if self.app.when.is_history else "home.hello"
        lines = [t(hello, name=d["me"] or "-", date=d["as_of"].isoformat()), t("home.my_pupils", pupils=mine)]
        if d["leader"]:
            lines.append(
                t(
                    "home.counts",
                    overdue=len(d["overdue"]),
                    waiting_pupils=len(d["waiting_pupils"]),
                    waiting_mentors=len(d["waiting_mentors"]),
                    dropped=len(d["dropped_out"]),
                    incidents=len(d["incidents"]),
                )
            )
        self.query_one("#home-summary", Static).update("\n".join(lines))
        rows = [
            (f"{names.get(r['pupil'], r['pupil'])} ({r['pupil']})", t(f"duty.{r['duty']}"), status_cell(t, r["status"]), due_cell(t, r), r["last"] or "-")
            for r in d["mine"]
        ]
        self.table("#home-mine", ("pupil_named", "duty", "duty_state", "due", "last"), rows, [f"{r['pupil']}|{r['duty']}|{i}" for i, r in enumerate(d["mine"])])
        # the applications waiting for my step: a leader's decisions and grants, a class teacher's surveys
        self.aid_waiting = {a["id"]: a for a in d.get("aid", [])}
        for w in self.query(".aid-waiting"):
            w.display = bool(self.aid_waiting)
        if self.aid_waiting:
            self.table(
                "#home-aid",
                ("pupil_named", "kind", "aid_state", "next"),
                [(f"{names.get(a['pupil'], a['pupil'])} ({a['pupil']})", t(f"aid.{a['kind']}"),
                  t(f"aid_status.{a['status']}"), t(f"aid_step.{a['next']}")) for a in self.aid_waiting.values()],
                list(self.aid_waiting),
            )
        for w in self.query(".leader-only"):
            w.display = d["leader"]
        if d["leader"]:
            # a transfer not accepted within 5 school days comes first, flagged (Enter: accept it)
            transfers = sorted(d.get("transfers", []), key=lambda r: not r["overdue"])
            overview = [(t("home.transfer_overdue" if r["overdue"] else "home.transfer_in"),
                         t("home.transfer_who", name=r["name"] or r["pupil"], pupil=r["pupil"], school=r["from_name"]),
                         t("home.transfer_sent", date=r["sent"])) for r in transfers]
            overview += [(t("home.overdue"), f"{r['staff']} → {names.get(r['pupil'], r['pupil'])}", t(f"duty.{r['duty']}")) for r in d["overdue"]]
            overview += [(t("home.waiting_pupil"), f"{p['name']} ({p['pupil']})", t(f"reason.{p['reason']}")) for p in d["waiting_pupils"]]
            overview += [(t("home.waiting_mentor"), f"{m['name']} ({m['staff']})", t(f"reason.{m['reason']}")) for m in d["waiting_mentors"]]
            overview += [(t("home.dropped_out"), f"{p['name']} ({p['pupil']})", "") for p in d["dropped_out"]]
            overview += [(t("home.incident"), names.get(i["pupil"], i["pupil"]), t(f"need.{i['need']}")) for i in d["incidents"]]
            # an overdue row names its mentor: `h` on it exports that mentor's handbook
            keys = [f"transfer|{r['pupil']}|{i}" for i, r in enumerate(transfers)]
            keys += [f"staff|{r['staff']}|{i}" for i, r in enumerate(d["overdue"], len(keys))]
            self.table("#home-school", ("what", "who", "detail"), overview, keys + [f"-|-|{i}" for i in range(len(keys), len(overview))])

    def action_export_handbook(self) -> None:
        """The 帮扶工作手册 (.docx) of the school year into the export folder: my own, or for a
        leader on an overdue row of the school's overview, that row's mentor's
        (careterm/paperwork/handbook.py says who may export whose)."""
        from careterm.paperwork.handbook import write_handbook
        from careterm.tui.exporting import export_file

        staff = self.app.ws.actor
        school = self.query_one("#home-school", DataTable)
        if school.display and school.has_focus and school.row_count:
            kind, who, _ = str(school.coordinate_to_cell_key((school.cursor_row, 0)).row_key.value).split("|")
            staff = who if kind == "staff" else staff
        when = self.app.when
        title = f"{self.t('doc.handbook.title')}-{dict(self.app.staff).get(staff, staff)}"
        export_file(self, title, "docx", lambda ws, path: write_handbook(ws, path, staff, as_of=when.as_of, known_at=when.known_at))

    def action_export_stats(self) -> None:
        from careterm.paperwork.stats_table import write_stats
        from careterm.tui.exporting import export_file

        when = self.app.when
        export_file(self, self.t("table.stats.file"), "xlsx",
                    lambda ws, path: write_stats(ws, path, as_of=when.as_of, known_at=when.known_at))

    @on(DataTable.RowSelected, "#home-aid")
    def _aid_step(self, event: DataTable.RowSelected) -> None:
        from careterm.tui.panes.aid import open_step

        app = getattr(self, "aid_waiting", {}).get(str(event.row_key.value))
        if app is not None and not self.app.when.is_history:
            open_step(self.app, app)

    @on(DataTable.RowSelected, "#home-school")
    def _accept_transfer(self, event: DataTable.RowSelected) -> None:
        kind, pupil, _ = str(event.row_key.value).split("|")
        if kind == "transfer" and not self.app.when.is_history:
            self.app.action_record("transfer_accept", {"PUPIL_ID": pupil})

    @on(DataTable.RowSelected, "#home-mine")
    def _open(self, event: DataTable.RowSelected) -> None:
        pupil, duty, _ = str(event.row_key.value).split("|")
        if duty not in rules.CONTACT_KINDS:
            # a duty no contact meets (the handbook inspection): someone else records it
            self.app.notify(self.app.t("home.not_a_contact", duty=self.app.t(f"duty.{duty}")), severity="information")
            return
        self.app.action_record("contact", {"PUPIL_ID": pupil, "--kind": duty})

