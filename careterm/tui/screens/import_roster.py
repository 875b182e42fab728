"""Import the class's roster from the pupils tab (`i`): a file's path typed (no file dialogs in a
terminal) or picked from the tables found in the export folder, checked, the report read, and
only then written (Ctrl+S), all or nothing.

The check and the write are careterm.paperwork.importing.run, as `import pupils FILE
[--dry-run]` calls it, for the signed-in person, in a worker behind the backend's lock. Writing
is refused while the report has a bad row; the write checks the file again (someone may have
recorded in between), and a report that has turned bad is shown instead of being written.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static

from careterm.tui.bindings import Translated
from careterm.tui.messages import Loaded, ReportsWorkErrors
from events.errors import Refused

ROSTER_EXTENSIONS = (".xlsx", ".xlsm", ".csv")
LISTED = 50  # files listed from the folder, newest first


def roster_files(folder: Path) -> list[Path]:
    """The spreadsheets in the folder, newest first (Excel's lock files ~$… left out)."""
    try:
        found = [p for p in folder.iterdir() if p.suffix.lower() in ROSTER_EXTENSIONS and p.is_file()
                 and not p.name.startswith(("~$", "."))]
    except OSError:
        return []
    found.sort(key=lambda p: (-p.stat().st_mtime, p.name))
    return found[:LISTED]


class ImportRosterScreen(ReportsWorkErrors, Translated, ModalScreen[dict]):
    """Dismissed with {"added", "amended", "events"} once written, or None."""

    # 80x24: the title, the path, a few of the folder's files, the report (the rest) and the keys
    DEFAULT_CSS = """
    ImportRosterScreen { align: center middle; }
    #import { width: 78; max-width: 100%; height: 100%; border: thick $accent; background: $surface; padding: 0 1; }
    #import-title { text-style: bold; }
    #import .field-label { margin-top: 0; }
    #import-files-label { width: 1fr; height: auto; }
    #import-files { height: auto; max-height: 4; border: none; padding: 0; }
    #import-report { height: 1fr; min-height: 4; border-top: solid $accent; }
    #import-report-text, #import-status { height: auto; }
    #import .buttons { height: 1; margin-top: 0; }
    #import .buttons Button { height: 1; border: none; min-width: 12; margin-right: 2; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="import.cancel"),
        Binding("ctrl+s", "write", "Write", id="import.write", priority=True),
    ]

    def __init__(self, kind: str = "pupils"):
        super().__init__()
        self.kind = kind
        self.folder: Path | None = None
        self.files: list[Path] = []
        self.report = None  # the last check's report (importing.Report)
        self.path = ""  # the file it was made from
        self.busy = False

    def compose(self) -> ComposeResult:
        t = self.app.t
        with Vertical(id="import"):
            yield Static(t(f"import.title.{self.kind}"), id="import-title")
            yield Label(t("import.path"), classes="field-label")
            yield Input(placeholder=t("import.path_placeholder"), id="import-path")
            yield Label(t("import.files_loading"), id="import-files-label", markup=False)
            yield OptionList(id="import-files")
            with VerticalScroll(id="import-report"):
                yield Static(t("import.hint"), id="import-report-text", markup=False)
            yield Static("", id="import-status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(t("button.write"), id="import-write", variant="warning", disabled=True)
                yield Button(t("button.cancel"), id="import-cancel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#import-path", Input).focus()
        self.list_files()

    # -- the folder's spreadsheets ------------------------------------------------------------

    @work(thread=True, exclusive=True, group="import-files", exit_on_error=False)
    def list_files(self) -> None:
        from careterm.paperwork.place import export_folder

        try:
            folder = export_folder()
        except OSError:  # no documents folder to make: the path is typed
            folder = Path.home()
        self.post_message(Loaded(("files", folder, roster_files(folder))))

    def _show_files(self, folder: Path, files: list[Path]) -> None:
        t = self.app.t
        self.folder, self.files = folder, files
        path = self.query_one("#import-path", Input)
        if not path.value:
            path.value = str(folder) + os.sep  # the starting folder: a name typed after it
            path.cursor_position = len(path.value)
        label = self.query_one("#import-files-label", Label)
        options = self.query_one("#import-files", OptionList)
        options.clear_options()
        if files:
            label.update(t("import.files", folder=str(folder)))
            options.add_options([p.name for p in files])
            options.highlighted = 0  # Enter takes the newest at once; the arrows move
        else:
            label.update(t("import.no_files", folder=str(folder)))
        options.display = bool(files)

    @on(OptionList.OptionSelected, "#import-files")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        chosen = self.files[event.option_index]
        self.query_one("#import-path", Input).value = str(chosen)
        self.check(str(chosen))

    @on(Input.Submitted, "#import-path")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.check(event.value.strip())

    # -- checking, then writing ---------------------------------------------------------------

    def check(self, path: str) -> None:
        self.report, self.path = None, path
        self.query_one("#import-write", Button).disabled = True
        self.query_one("#import-status", Static).update(self.app.t("import.checking", file=os.path.basename(path)))
        self._run(path, dry_run=True)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _run(self, path: str, dry_run: bool) -> None:
        from careterm.paperwork import importing

        try:
            report = self.app.backend.export(lambda ws: importing.run(ws, self.kind, path, dry_run=dry_run))
        except Refused as refused:
            self.post_message(Loaded(("refused", path, refused)))
            return
        self.post_message(Loaded(("report", path, report)))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        what, *rest = message.data
        if what == "files":
            self._show_files(*rest)
        elif what == "refused":
            self.busy = False
            _, refused = rest
            self._show_text(self.app.t.refusal(refused.field, refused.code, refused.params), "")
        else:
            self._show_report(*rest)

    def _show_text(self, text: str, status: str) -> None:
        self.query_one("#import-report-text", Static).update(text)
        self.query_one("#import-status", Static).update(status)
        self.query_one("#import-report", VerticalScroll).scroll_home(animate=False)

    def _show_report(self, path: str, report) -> None:
        from careterm.paperwork.importing import report_lines

        t = self.app.t
        self.busy = False
        if path != self.path:  # an older check, overtaken by another file
            return
        if report.written:
            self.dismiss({"added": len(report.added), "amended": len(report.amended), "events": len(report.events)})
            return
        self.report = report
        writable = self.writable()
        if report.errors:
            status = t("import.cannot_write")
        elif writable:
            status = t("import.ready", keys=self.app.get_key_display(self._binding("import.write")))
        else:
            status = t("import.nothing" if report.rows else "import.no_rows")
        self._show_text("\n".join(report_lines(t, report)), status)
        self.query_one("#import-write", Button).disabled = not writable
        if report.errors:  # the bad rows are read first: the report takes the focus to scroll
            self.query_one("#import-report", VerticalScroll).focus()

    def writable(self) -> bool:
        report = self.report
        return report is not None and not report.errors and bool(report.added or report.amended)

    def _binding(self, binding_id: str):
        return next(b for found in self._bindings.key_to_bindings.values() for b in found if b.id == binding_id)

    def action_write(self) -> None:
        t = self.app.t
        if self.busy:
            return
        if not self.writable():
            self.app.notify(t("import.cannot_write" if self.report is not None and self.report.errors else "import.check_first"),
                            severity="warning")
            return
        self.busy = True
        self.query_one("#import-write", Button).disabled = True
        self.query_one("#import-status", Static).update(t("import.writing"))
        self._run(self.path, dry_run=False)

    @on(Button.Pressed, "#import-write")
    def _write_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_write()

    @on(Button.Pressed, "#import-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.busy:  # a write under way finishes first: it is all or nothing either way
            self.dismiss(None)
