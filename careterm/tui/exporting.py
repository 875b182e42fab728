"""Exporting from a screen: the file is written in a worker thread, into the export folder
(careterm/paperwork/place.py), and the person is told where it is, by its full path.

In a browser (`careterm web`) the export folder is the server's, not the person's: the file is
written into a folder of its own, only the server's account may read, handed to the browser as a
download (Textual's `deliver_binary`) and left nowhere on the server: it is unlinked as soon as
it is open, and the open file is what the download reads.

A pane or screen calls `export_file(widget, title, ext, write)`: `title` is the file's name for
people (already translated), `write(ws, path)` the paperwork function that writes it for the
workspace's signed-in person (it raises Refused when they may not; the toast says why).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from textual.widget import Widget

from careterm.paperwork.place import export_folder, export_path
from events.errors import Refused


def export_file(widget: Widget, title: str, ext: str, write: Callable[[Any, Path], Any]) -> None:
    app = widget.app

    def run() -> None:
        # in a browser: a private folder of this one export (mkdtemp: mode 0700), gone below
        private = Path(tempfile.mkdtemp(prefix="careterm-export-")) if app.is_web else None
        try:
            path = export_path(title, ext, folder=private or export_folder(), today=app.backend.today())
            app.backend.export(lambda ws: write(ws, path))
            if private is not None:
                opened = open(path, "rb")  # noqa: SIM115 - deliver_binary reads and closes it
                os.unlink(path)
                app.call_from_thread(app.deliver_binary, opened, save_filename=path.name)
                app.call_from_thread(app.notify, app.t("export.delivered", name=path.name), timeout=10)
                return
        except Refused as refused:
            app.call_from_thread(app.notify, app.t.refusal(refused.field, refused.code, refused.params),
                                 severity="error", timeout=8)
            return
        except OSError as problem:  # the folder cannot be written (a full disk, no permission)
            app.call_from_thread(app.notify, app.t("export.cannot_write", place=str(problem.filename or ""),
                                                   reason=problem.strerror or type(problem).__name__),
                                 severity="error", timeout=10)
            return
        finally:
            if private is not None:
                shutil.rmtree(private, ignore_errors=True)
        app.call_from_thread(app.notify, app.t("export.written", path=str(path)), timeout=10)

    app.notify(app.t("export.writing", title=title), timeout=3)
    widget.run_worker(run, thread=True, exit_on_error=False, group="export")
