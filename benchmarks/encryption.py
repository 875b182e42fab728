"""What encryption at rest costs: the same demo school in a plain store (as stores were before
careterm encrypted them, still readable) and in an encrypted one, side by side.

    python benchmarks/encryption.py [--schools N] [--runs 3] [--json]

Whole-process times (wall clock around the real `careterm` command, as a person waits):
- `careterm rebuild` (every saved model folded from zero, decrypting every event, encrypting
  the saved models);
- a view after one event: `careterm contact …` then `careterm compliance --json` (the saved
  model decrypted, the one new event decrypted and folded);
and in-process rates: reading and decoding the log (events/s), `verify` (chain only for the
plain store; chain plus authenticating every event and saved model for the encrypted one).
Medians of `--runs`. No figure is asserted: this is a measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from events.store import CIPHER_SECRET, Store  # noqa: E402

CARETERM = [sys.executable, "-m", "careterm.cli"]


def build(url: str, key: Path, schools: int, *, plain: bool) -> int:
    """The demo built in-process; `plain`: without a cipher, as a store made before encryption."""
    from careterm.demo import build_demo
    from careterm.demo.passwords import set_demo_passwords
    from events.service import Service

    until = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    with Store(url, create=True, key_file=key) as store:
        if plain:  # an empty store, its key check value taken away before the first event
            store.drop_secret(*CIPHER_SECRET)
            store.mapper.cipher, store.encrypted = None, False
        service = Service(store)
        build_demo(service, schools=schools, seed=2026, until=until)
        set_demo_passwords(store, service.models)
        return store.head()


def run_cli(url: str, key: Path, *args: str, stdin: str | None = None) -> float:
    env = dict(os.environ, CARETERM_STORE=url, CARETERM_KEY_FILE=str(key))
    started = time.perf_counter()
    subprocess.run([*CARETERM, *args], check=True, env=env, input=stdin, text=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def measure(url: str, key: Path, schools: int, runs: int, *, plain: bool) -> dict:
    events = build(url, key, schools, plain=plain)
    run_cli(url, key, "--school", "s1", "login", "admin", "--password-stdin", stdin="demo1234\n")
    with Store(url, key_file=key) as store:
        assert store.encrypted is (not plain)
        from events import saved

        from events.model import status_on

        model = saved.load(store, "s1")
        today = store.clock().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        pupil = next(p.id for p in model.pupils.values() if status_on(p, today) == "enrolled")
        started = time.perf_counter()
        count = sum(1 for _ in store.read())
        read_rate = count / (time.perf_counter() - started)
        started = time.perf_counter()
        store.verify()
        verify_rate = count / (time.perf_counter() - started)
    rebuild = [run_cli(url, key, "rebuild") for _ in range(runs)]
    run_cli(url, key, "--school", "s1", "compliance", "--json")  # the saved model current
    views = []
    for _ in range(runs):
        run_cli(url, key, "--school", "s1", "contact", pupil, "--kind", "talk")
        views.append(run_cli(url, key, "--school", "s1", "compliance", "--json"))
    return {
        "store": "plain" if plain else "encrypted",
        "events": events,
        "rebuild_s": round(statistics.median(rebuild), 3),
        "view_after_one_event_s": round(statistics.median(views), 3),
        "read_decode_per_s": round(read_rate),
        "verify_events_per_s": round(verify_rate),
        "file_mb": round(Path(url).stat().st_size / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        # the admin's sessions (one `login` per store, not timed) in the run's own dirs, not the user's
        os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "state")
        key = Path(tmp) / "careterm.key"
        for plain in (True, False):
            results.append(measure(str(Path(tmp) / f"{'plain' if plain else 'enc'}.sqlite"), key, args.schools, args.runs, plain=plain))
    if args.json:
        print(json.dumps(results))
        return
    print("| figure | " + " | ".join(r["store"] for r in results) + " | change |")
    print("|---|---|---|---|")
    for name in results[0]:
        if name == "store":
            continue
        a, b = results[0][name], results[1][name]
        cost = f"{(b / a - 1) * 100:+.0f}%" if isinstance(a, (int, float)) and a else ""
        print(f"| {name} | {a} | {b} | {cost} |")


if __name__ == "__main__":
    main()
