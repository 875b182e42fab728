"""Where the app writes the files it exports: one folder the user is told by name.

`CARETERM_EXPORT_DIR` if set, else a folder 「careterm 导出」 in the user's documents folder
(platformdirs: ~/Documents on Windows and most desktops, the home folder when there is none).
Every export is written whole or not at all (`write_whole`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path
from typing import Callable

from events.errors import Refused

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


def write_whole(path: str | Path, write_to: Callable[[str], object]) -> Path:
    """Write the file whole or not at all: `write_to(temporary path)` fills a file beside it,
    then it is renamed over `path` (an export that fails half-way leaves no broken document for
    someone to print). A place that cannot be written — a missing folder (not made: a mistyped
    one would hide the file), a folder itself, no permission, a full disk — is refused naming
    --out, the temporary file removed."""
    path = Path(path)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".careterm-", suffix=path.suffix, dir=path.parent)
        os.close(fd)
        write_to(tmp)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        raise Refused("--out", "unwritable_file", path=str(path)) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return path
