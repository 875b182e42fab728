"""The terminal app: staff browse and record, by keyboard, at 80×24, over SSH.

All store work runs in worker threads (`careterm.backend.Backend`, behind a lock); a worker
only posts a typed message (`careterm.tui.messages`) and the handlers on the UI thread own the
state and paint. A failed worker never closes the app: its error is shown, in the user's
language, by the one handler `_work_failed`. Another process's writes show within a second or
two: a timer asks the store for its log position and reloads the open tab when it moves.

The package: `app` (this), `panes/` (one tab per file), `screens/` (a pupil's file, an audit
entry, help, the menus, time travel), `forms` (the recording forms), `palette`, `bindings`
(key descriptions from the catalogs), `messages`, `words` (cells and names the panes share).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from careterm.backend import Backend, When
from careterm.i18n import Translator
from careterm.shown import local_time
from careterm.tui.bindings import translate_bindings
from careterm.tui.forms import FORMS, FormScreen
from careterm.tui.messages import LogMoved, RecordRefused, Recorded, ReportsWorkErrors, Started, WorkFailed
from careterm.tui.palette import CaretermCommands, Palette
from careterm.tui.panes import PANES, TABS
from careterm.tui.panes.base import Pane
from careterm.tui.panes.home import HomePane
from careterm.tui.screens.help import HelpScreen
from careterm.tui.screens.menus import RecordMenu, SchoolMenu
from careterm.tui.screens.pupil import PupilScreen
from careterm.tui.screens.time_travel import TimeTravelScreen
from careterm.workspace import Workspace
from events.commands import RETRACTABLE
from events.errors import Refused

POLL_SECONDS = 1.0


class CaretermApp(ReportsWorkErrors, App):
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
        self.shown_problem: tuple[str, float] | None = None  # the last worker failure shown, and when
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
        if self.ws.proven is None:  # nobody signed in yet: the sign-in screen first, then the school
            from careterm.tui.screens.signin import SignInScreen

            self.push_screen(SignInScreen(), lambda _staff: self._begin())
            return
        self._begin()

    def _begin(self) -> None:
        """Load the school for the one signed in, and keep watching the log."""
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

    @work(thread=True, exclusive=True, group="start", exit_on_error=False)
    def start(self) -> None:
        """First load: who is who (for the forms' suggestions), today, the school's name."""
        name, day, pupils, staff = self.backend.people()
        head = self.backend.head()
        schools = len(self.backend.schools())
        zone = self.backend.zone()
        self.post_message(Started(name, day, pupils, staff, head, schools, zone))

    @on(Started)
    def _started(self, m: Started) -> None:
        self.title = f"careterm · {m.name}"
        self.today, self.pupils, self.staff, self.seen_head = m.day, m.pupils, m.staff, m.head
        self.zone = m.zone or self.zone
        if m.schools != self.school_count:
            self.school_count = m.schools
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

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def poll(self) -> None:
        head = self.backend.head()
        if head != self.seen_head:
            self.post_message(LogMoved(head))
        elif self.seen_head >= 0:
            self.backend.save_due()  # nothing new to show: a good moment to save the read model

    @on(LogMoved)
    def _changed(self, m: LogMoved) -> None:
        first = self.seen_head == -1  # the first poll after start-up: start() already loaded
        self.seen_head = m.head
        if not first:
            self.start()

    @on(WorkFailed)
    def _work_failed(self, m: WorkFailed) -> None:
        """The one handler of a failed worker (a poll, a tab's load, a record): say what went
        wrong in the user's language and carry on; the same problem again only every 30 s."""
        text = f"{self.t('error')}: {problem_text(self.t, m.error, self.ws.url)}"
        now = time.monotonic()
        if self.shown_problem is None or self.shown_problem[0] != text or now - self.shown_problem[1] > 30:
            self.shown_problem = (text, now)
            self.notify(text, severity="error", markup=False)

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

    @work(thread=True, exclusive=True, group="record", exit_on_error=False)
    def _record_now(self, key: str, values: dict) -> None:
        try:
            events = self.backend.record(FORMS[key].build(values))
        except Refused as refused:
            self.post_message(RecordRefused(refused))
            return
        self.post_message(Recorded(events))

    @on(RecordRefused)
    def _refused(self, m: RecordRefused) -> None:
        refused = m.refused
        self.notify(self.t.refusal(refused.field, refused.code, refused.params), severity="error", markup=False)

    @on(Recorded)
    def _recorded_now(self, m: Recorded) -> None:
        self._recorded(m.events)

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
            return self.school_count > 1 and self._may_switch(None)  # only district staff have another school
        if action == "retract_last":  # not from inside a form or menu
            return self.last_entry is not None and not isinstance(self.screen, ModalScreen)
        return True

    def action_switch_school(self) -> None:
        """District staff: look at (and record for) another school of the store."""
        self.push_screen(SchoolMenu(), self._switched)

    def _may_switch(self, school: str | None) -> bool:
        """A sign-in proves a staff member of one school (identity.Proven.school): elsewhere the
        same id is another person, whom switching would let them act as (the command line
        refuses another --school for the same reason). Only an identity of no one school may."""
        proven = self.ws.proven
        return proven is None or proven.school is None or school == proven.school

    def _switched(self, school: str | None) -> None:
        if school and self._may_switch(school):
            self.backend.switch_school(school)
            self.seen_head = -2
            self.start()

    def action_back_to_now(self) -> None:
        if self.when.is_history:
            self._travel(When())

    def open_pupil(self, pupil: str) -> None:
        self.push_screen(PupilScreen(pupil))


def problem_text(t: Translator, error: BaseException, url: str) -> str:
    """A worker's failure in words from the catalogs: a store problem as the command line says
    it, anything else as an internal error named by its type (the details with CARETERM_DEBUG)."""
    from careterm.cli import store_problem
    from events.store import StoreError, damage_of

    problem = damage_of(error) or error
    if isinstance(problem, StoreError):
        return store_problem(t, problem, url)
    message = t("internal.error", message=type(error).__name__)
    return message + (f" ({error})" if os.environ.get("CARETERM_DEBUG") else "")


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
