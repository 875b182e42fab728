"""The tabs of the main screen. Each loads its data in a worker thread and paints it on the UI
thread; none holds a business rule (the views and commands do)."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Select, Static

from events import rules

PAGE = 200  # rows shown at once in long lists (the audit trail); PageUp/PageDown for more


class Pane(Widget):
    """A tab's content: `reload()` fetches in a worker, `paint(data)` shows it."""

    can_focus = False

    @property
    def t(self):
        return self.app.t

    def on_mount(self) -> None:
        from careterm.tui.app import translate_bindings

        translate_bindings(self, self.t)

    def reload(self) -> None:
        self.fetch(self.app.when)

    @work(thread=True, exclusive=True)
    def fetch(self, when) -> None:
        try:
            data = self.load(when)
        except Exception as problem:  # show it; never crash the app over one pane
            self.app.call_from_thread(self.app.notify, str(problem), severity="error")
            return
        self.app.call_from_thread(self.paint, data)

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

    def table(self, selector: str, columns: tuple[str, ...], rows: list[tuple], keys: list[str] | None = None) -> DataTable:
        from rich.cells import cell_len

        table = self.query_one(selector, DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        # widths from the content, set here: a table filled before its tab was ever laid out
        # would otherwise keep the widths of its headers
        labels = [self.t(f"col.{c}") for c in columns]
        for i, label in enumerate(labels):
            width = max([cell_len(label)] + [cell_len(str(row[i])) for row in rows[:500]])
            table.add_column(label, width=min(width, 40))
        for i, row in enumerate(rows):
            table.add_row(*row, key=keys[i] if keys else None)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        return table


def status_cell(t, status: str | None):
    from rich.text import Text

    if status is None:
        return ""
    style = {"overdue": "bold red", "due_soon": "yellow", "pending": "yellow", "ok": "green", "met": "green"}.get(status, "")
    mark = {"overdue": "✗ ", "due_soon": "! ", "pending": "… ", "ok": "✓ ", "met": "✓ "}.get(status, "")
    return Text(mark + t(f"duty_status.{status}"), style=style)


class HomePane(Pane):
    def compose(self) -> ComposeResult:
        yield Static(id="home-summary")
        yield Label(self.t("home.mine"), classes="section")
        yield DataTable(id="home-mine", cursor_type="row", zebra_stripes=True)
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
            (f"{names.get(r['pupil'], r['pupil'])} ({r['pupil']})", t(f"duty.{r['duty']}"), status_cell(t, r["status"]), r["due"] or "-", r["last"] or "-")
            for r in d["mine"]
        ]
        self.table("#home-mine", ("pupil_named", "duty", "duty_state", "due", "last"), rows, [f"{r['pupil']}|{r['duty']}|{i}" for i, r in enumerate(d["mine"])])
        for w in self.query(".leader-only"):
            w.display = d["leader"]
        if d["leader"]:
            overview = [(t("home.overdue"), f"{r['staff']} → {names.get(r['pupil'], r['pupil'])}", t(f"duty.{r['duty']}")) for r in d["overdue"]]
            overview += [(t("home.waiting_pupil"), f"{p['name']} ({p['pupil']})", t(f"reason.{p['reason']}")) for p in d["waiting_pupils"]]
            overview += [(t("home.waiting_mentor"), f"{m['name']} ({m['staff']})", t(f"reason.{m['reason']}")) for m in d["waiting_mentors"]]
            overview += [(t("home.dropped_out"), f"{p['name']} ({p['pupil']})", "") for p in d["dropped_out"]]
            overview += [(t("home.incident"), names.get(i["pupil"], i["pupil"]), t(f"need.{i['need']}")) for i in d["incidents"]]
            self.table("#home-school", ("what", "who", "detail"), overview)

    @on(DataTable.RowSelected, "#home-mine")
    def _open(self, event: DataTable.RowSelected) -> None:
        pupil, duty, _ = str(event.row_key.value).split("|")
        kind = duty if duty in rules.CONTACT_KINDS else "talk"
        self.app.action_record("contact", {"PUPIL_ID": pupil, "--kind": kind})


class PupilsPane(Pane):
    BINDINGS = [Binding("slash", "focus_search", "Search", id="pupils.search")]

    def __init__(self, **kw):
        super().__init__(**kw)
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        with Horizontal(classes="filters"):
            yield Input(placeholder=self.t("pupils.search"), id="pupil-search")
            yield Select([(self.t(f"category.{c}"), c) for c in rules.CATEGORIES], prompt=self.t("col.category"), id="pupil-category")
            yield Select(
                [(self.t(f"status.{s}"), s) for s in rules.PUPIL_STATUSES], prompt=self.t("col.status"), id="pupil-status"
            )
        yield DataTable(id="pupil-table", cursor_type="row", zebra_stripes=True)

    def action_focus_search(self) -> None:
        self.query_one("#pupil-search", Input).focus()

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
            and (cat is Select.NULL or cat in r["categories"])
            and (status is Select.NULL or r["status"] == status)
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
                    "、".join(t(f"category.{c}") for c in r["categories"]),
                    t(f"status.{r['status']}"),
                    r["mentor"] or "-",
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


