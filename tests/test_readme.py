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
