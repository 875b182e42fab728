"""The app's workers: a failure in one (the poll, a tab's load) is shown to the user in their
language and the app carries on (issue 10: an error in a poll closed the app)."""

from __future__ import annotations

import asyncio
import glob

import tui_support as S
from tui_support import run, started


def _spoil(path) -> None:
    """Overwrite the store's files (database, WAL, shared memory) under the running app: its next
    read finds "file is not a database", as after a disk fault."""
    for name in glob.glob(f"{path}*"):
        with open(name, "r+b") as f:
            size = f.seek(0, 2)
            f.seek(0)
            f.write(b"\xff" * size)


def test_a_store_failure_in_the_poll_is_shown_in_words_and_the_app_carries_on(facts, store_path):
    """The poll's worker fails (the store's file spoilt under the app): a toast says so from the
    catalog (store.damaged: 数据库文件已损坏), once, not every second; the app still runs and answers
    keys. Was a bug: the failed worker closed the app (Textual's exit_on_error)."""
    async def go():
        app = S.make_app(store_path, facts["mentor"])
        async with app.run_test(size=S.SIZE, notifications=True) as pilot:
            await started(app, pilot)
            _spoil(store_path)
            damaged = lambda: [n for n in app._notifications if "数据库文件已损坏" in n.message]  # noqa: E731
            await S.wait_for(pilot, lambda: damaged(), 10, "the toast naming the damaged store")
            await asyncio.sleep(2.5)  # two more polls fail the same way
            await pilot.pause()
            assert app.is_running
            assert len(damaged()) == 1, [n.message for n in app._notifications]
            assert damaged()[0].severity == "error"
            assert "Traceback" not in damaged()[0].message
            await S.send_keys(pilot, "2")  # the pupils tab: its load fails too, the app stays
            await asyncio.sleep(0.5)
            await pilot.pause()
            assert app.is_running
            assert app.query_one("#tabs").active == "tab-pupils"

    run(go())


def test_a_store_failure_in_the_poll_speaks_english_to_an_english_user(facts, store_path):
    """The same failure with --lang en: the catalog's English sentence (the store is damaged)."""
    import json
    from importlib import resources

    en = json.loads(resources.files("careterm").joinpath("locale/en.json").read_text(encoding="utf-8"))
    start = en["store.damaged"].split("{")[0].strip()

    async def go():
        app = S.make_app(store_path, facts["mentor"], lang="en")
        async with app.run_test(size=S.SIZE, notifications=True) as pilot:
            await started(app, pilot)
            _spoil(store_path)
            await S.wait_for(
                pilot, lambda: any(start in n.message for n in app._notifications), 10, "the English toast"
            )
            assert app.is_running

    run(go())
