"""A pupil's file."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Collapsible, DataTable, Footer, Header, Label, Static

from careterm.access import log_opening
from careterm.i18n import Translator
from careterm.shown import local_time, money
from careterm.tui.bindings import Translated
from careterm.tui.messages import Loaded, ReportsWorkErrors
from careterm.tui.plain import plain_cells
from careterm.tui.words import status_cell


class PupilScreen(ReportsWorkErrors, Translated, Screen):
    """A pupil's file: profile, family, categories, mentor, duties, aid, the whole timeline."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="pupil.back"),
        Binding("n", "contact", "Contact", id="pupil.contact"),
    ]

    def __init__(self, pupil: str):
        super().__init__()
        self.pupil = pupil
        self.opened = 0  # this opening's row in the access log, once logged

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="pupil-profile", markup=False)
            yield Static(id="pupil-duties", markup=False)
            # the long profile (family, study, health…) folded away: the records show at once
            with Collapsible(title=self.app.t("pupil.details"), collapsed=True, id="pupil-more"):
                yield Static(id="pupil-details", markup=False)
            yield Label(self.app.t("pupil.timeline"), classes="section")
            yield DataTable(id="pupil-timeline", cursor_type="row", zebra_stripes=True)
        yield Static(id="pupil-entry", markup=False)  # the record under the cursor, its note in full
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.reload()

    def reload(self) -> None:
        self.fetch(self.app.when)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def fetch(self, when) -> None:
        data = self.app.backend.pupil_file(self.pupil, when)
        # who looked: the first load is the opening (not a repaint, nor a restricted file showing
        # nothing but name, grade, class and status; one with the reader's own entries is, as in `history`)
        with self.app.backend.lock:
            if not self.opened and (not data["pupil"].get("restricted") or data["timeline"]):
                self.opened = log_opening(self.app.backend.ws, self.pupil, "tui")
        self.post_message(Loaded(data))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.paint(message.data)

    def paint(self, d: dict) -> None:
        t = self.app.t
        p = d["pupil"]
        if p.get("restricted"):  # outside the reader's view: what anyone sees, and why no more
            p = {**p, "categories": [], "mentor": None, "profile": {}, "incomplete": []}
            d = {**d, "duties": {}, "aid": []}
        guardian = p.get("guardian") or {}
        # a space on each side of a phone number: a line breaks there, never inside the number
        parents = "； ".join(f"{x['name']}（{x['relation']}，{x['workplace']}） {x['phone']}" for x in p.get("parents", []))
        status = t("status." + str(p["status"]))
        categories = "、".join(t("category." + c) for c in p["categories"]) or "-"
        gender = t(f"gender.{p['gender']}") if p.get("gender") else ""
        lines = [
            f"  {p['pupil']}  {gender}  {t('col.grade')} {p['grade']}  {t('col.class')} {p['class']}  {status}",
            f"{t('col.categories')}: {categories}",
            f"{t('col.mentor')}: {p['mentor'] or '-'}",
            f"{t('pupil.guardian')}: {guardian.get('name', '-')} {guardian.get('relation', '')} {guardian.get('phone', '')}",
            f"{t('pupil.parents')}: {parents or '-'}",
        ]
        # a left-behind pupil's file that lacks what the mentor must know (projections.completeness)
        gaps = p.get("incomplete") or []
        warning = ("\n" + t("file.incomplete", missing=t.names(gaps, "missing.")), "bold red") if gaps else ""
        # the name in bold, as text: a name like "[/]李雷" is drawn as typed, never as markup
        self.query_one("#pupil-profile", Static).update(Text.assemble((p["name"], "bold"), "\n".join(lines), warning))
        details = [f"{t('profile.' + key)}: {value}" for key, value in (p.get("profile") or {}).items()]
        if d["pupil"].get("restricted"):
            details = [t("pupil.restricted")]
        if d["aid"]:
            grants = [f"{g['date']} {t('aid.' + g['kind'])} {money(g['amount'], t.lang) if g['amount'] else g['items']}" for g in d["aid"]]
            details.append(t("pupil.aid") + ": " + "；".join(grants))
        self.query_one("#pupil-details", Static).update("\n".join(details) or "-")
        duties = "  ".join(f"{t('duty.' + k)}: {status_cell(t, v['status'])}" for k, v in d["duties"].items())
        self.query_one("#pupil-duties", Static).update(duties or t("pupil.no_duties"))
        self.seq_of = {r["id"]: r["seq"] for r in d["timeline"]}
        self.rows = {r["id"]: r for r in d["timeline"]}
        table = self.query_one("#pupil-timeline", DataTable)
        table.clear(columns=True)
        table.add_columns(*(t(f"col.{c}") for c in ("date", "type", "detail", "actor", "recorded_at", "flags")))
        for r in reversed(d["timeline"]):
            e = r["event"]
            detail = detail_of(t, e)
            if r.get("withheld"):  # a counselling record the reader may not read: that it was held, no more
                detail = f"{detail} {t('pupil.withheld')}"
            if r["corrects"]:
                detail = "→ #" + str(self.seq_of.get(r["corrects"], "?"))
            if getattr(e, "note", ""):
                detail = f"{detail} ✎".strip()  # it has a note: shown under the table
            table.add_row(
                *plain_cells(
                    r["date"],
                    t(f"type.{r['type']}"),
                    detail,
                    r["actor"],
                    local_time(r["recorded_at"], d["zone"]),
                    ",".join(t(f"flag.{f}") for f in r["flags"]),
                ),
                key=r["id"],
            )
        self.show_entry(table)

    @on(DataTable.RowHighlighted, "#pupil-timeline")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_entry(event.data_table)

    def show_entry(self, table: DataTable) -> None:
        """Under the table, the note of the record under the cursor, line by line (none: no panel)."""
        panel = self.query_one("#pupil-entry", Static)
        row = None
        if table.row_count:
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
            row = getattr(self, "rows", {}).get(key)
        text = note_text(self.app.t, row) if row else None
        panel.display = text is not None
        panel.update(text or "")

    def action_contact(self) -> None:
        self.app.action_record("contact", {"PUPIL_ID": self.pupil})


def detail_of(t: Translator, e) -> str:
    """What a record is about, by names from the catalog (never a code such as `material`)."""
    if e.type in ("ContactMade", "CareActivityHeld"):
        return t(f"kind.{e.kind}")
    if e.type in ("AidGranted", "AidApplied"):
        return f"{t(f'aid.{e.kind}')} {money(e.amount, t.lang) if e.amount else (e.items or '')}".strip()
    if e.type == "AidSurveyed":
        return f"{t(f'survey.{e.result}')} ({t(f'survey.{e.method}')})"
    if e.type == "AidDecided":
        return t("decision.approve" if e.approved else "decision.reject")
    if e.type == "IncidentReported":
        return t(f"need.{e.need}")
    if e.type == "HandbookInspected":
        return t(f"result.{e.result}")
    if e.type == "PairingEnded":
        return t(f"reason.{e.reason}") if f"reason.{e.reason}" != t(f"reason.{e.reason}") else e.reason
    return ""


def note_text(t: Translator, row: dict) -> Text | None:
    """A record's note for a person: 备注（#12）：first line, the next lines under it; None if it has none."""
    lines = (getattr(row["event"], "note", "") or "").splitlines()
    if not lines:
        return None
    label = t("pupil.note_of", seq=row["seq"])
    pad = " " * Text(label).cell_len
    return Text("\n".join([label + lines[0], *(pad + line for line in lines[1:])]))

