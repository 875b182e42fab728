"""What people typed is drawn as text, never as markup: a pupil named `[/]李雷` crashed the
principal's screen, and `[@click=app.quit]` in a name was a button. Textual reads a plain `str`
in a table cell as markup; these cells are `rich.text.Text`, drawn as they are."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from careterm.shown import printable


def plain(value: Any) -> Any:
    """A string as literal text (control characters shown escaped); anything else unchanged."""
    return Text(printable(value, lines=False)) if isinstance(value, str) else value


def plain_cells(*values: Any) -> list[Any]:
    return [plain(v) for v in values]
