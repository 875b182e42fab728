"""The README's shell examples run as written, top to bottom, in an empty store (issue 9, item 1).

Each ```sh block of README.md is run by bash (`-euo pipefail`, so the first failing command
fails the test) in a fresh temporary directory, with HOME, the XDG directories and
CARETERM_STORE pointing into it and the project's `careterm` on PATH (the venv's bin), the way a
reader who activated `.venv` would run it. Not run: the quick start (its commands build the
venv and run this very suite) and the district block when no PostgreSQL test server is given
(CARETERM_TEST_PG): that block needs the one variable the README tells the reader to set,
CARETERM_STORE, which the test sets to a fresh schema on the test server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent  # the venv's bin, where `careterm` is installed


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


BLOCKS = sh_blocks(README.read_text(encoding="utf-8"))


def is_quick_start(block: str) -> bool:
    return "quickstart.py" in block


def is_district(block: str) -> bool:
    return "CARETERM_STORE:?" in block


def run_block(block: str, tmp_path: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARETERM_", "PG"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        CARETERM_STORE=str(tmp_path / "store.sqlite"),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra or {})
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env, capture_output=True,
        text=True, encoding="utf-8", timeout=300,
    )


def test_the_readme_has_its_examples():
    """The README shows the quick start, the first steps and the district (three sh blocks)."""
    assert len(BLOCKS) >= 3
    assert any(is_quick_start(b) for b in BLOCKS) and any(is_district(b) for b in BLOCKS)


@pytest.mark.parametrize("index", [i for i, b in enumerate(BLOCKS) if not is_quick_start(b) and not is_district(b)])
def test_a_readme_block_runs_as_written(tmp_path, index):
    """Every command of the block exits 0 in an empty store, and no traceback is printed."""
    done = run_block(BLOCKS[index], tmp_path)
    assert done.returncode == 0, f"README block {index} failed:\n{BLOCKS[index]}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert "Traceback" not in done.stderr


def test_the_using_it_block_records_the_talk(tmp_path):
    """The first steps end with P001's talk on 2025-09-12 in the store the block named (~/school.sqlite)."""
    block = next(b for b in BLOCKS if "contact P001" in b)
    done = run_block(block + "\ncareterm history P001 --json\n", tmp_path)
    assert done.returncode == 0, done.stderr
    history = __import__("json").loads(done.stdout.strip().splitlines()[-1])
    talks = [e for e in history["events"] if e["type"] == "ContactMade"]
    assert [(e["date"], e["data"]["kind"]) for e in talks] == [("2025-09-12", "talk")]
    assert (tmp_path / "home" / "school.sqlite").exists()


def test_the_district_block_runs_on_postgresql(tmp_path, pg_url):
    """The district block, with CARETERM_STORE set (as the README asks) to a fresh schema."""
    block = next(b for b in BLOCKS if is_district(b))
    done = run_block(block, tmp_path, {"CARETERM_STORE": pg_url})
    assert done.returncode == 0, f"{done.stdout}\n--- stderr\n{done.stderr}"
    assert "Traceback" not in done.stderr


def test_the_district_block_says_what_to_set(tmp_path):
    """Without CARETERM_STORE the block stops at once, saying which variable to set."""
    block = next(b for b in BLOCKS if is_district(b))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARETERM_")}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "CARETERM_STORE" in done.stderr


# --- 2. careterm on PATH, the project's own command guide -----------------------------------------

DOCS = {"zh": ROOT / "docs" / "使用手册.md", "en": ROOT / "docs" / "commands.en.md"}


def test_the_readme_says_how_to_get_careterm_on_path():
    text = README.read_text(encoding="utf-8")
    assert ". .venv/bin/activate" in text and "python3 quickstart.py shell" in text


def test_quickstart_shell_puts_careterm_on_path(tmp_path):
    """`python3 quickstart.py shell CMD` runs CMD with the venv's bin first on PATH: from a PATH
    without the venv, `command -v careterm` finds .venv/bin/careterm."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != BIN)
    done = subprocess.run(
        ["python3", str(ROOT / "quickstart.py"), "shell", "sh", "-c", "command -v careterm"],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == ROOT / ".venv" / "bin" / "careterm"


def test_the_readme_links_the_command_guide_in_both_languages():
    text = README.read_text(encoding="utf-8")
    for path in DOCS.values():
        assert path.exists()
        assert f"(docs/{path.name})" in text


def _commands() -> set[str]:
    """Every command of the program, as typed: `archive`, `staff add`, …"""
    import argparse

    from careterm.cli import build_parser

    def walk(parser: argparse.ArgumentParser, prefix: str) -> set[str]:
        found: set[str] = set()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    inner = walk(sub, f"{prefix}{name} ")
                    found |= inner or {f"{prefix}{name}"}
        return found

    return walk(build_parser(), "")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_command_guide_covers_every_command(lang):
    """Each command of the parser appears as `careterm COMMAND` in the guide."""
    text = DOCS[lang].read_text(encoding="utf-8")
    missing = sorted(c for c in _commands() if f"careterm {c}" not in text)
    assert not missing, f"{DOCS[lang].name} does not describe: {missing}"


def test_no_pointer_to_files_a_clone_does_not_have():
    """No README, guide or docstring points to ../shared (outside the repository)."""
    places = [README, *DOCS.values(), *(p for d in ("careterm", "events", "projections") for p in (ROOT / d).rglob("*.py"))]
    found = [str(p.relative_to(ROOT)) for p in places if "../shared" in p.read_text(encoding="utf-8")]
    assert not found, found