class QueuePane(Pane):
    BINDINGS = [Binding("y", "confirm", "Confirm pair", id="queue.confirm")]

    def compose(self) -> ComposeResult:
        # one above the other: side by side at 80 columns, each table lost its last columns
        # (since when, and why, a pupil or a mentor is waiting)
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
        names = {p["pupil"]: p["name"] for p in d["pupils"]}
        staff = {m["staff"]: m["name"] for m in d["mentors"]}
        self.table(
            "#queue-suggestions",
            ("mentor", "pupil_named"),
            [(f"{staff.get(s['staff'], '')} ({s['staff']})", f"{names.get(s['pupil'], '')} ({s['pupil']})") for s in d["suggestions"]],
            [f"{s['staff']}|{s['pupil']}" for s in d["suggestions"]],
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
        table = self.query_one("#queue-suggestions", DataTable)
        if not table.row_count or self.app.when.is_history:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        staff, pupil = str(key).split("|")
        self.app.record_now("pair", {"STAFF_ID": staff, "PUPIL_ID": pupil})

    @on(DataTable.RowSelected, "#queue-suggestions")
    def _selected(self) -> None:
        self.action_confirm()


class CompliancePane(Pane):
    def compose(self) -> ComposeResult:
        yield Static(id="compliance-summary")
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
        rate = d["school"]["rate"]
        self.query_one("#compliance-summary", Static).update(
            t("compliance.summary", start=d["from"], end=d["to"], rate="-" if rate is None else f"{rate:.0%}")
        )
        duties = rules.DUTIES
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
        self.table(
            "#compliance-mentors",
            ("staff", "name", "rate"),
            [(m["staff"], m["name"] or "", "-" if m["rate"] is None else f"{m['rate']:.0%}") for m in d["mentors"]],
        )
        self.table(
            "#compliance-classes",
            ("grade", "class", "rate"),
            [(str(c["grade"]), str(c["class"]), "-" if c["rate"] is None else f"{c['rate']:.0%}") for c in d["classes"]],
        )

    @on(DataTable.RowSelected, "#compliance-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.open_pupil(str(event.row_key.value))


class AidPane(Pane):
    def compose(self) -> ComposeResult:
        yield Static(id="aid-totals")
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
        totals = "  ".join(f"{t(f'aid.{k}')}: {v}" for k, v in ledger["totals"].items())
        self.query_one("#aid-totals", Static).update(totals or "-")
        names = dict(self.app.pupils)  # (id, name) of the school's pupils, learnt at start-up
        self.table(
            "#aid-table",
            ("date", "pupil", "kind", "amount", "fund", "revoked"),
            [
                (
                    g["date"],
                    f"{names[g['pupil']]} ({g['pupil']})" if names.get(g["pupil"]) else g["pupil"],
                    t(f"aid.{g['kind']}"),
                    g["amount"] or g["items"] or "",
                    g["fund"],
                    "✓" if g["revoked"] else "",
                )
                for g in reversed(ledger["grants"])
            ],
        )
        self.table(
            "#aid-notice",
            ("name", "class", "kind", "amount"),
            [(r["name"], r["class"], t(f"aid.{r['kind']}"), r["amount"] or "") for r in notice["notice"]],
        )


class AuditPane(Pane):
    BINDINGS = [
        Binding("pageup", "page(-1)", "Earlier", id="audit.earlier"),
        Binding("pagedown", "page(1)", "Later", id="audit.later"),
    ]

    def __init__(self, **kw):
        super().__init__(**kw)
        self.rows: list[dict] = []
        self.page_start = 0

    def compose(self) -> ComposeResult:
        with Horizontal(classes="filters"):
            yield Input(placeholder=self.t("audit.actor"), id="audit-actor")
            yield Input(placeholder=self.t("audit.pupil"), id="audit-pupil")
            yield Select([(self.t(f"type.{n}"), n) for n in _event_types()], prompt=self.t("col.type"), id="audit-type")
        yield Static(id="audit-status")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)

    def load(self, when):
        actor = self.query_one("#audit-actor", Input).value.strip() or None
        pupil = self.query_one("#audit-pupil", Input).value.strip() or None
        kind = self.query_one("#audit-type", Select).value
        types = () if kind is Select.NULL else (kind,)
        return self.app.backend.history(pupil, when, actor=actor, types=types)

    def paint(self, rows: list[dict]) -> None:
        self.rows = rows
        self.page_start = max(0, len(rows) - PAGE)  # newest page first
        self.show_page()

    def show_page(self) -> None:
        t = self.t
        page = self.rows[self.page_start : self.page_start + PAGE][::-1]  # newest first
        self.query_one("#audit-status", Static).update(
            t("audit.page", first=self.page_start + 1 if page else 0, last=self.page_start + len(page), total=len(self.rows))
        )
        self.table(
            "#audit-table",
            ("seq", "type", "subject", "date", "recorded_at", "actor", "flags"),
            [
                (
                    str(r["seq"]),
                    t(f"type.{r['type']}"),
                    r["subject"],
                    r["date"],
                    (r["recorded_at"] or "")[:16].replace("T", " "),
                    r["actor"],
                    ",".join(t(f"flag.{f}") for f in r["flags"]),
                )
                for r in page
            ],
        )

    def action_page(self, direction: int) -> None:
        start = self.page_start + direction * PAGE
        self.page_start = max(0, min(start, max(0, len(self.rows) - PAGE)))
        self.show_page()

    @on(Input.Submitted)
    @on(Select.Changed)
    def _filter(self) -> None:
        self.reload()


def _event_types() -> list[str]:
    from events.types import EVENT_TYPES

    return [cls.__name__ for cls in EVENT_TYPES]
