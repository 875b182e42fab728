"""Support for the TUI tests: one deterministic demo school, built once per session.

The demo is built with a fixed seed and a fixed last day (UNTIL), by a store whose clock is
fixed to a moment of that day (NOW), so "today", every duty and every recorded time are the
same on every run. Each test that writes gets its own copy of the file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import time
from pathlib import Path
from typing import Callable

from careterm.workspace import Workspace
from events.store import Store

SEED = 2026
UNTIL = dt.date(2026, 11, 20)
# 10:00 in Shanghai on UNTIL: the school's "today" is UNTIL in every view
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.timezone.utc)
SCHOOL = "s1"
LEADER = "admin"
SIZE = (80, 24)


def fixed_clock() -> dt.datetime:
    return NOW


def build_demo_file(path: Path) -> dict:
    """Build the demo school into a new SQLite file at `path`; returns facts the tests use."""
    from careterm.demo import build_demo
    from events.service import Service
    from events import saved

    import itertools

    from events import commands

    # Event ids are uuid4 (random): two builds of the same demo differ in them, and views that
    # order ties by id (the aid ledger, reported) would differ from run to run. Count them instead.
    counter = itertools.count(1)
    random_ids, commands.new_id = commands.new_id, lambda: f"{next(counter):032x}"
    store = Store(str(path), create=True, clock=fixed_clock)
    try:
        summary = build_demo(Service(store), seed=SEED, until=UNTIL)
        model = saved.load(store, SCHOOL)  # persists the read models: later loads only catch up
        facts = {"summary": summary, **choose_ids(store, model)}
    finally:
        commands.new_id = random_ids
        store.close()
    return facts


def choose_ids(store: Store, model, day: dt.date = UNTIL) -> dict:
    """Ids the tests need, found in the demo (so a change of the demo does not break them)."""
    from projections import views
    from projections.compliance import compliance
    from events.model import categories_on, status_on

    comp = compliance(model, day)
    by_staff: dict[str, list[dict]] = {}
    for p in comp["pairings"]:
        by_staff.setdefault(p["staff"], []).append(p)
    # a plain teacher (not a leader) who mentors pupils and has a talk overdue or due soon
    mentor = pupil = None
    for staff in sorted(model.staff.values(), key=lambda s: s.id):
        if set(staff.roles) & {"leader", "admin", "auditor"} or not by_staff.get(staff.id):
            continue
        late = [p for p in by_staff[staff.id] if p["duties"].get("talk", {}).get("status") in ("overdue", "due_soon")]
        if late:
            mentor, pupil = staff.id, sorted(p["pupil"] for p in late)[0]
            break
    assert mentor, "the demo has no plain teacher with a talk overdue"
    mine = sorted(p["pupil"] for p in by_staff[mentor])
    enrolled = sorted(p.id for p in model.pupils.values() if status_on(p, day) == "enrolled")
    others = [p for p in enrolled if p not in mine]
    away = sorted(p.id for p in model.pupils.values() if status_on(p, day) in ("transferred", "dropped_out"))
    hardship = sorted(
        p.id for p in model.pupils.values()
        if status_on(p, day) == "enrolled" and {"economic_hardship", "in_difficulty", "orphan"} & set(categories_on(p, day))
    )
    queue = views.queue(model, day)
    contacts = [e for e in model.entries.values() if e.type == "ContactMade" and e.actor == mentor and not e.retracted]
    contacts.sort(key=lambda e: (e.date, e.id))
    grants = [e for e in model.entries.values() if e.type == "AidGranted" and not e.retracted and not e.follow_up]
    grants.sort(key=lambda e: (e.date, e.id))
    seq_of = {e.id: seq for seq, e in store.read(after=max(0, store.head() - 3000))}
    leaders = sorted(s.id for s in model.staff.values() if "leader" in s.roles and s.left is None)
    from projections.aid import applications  # the demo's applications still under way (issue 14)

    steps = {a["status"]: a["id"] for a in applications(model, day)}
    return {
        "mentor": mentor,
        "mentor_name": model.staff[mentor].name,
        "mentor_pupils": mine,
        "pupil": pupil,
        "pupil_name": model.pupils[pupil].base.get("name", ""),
        "other_pupils": others,
        "away": away,
        "hardship": [p for p in hardship if p not in mine],
        "free_mentors": [m["staff"] for m in queue["mentors"]],
        "contacts": [(e.id, seq_of.get(e.id), e.pupils[0], e.kind, e.date) for e in contacts[-5:]],
        "grant": grants[-1].id,
        "applied": steps["applied"],  # an application awaiting its survey
        "in_notice": steps["in_notice"],  # one in notice
        "leaders": leaders,
        "staff_ids": sorted(model.staff),
    }


def copy_store(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / "store.sqlite"
    shutil.copyfile(src, dst)
    for suffix in ("-wal", "-shm"):
        extra = Path(str(src) + suffix)
        if extra.exists():
            shutil.copyfile(extra, Path(str(dst) + suffix))
    return dst


def workspace(path: Path, actor: str, lang: str | None = None) -> Workspace:
    """A TUI workspace on the file, with the store's clock fixed to NOW, `actor` signed in (the
    tests build the app in-process: the identity is given as the caller proved it)."""
    from careterm.identity import Proven

    ws = Workspace(str(path), lang=lang, source="tui", proven=Proven(actor, "session") if actor else None)
    ws.store().clock = fixed_clock
    return ws


def make_app(path: Path, actor: str, lang: str | None = None, keymap: dict[str, str] | None = None):
    from careterm.tui.app import CaretermApp

    return CaretermApp(workspace(path, actor, lang), keymap=keymap)


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Let the app run until `condition()` holds (workers finish, paints land)."""
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        try:
            if condition():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}\n{_threads()}")
        await asyncio.sleep(0.05)


