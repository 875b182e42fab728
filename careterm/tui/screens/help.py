"""F1: the keys of the app and of the open tab, and what the tab is for."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static, TabbedContent

from careterm.tui.bindings import Translated


class HelpScreen(Translated, ModalScreen):
    BINDINGS = [Binding("escape,f1", "app.pop_screen", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        t = self.app.t
        tabs = self.app.query_one("#tabs", TabbedContent)
        active = (tabs.active or "tab-home").removeprefix("tab-")
        keys = []
        seen = set()
        for node in (self.app, self.app.query_one(f"#pane-{active}")):  # the app's keys, then the tab's
            for _, found in sorted(node._bindings.key_to_bindings.items()):
                for b in found:
                    if b.id and b.id not in seen:
                        seen.add(b.id)
                        keys.append(f"  {self.app.get_key_display(b):>8}  {t(f'key.{b.id}')}")
        with VerticalScroll(id="help"):
            yield Static(f"[b]{t(f'tab.{active}')}[/b]\n{t(f'help.{active}')}\n\n{t('help.keys')}\n" + "\n".join(keys))

