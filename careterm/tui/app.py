"""The terminal app: staff browse and record, by keyboard, at 80×24, over SSH.

All store work runs in worker threads (`Backend` behind a lock); handlers on the UI thread only
paint. Another process's writes show within a second or two: a timer asks the store for its log
position and reloads the open tab when it moves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from dataclasses import replace
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.app import SystemCommand
from textual.command import CommandList, CommandPalette, Hit, Hits, Provider
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Collapsible, DataTable, Footer, Header, Input, Label, OptionList, Static, TabbedContent, TabPane

from careterm.i18n import Translator
from careterm.shown import local_time, money
from careterm.tui.plain import plain_cells
from careterm.tui.search import initials
from careterm.tui.backend import Backend, When
from careterm.tui.forms import FORMS, FormScreen
from careterm.tui.panes import AidPane, AuditPane, CompliancePane, HomePane, Pane, PupilsPane, QueuePane, status_cell
from careterm.values import parse_date, parse_time
from careterm.workspace import Workspace
from events.commands import RETRACTABLE
from events.errors import Refused

TABS = ("home", "pupils", "queue", "compliance", "aid", "audit")
PANES = {"home": HomePane, "pupils": PupilsPane, "queue": QueuePane, "compliance": CompliancePane, "aid": AidPane, "audit": AuditPane}
POLL_SECONDS = 1.0


def translate_bindings(node, t: Translator) -> None:
    """Binding descriptions come from the catalog, by binding id (`key.<id>`)."""
    bindings = node._bindings.key_to_bindings
    for key, found in bindings.items():
        bindings[key] = [replace(b, description=t(f"key.{b.id}")) if b.id else b for b in found]


class Translated:
    def on_mount(self) -> None:
        translate_bindings(self, self.app.t)
        self.refresh_bindings()


class CaretermCommands(Provider):
    """The command palette: every recording form and every tab, by name or by pinyin initials
    (jlbflx finds 记录帮扶联系), as the pupil search finds pupils."""

    async def startup(self) -> None:
        app = self.app
        commands = [(app.t(f"form.{key}"), partial(app.action_record, key), "palette.record") for key in FORMS]
        commands += [(app.t(f"tab.{tab}"), partial(app.action_tab, tab), "palette.tab") for tab in TABS]
        # pypinyin loads on first use: in a thread, not on the UI's
        self.commands = await asyncio.to_thread(lambda: [(name, initials(name), run, help) for name, run, help in commands])

    async def search(self, query: str) -> Hits:
        app = self.app
        matcher = self.matcher(query)
        typed = query.strip().lower()
        for name, letters, run, help in self.commands:
            score = matcher.match(name)
            if typed.isascii() and typed and letters.startswith(typed):
                score = max(score, 0.5 + 0.5 * len(typed) / max(len(letters), 1))
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=app.t(help))


class Palette(CommandPalette):
    """Textual's command palette, with its own words from the catalog."""

    def __init__(self, **kw):
        super().__init__(placeholder=kw.pop("placeholder", None) or self.app_t("palette.placeholder"), **kw)

    @staticmethod
    def app_t(key: str) -> str:
        from textual._context import active_app

        return active_app.get().t(key)

    def _start_no_matches_countdown(self, search_value: str) -> None:
        """As Textual's, but 'no matches' in the user's language (Textual's text is fixed English)."""
        from rich.align import Align
        from textual.widgets.option_list import Option

        self._stop_no_matches_countdown()

        def show() -> None:
            if search_value:
                text = Text(self.app.t("palette.no_matches"), style="not bold")
                self.query_one(CommandList).add_option(Option(Align.center(text), disabled=True, id=self._NO_MATCHES))
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show)


