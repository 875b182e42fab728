"""What syncing a village school and backing a district up cost (issue 15, items 3 and 4).

    python benchmarks/bundle.py [--runs 3] [--schools 10,50,200] [--pg postgresql://…] [--json FILE]

Whole-process figures, wall clock around the real command as a person (or cron) waits for it,
each the median of `--runs` runs (range in brackets in the table):
- `careterm bundle export --out FILE` of the demo village (`careterm demo`: one school, a year
  and a half, about 14,000 entries and 44 accounts): events per second, and the bundle's size;
- `careterm bundle import FILE` of that bundle into a fresh copy of a district store that holds
  another school (SQLite; and a fresh schema on the PostgreSQL server given with --pg), signed in
  as the district's admin: events per second; then the same bundle again (adds 0);
- `careterm backup FILE` of a demo district of each size of `--schools` (`careterm demo
  --schools N`, its build time given too; one run each: the copies are large): the whole
  process, and the same backup run in this process split into the copy (SQLite's online
  backup) and the verification of the copy (the chain, integrity_check, every event decrypted).
Everything runs in a temporary folder with its own key file and XDG directories. No figure is
asserted: this is a measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
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

CARETERM = [sys.executable, "-m", "careterm.cli"]
PASSWORD = "bench-pass-1234"


class Bench:
    def __init__(self, folder: Path):
        self.folder = folder
        self.key = folder / "careterm.key"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CARETERM_")}
        self.env.update(CARETERM_KEY_FILE=str(self.key), XDG_DATA_HOME=str(folder / "data"),
                        XDG_STATE_HOME=str(folder / "state"), XDG_CONFIG_HOME=str(folder / "config"),
                        PYTHONIOENCODING="utf-8")
        os.environ["CARETERM_KEY_FILE"] = str(self.key)  # the stores this process opens

    def run(self, *args: str, token: str | None = None, stdin: str | None = None) -> tuple[float, dict | None]:
        """(seconds, JSON printed or None) of one careterm process; a failure stops the run."""
        env = dict(self.env, **({"CARETERM_TOKEN": token} if token else {}))
        started = time.perf_counter()
        done = subprocess.run([*CARETERM, *args], cwd=ROOT, env=env, capture_output=True, text=True, input=stdin,
                              timeout=3600)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"careterm {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
        try:
            return seconds, json.loads(done.stdout)
        except ValueError:
            return seconds, None

    def token(self, url: str, school: str, staff: str) -> str:
        from careterm import identity as I
        from events.store import Store

        with Store(url) as store:
            return I.new_token(store, school, staff, f"bench-{uuid.uuid4().hex[:8]}",
                               dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))


def median_range(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "low": round(min(values), 3), "high": round(max(values), 3)}


def district(b: Bench, url: str) -> str:
    """A district store holding school d1 (its admin boss); returns boss's token."""
    b.run("--store", url, "--as", "boss", "init", "--id", "d1", "--school", "县直小学", "--name", "局长",
          "--password-stdin", stdin=PASSWORD + "\n")
    return b.token(url, "d1", "boss")


def bundle_figures(b: Bench, runs: int, pg: str | None) -> dict:
    village = str(b.folder / "village.sqlite")
    build_s, summary = b.run("--store", village, "demo", "--json")
    village_token = b.token(village, "s1", "admin")
    bundle = b.folder / "s1.bundle"
    exports = []
    for _ in range(runs):
        seconds, made = b.run("--store", village, "bundle", "export", "--out", str(bundle), "--json", token=village_token)
        exports.append(seconds)
    entries = made["entries"]
    template = str(b.folder / "district.sqlite")
    boss = district(b, template)
    imports, again = [], []
    for i in range(runs):
        copy = str(b.folder / f"district-{i}.sqlite")
        shutil.copyfile(template, copy)
        seconds, done = b.run("--store", copy, "bundle", "import", str(bundle), "--json", token=boss)
        assert done["added"] == entries, done
        imports.append(seconds)
        # s1 is held now: its own admin imports it again (an admin of d1 may not)
        seconds, done = b.run("--store", copy, "bundle", "import", str(bundle), "--json", token=b.token(copy, "s1", "admin"))
        assert done["added"] == 0, done
        again.append(seconds)
        os.remove(copy)
    figures = {
        "village_events": entries, "village_accounts": made["accounts"], "village_build_s": round(build_s, 2),
        "bundle_mb": round(bundle.stat().st_size / 2**20, 2),
        "export_s": median_range(exports), "export_events_per_s": round(entries / statistics.median(exports)),
        "import_sqlite_s": median_range(imports), "import_sqlite_events_per_s": round(entries / statistics.median(imports)),
        "import_again_sqlite_s": median_range(again),
    }
    if pg:
        figures.update(pg_import(b, pg, bundle, entries, runs))
    return figures