def _threads() -> str:
    """The stacks of the worker threads (what a timed-out wait was waiting for)."""
    import sys
    import threading
    import traceback

    frames = sys._current_frames()
    out = []
    for th in threading.enumerate():
        if th is threading.main_thread() or th.ident not in frames:
            continue
        stack = "".join(traceback.format_stack(frames[th.ident], limit=8))
        if "work_queue.get" not in stack:
            out.append(f"--- {th.name}\n{stack}")
    return "\n".join(out)


def loaded(app) -> bool:
    """The first load is done and the home tab is painted."""
    from textual.widgets import DataTable

    return app.seen_head >= 0 and app.query_one("#home-mine", DataTable).row_count > 0 and not _busy(app)


def _busy(app) -> bool:
    """A worker pending or running, or a worker thread still at work.

    A thread worker replaced by an `exclusive` one is marked cancelled at once, but its thread runs
    on and paints when it is done: wait for the threads too, or a late paint lands in a screenshot.
    """
    if any(w.state.name in ("PENDING", "RUNNING") for w in app.workers):
        return True
    import sys
    import threading

    main = threading.main_thread().ident
    for ident, frame in sys._current_frames().items():
        if ident == main:
            continue
        while frame is not None:
            if frame.f_code.co_filename.endswith(("textual/worker.py", "textual\\worker.py")):
                return True
            frame = frame.f_back
    return False


async def settle(pilot, timeout: float = 10.0) -> None:
    """Wait until no worker is pending or running."""
    await wait_for(pilot, lambda: not _busy(pilot.app), timeout, "workers to finish")


async def steady(pilot, quiet: float = 0.3, timeout: float = 10.0) -> None:
    """Wait until no worker runs and the screen has not changed for `quiet` seconds.

    A screenshot taken while a late paint (a table's widths, a menu closing, the focus moving
    after a refusal) is still on its way differs from the reference on a loaded machine.
    """
    from textual.widgets import Input, TextArea

    await settle(pilot, timeout)
    for field in [*pilot.app.screen.query(Input), *pilot.app.screen.query(TextArea)]:
        field.cursor_blink = False  # a blinking cursor is shown or not by the clock: hold it shown
    deadline = time.monotonic() + timeout
    last, since = screen_text(pilot.app), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError("the screen kept changing:\n" + last)
        await asyncio.sleep(0.05)
        await pilot.pause()
        now = screen_text(pilot.app)
        if now != last or _busy(pilot.app):
            last, since = now, time.monotonic()


