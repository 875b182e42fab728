"""The layers, enforced (issue 10; design.md "The shape"): low to high

    events  <  projections  <  careterm (backend, cli, demo, paper, ...)  <  careterm.tui

A module may import its own layer and those below, never one above: every `import` of every
.py file is read with `ast`, at module level and inside functions alike (a lazy import is
still a dependency). `events` and `projections` never import Textual; neither does the
careterm layer (the command line starts without it). tests/test_layering.py checks the same
in a subprocess through `sys.modules` (what importing really loads); here, the careterm layer
too, imported whole.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("events", "projections", "careterm")
LAYERS = ("events", "projections", "careterm", "careterm.tui")  # low to high
TOOLKIT = "textual"

# Imports allowed upward, each named with why (as import-linter's ignore_imports). The command
# line is the program's entry: `careterm` with no command starts the app, importing it then.
ALLOWED_UP = {
    ("careterm.cli", "careterm.tui.app"): "careterm (no command) starts the app",
    ("careterm.cli", "careterm.tui.keymap"): "the app's keymap, read when the app starts",
}


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the deepest layer holding `module`; None outside the project."""
    found = None
    for i, name in enumerate(LAYERS):
        if module == name or module.startswith(name + "."):
            found = i
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    """Whether a dotted name is one of the project's modules or packages (a file or a folder)."""
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the source, at any depth. `from a import b`
    names a.b when b is a module of ours, else a; relative imports are resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join(here + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if is_module(sub) else base))
    return found


def project_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def violations(files: list[tuple[Path, str]] | None = None) -> tuple[list[str], set[tuple[str, str]]]:
    """Every upward import and every toolkit import below the TUI, as 'file:line: a -> b'; and the
    allowed upward imports that were met."""
    if files is None:
        files = [(p, p.read_text(encoding="utf-8")) for p in project_files()]
    bad, used = [], set()
    for path, source in files:
        module = module_name(path)
        mine = layer_of(module)
        for line, target in imports_of(source, module, path.name == "__init__.py"):
            where = f"{path.relative_to(ROOT)}:{line}: {module} -> {target}"
            theirs = layer_of(target)
            if theirs is not None and theirs > mine:
                if (module, target) in ALLOWED_UP:
                    used.add((module, target))
                else:
                    bad.append(where)
            if (target == TOOLKIT or target.startswith(TOOLKIT + ".")) and mine < LAYERS.index("careterm.tui"):
                bad.append(where + " (the toolkit, below the TUI)")
    return bad, used


def test_no_module_imports_a_higher_layer_nor_textual_below_the_tui():
    bad, _ = violations()
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_every_allowed_upward_import_is_still_there():
    """An exception that no longer happens is taken off the list (it would hide a new one)."""
    _, used = violations()
    assert used == set(ALLOWED_UP), sorted(set(ALLOWED_UP) - used)


def test_the_check_sees_lazy_relative_and_from_imports():
    """The check itself, on sources made up here (the project's files are not touched): each of
    these lines is an import against the layers, and each is found."""
    cases = {
        "events/x_module.py": "def f():\n    from projections import views\n",  # lazy, one layer up
        "events/x_toolkit.py": "import textual.app\n",  # the toolkit in the write side
        "projections/x_face.py": "from careterm import cli\n",  # the read side using a face
        "projections/x_relative.py": "from ..careterm.tui import app\n",  # relative, two up
        "careterm/x_backend.py": "def g():\n    import careterm.tui.panes\n",  # below the TUI
        "careterm/x_widget.py": "from textual.widgets import Static\n",  # toolkit outside the TUI
    }
    files = [(ROOT / name, source) for name, source in cases.items()]
    bad, _ = violations(files)
    assert len(bad) == len(cases), bad
    for name in cases:
        assert any(b.startswith(name) for b in bad), (name, bad)
    fine = [(ROOT / "careterm/tui/x_ok.py", "import textual\nfrom events import rules\nfrom projections import views\n")]
    assert violations(fine)[0] == []


CHECK = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print("\\n".join(sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))))
"""


def test_the_layers_below_the_tui_load_no_textual():
    """Importing every module of events, projections and careterm (the TUI apart) loads no Textual."""
    below = [m for m in map(module_name, project_files()) if layer_of(m) < LAYERS.index("careterm.tui")]
    assert {"events.store", "projections.views", "careterm.cli", "careterm.backend", "careterm.demo"} <= set(below)
    done = subprocess.run([sys.executable, "-c", CHECK, *below], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"textual modules imported: {done.stdout.split()}"