def pg_import(b: Bench, server: str, bundle: Path, entries: int, runs: int) -> dict:
    import psycopg
    from psycopg import sql
    from urllib.parse import urlencode, urlparse, urlunparse

    imports, again = [], []
    for _ in range(runs):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        url = urlunparse(urlparse(server)._replace(query=urlencode({"schema": schema})))
        try:
            boss = district(b, url)
            seconds, done = b.run("--store", url, "bundle", "import", str(bundle), "--json", token=boss)
            assert done["added"] == entries, done
            imports.append(seconds)
            seconds, _ = b.run("--store", url, "bundle", "import", str(bundle), "--json", token=b.token(url, "s1", "admin"))
            again.append(seconds)
        finally:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return {"import_postgresql_s": median_range(imports),
            "import_postgresql_events_per_s": round(entries / statistics.median(imports)),
            "import_again_postgresql_s": median_range(again)}


def backup_figures(b: Bench, schools: int) -> dict:
    from events.backup import backup

    store = str(b.folder / f"district-{schools}.sqlite")
    build_s, summary = b.run("--store", store, "demo", "--schools", str(schools), "--json")
    out = b.folder / f"backup-{schools}.sqlite"
    seconds, done = b.run("--store", store, "backup", str(out), "--json")
    assert done["verified"] and done["events"] == summary["events"], done
    split = backup(store, out, key_file=b.key)
    figures = {
        "schools": schools, "events": summary["events"], "demo_build_s": round(build_s, 1),
        "store_mb": round(os.path.getsize(store) / 2**20, 1), "backup_s": round(seconds, 2),
        "backup_copy_s": split.copy_seconds, "backup_verify_s": split.verify_seconds,
        "backup_events_per_s": round(summary["events"] / seconds),
    }
    for path in (store, out):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{path}{suffix}"):
                os.remove(f"{path}{suffix}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--schools", default="10,50,200", help="sizes of the district backed up (comma-separated; 0: none)")
    parser.add_argument("--pg", default="", help="a PostgreSQL server URL: the import into it too")
    parser.add_argument("--json", dest="json_file")
    args = parser.parse_args()
    sizes = [int(n) for n in args.schools.split(",") if n.strip() and int(n)]
    with tempfile.TemporaryDirectory(prefix="careterm-bundle-bench-") as tmp:
        b = Bench(Path(tmp))
        results = {"bundle": bundle_figures(b, args.runs, args.pg or None), "backup": []}
        for schools in sizes:
            results["backup"].append(backup_figures(b, schools))
            print(json.dumps(results["backup"][-1]), file=sys.stderr)
    show(results)
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def show(results: dict) -> None:
    def cell(value) -> str:
        if isinstance(value, dict):
            return f"{value['median']} ({value['low']}–{value['high']})"
        return f"{value:,}" if isinstance(value, int) else str(value)

    print("| figure | value |\n|---|---:|")
    for key, value in results["bundle"].items():
        print(f"| {key} | {cell(value)} |")
    if results["backup"]:
        keys = [k for k in results["backup"][0] if k != "schools"]
        print("\n| figure | " + " | ".join(f"{r['schools']} schools" for r in results["backup"]) + " |")
        print("|---|" + "---:|" * len(results["backup"]))
        for key in keys:
            print(f"| {key} | " + " | ".join(cell(r[key]) for r in results["backup"]) + " |")


if __name__ == "__main__":
    main()
