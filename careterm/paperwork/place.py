"""Where the app writes the files it exports: one folder the user is told by name.

`CARETERM_EXPORT_DIR` if set, else a folder 「careterm 导出」 in the user's documents folder
(platformdirs: ~/Documents on Windows and most desktops, the home folder when there is none).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

FOLDER_NAME = "careterm 导出"


def export_folder() -> Path:
    """The folder, made if missing."""
    given = os.environ.get("CARETERM_EXPORT_DIR")
    if given:
        folder = Path(given).expanduser()
    else:
        import platformdirs

        folder = Path(platformdirs.user_documents_dir()) / FOLDER_NAME
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_path(title: str, ext: str, *, folder: Path | None = None, today: dt.date | None = None) -> Path:
    """A new file in the folder named for people: `帮扶工作手册-王老师-2026-12-02.docx`; a second
    export the same day gets `(2)`, never overwriting the first. `title` is already in the
    reader's language; characters a file name cannot hold become `-`."""
    folder = folder or export_folder()
    day = (today or dt.date.today()).isoformat()
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", f"{title}-{day}").strip(" .-") or day
    path = folder / f"{stem}.{ext.lstrip('.')}"
    n = 2
    while path.exists():
        path = folder / f"{stem}({n}).{ext.lstrip('.')}"
        n += 1
    return path
