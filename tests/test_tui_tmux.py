"""End to end: the real `careterm` program in a real terminal (tmux, 80×24), driven by keystrokes.

The store is built by `careterm demo` (its `--until` defaults to today: the subprocess's clock is
the real one, so the demo's duties are current). A mentor records a contact with the keyboard; a
second process records one with the command line and the open screen shows it; closing the
terminal (tmux kill-session sends SIGHUP) ends the program and the store still verifies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tui_support as S
from test_cli import NO_SIGNIN, token_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (CI has it): no real terminal to drive")

CARETERM = str(Path(sys.executable).with_name("careterm"))


def careterm(*args: str, store: Path, user: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, CARETERM_STORE=str(store))
    env.pop("CARETERM_LANG", None)
    if user:
        env["CARETERM_USER"] = user
    if args[0] not in NO_SIGNIN:  # signed in with a token of theirs (test_cli.token_for)
        env["CARETERM_TOKEN"] = token_for(str(store), user or "admin") or ""
    done = subprocess.run([CARETERM, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, f"careterm {' '.join(args)} exited {done.returncode}: {done.stderr}"
    return done


class Tmux:
    """A private tmux server (its own socket) with one detached 80×24 session."""

    def __init__(self, tmp: Path):
        self.socket = str(tmp / "tmux.sock")
        self.session = "careterm"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=check, timeout=30)

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = [f"{k}={v}" for k, v in env.items()]
        self.run("-f", "/dev/null", "new-session", "-d", "-s", self.session, "-x", "80", "-y", "24", "env", *exports, *command)

    def capture(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session).stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", self.session, *(["-l"] if literal else []), *keys)

    def pane_pid(self) -> int:
        return int(self.run("list-panes", "-t", self.session, "-F", "#{pane_pid}").stdout.split()[0])

    def wait_for(self, predicate, timeout: float = 15.0, what: str = "") -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.capture()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{screen}")
            time.sleep(0.05)

    def kill_server(self) -> None:
        self.run("kill-server", check=False)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is gone for our purpose
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_careterm_in_tmux(tmp_path):
    store = tmp_path / "store.sqlite"
    careterm("demo", store=store)

    # a plain teacher with pupils, one of whom has a talk due: the home tab lists it
    from events.store import Store
    from events import saved

    with Store(str(store)) as st:
        model = saved.load(st, S.SCHOOL)
        today = st.clock().astimezone(__import__("zoneinfo").ZoneInfo(model.timezone)).date()
        ids = S.choose_ids(st, model, today)
    mentor, pupil, other = ids["mentor"], ids["pupil"], [p for p in ids["mentor_pupils"] if p != ids["pupil"]][0]

    tmux = Tmux(tmp_path)
    env = {"CARETERM_STORE": str(store), "CARETERM_USER": mentor, "TERM": "xterm-256color", "LANG": "C.UTF-8",
           "XDG_STATE_HOME": str(tmp_path / "state")}
    try:
        # nobody signed in: the sign-in screen, then the mentor types their id and the demo's password
        tmux.start([CARETERM], env)
        tmux.wait_for(lambda s: "登录 careterm" in s, 30, "the sign-in screen")
        time.sleep(0.3)  # a person's pace
        tmux.keys(mentor, literal=True)
        tmux.wait_for(lambda s: mentor in s, 5, "the staff id typed")
        tmux.keys("Enter")
        time.sleep(0.3)
        tmux.keys("demo1234", literal=True)
        tmux.wait_for(lambda s: "••••" in s, 5, "the password typed, hidden")
        launched = time.monotonic()
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: "今日" in s and "我的待办" in s, 30, "the tab bar and the home tab")
        first_paint = time.monotonic() - launched
        screen = tmux.wait_for(lambda s: f"({pupil})" in s, 15, "the home tab's duties")
        with_data = time.monotonic() - launched
        print(f"\ntime to first paint (sign-in to the tab bar): {first_paint:.2f} s; to the home tab's duties: {with_data:.2f} s")
        print(screen)
        assert _talk_row(screen, pupil), "the mentor's pupil has a talk to do"
        pid = tmux.pane_pid()

        # a contact through the keyboard: n, type the pupil's id (the form opens on that field), Ctrl+S
        tmux.keys("n")
        tmux.wait_for(lambda s: "记录帮扶联系" in s, 10, "the contact form")
        time.sleep(0.3)  # a person's pace
        tmux.keys(other, literal=True)
        tmux.wait_for(lambda s: f"{other} " in _form_field(s), 5, "the pupil id typed into the form")
        tmux.keys("C-s")
        tmux.wait_for(lambda s: "记录帮扶联系" not in s, 10, "the form to close after Ctrl+S")
        tmux.wait_for(lambda s: "已记录" in s, 5, "the recorded notice")
        events = json.loads(careterm("audit", "--json", "--type", "ContactMade", store=store).stdout)["events"]
        new = [e for e in events if e["source"] != "demo"]
        assert len(new) == 1, new
        assert (new[0]["actor"], new[0]["subject"], new[0]["date"], new[0]["source"]) == (mentor, f"pupil/{other}", today.isoformat(), "tui")

        # another process records a talk: the open home tab drops the duty within a few seconds
        assert _talk_row(tmux.capture(), pupil)
        careterm("contact", pupil, "--kind", "talk", "--note", "另一个终端", store=store, user=mentor)
        written = time.monotonic()
        screen = tmux.wait_for(lambda s: "我的待办" in s and not _talk_row(s, pupil), 6, "the other process's talk on the home tab")
        print(f"another process's record shown after {time.monotonic() - written:.2f} s")

        # closing the terminal (SIGHUP) ends the program
        assert alive(pid)
        tmux.run("kill-session", "-t", tmux.session)
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid), "careterm still runs after its terminal closed"
    finally:
        tmux.kill_server()

    verified = careterm("verify", store=store)
    assert verified.returncode == 0
    events = json.loads(careterm("audit", "--json", "--type", "ContactMade", store=store).stdout)["events"]
    assert [(e["actor"], e["subject"], e["source"]) for e in events[-2:]] == [(mentor, f"pupil/{other}", "tui"), (mentor, f"pupil/{pupil}", "cli")]


def _form_field(screen: str) -> str:
    """The line of the form's first field (under the title), where the pupil id is typed."""
    lines = screen.splitlines()
    title = next(i for i, line in enumerate(lines) if "记录帮扶联系" in line)
    return "\n".join(lines[title + 1 : title + 8])


