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


def fill_table(table, labels: list[str], rows: list[tuple], keys: list[str] | None = None, widest: int = 40) -> None:
    """Replace a DataTable's columns and rows, each column as wide as its content (at most `widest`).

    The widths are set here: a table filled before its pane was ever laid out would otherwise
    keep the widths of its headers (Textual measures auto-width columns on an idle that may come
    too late), and a school would see its dates cut to "2026-11-".
    """
    from rich.cells import cell_len

    table.clear(columns=True)
    for i, label in enumerate(labels):
        width = max([cell_len(label)] + [cell_len(printable(str(row[i]), lines=False)) for row in rows[:500]])
        table.add_column(label, width=min(width, widest))
    for i, row in enumerate(rows):
        table.add_row(*plain_cells(*row), key=keys[i] if keys else None)
