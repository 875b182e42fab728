"""The command palette: the recording forms and the tabs, found by name or pinyin initials."""

from __future__ import annotations

import asyncio
from functools import partial

from rich.text import Text
from textual.command import CommandList, CommandPalette, Hit, Hits, Provider

from careterm.tui.forms import FORMS
from careterm.tui.panes import TABS
from careterm.tui.search import initials


class CaretermCommands(Provider):
    """The command palette: every recording form and every tab, by name or by pinyin initials
    (jlbflx finds 记录帮扶联系), as the pupil search finds pupils."""

    async def startup(self) -> None:
        app = self.app
        commands = [(app.t(f"form.{key}"), partial(app.action_record, key), "palette.record") for key in FORMS]
        commands += [(app.t(f"tab.{tab}"), partial(app.action_tab, tab), "palette.tab") for tab in TABS]
        # pypinyin loads on first use: in a thread, not on the UI's
        self.commands = await asyncio.to_thread(lambda: [(name, initials(name), run, help) for name, run, help in commands])

    async def search(self, query: str) -> Hits:
        app = self.app
        matcher = self.matcher(query)
        typed = query.strip().lower()
        for name, letters, run, help in self.commands:
            score = matcher.match(name)
            if typed.isascii() and typed and letters.startswith(typed):
                score = max(score, 0.5 + 0.5 * len(typed) / max(len(letters), 1))
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=app.t(help))


class Palette(CommandPalette):
    """Textual's command palette, with its own words from the catalog."""

    def __init__(self, **kw):
        super().__init__(placeholder=kw.pop("placeholder", None) or self.app_t("palette.placeholder"), **kw)

    @staticmethod
    def app_t(key: str) -> str:
        from textual._context import active_app

        return active_app.get().t(key)

    def _start_no_matches_countdown(self, search_value: str) -> None:
        """As Textual's, but 'no matches' in the user's language (Textual's text is fixed English)."""
        from rich.align import Align
        from textual.widgets.option_list import Option

        self._stop_no_matches_countdown()

        def show() -> None:
            if search_value:
                text = Text(self.app.t("palette.no_matches"), style="not bold")
                self.query_one(CommandList).add_option(Option(Align.center(text), disabled=True, id=self._NO_MATCHES))
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show)

