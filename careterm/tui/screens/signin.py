"""The sign-in screen: the app opens on it unless the identity is already settled (a session,
a token, an SSH key). Staff id, password, Enter; a password given with --once asks for a new one.
It opens a session for this OS user, as `careterm login` does (careterm/identity.py)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from careterm.tui.bindings import Translated
from events.errors import Refused


class SignInScreen(Translated, Screen[str]):
    """Dismissed with the signed-in staff id."""

    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", id="signin.quit")]

    def compose(self) -> ComposeResult:
        t = self.app.t
        with VerticalScroll(id="form"):
            yield Static(t("signin.title"), classes="form-title")
            yield Label(t("field.signin_staff"), classes="field-label")
            yield Input(id="signin-staff", placeholder="T01")
            yield Label(t("signin.prompt"), classes="field-label")
            yield Input(id="signin-password", password=True)
            yield Label(t("signin.new_prompt"), classes="field-label", id="signin-new-label")
            yield Input(id="signin-new", password=True)
            yield Label("", id="signin-error", classes="error", markup=False)
            yield Static(t("signin.hint"), id="signin-hint")

    def on_mount(self) -> None:
        super().on_mount()
        self._asking_new(False)
        self.query_one("#signin-staff", Input).focus()

    def _asking_new(self, shown: bool) -> None:
        self.query_one("#signin-new-label").display = shown
        self.query_one("#signin-new", Input).display = shown

    @on(Input.Submitted, "#signin-staff")
    def _to_password(self) -> None:
        self.query_one("#signin-password", Input).focus()

    @on(Input.Submitted, "#signin-password")
    @on(Input.Submitted, "#signin-new")
    def _submit(self) -> None:
        from careterm.identity import NotSignedIn

        t = self.app.t
        staff = self.query_one("#signin-staff", Input).value.strip()
        password = self.query_one("#signin-password", Input).value
        new_input = self.query_one("#signin-new", Input)
        error = self.query_one("#signin-error", Label)
        try:
            self.app.ws.sign_in_password(staff, password, lambda: new_input.value if new_input.display else None)
        except NotSignedIn as problem:
            if problem.reason == "change_password":
                self._asking_new(True)
                new_input.focus()
            else:
                self.query_one("#signin-password", Input).value = ""
                self.query_one("#signin-password", Input).focus()
            error.update(t(f"signin.{problem.reason}", **{k: str(v)[:16] for k, v in problem.params.items()}))
            return
        except Refused as refused:  # a new password too short
            error.update(t.refusal(refused.field, refused.code, dict(refused.params)))
            return
        self.dismiss(staff)
