"""A pupil's file."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Collapsible, DataTable, Footer, Header, Label, Static

from careterm.access import log_opening
from careterm.i18n import Translator
from careterm.said import FACTS, has_said, keyed_parts
from careterm.shown import local_time, money, printable
from careterm.tui.bindings import Translated
from careterm.tui.messages import Loaded, ReportsWorkErrors
from careterm.tui.plain import fill_table
from careterm.tui.words import status_cell


class PupilScreen(ReportsWorkErrors, Translated, Screen):
    """A pupil's file: profile, family, categories, mentor, duties, aid, the whole timeline."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="pupil.back"),
        Binding("n", "contact", "Contact", id="pupil.contact"),
        Binding("e", "export_archive", "Export file", id="pupil.export_archive"),
        Binding("p", "export_report", "Semester sheet", id="pupil.export_report"),
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
        yield Static(id="pupil-entry", markup=False)  # the record under the cursor: what was said, its note
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
        rows, keys = [], []
        for r in reversed(d["timeline"]):
            e = r["event"]
            detail = detail_of(t, e)
            if r.get("withheld"):  # a counselling record the reader may not read: that it was held, no more
                detail = f"{detail} {t('pupil.withheld')}"
            if r["corrects"]:
                detail = "→ #" + str(self.seq_of.get(r["corrects"], "?"))
            if r.get("school"):  # an entry of the school the pupil came from (read only)
                detail = t("pupil.from_school", school=r["school_name"] or r["school"], detail=detail)
            if getattr(e, "note", "") or (e.type == "ContactMade" and has_said(e)):
                detail = f"{detail} ✎".strip()  # it has a note or what was said: shown under the table
            flags = ",".join(t(f"flag.{f}") for f in r["flags"])
            rows.append((r["date"], t(f"type.{r['type']}"), detail, r["actor"], local_time(r["recorded_at"], d["zone"]), flags))
            keys.append(r["id"])
        columns = ("date", "type", "detail", "actor", "recorded_at", "flags")
        fill_table(table, [t(f"col.{c}") for c in columns], rows, keys, widest=200)  # a detail is read whole
        self.show_entry(table)

    @on(DataTable.RowHighlighted, "#pupil-timeline")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_entry(event.data_table)

    def _row_under_cursor(self, table: DataTable) -> dict | None:
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return getattr(self, "rows", {}).get(key)

    def show_entry(self, table: DataTable) -> None:
        """Under the table, what was said in the record under the cursor and its note, line by
        line (nothing: no panel). What does not fit the panel is cut with a line saying that
        Enter shows it all."""
        panel = self.query_one("#pupil-entry", Static)
        row = self._row_under_cursor(table)
        width = max(20, self.size.width - 2)  # the panel's padding
        text = note_text(self.app.t, row, self.app.console, width) if row else None
        if text is not None:
            room = max(2, int(panel.styles.max_height.value) if panel.styles.max_height else 8)
            lines = text.plain.splitlines()
            if len(lines) > room:
                text = Text("\n".join([*lines[: room - 1], self.app.t("pupil.entry_more")]))
        panel.display = text is not None
        panel.update(text or "")

    @on(DataTable.RowSelected, "#pupil-timeline")
    def _selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a record: all of what was said and its note, in a window of its own."""
        row = self._row_under_cursor(event.data_table)
        width = min(76, self.size.width) - 6  # the window's border, padding and a scroll bar
        text = note_text(self.app.t, row, self.app.console, width) if row else None
        if text is not None:
            self.app.push_screen(SaidScreen(text))

    def action_contact(self) -> None:
        self.app.action_record("contact", {"PUPIL_ID": self.pupil})

    def action_export_archive(self) -> None:
        """The pupil's 专项个人档案 (.docx) into the export folder (careterm/paperwork/pupil_archive.py)."""
        from careterm.paperwork.pupil_archive import write_archive
        from careterm.tui.exporting import export_file

        when, pupil = self.app.when, self.pupil
        title = f"{self.app.t('doc.archive.title')}-{dict(self.app.pupils).get(pupil, pupil)}"
        export_file(self, title, "docx", lambda ws, path: write_archive(ws, path, pupil, as_of=when.as_of, known_at=when.known_at))

    def action_export_report(self) -> None:
        """The parents' 学期信息表 of the current semester (careterm/paperwork/semester_sheet.py)."""
        from careterm.paperwork.semester_sheet import write_report
        from careterm.tui.exporting import export_file

        when, pupil = self.app.when, self.pupil
        title = f"{self.app.t('doc.report.title')}-{dict(self.app.pupils).get(pupil, pupil)}"
        export_file(self, title, "docx", lambda ws, path: write_report(ws, path, pupil, None, as_of=when.as_of, known_at=when.known_at))


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


def _labelled(label: str, text: str, console=None, width: int | None = None) -> list[str]:
    """label + the text's first line, the next lines under it in the same column; with a
    console and a width, a line too long for it goes on under its first, in that column too."""
    pad = Text(label).cell_len
    room = max(8, width - pad) if console is not None and width else None
    out: list[str] = []
    for line in text.splitlines() or [""]:
        pieces = [p.plain for p in Text(line).wrap(console, room)] if room and line else [line]
        for piece in pieces or [""]:
            out.append((label if not out else " " * pad) + piece)
    return out


def note_text(t: Translator, row: dict, console=None, width: int | None = None) -> Text | None:
    """What was said in a record and its note, for a person; None if it has neither.

    记录（#12）：方式：面谈　时长：20 分钟　话题：学习、安全 (the short parts on one line), then each
    text of what was said (内容摘要：…, 学习情况：…) and 备注（#12）：…, each labelled, its next lines
    (and, given a width, the rest of a long line) under its first. Everything is plain text: a
    summary like "[b]" is drawn as typed."""
    event = row["event"]
    colon, gap = ("：", "　") if t.lang == "zh" else (": ", "  ")
    lines: list[str] = []
    if event.type == "ContactMade":
        parts = keyed_parts(t, event)
        facts = [f"{label}{colon}{text}" for key, label, text in parts if key in FACTS]
        if facts:
            lines += _labelled(t("pupil.said_of", seq=row["seq"]), gap.join(facts), console, width)
        for key, label, text in parts:
            if key not in FACTS:
                lines += _labelled(f"{label}{colon}", text, console, width)
    note = getattr(event, "note", "") or ""
    if note.splitlines():
        lines += _labelled(t("pupil.note_of", seq=row["seq"]), note, console, width)
    return Text(printable("\n".join(lines))) if lines else None


class SaidScreen(ModalScreen):
    """One record's what was said and note in full (Enter on the pupil file's timeline)."""

    BINDINGS = [Binding("escape,enter", "app.pop_screen", "Back", id="said.close")]
    DEFAULT_CSS = """
    SaidScreen { align: center middle; }
    #said { width: 76; max-width: 100%; height: auto; max-height: 90%; border: thick $accent; background: $surface; padding: 0 1; }
    #said-text { height: auto; }
    """

    def __init__(self, text: Text):
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="said"):
            yield Static(self.text, id="said-text", markup=False)

    def on_mount(self) -> None:
        from careterm.tui.bindings import translate_bindings

        translate_bindings(self, self.app.t)
        self.query_one("#said", VerticalScroll).focus()