class CaretermApp(App):
    CSS_PATH = "careterm.tcss"
    TITLE = "careterm"
    COMMANDS = App.COMMANDS | {CaretermCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="help"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        *[Binding(str(i + 1), f"tab('{tab}')", tab, id=f"tab.{tab}", show=False) for i, tab in enumerate(TABS)],
        Binding("r", "record_menu", "Record", id="record"),
        Binding("n", "record('contact')", "Contact", id="record.contact"),
        Binding("t", "time_travel", "History", id="time_travel"),
        Binding("s", "switch_school", "School", id="switch_school"),
        Binding("escape", "back_to_now", "Now", id="back_to_now", show=False),
        Binding("ctrl+z", "retract_last", "Retract", id="retract_last"),
        # ours, so that Textual adds no English one: the footer shows its description
        Binding("ctrl+p", "command_palette", "Commands", id="palette", show=False, priority=True),
    ]

    def __init__(self, workspace: Workspace, *, keymap: dict[str, str] | None = None):
        super().__init__()
        self.ws = workspace
        self.backend = Backend(workspace)
        self.t = workspace.t
        self.when = When()
        self.today = dt.date.today()
        self.seen_head = -1
        self.school_count = 1  # learnt by the first load (no store call on the UI thread)
        self.pupils: list[tuple[str, str]] = []
        self.staff: list[tuple[str, str]] = []
        self.zone = None  # the school's time zone, learnt by the first load
        self.last_entry = None  # the entry just recorded here, offered for retracting
        translate_bindings(self, self.t)
        if keymap:
            self.set_keymap(keymap)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="history-banner", markup=False)
        with TabbedContent(id="tabs"):
            for i, tab in enumerate(TABS):
                with TabPane(f"{i + 1} {self.t(f'tab.{tab}')}", id=f"tab-{tab}"):
                    yield PANES[tab](id=f"pane-{tab}")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "careterm"
        theme = os.environ.get("CARETERM_THEME")  # e.g. ansi-dark: the terminal's own 16 colours
        if theme in self.available_themes:
            self.theme = theme
        self.set_subtitle()
        self.start()
        self.set_interval(POLL_SECONDS, self.poll)

    def set_subtitle(self) -> None:
        parts = [self.ws.actor or "-", self.today.isoformat()]
        if self.when.is_history:
            parts.append(self.t("history.short"))
        self.sub_title = " · ".join(parts)
        self.screen.set_class(self.when.is_history, "history")
        # history is marked on a line of its own, in full, whatever the width
        banner = self.query("#history-banner")
        if banner:
            parts = []
            if self.when.as_of:
                parts.append(self.t("history.as_of", as_of=self.when.as_of.isoformat()))
            if self.when.known_at:
                parts.append(self.t("history.known_at", known_at=local_time(self.when.known_at, self.zone or "UTC")))
            text = self.t("history.banner", what="，".join(parts) if self.t.lang == "zh" else ", ".join(parts))
            banner.first(Static).update(text if self.when.is_history else "")
            banner.first().display = self.when.is_history

    # -- loading -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="start")
    def start(self) -> None:
        """First load: who is who (for the forms' suggestions), today, the school's name."""
        name, day, pupils, staff = self.backend.people()
        head = self.backend.head()
        schools = len(self.backend.schools())
        zone = self.backend.zone()
        self.call_from_thread(self._started, name, day, pupils, staff, head, schools, zone)

    def _started(self, name: str, day: dt.date, pupils, staff, head: int, schools: int, zone=None) -> None:
        self.title = f"careterm · {name}"
        self.today, self.pupils, self.staff, self.seen_head = day, pupils, staff, head
        self.zone = zone or self.zone
        if schools != self.school_count:
            self.school_count = schools
            self.refresh_bindings()
        self.set_subtitle()
        self.reload_visible()

    def reload_visible(self) -> None:
        if isinstance(self.screen, PupilScreen):
            self.screen.reload()
        tabs = self.query("#tabs")
        if not tabs:  # not mounted yet, or another screen on top: the tab reloads when shown
            return
        active = (tabs.first(TabbedContent).active or "tab-home").removeprefix("tab-")
        self.query_one(f"#pane-{active}", Pane).reload()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        panes = event.pane.query(Pane)
        if not panes:  # activations while the tabs are still being built
            return
        if self.seen_head >= 0:  # after start-up; the first load comes from start()
            panes.first().reload()

    @work(thread=True, exclusive=True, group="poll")
    def poll(self) -> None:
        head = self.backend.head()
        if head != self.seen_head:
            self.call_from_thread(self._changed, head)
        elif self.seen_head >= 0:
            self.backend.save_due()  # nothing new to show: a good moment to save the read model

    def _changed(self, head: int) -> None:
        first = self.seen_head == -1  # the first poll after start-up: start() already loaded
        self.seen_head = head
        if not first:
            self.start()

    # -- actions -----------------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        if isinstance(self.screen, PupilScreen):
            self.pop_screen()
        tabs = self.query_one("#tabs", TabbedContent)
        # let go of the focus first: a focused table in the tab being hidden would pass the focus
        # to its neighbour there, and that tab would come back for a moment (and load again)
        self.set_focus(None)
        tabs.active = f"tab-{tab}"

        def focus() -> None:  # the pane's own keys work at once: its first table, not the tab bar
            if tabs.active == f"tab-{tab}":  # unless another tab key came first
                self.query_one(f"#pane-{tab}", Pane).focus_first()

        self.call_after_refresh(focus)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # -- Textual's own words, in the user's language ----------------------------------------------

    def action_help_quit(self) -> None:
        """Ctrl+C: say how to quit (Textual's toast is in English)."""
        self.notify(self.t("quit.how", keys=self.key_of("quit")), title=self.t("quit.title"))

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(Palette(id="--command-palette"))

    def action_change_theme(self) -> None:
        from textual.theme import ThemeProvider

        self.push_screen(Palette(providers=[ThemeProvider], placeholder=self.t("palette.theme_placeholder")))

    def get_system_commands(self, screen: Screen):
        """The palette's built-in commands, named from the catalog (Textual's keys panel and screenshot,
        which speak English, are left out: F1 is our help)."""
        t = self.t
        yield SystemCommand(t("palette.theme"), t("palette.theme_help"), self.action_change_theme)
        yield SystemCommand(t("palette.help"), t("palette.help_help"), self.action_help)
        yield SystemCommand(t("palette.quit"), t("palette.quit_help"), self.action_quit)

    def action_record_menu(self) -> None:
        if self.when.is_history:
            self.notify(self.t("history.read_only"), severity="warning")
            return
        self.push_screen(RecordMenu(), lambda key: key and self.action_record(key))

    def action_record(self, key: str, prefill: dict | None = None) -> None:
        if self.when.is_history:
            self.notify(self.t("history.read_only"), severity="warning")
            return
        prefill = dict(prefill or {})
        if key == "contact" and "PUPIL_ID" not in prefill:
            mine = [p for p, _ in self.pupils if p in self._my_pupils()]
            if len(mine) == 1:
                prefill["PUPIL_ID"] = mine[0]
        self.push_screen(FormScreen(FORMS[key], prefill=prefill, pupils=self.pupils, staff=self.staff), self._recorded)

    def _my_pupils(self) -> list[str]:
        try:
            pane = self.query_one("#pane-home", HomePane)
        except Exception:
            return []
        return getattr(pane, "my_pupils", [])

    def record_now(self, key: str, values: dict) -> None:
        """Record without a form (one key confirms a suggested pair)."""
        self._record_now(key, values)

    @work(thread=True, exclusive=True, group="record")
    def _record_now(self, key: str, values: dict) -> None:
        try:
            events = self.backend.record(FORMS[key].build(values))
        except Refused as refused:
            self.call_from_thread(self.notify, self.t.refusal(refused.field, refused.code, refused.params), severity="error", markup=False)
            return
        self.call_from_thread(self._recorded, events)

    def _recorded(self, events) -> None:
        if events:
            message = self.t("recorded") + "：" + "、".join(self.t(f"type.{e.type}") for e in events)
            self.last_entry = next((e for e in events if e.type in RETRACTABLE), None)
            if self.last_entry is not None:
                message += "\n" + self.t("recorded.retract", keys=self.key_of("retract_last"))
            self.notify(message, markup=False)
            self.refresh_bindings()
            self.seen_head = -2  # force a reload on the next poll
            self.poll()

    def key_of(self, binding_id: str) -> str:
        """How the key of a binding is shown (the user's keymap may have moved it)."""
        for found in self._bindings.key_to_bindings.values():
            for b in found:
                if b.id == binding_id:
                    return self.get_key_display(b)
        return ""

    def action_retract_last(self) -> None:
        """The retract form for the entry just recorded, with its id filled in: only the reason is asked."""
        entry, self.last_entry = self.last_entry, None
        if entry is None or self.when.is_history:
            return
        self.refresh_bindings()
        names = dict(self.pupils)
        pupils = [getattr(entry, "pupil", None)] if getattr(entry, "pupil", None) else list(getattr(entry, "pupils", []))
        who = "、".join(names.get(p) or p for p in pupils)
        about = self.t("retract.about", what=self.t(f"type.{entry.type}"), who=who or "-", date=entry.date.isoformat())
        form = FormScreen(FORMS["retract"], prefill={"EVENT_ID": entry.id}, pupils=self.pupils, staff=self.staff, about=about)
        self.push_screen(form, self._recorded)

    def action_time_travel(self) -> None:
        self.push_screen(TimeTravelScreen(self.when), self._travel)

    def _travel(self, when: When | None) -> None:
        if when is None:
            return
        self.when = when
        self.set_subtitle()
        self.reload_visible()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "switch_school":
            return self.school_count > 1  # only district staff have another school
        if action == "retract_last":  # not from inside a form or menu
            return self.last_entry is not None and not isinstance(self.screen, ModalScreen)
        return True

    def action_switch_school(self) -> None:
        """District staff: look at (and record for) another school of the store."""
        self.push_screen(SchoolMenu(), self._switched)

    def _switched(self, school: str | None) -> None:
        if school:
            self.backend.switch_school(school)
            self.seen_head = -2
            self.start()

    def action_back_to_now(self) -> None:
        if self.when.is_history:
            self._travel(When())

    def open_pupil(self, pupil: str) -> None:
        self.push_screen(PupilScreen(pupil))