def screen_text(app) -> str:
    """What the terminal shows, as plain text (for assertions and for reading failures)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True, color_system="truecolor",
        record=True, legacy_windows=False, safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


_DEMO: tuple[Path, dict] | None = None


def demo_store(tmp_path_factory) -> tuple[Path, dict]:
    """The demo file and its facts, built once per test process."""
    global _DEMO
    if _DEMO is None:
        folder = tmp_path_factory.mktemp("tui-demo")
        path = folder / "demo.sqlite"
        _DEMO = (path, build_demo_file(path))
    return _DEMO


# -- driving the app by keyboard -----------------------------------------------------------------


async def focus(pilot, wid: str, limit: int = 3) -> None:
    """Press Tab (as many times as the focus chain says) until the widget `#wid` has the focus."""
    for _ in range(limit):
        app = pilot.app
        focused = app.focused
        if focused is not None and focused.id == wid:
            return
        chain = app.screen.focus_chain
        ids = [w.id for w in chain]
        if wid not in ids:
            raise AssertionError(f"#{wid} cannot take the focus on {app.screen!r}")
        here = chain.index(focused) if focused in chain else -1
        await send_keys(pilot, *["tab"] * ((ids.index(wid) - here) % len(chain)))
    raise AssertionError(f"Tab never reached #{wid} (focus is on {pilot.app.focused!r})")


async def type_into(pilot, wid: str, text: str) -> None:
    """Tab to an input, clear it (Ctrl+U from the end) and type `text` key by key."""
    await focus(pilot, wid)
    await send_keys(pilot, "end", "ctrl+u")  # a binding: let it run before the characters come
    if text:
        await send_keys(pilot, *list(text))
    value = pilot.app.focused.value
    assert value.replace("-", "") == text.replace("-", ""), f"#{wid} shows {value!r} after typing {text!r}"


async def send_keys(pilot, *keys: str) -> None:
    """Key presses, as the terminal driver sends them, then one wait for the app to be idle.

    `pilot.press` waits for the app to go idle after every key (about 80 ms a key here); typing
    into one field needs no wait between keys, which are handled in order.
    """
    from textual import events
    from textual.keys import _character_to_key, _get_unicode_name_from_key
    import unicodedata

    driver = pilot.app._driver
    for key in keys:
        typed = key if len(key) == 1 else None  # a character is sent as itself ("-" and "/" have no unicode-name key)
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char = typed or unicodedata.lookup(_get_unicode_name_from_key(key))
        except KeyError:
            char = None
        driver.send_message(events.Key(key, char))
    await pilot.pause()


async def choose(pilot, wid: str, value: str) -> None:
    """Tab to a Select, open it with Enter, move to the option with the arrows, Enter."""
    from textual.widgets import Select
    from textual.widgets._select import SelectOverlay

    await focus(pilot, wid)
    select = pilot.app.screen.query_one("#" + wid, Select)
    await pilot.press("enter")
    overlay = select.query_one(SelectOverlay)
    await wait_for(pilot, lambda: overlay.has_focus, 5, "the select menu to open")
    values = [v for _, v in select._options]
    target = values.index(value)
    current = overlay.highlighted or 0
    key = "down" if target > current else "up"
    await send_keys(pilot, *[key] * abs(target - current), "enter")
    assert select.value == value, f"#{wid} is {select.value!r}, wanted {value!r}"


async def open_form(pilot, key: str) -> None:
    """`r`, then the arrows down to the form in the record menu, then Enter."""
    from careterm.tui.screens.menus import RecordMenu
    from careterm.tui.forms import FORMS, FormScreen

    await send_keys(pilot, "r")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordMenu), 5, "the record menu")
    from textual.widgets import OptionList

    menu = pilot.app.screen.query_one(OptionList)
    target = list(FORMS).index(key)
    current = menu.highlighted or 0
    await send_keys(pilot, *["down" if target > current else "up"] * abs(target - current))
    assert menu.highlighted == target, (menu.highlighted, target)
    await send_keys(pilot, "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.form.key == key, 5, f"form {key}")


# -- small helpers of the Pilot tests -------------------------------------------------------------


def run(coro):
    return asyncio.run(coro)


def new_events(path, after: int) -> list:
    with Store(str(path)) as store:
        return [e for _, e in store.read(after)]


def head_of(path) -> int:
    with Store(str(path)) as store:
        return store.head()


async def started(app, pilot) -> None:
    await wait_for(pilot, lambda: loaded(app), 15, "the first load")
