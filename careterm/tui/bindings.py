"""Key bindings described from the catalogs, by binding id."""

from __future__ import annotations

from dataclasses import replace

from careterm.i18n import Translator


def translate_bindings(node, t: Translator) -> None:
    """Binding descriptions come from the catalog, by binding id (`key.<id>`)."""
    bindings = node._bindings.key_to_bindings
    for key, found in bindings.items():
        bindings[key] = [replace(b, description=t(f"key.{b.id}")) if b.id else b for b in found]


class Translated:
    def on_mount(self) -> None:
        translate_bindings(self, self.app.t)
        self.refresh_bindings()

