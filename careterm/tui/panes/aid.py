"""The aid tab: the applications with their next step (Enter opens the form of that step for
whoever may take it), the ledger and its totals, and a preview of the public notice."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from careterm import actions, shown
from careterm.tui.forms import FORMS, Field, Form
from careterm.tui.panes.base import Pane

APPLICATION = Field("APPLICATION_ID")


def _decide(typed: dict):
    """The decision form's choice as the command's two flags (`--approve` / `--reject`)."""
    action = actions.BY_PATH["aid decide"]
    given = {"APPLICATION_ID": typed.get("APPLICATION_ID"), "--approve": typed.get("--decision") == "approve" or None,
             "--reject": typed.get("--decision") == "reject" or None, "--override": typed.get("--override") or None}
    return actions.build(action, actions.values_from(action, lambda f: given.get(f.name)))


def _grant(typed: dict):
    action = actions.BY_PATH["aid grant"]
    return actions.build(action, actions.values_from(action, lambda f: {"PUPIL_ID": typed.get("APPLICATION_ID")}.get(f.name)))


# the form of each next step: the declared ones, and two the declarations cannot make alone (a
# decision's two flags as one choice; the grant of an application, by its id only)
STEP_FORMS: dict[str, Form] = {
    "survey": FORMS["aid_survey"],
    "object": FORMS["aid_object"],
    "decide": Form("aid_decide", (APPLICATION, Field("--decision", "choice", ("approve", "reject"), "decision."),
                                  Field("--override", required=False)), _decide),
    "grant": Form("aid_grant", (APPLICATION,), _grant),
}


class AidPane(Pane):
    # `x` writes the notice previewed (the latest semester) as a Word document, for the wall
    BINDINGS = [Binding("x", "export", "Export notice", id="aid.export")]
    semester: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="aid-totals", markup=False)
        yield Label(self.t("aid.applications"), classes="section")
        yield DataTable(id="aid-apps", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="aid-table", cursor_type="row", zebra_stripes=True)
        yield Label(self.t("aid.notice_preview"), classes="section")
        yield DataTable(id="aid-notice", cursor_type="row", zebra_stripes=True)

    def load(self, when):
        ledger = self.app.backend.view("aid_list", when)
        semester = ledger["grants"][-1]["semester"] if ledger["grants"] else None
        notice = self.app.backend.view("notice", when, semester=semester) if semester else {"semester": "-", "notice": []}
        return ledger, notice

    def paint(self, data) -> None:
        ledger, notice = data
        t = self.t
        self.semester = notice["semester"] if ledger["grants"] else None
        self.apps = {a["id"]: a for a in ledger["applications"]}
        totals = [f"{t(f'aid.{k}')}: {shown.money(v, t.lang)}" for k, v in ledger["totals"].items()]
        self.query_one("#aid-totals", Static).update(packed(totals, self.size.width - 2) or shown.NONE)
        names = dict(self.app.pupils)  # (id, name) of the school's pupils, learnt at start-up

        def who(pupil: str) -> str:
            return f"{names[pupil]} ({pupil})" if names.get(pupil) else pupil

        # the applications with a next step first, then the others; the latest step first in each
        latest = sorted(ledger["applications"], key=lambda a: a["steps"][-1]["date"], reverse=True)
        apps = [a for a in latest if a["next"]] + [a for a in latest if not a["next"]]
        self.table(
            "#aid-apps",
            # what matters first, to fit 80 columns: who, what, where it stands, what comes next
            ("pupil_named", "kind", "aid_state", "next", "amount", "applied"),
            [
                (
                    names.get(a["pupil"]) or a["pupil"],
                    t(f"aid.{a['kind']}"),
                    t(f"aid_status.{a['status']}"),
                    (("▶ " if a.get("mine") else "") + t(f"aid_step.{a['next']}")) if a["next"] else "",
                    shown.money(a["amount"], t.lang) if a["amount"] else a["items"] or "",
                    a["steps"][0]["date"],
                )
                for a in apps
            ],
            [a["id"] for a in apps],
        )
        self.table(
            "#aid-table",
            ("date", "pupil", "kind", "amount", "fund", "revoked"),
            [
                (
                    g["date"],
                    who(g["pupil"]),
                    t(f"aid.{g['kind']}"),
                    shown.money(g["amount"], t.lang) if g["amount"] else g["items"] or "",
                    g["fund"],
                    "✓" if g["revoked"] else "",
                )
                for g in reversed(ledger["grants"])
            ],
        )
        self.table(
            "#aid-notice",
            ("name", "class", "kind", "amount"),
            [
                (r["name"], r["class"], t(f"aid.{r['kind']}"), notice_amount(t, r["amount"]))
                for r in notice["notice"]
            ],
        )

    def action_export(self) -> None:
        from careterm.paperwork.notice import write_notice
        from careterm.tui.exporting import export_file

        semester, when = self.semester, self.app.when
        if semester is None:
            self.app.notify(self.t("table.notice.none"), severity="warning")
            return
        export_file(self, self.t("table.notice.file", semester=semester), "docx",
                    lambda ws, path: write_notice(ws, path, semester, as_of=when.as_of, known_at=when.known_at))

    @on(DataTable.RowSelected, "#aid-apps")
    def _step(self, event: DataTable.RowSelected) -> None:
        """Enter on an application: the form of its next step, for the person who may take it."""
        app = getattr(self, "apps", {}).get(str(event.row_key.value))
        if app is None:
            return
        if self.app.when.is_history:
            self.app.notify(self.t("history.read_only"), severity="warning")
            return
        if not app["next"] or not app.get("mine"):
            self.app.notify(self.t("aid.no_step"), severity="information")
            return
        open_step(self.app, app)


def open_step(tui, app: dict) -> None:
    """The form of the application's next step, its id filled in (the aid tab, Home)."""
    from careterm.tui.forms import FormScreen

    t = tui.t
    names = dict(tui.pupils)
    about = f"{names.get(app['pupil'], app['pupil'])} · {t('aid.' + app['kind'])} · {t('aid_status.' + app['status'])}"
    form = FormScreen(STEP_FORMS[app["next"]], prefill={"APPLICATION_ID": app["id"]}, pupils=tui.pupils,
                      staff=tui.staff, about=about)
    tui.push_screen(form, tui._recorded)


def packed(items: list[str], width: int) -> str:
    """Items two spaces apart, as many to a line as fit: a line breaks between items, never
    inside one (a total's amount stays beside its name)."""
    from rich.cells import cell_len

    lines: list[str] = []
    for item in items:
        if lines and cell_len(lines[-1]) + 2 + cell_len(item) <= max(width, 20):
            lines[-1] += "  " + item
        else:
            lines.append(item)
    return "\n".join(lines)


def notice_amount(t, value: str | None) -> str:
    """The notice's amount: yuan as money; in-kind aid (no amount) as such, never its text."""
    return shown.money(value, t.lang) if value else t("notice.in_kind")
