"""District-scale figures, on SQLite and PostgreSQL, for stores of 10, 50 and 200 demo schools.

    python3 quickstart.py bench                      # everything (starts a throwaway PostgreSQL)
    python benchmarks/district.py --schools 10 --pg postgresql://…   # one size, one server

For each store and size it measures, in one run:
- the demo build (bulk appends) and the store's size in events;
- the raw row-scan rate of the event table (rows/s, no decoding) and the rebuild of every view
  (events/s), with their ratio;
- a view after one new event: `careterm compliance` as a whole process, from the command line;
- single-event appends through the command layer (rules, head guard, hash chain on): per second,
  p50 and p99 latency;
- the TUI's time to first paint and resident memory, in a real terminal (tmux), when tmux exists.
Every command runs signed in as the demo's admin: one `login admin` per store (password
demo1234) before anything is timed, its session (and the store's key) kept in the run's own
XDG directories, not the user's.
Prints a table and writes JSON (--json FILE). No figure is asserted: this is a measurement.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from events import commands as C  # noqa: E402
from events.model import status_on  # noqa: E402
from events.service import Service  # noqa: E402
from events.store import Store  # noqa: E402

CARETERM = [sys.executable, "-m", "careterm.cli"]


def build(url: str, schools: int, until: dt.date) -> dict:
    from careterm.demo import build_demo
    from careterm.demo.passwords import set_demo_passwords

    with Store(url, create=True) as store:
        service = Service(store)
        started = time.perf_counter()
        summary = build_demo(service, schools=schools, until=until)
        seconds = time.perf_counter() - started
        set_demo_passwords(store, service.models)  # as `careterm demo` does; not timed
    return {"build_s": round(seconds, 1), "events": summary["events"], "build_events_per_s": round(summary["events"] / seconds)}


def raw_scan(url: str) -> float:
    """Rows per second of a plain scan of the event table (the floor a rebuild could reach)."""
    started = time.perf_counter()
    rows = 0
    if url.startswith("postgres"):
        import psycopg

        from events.store_postgres import postgres_env as _postgres_env

        env = _postgres_env(url)
        schema = env.get("POSTGRES_SCHEMA", "public")
        with Store(url) as store:
            table = store.recorder.events_table_name
        with psycopg.connect(
            host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None, dbname=env["POSTGRES_DBNAME"],
        ) as conn, conn.cursor(name="scan") as cur:
            cur.itersize = 20000
            cur.execute(
                f'SELECT notification_id, originator_id, originator_version, topic, state FROM "{schema}"."{table}"'
                " ORDER BY notification_id"
            )
            for _ in cur:
                rows += 1
    else:
        import sqlite3

        conn = sqlite3.connect(url)
        for _ in conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ):
            rows += 1
        conn.close()
    return rows / (time.perf_counter() - started)


def rebuild_rate(url: str) -> tuple[float, float]:
    """Every school's read model folded from zero and saved, as `careterm rebuild` does it (in
    worker processes, one per core, for a store of 100k events or more)."""
    from projections.readmodel import rebuild

    with Store(url) as store:
        started = time.perf_counter()
        counted = rebuild(store)
        seconds = time.perf_counter() - started
    return sum(counted.values()) / seconds, seconds


# where the run keeps its key and sessions (set by main): the user's own stay untouched
OWN_DIRS = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")


def use_own_dirs(tmp: Path) -> None:
    for name in OWN_DIRS:
        os.environ[name] = str(tmp / name.lower())


def run_cli(url: str, *args: str, stdin: str | None = None) -> float:
    env = dict(os.environ, CARETERM_STORE=url, CARETERM_USER="admin")
    started = time.perf_counter()
    subprocess.run([*CARETERM, *args], check=True, env=env, input=stdin, text=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def sign_in(url: str) -> None:
    """The demo's admin signs in for this store once (a session, as a person would): setup, not timed."""
    from careterm.demo.passwords import DEMO_PASSWORD

    run_cli(url, "--school", "s1", "login", "admin", "--password-stdin", stdin=DEMO_PASSWORD + "\n")


def view_after_one_event(url: str, pupil: str) -> dict:
    run_cli(url, "--school", "s1", "compliance", "--json")  # the read model is saved and current
    timings = []
    for _ in range(3):
        run_cli(url, "--school", "s1", "contact", pupil, "--kind", "talk")
        timings.append(run_cli(url, "--school", "s1", "compliance", "--json"))
    write = [run_cli(url, "--school", "s1", "contact", pupil, "--kind", "talk") for _ in range(3)]
    audit = [run_cli(url, "--school", "s1", "audit", "--pupil", pupil, "--json") for _ in range(3)]
    return {
        "view_after_one_event_s": round(statistics.median(timings), 3),
        "cli_write_s": round(statistics.median(write), 3),
        "audit_one_pupil_s": round(statistics.median(audit), 3),
    }