class PupilScreen(Translated, Screen):
    """A pupil's file: profile, family, categories, mentor, duties, aid, the whole timeline."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="pupil.back"),
        Binding("n", "contact", "Contact", id="pupil.contact"),
    ]

    def __init__(self, pupil: str):
        super().__init__()
        self.pupil = pupil

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

    @work(thread=True, exclusive=True)
    def fetch(self, when) -> None:
        data = self.app.backend.pupil_file(self.pupil, when)
        self.app.call_from_thread(self.paint, data)

    def paint(self, d: dict) -> None:
        t = self.app.t
        p = d["pupil"]
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
        from rich.text import Text

        # the name in bold, as text: a name like "[/]李雷" is drawn as typed, never as markup
        self.query_one("#pupil-profile", Static).update(Text.assemble((p["name"], "bold"), "\n".join(lines)))
        details = [f"{t('profile.' + key)}: {value}" for key, value in (p.get("profile") or {}).items()]
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
    if e.type == "AidGranted":
        return f"{t(f'aid.{e.kind}')} {money(e.amount, t.lang) if e.amount else (e.items or '')}".strip()
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


class HelpScreen(Translated, ModalScreen):
    BINDINGS = [Binding("escape,f1", "app.pop_screen", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        t = self.app.t
        tabs = self.app.query_one("#tabs", TabbedContent)
        active = (tabs.active or "tab-home").removeprefix("tab-")
        keys = []
        seen = set()
        for node in (self.app, self.app.query_one(f"#pane-{active}")):  # the app's keys, then the tab's
            for _, found in sorted(node._bindings.key_to_bindings.items()):
                for b in found:
                    if b.id and b.id not in seen:
                        seen.add(b.id)
                        keys.append(f"  {self.app.get_key_display(b):>8}  {t(f'key.{b.id}')}")
        with VerticalScroll(id="help"):
            yield Static(f"[b]{t(f'tab.{active}')}[/b]\n{t(f'help.{active}')}\n\n{t('help.keys')}\n" + "\n".join(keys))


class RecordMenu(Translated, ModalScreen[str]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="menu.cancel")]

    def compose(self) -> ComposeResult:
        t = self.app.t
        options = OptionList(*[t(f"form.{key}") for key in FORMS], id="record-menu")
        yield options

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(list(FORMS)[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class SchoolMenu(Translated, ModalScreen[str]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="school.cancel")]

    def compose(self) -> ComposeResult:
        yield OptionList(id="school-menu")

    def on_mount(self) -> None:
        super().on_mount()
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        schools = self.app.backend.schools()
        self.app.call_from_thread(self.show, schools)

    def show(self, schools: list[tuple[str, str]]) -> None:
        self.ids = [sid for sid, _ in schools]
        menu = self.query_one(OptionList)
        menu.add_options([f"{name} ({sid})" for sid, name in schools])
        menu.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.ids[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class TimeTravelScreen(Translated, ModalScreen[When]):
    """Any view as it was: as of a date (the state that day) and/or known at a time."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="travel.cancel")]

    def __init__(self, when: When):
        super().__init__()
        self.when = when

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#as-of", Input).focus()

    def compose(self) -> ComposeResult:
        t = self.app.t
        with VerticalScroll(id="form"):
            yield Static(t("history.title"), classes="form-title")
            yield Label(t("field.as_of"), classes="field-label")
            yield Input(value=self.when.as_of.isoformat() if self.when.as_of else "", placeholder="2026-03-15", id="as-of")
            yield Label("", id="as-of-error", classes="error", markup=False)
            yield Label(t("field.known_at"), classes="field-label")
            yield Input(value=local_time(self.when.known_at, self.app.zone or "UTC") if self.when.known_at else "", placeholder="2026-03-01 18:00", id="known-at")
            yield Label("", id="known-at-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(t("button.go"), id="go", variant="primary")
                yield Button(t("button.now"), id="now")

    @on(Button.Pressed, "#go")
    @on(Input.Submitted)
    def _go(self) -> None:
        raw_date = self.query_one("#as-of", Input).value.strip()
        raw_time = self.query_one("#known-at", Input).value.strip()
        try:
            as_of = parse_date(raw_date, "--as-of") if raw_date else None
            known_at = school_time(raw_time, self.app.zone) if raw_time else None
        except Refused as refused:
            target = "#as-of-error" if refused.field == "--as-of" else "#known-at-error"
            self.query_one(target, Label).update(self.app.t(f"refused.{refused.code}", **refused.params))
            return
        self.dismiss(When(as_of, known_at))

    @on(Button.Pressed, "#now")
    def _now(self) -> None:
        self.dismiss(When())

    def action_cancel(self) -> None:
        self.dismiss(None)


def school_time(raw: str, zone) -> dt.datetime:
    """A recording time typed in the app: with no offset it is the school's wall-clock time."""
    moment = parse_time(raw, "--known-at")
    try:
        naive = dt.datetime.fromisoformat(raw.strip()).tzinfo is None
    except ValueError:  # a form parse_time reads and fromisoformat does not: keep what parse_time made of it
        naive = False
    return moment.replace(tzinfo=zone) if naive and zone is not None else moment


def _hung_up(signum, frame) -> None:
    """The terminal is gone (SSH dropped, the window closed): end at once. Nothing more can be
    shown, and nothing is lost: every entry was written when it was saved (a write cut short
    is rolled back by the database). A graceful exit could wait on a terminal that no longer
    answers; one start in three lived on that way, holding the store open."""
    os._exit(128 + signal.SIGHUP)


def run(workspace: Workspace, keymap: dict[str, str] | None = None) -> int:
    if hasattr(signal, "SIGHUP"):  # from the first line of the app's life to its last
        signal.signal(signal.SIGHUP, _hung_up)
    app = CaretermApp(workspace, keymap=keymap)
    app.run()
    workspace.close()
    return 0
