"""The write and read sides never import the TUI toolkit (design.md: the direction is enforced)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import events, events.store, events.commands, events.service, projections
import pkgutil, importlib
for package in (events, projections):
    for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
bad = sorted(name for name in sys.modules if name == "textual" or name.startswith("textual"))
print("\\n".join(bad))
"""


def test_events_and_projections_do_not_import_textual():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"textual modules imported: {done.stdout.split()}"
