"""The tabs of the main screen. Each loads its data in a worker thread and paints it on the UI
thread; none holds a business rule (the views and commands do)."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Select, Static

from careterm import shown
from careterm.tui.forms import ConfirmScreen
from careterm.tui.plain import plain_cells
from events import rules
from projections.audit import FLAGS

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
            self.app.call_from_thread(self.app.notify, str(problem), severity="error", markup=False)
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

    def table(
        self, selector: str, columns: tuple[str, ...], rows: list[tuple], keys: list[str] | None = None, widest: int = 40
    ) -> DataTable:
        from rich.cells import cell_len

        table = self.query_one(selector, DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        # widths from the content, set here: a table filled before its tab was ever laid out
        # would otherwise keep the widths of its headers
        labels = [self.t(f"col.{c}") for c in columns]
        for i, label in enumerate(labels):
            width = max([cell_len(label)] + [cell_len(str(row[i])) for row in rows[:500]])
            table.add_column(label, width=min(width, widest))
        for i, row in enumerate(rows):  # what people typed is drawn as text, never as markup
            table.add_row(*plain_cells(*row), key=keys[i] if keys else None)
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


def due_cell(t, duty: dict) -> str:
    """The date to aim for: the child's birthday for the birthday duty (its `due`, the school
    year's last day, would be the same for every pupil), else when the duty falls due. The duty
    column says which: the date alone keeps the table inside 80 columns."""
    if duty.get("aim"):
        return t("home.birthday_on", date=duty["aim"])
    return duty.get("due") or shown.NONE


class HomePane(Pane):
    def compose(self) -> ComposeResult:
        yield Static(id="home-summary", markup=False)
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
            (f"{names.get(r['pupil'], r['pupil'])} ({r['pupil']})", t(f"duty.{r['duty']}"), status_cell(t, r["status"]), due_cell(t, r), r["last"] or "-")
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
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="pupils.search"),
        Binding("m", "mine", "My pupils", id="pupils.mine"),
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
            and (not self.mine_only or (r["mentor"] is not None and r["mentor"] == self.app.ws.actor))
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
    # `o` sorts by the next column, `O` turns the order round; a click on a heading sorts by it
    BINDINGS = [
        Binding("o", "sort", "Sort", id="compliance.sort"),
        Binding("O", "reverse", "Reverse", id="compliance.reverse"),
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

    @on(DataTable.RowSelected, "#compliance-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.open_pupil(str(event.row_key.value))


class AidPane(Pane):
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
        return self.app.backend.history(pupil, when, actor=actor, types=types, flag=None if flag is Select.NULL else flag)

    def paint(self, rows: list[dict]) -> None:
        self.rows = rows
        self.page_start = max(0, len(rows) - PAGE)  # newest page first
        self.show_page()

    def show_page(self, cursor: int | None = None) -> None:
        t = self.t
        page = self.rows[self.page_start : self.page_start + PAGE][::-1]  # newest first
        self.query_one("#audit-status", Static).update(
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


def people(app) -> dict[str, dict[str, str]]:
    """Names by id, of pupils and of staff (learnt by the app at start-up)."""
    return {"pupil": dict(app.pupils), "staff": dict(app.staff)}


def subject_name(t, names: dict[str, dict[str, str]], subject: str, *, with_id: bool = True) -> str:
    """"pupil/P1" for people: "小明（P1）" (or "小明"), "王老师（T1）", the school."""
    kind, _, ident = subject.partition("/")
    if kind == "school" or not ident:
        return t("entry.the_school")
    name = names.get(kind, {}).get(ident)
    if not name:
        return ident
    return t("named", name=name, id=ident) if with_id else name


def _word(t, prefix: str, value: Any) -> str:
    """An enumerated value by its name in the catalog; any other value as it is."""
    from careterm.i18n import catalog

    key = f"{prefix}.{value}"
    return t(key) if key in catalog(t.lang) else str(value)


def _label(t, key: str) -> str:
    """The name of an entry's field (a pupil's profile fields are named under `profile.`)."""
    from careterm.i18n import catalog

    for prefix in ("entry", "profile"):
        if f"{prefix}.{key}" in catalog(t.lang):
            return t(f"{prefix}.{key}")
    return key


def _cadence(t, cadence: str) -> str:
    days = cadence[:-1] if cadence.endswith("d") else None
    return t("entry.cadence_days", n=days) if days and days.isdigit() else _word(t, "entry.cadence", cadence)


def field_words(t, event, names: dict[str, dict[str, str]], seq_of: dict[str, int]) -> list[tuple[str, str]]:
    """An entry's own fields (not the envelope, not the note) as (label, value) in words."""
    from projections.audit import data_of

    sep = "、" if t.lang == "zh" else ", "
    pupil = lambda p: subject_name(t, names, f"pupil/{p}")  # noqa: E731
    staff = lambda s: subject_name(t, names, f"staff/{s}")  # noqa: E731
    entry = lambda i: f"#{seq_of[i]}" if i in seq_of else str(i)  # noqa: E731

    def person(x: dict) -> str:
        rest = [v for v in (x.get("relation"), x.get("workplace"), x.get("phone")) if v]
        return x.get("name", "") + (f"（{'，'.join(rest)}）" if t.lang == "zh" and rest else f" ({', '.join(rest)})" if rest else "")

    def word(key: str, value: Any) -> str:
        if key in ("pupil",):
            return pupil(value)
        if key in ("staff", "by", "responsible"):
            return staff(value) if value in names["staff"] else str(value)
        if key == "pupils":
            return sep.join(pupil(p) for p in value)
        if key == "kind":
            return _word(t, "aid" if event.type == "AidGranted" else "kind", value)
        if key == "to_kind":
            return _word(t, "kind", value)
        if key in ("category", "gender", "need", "basis", "role"):
            return _word(t, key, value)
        if key == "categories":
            return sep.join(_word(t, "category", c) for c in value)
        if key == "roles":
            return sep.join(_word(t, "role", r) for r in value)
        if key == "result" and event.type == "HandbookInspected":
            return _word(t, "result", value)
        if key == "reason" and event.type == "PairingEnded":
            return _word(t, "reason", value)
        if key == "amount":
            return shown.money(value, t.lang)
        if key in ("incident", "grant"):
            return entry(value)
        if key == "duties":
            return sep.join(f"{_word(t, 'duty', d)}: {_cadence(t, c)}" for d, c in value.items())
        if key == "guardian":
            return person(value)
        if key == "parents":
            return "；".join(person(x) for x in value) if t.lang == "zh" else "; ".join(person(x) for x in value)
        if key == "profile":
            return "；".join(f"{_word(t, 'profile', k)}: {v}" for k, v in value.items())
        if key == "changes":
            return sep.join(f"{_label(t, k)}: {word(k, v)}" for k, v in value.items())
        if isinstance(value, list):
            return sep.join(str(v) for v in value)
        return str(value)

    out = []
    for key, value in data_of(event).items():
        if key == "note" or value in (None, "", [], {}):
            continue
        out.append((_label(t, key), word(key, value)))
    return out