def _talk_row(screen: str, pupil: str) -> bool:
    return any(f"({pupil})" in line and "谈心" in line for line in screen.splitlines())


def test_a_hang_up_at_any_moment_ends_the_program(tmp_path):
    """The terminal goes away (the tmux server is killed, as a dropped SSH link does) at moments
    from the start to just after the first screen: each time the program ends within 3 s
    (before issue 11, about one start in three lived on with no terminal, holding the store)."""
    store = tmp_path / "store.sqlite"
    careterm("demo", store=store)
    env = {"CARETERM_STORE": str(store), "CARETERM_USER": "admin", "TERM": "xterm-256color", "LANG": "C.UTF-8",
           "CARETERM_TOKEN": token_for(str(store), "admin")}  # signed in: the app opens on the school
    survivors = []
    for attempt, wait in enumerate((None, None, None, 0.05, 0.3, 0.6, None, None)):
        tmux = Tmux(tmp_path / f"t{attempt}")
        (tmp_path / f"t{attempt}").mkdir()
        try:
            tmux.start([CARETERM], env)
            pid = tmux.pane_pid()
            if wait is None:  # just after the first screen is drawn
                tmux.wait_for(lambda s: "今日" in s, 30, "the first screen")
            else:
                time.sleep(wait)
        finally:
            tmux.kill_server()
        deadline = time.monotonic() + 3
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            survivors.append((attempt, wait, pid))
            os.kill(pid, 9)
    assert not survivors, f"still running after the hang-up: {survivors}"
    assert careterm("verify", store=store).returncode == 0
