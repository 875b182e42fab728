"""Cells and names shared by the panes and screens: a duty's status, its due date, people by id."""

from __future__ import annotations

from typing import Any

from careterm import shown


def status_cell(t, status: str | None):
    from rich.text import Text

    if status is None:
        return ""
    style = {"overdue": "bold red", "due_soon": "yellow", "pending": "yellow", "ok": "green", "met": "green"}.get(status, "")
    mark = {"overdue": "✗ ", "due_soon": "! ", "pending": "… ", "ok": "✓ ", "met": "✓ "}.get(status, "")
    return Text(mark + t(f"duty_status.{status}"), style=style)


def due_cell(t, duty: dict) -> str:
    """The date to aim for: the child's birthday for the birthday duty (its `due`, the school
    year's last day, would be the same for every pupil), else when the duty falls due. The duty
    column says which: the date alone keeps the table inside 80 columns."""
    if duty.get("aim"):
        return t("home.birthday_on", date=duty["aim"])
    return duty.get("due") or shown.NONE


def people(app) -> dict[str, dict[str, str]]:
    """Names by id, of pupils and of staff (learnt by the app at start-up)."""
    return {"pupil": dict(app.pupils), "staff": dict(app.staff)}


def subject_name(t, names: dict[str, dict[str, str]], subject: str, *, with_id: bool = True) -> str:
    """"pupil/P1" for people: "小明（P1）" (or "小明"), "王老师（T1）", the school."""
    kind, _, ident = subject.partition("/")
    if kind == "school" or not ident:
        return t("entry.the_school")
    name = names.get(kind, {}).get(ident)
    if not name:
        return ident
    return t("named", name=name, id=ident) if with_id else name


def catalog_word(t, prefix: str, value: Any) -> str:
    """An enumerated value by its name in the catalog; any other value as it is."""
    from careterm.i18n import catalog

    key = f"{prefix}.{value}"
    return t(key) if key in catalog(t.lang) else str(value)


def field_label(t, key: str) -> str:
    """The name of an entry's field (a pupil's profile fields are named under `profile.`)."""
    from careterm.i18n import catalog

    for prefix in ("entry", "profile"):
        if f"{prefix}.{key}" in catalog(t.lang):
            return t(f"{prefix}.{key}")
    return key