class EntryScreen(ModalScreen):
    """One entry of the audit in full: its fields in words, its note, who recorded it and when
    (in the school's time zone), what it corrects, and what corrected or retracted it since."""

    BINDINGS = [Binding("escape,enter", "app.pop_screen", "Back", id="entry.close")]
    DEFAULT_CSS = """
    EntryScreen { align: center middle; }
    #entry { width: 76; max-width: 100%; height: auto; max-height: 90%; border: thick $accent; background: $surface; padding: 0 1; }
    #entry-text { height: auto; }
    """

    def __init__(self, event_id: str):
        super().__init__()
        self.event_id = event_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="entry"):
            yield Static(self.app.t("entry.loading"), id="entry-text", markup=False)

    def on_mount(self) -> None:
        from careterm.tui.app import translate_bindings

        translate_bindings(self, self.app.t)
        self.query_one("#entry", VerticalScroll).focus()
        self.fetch(self.app.when)

    @work(thread=True, exclusive=True)
    def fetch(self, when) -> None:
        from projections.audit import entry_detail

        rows = self.app.backend.history(None, when)  # the whole trail: what corrected it may be filtered out
        detail = entry_detail(rows, self.event_id)
        self.app.call_from_thread(self.paint, detail, {r["id"]: r["seq"] for r in rows})

    def paint(self, detail: dict | None, seq_of: dict[str, int]) -> None:
        text = self.query_one("#entry-text", Static)
        text.update(entry_text(self.app, detail, seq_of) if detail else self.app.t("entry.gone"))


def entry_text(app, detail: dict, seq_of: dict[str, int]) -> str:
    """The detail view's text (plain: names and notes may hold brackets)."""
    t = app.t
    names = people(app)
    zone = app.zone or "UTC"
    r = detail["entry"]
    event = r["event"]

    def one_line(x: dict) -> str:
        return t(
            "entry.line",
            seq=x["seq"],
            type=t(f"type.{x['type']}"),
            actor=subject_name(t, names, f"staff/{x['actor']}"),
            time=shown.local_time(x["recorded_at"], zone),
        )

    lines = [
        f"{t('type.' + r['type'])}  #{r['seq']}",
        f"{t('col.subject')}: {subject_name(t, names, r['subject'])}",
        f"{t('col.date')}: {r['date']}",
        f"{t('entry.recorded_by')}: {subject_name(t, names, 'staff/' + r['actor'])}",
        f"{t('col.recorded_at')}: {t('entry.in_zone', time=shown.local_time(r['recorded_at'], zone), zone=str(zone))}",
        f"{t('entry.source')}: {_word(t, 'source', r['source'])}",
        f"{t('col.flags')}: {'、'.join(t(f'flag.{f}') for f in r['flags']) or t('entry.no_flags')}",
        "",
    ]
    lines += [f"{label}: {value}" for label, value in field_words(t, event, names, seq_of)]
    if event.note:
        note = event.note.splitlines() or [""]
        lines.append(f"{t('col.note')}: {note[0]}")
        lines += ["  " + line for line in note[1:]]
    if detail["corrects"]:
        lines += ["", f"{t('entry.corrects')}: {one_line(detail['corrects'])}"]
    lines += ["", t("entry.followed_by") + ":"]
    for x in detail["followed_by"]:
        reason = getattr(x["event"], "reason", "")
        lines.append("  " + one_line(x) + (f"  {t('col.reason')}: {reason}" if reason else ""))
    if not detail["followed_by"]:
        lines.append("  " + t("entry.not_followed"))
    return shown.printable("\n".join(lines))  # an escape code stored in a note is shown, not sent


def _event_types() -> list[str]:
    from events.types import EVENT_TYPES

    return [cls.__name__ for cls in EVENT_TYPES]
