"""One entry of the audit in full (Enter on the audit trail)."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from careterm import shown
from careterm.tui.bindings import translate_bindings
from careterm.tui.messages import Loaded, ReportsWorkErrors
from careterm.tui.words import catalog_word, field_label, people, subject_name


def _cadence(t, cadence: str) -> str:
    days = cadence[:-1] if cadence.endswith("d") else None
    return t("entry.cadence_days", n=days) if days and days.isdigit() else catalog_word(t, "entry.cadence", cadence)


def field_words(t, event, names: dict[str, dict[str, str]], seq_of: dict[str, int]) -> list[tuple[str, str]]:
    """An entry's own fields (not the envelope, not the note) as (label, value) in words."""
    from projections.audit import data_of

    sep = "、" if t.lang == "zh" else ", "
    pupil = lambda p: subject_name(t, names, f"pupil/{p}")  # noqa: E731
    staff = lambda s: subject_name(t, names, f"staff/{s}")  # noqa: E731
    entry = lambda i: f"#{seq_of[i]}" if i in seq_of else str(i)  # noqa: E731

    def person(x: dict) -> str:
        rest = [v for v in (x.get("relation"), x.get("workplace"), x.get("phone")) if v]
        return x.get("name", "") + (f"（{'，'.join(rest)}）" if t.lang == "zh" and rest else f" ({', '.join(rest)})" if rest else "")

    def word(key: str, value: Any) -> str:
        if key in ("pupil",):
            return pupil(value)
        if key in ("staff", "by", "responsible"):
            return staff(value) if value in names["staff"] else str(value)
        if key == "pupils":
            return sep.join(pupil(p) for p in value)
        if key == "kind":
            return catalog_word(t, "aid" if event.type in ("AidGranted", "AidApplied") else "kind", value)
        if key in ("result", "method") and event.type == "AidSurveyed":
            return catalog_word(t, "survey", value)
        if key == "to_kind":
            return catalog_word(t, "kind", value)
        if key in ("category", "gender", "need", "basis", "role", "medium"):
            return catalog_word(t, key, value)
        if key == "topics":  # what was said in a contact (careterm/said.py): by names, never codes
            return sep.join(catalog_word(t, "topic", c) for c in value)
        if key == "minutes" and event.type == "ContactMade":
            return t("said.minutes", n=value)
        if key == "categories":
            return sep.join(catalog_word(t, "category", c) for c in value)
        if key == "roles":
            return sep.join(catalog_word(t, "role", r) for r in value)
        if key == "result" and event.type == "HandbookInspected":
            return catalog_word(t, "result", value)
        if key == "reason" and event.type == "PairingEnded":
            return catalog_word(t, "reason", value)
        if key == "amount":
            return shown.money(value, t.lang)
        if key in ("incident", "grant"):
            return entry(value)
        if key == "duties":
            return sep.join(f"{catalog_word(t, 'duty', d)}: {_cadence(t, c)}" for d, c in value.items())
        if key == "guardian":
            return person(value)
        if key == "parents":
            return "；".join(person(x) for x in value) if t.lang == "zh" else "; ".join(person(x) for x in value)
        if key == "profile":
            return "；".join(f"{catalog_word(t, 'profile', k)}: {v}" for k, v in value.items())
        if key == "changes":
            return sep.join(f"{field_label(t, k)}: {word(k, v)}" for k, v in value.items())
        if isinstance(value, list):
            return sep.join(str(v) for v in value)
        return str(value)

    out = []
    for key, value in data_of(event).items():
        if key == "note" or value in (None, "", [], {}):
            continue
        out.append((field_label(t, key), word(key, value)))
    return out


class EntryScreen(ReportsWorkErrors, ModalScreen):
    """One entry of the audit in full: its fields in words, its note, who recorded it and when
    (in the school's time zone), what it corrects, and what corrected or retracted it since."""

    BINDINGS = [Binding("escape,enter", "app.pop_screen", "Back", id="entry.close")]
    DEFAULT_CSS = """
    EntryScreen { align: center middle; }
    #entry { width: 76; max-width: 100%; height: auto; max-height: 90%; border: thick $accent; background: $surface; padding: 0 1; }
    #entry-text { height: auto; }
    """

    def __init__(self, event_id: str):
        super().__init__()
        self.event_id = event_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="entry"):
            yield Static(self.app.t("entry.loading"), id="entry-text", markup=False)

    def on_mount(self) -> None:
        translate_bindings(self, self.app.t)
        self.query_one("#entry", VerticalScroll).focus()
        self.fetch(self.app.when)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def fetch(self, when) -> None:
        from projections.audit import entry_detail

        rows = self.app.backend.history(None, when)  # the whole trail: what corrected it may be filtered out
        detail = entry_detail(rows, self.event_id)
        self.post_message(Loaded((detail, {r["id"]: r["seq"] for r in rows})))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.paint(*message.data)

    def paint(self, detail: dict | None, seq_of: dict[str, int]) -> None:
        text = self.query_one("#entry-text", Static)
        text.update(entry_text(self.app, detail, seq_of) if detail else self.app.t("entry.gone"))


def entry_text(app, detail: dict, seq_of: dict[str, int]) -> str:
    """The detail view's text (plain: names and notes may hold brackets)."""
    t = app.t
    names = people(app)
    zone = app.zone or "UTC"
    r = detail["entry"]
    event = r["event"]

    def one_line(x: dict) -> str:
        return t(
            "entry.line",
            seq=x["seq"],
            type=t(f"type.{x['type']}"),
            actor=subject_name(t, names, f"staff/{x['actor']}"),
            time=shown.local_time(x["recorded_at"], zone),
        )

    lines = [
        f"{t('type.' + r['type'])}  #{r['seq']}",
        f"{t('col.subject')}: {subject_name(t, names, r['subject'])}",
        f"{t('col.date')}: {r['date']}",
        f"{t('entry.recorded_by')}: {subject_name(t, names, 'staff/' + r['actor'])}",
        f"{t('col.recorded_at')}: {t('entry.in_zone', time=shown.local_time(r['recorded_at'], zone), zone=str(zone))}",
        f"{t('entry.source')}: {catalog_word(t, 'source', r['source'])}",
        f"{t('col.flags')}: {'、'.join(t(f'flag.{f}') for f in r['flags']) or t('entry.no_flags')}",
        "",
    ]
    lines += [f"{label}: {value}" for label, value in field_words(t, event, names, seq_of)]
    if event.note:
        note = event.note.splitlines() or [""]
        lines.append(f"{t('col.note')}: {note[0]}")
        lines += ["  " + line for line in note[1:]]
    if detail["corrects"]:
        lines += ["", f"{t('entry.corrects')}: {one_line(detail['corrects'])}"]
    lines += ["", t("entry.followed_by") + ":"]
    for x in detail["followed_by"]:
        reason = getattr(x["event"], "reason", "")
        lines.append("  " + one_line(x) + (f"  {t('col.reason')}: {reason}" if reason else ""))
    if not detail["followed_by"]:
        lines.append("  " + t("entry.not_followed"))
    return shown.printable("\n".join(lines))  # an escape code stored in a note is shown, not sent


