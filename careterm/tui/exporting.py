"""Exporting from a screen: the file is written in a worker thread, into the export folder
(careterm/paperwork/place.py), and the person is told where it is, by its full path.

A pane or screen calls `export_file(widget, title, ext, write)`: `title` is the file's name for
people (already translated), `write(ws, path)` the paperwork function that writes it for the
workspace's signed-in person (it raises Refused when they may not; the toast says why).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from textual.widget import Widget

from careterm.paperwork.place import export_folder, export_path
from events.errors import Refused


def export_file(widget: Widget, title: str, ext: str, write: Callable[[Any, Path], Any]) -> None:
    app = widget.app

    def run() -> None:
        try:
            path = export_path(title, ext, folder=export_folder(), today=app.backend.today())
            app.backend.export(lambda ws: write(ws, path))
        except Refused as refused:
            app.call_from_thread(app.notify, app.t.refusal(refused.field, refused.code, refused.params),
                                 severity="error", timeout=8)
            return
        except OSError as problem:  # the folder cannot be written (a full disk, no permission)
            app.call_from_thread(app.notify, app.t("export.cannot_write", place=str(problem.filename or ""),
                                                   reason=problem.strerror or type(problem).__name__),
                                 severity="error", timeout=10)
            return
        app.call_from_thread(app.notify, app.t("export.written", path=str(path)), timeout=10)

    app.notify(app.t("export.writing", title=title), timeout=3)
    widget.run_worker(run, thread=True, exit_on_error=False, group="export")