def timed_contacts(service: Service, ctx, pupils: list[str], count: int) -> tuple[float, list[float]]:
    """`count` talks recorded one command at a time, round the pupils: (seconds in all, each
    command's seconds, sorted)."""
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        service.execute(lambda s, i=i: C.contact(s, ctx, pupils[i % len(pupils)], kind="talk"))
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - started, sorted(latencies)


def appends(url: str, count: int) -> dict:
    with Store(url) as store:
        service = Service(store, school="s1")
        service.catch_up()
        school = service.models["s1"]
        today = service.today("s1")
        pupils = [p.id for p in school.pupils.values() if status_on(p, today) == "enrolled"]
        ctx = C.Context(school="s1", actor="admin", today=today, date=today)
        seconds, latencies = timed_contacts(service, ctx, pupils, count)
    return {
        "appends_per_s": round(count / seconds),
        "append_p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "append_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }


def tui(url: str) -> dict:
    """Launch to the tab bar on screen, in tmux at 80x24, and the process's resident memory."""
    if not shutil.which("tmux"):
        return {}
    session = f"bench-{uuid.uuid4().hex[:8]}"
    # a tmux server of its own, started now: it has this process's environment (the run's own
    # dirs, CARETERM_KEY_FILE); a server already running would give the TUI its older one
    tmux = ["tmux", "-L", session]
    command = f"CARETERM_STORE={shlex.quote(url)} CARETERM_USER=admin CARETERM_SCHOOL=s1 {shlex.quote(sys.executable)} -m careterm.cli"
    started = time.perf_counter()
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command], check=True, cwd=ROOT)
    try:
        first_paint = None
        while time.perf_counter() - started < 30:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
            if "今日" in screen and "职责" in screen:  # the tab bar and the first table (its header) painted
                first_paint = time.perf_counter() - started
                break
            time.sleep(0.02)
        time.sleep(1.0)
        pid = subprocess.run([*tmux, "list-panes", "-t", session, "-F", "#{pane_pid}"], capture_output=True, text=True).stdout.strip()
        rss = None
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    rss = int(line.split()[1]) / 1024
        except OSError:
            pass
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    return {"tui_first_paint_s": round(first_paint, 2) if first_paint else None, "tui_peak_rss_mb": round(rss) if rss else None}


def measure(url: str, schools: int, until: dt.date, appends_count: int) -> dict:
    figures = {
        "store": "postgresql" if url.startswith("postgres") else "sqlite",
        "schools": schools,
        "cores": os.cpu_count(),
    }
    figures.update(build(url, schools, until))
    sign_in(url)
    scan = raw_scan(url)
    rate, seconds = rebuild_rate(url)
    figures.update(
        raw_scan_rows_per_s=round(scan),
        rebuild_events_per_s=round(rate),
        rebuild_s=round(seconds, 1),
        rebuild_vs_scan=round(rate / scan, 3),
    )
    with Store(url) as store:
        service = Service(store, school="s1")
        service.catch_up()
        today = service.today("s1")
        pupil = next(p.id for p in service.models["s1"].pupils.values() if status_on(p, today) == "enrolled")
    figures.update(view_after_one_event(url, pupil))
    figures.update(appends(url, appends_count))
    figures.update(tui(url))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", default="10,50,200", help="sizes, comma separated")
    parser.add_argument("--pg", default=os.environ.get("CARETERM_TEST_PG"), help="a PostgreSQL server URL")
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--json", dest="json_file")
    parser.add_argument("--until", default=None, help="the demo's last day (default: today)")
    args = parser.parse_args()
    # an installed careterm has its bytecode compiled (pip does it); a checkout may not have
    # it, or may not be allowed to write it (PYTHONDONTWRITEBYTECODE): compile it once first
    compileall.compile_dir(ROOT / "careterm", quiet=1)
    compileall.compile_dir(ROOT / "events", quiet=1)
    compileall.compile_dir(ROOT / "projections", quiet=1)
    until = dt.date.fromisoformat(args.until) if args.until else dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        use_own_dirs(Path(tmp))
        for n in [int(x) for x in args.schools.split(",")]:
            targets = [str(Path(tmp) / f"district-{n}.sqlite")]
            if args.pg:
                schema = f"bench_{n}_{uuid.uuid4().hex[:6]}"
                _create_schema(args.pg, schema)
                targets.append(f"{args.pg}{'&' if '?' in args.pg else '?'}schema={schema}")
            for url in targets:
                figures = measure(url, n, until, args.appends)
                results.append(figures)
                print(json.dumps(figures), flush=True)
                if url.startswith("postgres"):
                    _drop_schema(args.pg, url.rsplit("schema=", 1)[1])
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(results, indent=2))
    keys = [k for k in results[0] if k not in ("store", "schools")]
    print()
    print("| figure | " + " | ".join(f"{r['store']} {r['schools']}" for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for key in keys:
        print(f"| {key} | " + " | ".join(str(r.get(key, "")) for r in results) + " |")


def _create_schema(server: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')


def _drop_schema(server: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
