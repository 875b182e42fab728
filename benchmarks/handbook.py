"""The handbook of the demo's busiest mentor, as a mentor waits for it: the whole process.

    python benchmarks/handbook.py [--runs 5] [--days 365] [--json]

Builds the demo school (`careterm demo`, a year and a half of history) in a fresh SQLite store
with its own key and session folders, finds the busiest mentor (the most contacts with their
mentees, during the pairings, over the last `--days` days), signs in as that mentor (the demo's
password) and runs `careterm export handbook MENTOR --from … --to … --out FILE.docx --json` as a
subprocess `--runs` times. Prints the median and the range of the wall time, the peak memory
(maximum resident set of the export process, from wait4) and the document's size; with
LibreOffice on the machine, its page count too. Nothing is asserted: this is a measurement.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CARETERM = [sys.executable, "-m", "careterm.cli"]


class Measured(subprocess.Popen):
    """A Popen that reaps its child with wait4, keeping the child's own peak memory
    (ru_maxrss, in KB on Linux): RUSAGE_CHILDREN would give the largest child so far."""

    peak_mb = 0.0

    def _try_wait(self, wait_flags):
        try:
            pid, status, usage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return self.pid, 0
        if pid == self.pid:
            self.peak_mb = usage.ru_maxrss / 1024
        return pid, status


def timed(args: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one careterm process."""
    started = time.perf_counter()
    p = Measured([*CARETERM, *args], env=env, cwd=ROOT, text=True, stdin=subprocess.PIPE,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(stdin)
    wall = time.perf_counter() - started
    if p.returncode != 0:
        raise SystemExit(f"careterm {' '.join(args)} failed ({p.returncode}):\n{err}")
    return wall, p.peak_mb, out


def busiest_mentor(url: str, key: Path, start: dt.date, end: dt.date) -> tuple[str, int, int]:
    """(staff id, mentees, contacts) of the mentor with the most contacts in [start, end]."""
    from careterm.paperwork import handbook as H
    from careterm.paperwork import records as R
    from events import saved
    from events.store import Store

    with Store(url, key_file=key) as store:
        model = saved.load(store, "s1", save=False)
    best = ("", 0, 0)
    for staff in model.staff:
        pupils = H.mentee_ids(model, staff, start, end)
        count = 0
        for pupil in pupils:
            spans = [(p.start, p.end) for p in model.pupils[pupil].pairings if p.staff == staff]
            count += len(R.contacts(model, model.pupils[pupil], end, None, {}, start=start, end=end, spans=spans))
        if count > best[2]:
            best = (staff, len(pupils), count)
    return best


def pdf_pages(docx: Path, folder: Path) -> int | None:
    if shutil.which("soffice") is None:
        return None
    subprocess.run(["soffice", f"-env:UserInstallation=file://{folder / 'lo'}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), str(docx)], check=True, capture_output=True, timeout=300)
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", (folder / (docx.stem + ".pdf")).read_bytes()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days", type=int, default=365, help="the handbook's range: the last N days")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    # an installed careterm has its bytecode compiled (pip does it); a checkout may not have it,
    # or may not be allowed to write it (PYTHONDONTWRITEBYTECODE): compile it once first
    for package in ("careterm", "events", "projections"):
        compileall.compile_dir(ROOT / package, quiet=1)
    tmp = Path(tempfile.mkdtemp(prefix="careterm-handbook-bench-"))
    url, key = str(tmp / "demo.sqlite"), tmp / "careterm.key"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARETERM_")}
    env.update(CARETERM_STORE=url, CARETERM_KEY_FILE=str(key), XDG_DATA_HOME=str(tmp / "data"),
               XDG_STATE_HOME=str(tmp / "state"), XDG_CONFIG_HOME=str(tmp / "config"))
    try:
        build_s, _, _ = timed(["demo"], env)
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        start = today - dt.timedelta(days=args.days)
        staff, mentees, contacts = busiest_mentor(url, key, start, today)
        timed(["login", staff, "--password-stdin"], env, stdin="demo1234\n")
        out = tmp / "handbook.docx"
        command = ["export", "handbook", staff, "--from", start.isoformat(), "--to", today.isoformat(), "--out", str(out), "--json"]
        walls, peaks, said = [], [], {}
        for _ in range(args.runs):
            wall, peak, printed = timed(command, env)
            walls.append(wall)
            peaks.append(peak)
            said = json.loads(printed)
        figures = {
            "mentor": staff,
            "range": f"{start} – {today}",
            "mentees": said["mentees"],
            "contacts": said["contacts"],
            "inspections": said["inspections"],
            "runs": args.runs,
            "wall_median_s": round(statistics.median(walls), 3),
            "wall_min_s": round(min(walls), 3),
            "wall_max_s": round(max(walls), 3),
            "walls_s": " ".join(f"{w:.2f}" for w in walls),
            "peak_rss_mb": round(max(peaks), 1),
            "docx_kb": round(out.stat().st_size / 1024, 1),
            "pdf_pages": pdf_pages(out, tmp),
            "demo_build_s": round(build_s, 2),
        }
        assert (mentees, contacts) == (said["mentees"], said["contacts"]), (mentees, contacts, said)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    print("| figure | value |\n|---|---:|")
    for name, value in figures.items():
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
