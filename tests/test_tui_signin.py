"""The app opens on its sign-in screen unless the identity is settled (Textual's Pilot, a real
copy of the demo store): Chinese words from the catalogs, keyboard only; a wrong password is
said without saying which part was wrong, the right one opens the school as that staff member
and leaves a session (careterm login's) for this OS user."""

from __future__ import annotations

import pytest

import tui_support as S
from tui_support import run, started

PW = "mentor-pass-1"


@pytest.fixture
def signin_store(store_path, facts, tmp_path, monkeypatch):
    from careterm import identity as I
    from events.store import Store

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with Store(str(store_path)) as store:  # trusted test code: the mentor's password
        I.set_password(store, S.SCHOOL, facts["mentor"], PW)
    return store_path


def test_the_app_opens_on_sign_in_and_signs_in_by_keyboard(signin_store, facts):
    from careterm.i18n import catalog
    from careterm.identity import session_path
    from careterm.tui.screens.signin import SignInScreen

    words = catalog("zh")
    mentor = facts["mentor"]

    async def go():
        app = S.make_app(signin_store, None)
        async with app.run_test(size=S.SIZE) as pilot:
            await S.wait_for(pilot, lambda: isinstance(app.screen, SignInScreen), 10, "the sign-in screen")
            shown = " ".join(str(w.render()) for w in app.screen.query("Static, Label"))
            assert words["signin.title"] in shown and "Password" not in shown
            await pilot.press(*mentor, "enter", *"wrong-pass", "enter")
            await pilot.pause()
            assert isinstance(app.screen, SignInScreen)
            assert str(app.screen.query_one("#signin-error").render()) == words["signin.failed"]
            await pilot.press(*PW, "enter")
            await S.wait_for(pilot, lambda: not isinstance(app.screen, SignInScreen), 10, "the school")
            await started(app, pilot)
            assert app.ws.actor == mentor and app.ws.proven.via == "session"
            assert session_path(str(signin_store)).exists()

    run(go())


def test_a_signed_in_app_opens_on_the_school(store_path, facts):
    from careterm.tui.screens.signin import SignInScreen

    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE) as pilot:
            await started(app, pilot)
            assert not isinstance(app.screen, SignInScreen)

    run(go())
