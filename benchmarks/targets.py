"""Every figure of issue 16, each beside its target and, for a ratio, beside its reference
measured in the same run: a table, and JSON with --json FILE.

    python benchmarks/targets.py [--quick] [--only NAME[,NAME]] [--runs N] [--schools 200]
                                 [--district-store PATH] [--key-file PATH] [--json FILE]

NAME is one of: view, rebuild, tui, appends, roster, handbook, bundle.

- view: a view after one new entry on the demo school (`careterm demo`), signed in as its
  admin (the principal: admin and leader) with a token: `careterm contact …` (not timed), then
  `careterm queue --json` (timed, the whole process), median of --runs, against a bare
  `python -c pass` timed in the same runs (target: at most 4.5 times). Then where its time goes:
  `python -X importtime` (the largest imports) and a cProfile of the same process (the top 15
  functions by cumulative time), printed in a section of their own.
- rebuild: `careterm rebuild --json` of the district store (the whole process), as events folded
  per second, against a raw row scan of the same table (sqlite3: every row's rowid, stream,
  version, topic and state, the scan of benchmarks/district.py) in the same run, alternating,
  medians of --runs: target rebuild rate / scan rate at least 0.5 (the issue's "0.25–0.29 of a
  raw row scan", the README's "rebuild ÷ raw scan"). Then the microseconds per event of each
  stage of a rebuild (fetch, decrypt, decode, fold, encode and save), in this process, over the
  first schools of the store (one worker's run).
- tui: the app's first paint on the district store, pinned to one core (`taskset -c 0`), signed
  in with the admin's token, in tmux at 80x24: from launch until the tab bar and the home tab's
  heading are on screen (target 1.0 s), and the app process's resident memory (VmHWM, the peak,
  from /proc; VmRSS beside it) once its home tab is shown (target 80 MB). Then the app's largest
  imports (PYTHONPROFILEIMPORTTIME, one more launch).
- appends: contacts recorded through the command layer (events.service.Service.execute of
  events.commands.contact: the rules, the permission check of a mentor for their own mentee,
  the head guard, the hash chain, AES-GCM encryption, one transaction and fsync each), in this
  process, on a copy of the demo school: per second (target 2,000), p50 and p99.
- roster: `careterm import pupils` of a 2,000-row roster (benchmarks/import_roster.py's sheet)
  into a fresh copy of a new school's store: target 2 s.
- handbook: `careterm export handbook` of the demo's busiest mentor over the last year
  (benchmarks/handbook.py's choice), signed in as that mentor: target 1 s.
- bundle: `careterm bundle export` of the demo school (a year and a half: more than the issue's
  "a year of one village school", so an upper bound), and `careterm bundle import` of it into a
  fresh copy of a district store holding another school: target 1 s each.

The district store (--schools demo schools, default 200, built by `careterm demo --schools N`)
takes many minutes to build: with --district-store PATH it is kept there and reused by later
runs (its key beside it, PATH.key, unless --key-file). Every other store lives in a temporary
folder, with the run's own XDG directories; every store of the run uses the one key file.
--quick: small sizes (one school: the demo store is the district store; 3 runs, 200 appends, a
200-row roster), for a smoke run. Whole-process figures are wall clock around the real program
(the console script next to this Python, as tests/test_cli.py runs it). Nothing is asserted:
on a shared machine the figures are upper bounds.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import io
import json
import os
import pstats
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import district as district_bench  # noqa: E402  (raw_scan)
import handbook as handbook_bench  # noqa: E402  (busiest_mentor)
import import_roster as roster_bench  # noqa: E402  (make_roster)

FIGURES = ("view", "rebuild", "tui", "appends", "roster", "handbook", "bundle")
PASSWORD = "bench-pass-1234"
ZONE = dt.timezone(dt.timedelta(hours=8))  # the demo school's (Asia/Shanghai)


def _program() -> list[str]:
    """The installed console script next to this Python if there is one, else `python -m`
    (as tests/test_cli.py's PROGRAM)."""
    scripts = sysconfig.get_path("scripts")
    found = shutil.which("careterm", path=scripts) if scripts else None
    return [found] if found else [sys.executable, "-m", "careterm.cli"]


PROGRAM = _program()
MODULE = [sys.executable, "-m", "careterm.cli"]  # for the runs with interpreter flags


class Failed(SystemExit):
    pass


class Bench:
    """The run's folder, key file and environment; runs the real program."""

    def __init__(self, folder: Path, key: Path):
        self.folder = folder
        self.key = key
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CARETERM_")}
        self.env.update(CARETERM_KEY_FILE=str(key), XDG_DATA_HOME=str(folder / "data"),
                        XDG_STATE_HOME=str(folder / "state"), XDG_CONFIG_HOME=str(folder / "config"),
                        PYTHONIOENCODING="utf-8")
        self.env.pop("CARETERM_LANG", None)
        os.environ["CARETERM_KEY_FILE"] = str(key)  # the stores this process opens
        self.tokens: dict[tuple[str, str, str], str] = {}

    def run(self, *args: str, token: str | None = None, stdin: str | None = None, program: list[str] | None = None,
            env: dict[str, str] | None = None, timeout: float | None = 3600) -> tuple[float, str, str]:
        """(wall seconds, stdout, stderr) of one careterm process; a failure stops the run."""
        full = dict(self.env, **(env or {}), **({"CARETERM_TOKEN": token} if token else {}))
        command = [*(program or PROGRAM), *args]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=full, capture_output=True, text=True, input=stdin,
                              timeout=timeout, **({} if stdin is not None else {"stdin": subprocess.DEVNULL}))
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise Failed(f"careterm {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return seconds, done.stdout, done.stderr

    def token(self, url: str, school: str, staff: str) -> str:
        """A token of `staff` (written into the store as `token create` would), one per store."""
        if (url, school, staff) not in self.tokens:
            from careterm import identity as I
            from events.store import Store

            with Store(url, key_file=self.key) as store:
                self.tokens[url, school, staff] = I.new_token(
                    store, school, staff, f"targets-{uuid.uuid4().hex[:8]}",
                    dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2))
        return self.tokens[url, school, staff]


def bare_python() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def copy_store(source: str, target: str) -> None:
    """A consistent copy of an SQLite store (SQLite's online backup: the WAL included)."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(target + suffix):
            os.remove(target + suffix)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()


def today_of(url: str, key: Path) -> dt.date:
    from events.store import Store

    with Store(url, key_file=key) as store:
        return store.clock().astimezone(ZONE).date()


def enrolled_pupil(url: str, key: Path, school: str = "s1") -> str:
    from events import saved
    from events.model import status_on
    from events.store import Store

    with Store(url, key_file=key) as store:
        model = saved.load(store, school, save=False)
        today = store.clock().astimezone(ZONE).date()
    return next(p.id for p in model.pupils.values() if status_on(p, today) == "enrolled")


def med(values: list[float], digits: int = 3) -> float:
    return round(statistics.median(values), digits)


def spread(values: list[float], digits: int = 3) -> str:
    return f"{min(values):.{digits}f}–{max(values):.{digits}f}"


# --- the figures -----------------------------------------------------------------------------

class Results:
    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.details: dict[str, dict] = {}
        self.sections: list[tuple[str, str]] = []

    def figure(self, name: str, measured: float | None, target: float, *, at_least: bool = False, unit: str = "",
               reference: str = "", note: str = "") -> None:
        met = None if measured is None else (measured >= target if at_least else measured <= target)
        if measured is None or met:
            miss = ""
        elif at_least:
            miss = f"{(target - measured) / target * 100:.0f}% short"
        else:
            miss = f"{(measured - target) / target * 100:.0f}% over"
        self.rows.append({"figure": name, "measured": measured, "unit": unit, "reference": reference,
                          "target": f"{'≥' if at_least else '≤'} {target:g}{unit}", "met": met, "missed_by": miss,
                          "note": note})
        print(f"  {name}: {measured}{unit}  (target {'≥' if at_least else '≤'} {target:g}{unit}; "
              f"{'met' if met else 'MISSED ' + miss if met is not None else 'not measured'})"
              f"{'  [' + reference + ']' if reference else ''}", flush=True)

    def section(self, title: str, text: str) -> None:
        self.sections.append((title, text))
        print(f"\n### {title}\n{text}", flush=True)


def fig_view(b: Bench, r: Results, demo: str, runs: int) -> None:
    token = b.token(demo, "s1", "admin")
    at = ("--store", demo)
    pupil = enrolled_pupil(demo, b.key)
    b.run(*at, "queue", "--json", token=token)  # the saved model current (and the bytecode warm)
    bare_python()
    bare, views, writes = [], [], []
    for _ in range(runs):
        bare.append(bare_python())
        writes.append(b.run(*at, "contact", pupil, "--kind", "talk", token=token)[0])
        views.append(b.run(*at, "queue", "--json", token=token)[0])
    ratio = statistics.median(views) / statistics.median(bare)
    r.details["view"] = {"view_s": views, "bare_python_s": bare, "contact_s": writes, "pupil": pupil}
    r.figure("view after one entry (queue --json ÷ bare python)", round(ratio, 2), 4.5, unit="×",
             reference=f"view {med(views)} s ({spread(views)}), bare python {med(bare)} s ({spread(bare)}), "
                       f"median of {runs}")
    r.figure("view after one entry, seconds (for reference: 4.5 × bare)", med(views), round(4.5 * statistics.median(bare), 3),
             unit=" s", reference=f"contact process {med(writes)} s")

    # where it goes: the imports...
    b.run(*at, "contact", pupil, "--kind", "talk", token=token)
    _, _, err = b.run(*at, "queue", "--json", token=token, program=[sys.executable, "-X", "importtime", "-m", "careterm.cli"])
    r.section("the view's imports (python -X importtime, one run after one contact)", importtime_summary(err))
    # ...and the functions
    profile = b.folder / "view.prof"
    b.run(*at, "contact", pupil, "--kind", "talk", token=token)
    b.run(*at, "queue", "--json", token=token, program=[sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "careterm.cli"])
    r.section("the view's profile (cProfile of one `queue --json` after one contact, top 15 by cumulative time)",
              profile_summary(profile, 15))
    r.section("the same profile, careterm's own functions (top 20 by cumulative time)",
              profile_summary(profile, 20, ours=True))


def profile_process(b: Bench, r: Results, title: str, *args: str, token: str | None = None, top: int = 20) -> None:
    """A section: careterm's own functions in a cProfile of one more run of this command."""
    profile = b.folder / f"{uuid.uuid4().hex[:8]}.prof"
    b.run(*args, token=token, program=[sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "careterm.cli"])
    r.section(f"{title}: cProfile of one run, careterm's own functions, top {top} by cumulative time",
              profile_summary(profile, top, ours=True))


def importtime_summary(stderr: str, top: int = 15) -> str:
    """The largest top-level imports (cumulative µs), and the self time summed per package."""
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)", line)
        if m:
            rows.append((int(m[1]), int(m[2]), len(m[3]) // 2, m[4]))
    if not rows:
        return "(no -X importtime output)"
    total = sum(s for s, _, _, _ in rows)
    level = min(d for _, _, d, _ in rows)
    first = sorted((r for r in rows if r[2] == level), key=lambda r: -r[1])[:top]
    per_package: dict[str, int] = {}
    for s, _, _, name in rows:
        per_package[name.split(".")[0]] = per_package.get(name.split(".")[0], 0) + s
    out = [f"all imports: {total / 1000:.1f} ms (sum of self times, {len(rows)} modules)", "",
           "| top-level import | cumulative ms |", "|---|---:|"]
    out += [f"| {name} | {cum / 1000:.1f} |" for _, cum, _, name in first]
    out += ["", "| package (self times summed) | ms |", "|---|---:|"]
    out += [f"| {name} | {ms / 1000:.1f} |" for name, ms in sorted(per_package.items(), key=lambda kv: -kv[1])[:top]]
    return "\n".join(out)


def profile_summary(path: Path, top: int, *, ours: bool = False, by: str = "cumulative") -> str:
    """pstats' table of the top `top` functions by `by`; `ours`: careterm's own (careterm/,
    events/, projections/) only, their paths relative to the checkout."""
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    if ours:
        stats.sort_stats(by).print_stats(re.escape(str(ROOT)) + r"/(careterm|events|projections)/", top)
    else:
        stats.strip_dirs().sort_stats(by).print_stats(top)
    text = out.getvalue().replace(str(ROOT) + "/", "")
    start = text.find("   ncalls")
    head = [line.strip() for line in text[:start].splitlines() if "function calls" in line]
    return "\n".join([*head, text[start:].rstrip()])


def fig_rebuild(b: Bench, r: Results, url: str, runs: int, stage_schools: int) -> None:
    from events.store import Store

    with Store(url, key_file=b.key) as store:
        head = store.head()
        schools = len(store.recorder.school_ids())
    scans, rebuilds, folded, inner = [], [], 0, []
    district_bench.raw_scan(url)  # the file in the page cache, for both alike
    for _ in range(runs):
        scans.append(district_bench.raw_scan(url))
        seconds, out, _ = b.run("--store", url, "rebuild", "--json")
        said = json.loads(out)
        folded = said["events"]
        rebuilds.append(folded / seconds)
        inner.append(said["seconds"])
    rate, scan = statistics.median(rebuilds), statistics.median(scans)
    from projections.readmodel import PARALLEL_FROM

    workers = 1 if head < PARALLEL_FROM else os.cpu_count() or 1
    r.details["rebuild"] = {"schools": schools, "events": folded, "head": head, "rebuild_events_per_s": rebuilds,
                            "raw_scan_rows_per_s": scans, "rebuild_in_command_s": inner}
    r.figure(f"rebuild of {schools} schools ÷ raw row scan (rates)", round(rate / scan, 3), 0.5, at_least=True,
             reference=f"rebuild {round(rate):,} events/s ({folded:,} events, process {folded / rate:.1f} s, "
                       f"in-command {med(inner, 2)} s); raw scan {round(scan):,} rows/s ({head / scan:.1f} s); median of {runs}",
             note=f"{workers} worker process{'es' if workers > 1 else ''}")
    r.section(f"where a rebuild's time goes: µs per event, in this process, first {stage_schools} schools",
              rebuild_stages(url, b.key, stage_schools, r))


def rebuild_stages(url: str, key: Path, count: int, r: Results) -> str:
    """One worker's run, stage by stage: fetch (the rows of the schools' streams), decrypt
    (AES-GCM), decode (msgspec, into the fold's structs), fold, encode and save each model
    (msgpack, then encrypted and written); then saved.refold as the rebuild runs it, for the
    total; and the raw scan's rate for comparison."""
    from events import saved
    from events.codec import MsgspecMapper
    from events.gcpause import paused_gc
    from events.keys import event_aad
    from events.model import INTO, SCHEMA, new_model
    from events.store import Store, by_prefix, span_of

    with Store(url, key_file=key) as store:
        head = store.head()
        schools = by_prefix(list(store.recorder.school_ids()))[:count]
        span = span_of(schools)
        cipher = store.mapper.cipher
        times: dict[str, float] = {}
        with paused_gc():
            t = time.perf_counter()
            rows = [row for batch in store.recorder.stream_span(0, head, span, 5000) for row in batch]
            times["fetch (SQLite rows of the span)"] = time.perf_counter() - t
            aads: dict[str, bytes] = {}
            t = time.perf_counter()
            if cipher is not None:
                plain = [(seq, topic, cipher.decrypt(state, aads.get(topic) or aads.setdefault(topic, event_aad(topic))))
                         for seq, topic, state in rows]
            else:
                plain = rows
            times["decrypt (AES-GCM)"] = time.perf_counter() - t
            mapper = MsgspecMapper()
            decoders: dict[str, object] = {}
            t = time.perf_counter()
            events = [(seq, (decoders.get(topic) or decoders.setdefault(topic, mapper.decoder(topic, INTO)))(state))
                      for seq, topic, state in plain]
            times["decode (msgspec)"] = time.perf_counter() - t
            models = {school: new_model(school) for school in schools}
            t = time.perf_counter()
            saved.fold_into(models, events)
            times["fold (events.model.apply)"] = time.perf_counter() - t
            t = time.perf_counter()
            blobs = {school: saved.encoder.encode(model) for school, model in models.items()}
            times["encode the models (msgpack)"] = time.perf_counter() - t
            t = time.perf_counter()
            for school, blob in blobs.items():
                store.save_view(saved.view_name(school), SCHEMA, head, blob, replace=True)
            times["save the models (encrypt, write)"] = time.perf_counter() - t
        del rows, plain, events, models, blobs
        t = time.perf_counter()
        counted = saved.refold(store, schools, head)
        whole = time.perf_counter() - t
    n = sum(counted.values())
    staged = sum(times.values())
    scan = statistics.median(r.details["rebuild"]["raw_scan_rows_per_s"]) if "rebuild" in r.details else None
    out = [f"{n:,} events of {len(schools)} schools", "", "| stage | µs/event | share |", "|---|---:|---:|"]
    for stage, seconds in times.items():
        out.append(f"| {stage} | {seconds / n * 1e6:.2f} | {seconds / staged * 100:.0f}% |")
    out.append(f"| stages summed | {staged / n * 1e6:.2f} | 100% |")
    out.append(f"| saved.refold, as a rebuild's worker runs it (one pass) | {whole / n * 1e6:.2f} | |")
    if scan:
        out.append(f"| raw row scan of the whole table (reference) | {1e6 / scan:.2f} | |")
        out.append("")
        out.append(f"the target (0.5 of the scan rate) is {2e6 / scan:.2f} µs per event of wall time for the whole "
                   f"rebuild; with {os.cpu_count()} workers in parallel, about {2e6 / scan * (os.cpu_count() or 1):.2f} µs "
                   "of one worker's time per event, start-up and saving included")
    r.details["rebuild_stages_us_per_event"] = {k: round(v / n * 1e6, 3) for k, v in times.items()}
    r.details["rebuild_stages_us_per_event"]["refold"] = round(whole / n * 1e6, 3)
    return "\n".join(out)


def fig_tui(b: Bench, r: Results, url: str, runs: int) -> None:
    if not shutil.which("tmux"):
        r.figure("TUI first paint, 1 core", None, 1.0, unit=" s", note="no tmux")
        return
    token = b.token(url, "s1", "admin")
    pinned = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    paints, data, hwm, rss = [], [], [], []
    screen = ""
    for i in range(runs + 1):  # the first launch warms the page cache and bytecode: not counted
        first, with_data, peak, now, screen = tui_once(b, url, token, pinned)
        if i:
            paints.append(first)
            data.append(with_data)
            hwm.append(peak)
            rss.append(now)
    r.details["tui"] = {"first_paint_s": paints, "home_rows_s": data, "vmhwm_mb": hwm, "vmrss_mb": rss, "screen": screen}
    r.figure("TUI first paint, signed in, taskset -c 0", med(paints, 2), 1.0, unit=" s",
             reference=f"{spread(paints, 2)} over {runs}; the home tab's rows at "
                       f"{med(data, 2) if None not in data else 'not seen'} s")
    r.figure("TUI resident memory (peak, VmHWM)", round(max(hwm), 1), 80, unit=" MB",
             reference=f"VmRSS {round(max(rss), 1)} MB after the home tab")
    # where the launch goes: the app's imports (the same imports, outside the terminal: the app
    # draws on stderr, where -X importtime writes) and a profile of one launch, quit with Ctrl+Q
    done = subprocess.run([*pinned, sys.executable, "-X", "importtime", "-c", "import careterm.cli, careterm.tui.app"],
                          cwd=ROOT, env=b.env, capture_output=True, text=True)
    r.section("the TUI's imports (python -X importtime -c 'import careterm.cli, careterm.tui.app', pinned)",
              importtime_summary(done.stderr))
    profile = b.folder / "tui.prof"
    try:
        tui_once(b, url, token, pinned, profile=profile)
        r.section("the TUI's profile (cProfile of one pinned launch: first paint, its rows, 1.5 s idle, Ctrl+Q): "
                  "careterm's own functions, top 25 by cumulative time", profile_summary(profile, 25, ours=True))
        r.section("the same profile, every function, top 20 by own time", profile_summary(profile, 20, by="tottime"))
    except (Failed, OSError) as e:
        r.section("the TUI's profile", f"(not taken: {e})")
    r.section("the TUI's screen at first paint", screen)


# the tab bar's home tab, the home tab's heading and its table's header (careterm/locale/zh.json)
HOME_MARKS = ("今日", "我的待办", "职责")
ROW = re.compile(r"\([0-9A-Za-z_-]+\)\s{2,}\S")  # a row of the home tab's table: "马月晴 (20230107)  谈心"


def tui_once(b: Bench, url: str, token: str, pinned: list[str], profile: Path | None = None):
    """(first paint s, rows shown s, VmHWM MB, VmRSS MB, screen) of one launch in a tmux of its own."""
    socket = str(b.folder / f"tmux-{uuid.uuid4().hex[:8]}.sock")
    tmux = ["tmux", "-S", socket, "-f", "/dev/null"]
    env = dict(b.env, CARETERM_STORE=url, CARETERM_TOKEN=token, CARETERM_SCHOOL="s1", CARETERM_USER="admin",
               TERM="xterm-256color", LANG="C.UTF-8")
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    program = PROGRAM if profile is None else [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "careterm.cli"]
    command = f"exec env -i {exports} {' '.join(map(shlex.quote, [*pinned, *program]))}"
    started = time.perf_counter()
    subprocess.run([*tmux, "new-session", "-d", "-s", "bench", "-x", "80", "-y", "24", command], check=True, cwd=ROOT)
    first = with_data = None
    screen = ""
    try:
        while time.perf_counter() - started < 60:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "bench"], capture_output=True, text=True).stdout
            if first is None and all(m in screen for m in HOME_MARKS):
                first = time.perf_counter() - started
                first_screen = screen
            if first is not None and ROW.search(screen):
                with_data = time.perf_counter() - started
                break
            if first is not None and time.perf_counter() - started > first + 5:
                break
            time.sleep(0.01)
        if first is None:
            raise Failed(f"the TUI never showed {HOME_MARKS}; the screen:\n{screen}")
        time.sleep(1.5)  # its idle work done (a saved model written, …)
        pid = subprocess.run([*tmux, "list-panes", "-t", "bench", "-F", "#{pane_pid}"], capture_output=True, text=True).stdout.split()[0]
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"careterm" in cmdline, cmdline
        peak = int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024
        now = int(re.search(r"VmRSS:\s+(\d+)", status)[1]) / 1024
        if profile is not None:  # quit as a person does, so that the profile is written
            subprocess.run([*tmux, "send-keys", "-t", "bench", "C-q"], capture_output=True)
            deadline = time.perf_counter() + 20
            while not profile.exists() and time.perf_counter() < deadline:
                time.sleep(0.1)
            time.sleep(0.3)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        time.sleep(0.3)
    return first, with_data, peak, now, first_screen


def fig_appends(b: Bench, r: Results, demo: str, count: int) -> None:
    from careterm.paperwork import handbook as H
    from events import commands as C
    from events import saved
    from events.errors import Refused
    from events.service import Service
    from events.store import Store

    url = str(b.folder / "appends.sqlite")
    copy_store(demo, url)
    with Store(url, key_file=b.key) as store:
        assert store.encrypted, "the store is not encrypted"
        service = Service(store, school="s1")
        service.catch_up()
        model = saved.load(store, "s1", save=False)
        today = service.today("s1")
        mentor, mentees = max(((s, H.mentee_ids(model, s, today, today)) for s in model.staff), key=lambda x: len(x[1]))
        ctx = C.Context(school="s1", actor=mentor, today=today, date=today)
        try:
            service.execute(lambda s: C.contact(s, ctx, mentees[0], kind="talk"))
        except Refused:  # the mentor may not: the principal (leader) records them
            mentor, mentees = "admin", [p for p in model.pupils if p in set(mentees)] or list(model.pupils)[:20]
            ctx = C.Context(school="s1", actor=mentor, today=today, date=today)
        seconds, latencies = district_bench.timed_contacts(service, ctx, mentees, count)
        # where an append goes: a profile of a few hundred more, in this process
        import cProfile

        profiler = cProfile.Profile()
        profiled = min(count, 300)
        profiler.enable()
        for i in range(profiled):
            service.execute(lambda s, i=i: C.contact(s, ctx, mentees[i % len(mentees)], kind="talk"))
        profiler.disable()
        profile = b.folder / "appends.prof"
        profiler.dump_stats(str(profile))
    per_s = count / seconds
    r.details["appends"] = {"count": count, "seconds": seconds, "actor": mentor, "mentees": len(mentees)}
    r.figure("appends per second, SQLite, command layer, encrypted, permissions", round(per_s), 2000, at_least=True,
             unit="/s", reference=f"{count} contacts by {mentor} for {len(mentees)} mentees; p50 "
                                  f"{latencies[len(latencies) // 2] * 1000:.2f} ms, p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.2f} ms")
    r.section(f"where an append goes (cProfile of {profiled} more appends, in process, top 25 by cumulative time)",
              profile_summary(profile, 25))
    r.section("the same profile, every function, top 12 by own time", profile_summary(profile, 12, by="tottime"))


def fig_roster(b: Bench, r: Results, rows: int, runs: int) -> None:
    base = str(b.folder / "roster-base.sqlite")
    today = dt.datetime.now(ZONE).date()
    b.run("--store", base, "--as", "admin", "init", "--school", "测试小学", "--password-stdin",
          "--date", (today - dt.timedelta(days=30)).isoformat(), stdin=PASSWORD + "\n")
    from events.store import Store

    with Store(base, key_file=b.key) as store:
        school = sorted(store.recorder.school_ids())[0]
    token = b.token(base, school, "admin")
    roster = b.folder / "roster.xlsx"
    roster_bench.make_roster(roster, rows, today)
    times = []
    for i in range(runs):
        store = str(b.folder / f"roster-{i}.sqlite")
        shutil.copyfile(base, store)
        seconds, out, _ = b.run("--store", store, "import", "pupils", str(roster), "--json", token=token)
        report = json.loads(out)
        assert len(report["added"]) == rows and not report["errors"], report["errors"][:3]
        times.append(seconds)
        os.remove(store)
    store = str(b.folder / "roster-profiled.sqlite")
    shutil.copyfile(base, store)
    profile_process(b, r, "the roster import", "--store", store, "import", "pupils", str(roster), "--json", token=token)
    r.details["roster"] = {"rows": rows, "import_s": times}
    r.figure(f"roster of {rows:,} rows imported (whole process)", med(times, 2), 2.0, unit=" s",
             reference=f"{spread(times, 2)} over {runs}")


def fig_handbook(b: Bench, r: Results, demo: str, runs: int) -> None:
    today = today_of(demo, b.key)
    start = today - dt.timedelta(days=365)
    staff, mentees, contacts = handbook_bench.busiest_mentor(demo, b.key, start, today)
    token = b.token(demo, "s1", staff)
    out = b.folder / "handbook.docx"
    command = ["--store", demo, "export", "handbook", staff, "--from", start.isoformat(), "--to", today.isoformat(),
               "--out", str(out), "--json"]
    b.run(*command, token=token)
    times = [b.run(*command, token=token)[0] for _ in range(runs)]
    profile_process(b, r, "the handbook export", *command, token=token)
    r.details["handbook"] = {"mentor": staff, "mentees": mentees, "contacts": contacts, "export_s": times}
    r.figure("handbook of the busiest mentor exported (whole process)", med(times, 2), 1.0, unit=" s",
             reference=f"{staff}: {mentees} mentees, {contacts} contacts; {spread(times, 2)} over {runs}")


def fig_bundle(b: Bench, r: Results, demo: str, runs: int) -> None:
    token = b.token(demo, "s1", "admin")
    bundle = b.folder / "s1.bundle"
    exports, made = [], {}
    for _ in range(runs):
        seconds, out, _ = b.run("--store", demo, "bundle", "export", "--out", str(bundle), "--json", token=token)
        exports.append(seconds)
        made = json.loads(out)
    template = str(b.folder / "district-d1.sqlite")
    b.run("--store", template, "--as", "boss", "init", "--id", "d1", "--school", "县直小学", "--name", "局长",
          "--password-stdin", stdin=PASSWORD + "\n")
    boss = b.token(template, "d1", "boss")
    imports = []
    for i in range(runs):
        copy = str(b.folder / f"district-d1-{i}.sqlite")
        shutil.copyfile(template, copy)
        seconds, out, _ = b.run("--store", copy, "bundle", "import", str(bundle), "--json", token=boss)
        assert json.loads(out)["added"] == made["entries"], out
        imports.append(seconds)
        os.remove(copy)
    profile_process(b, r, "the bundle export", "--store", demo, "bundle", "export", "--out", str(bundle) + ".2", "--json",
                    token=token)
    copy = str(b.folder / "district-d1-profiled.sqlite")
    shutil.copyfile(template, copy)
    profile_process(b, r, "the bundle import", "--store", copy, "bundle", "import", str(bundle), "--json", token=boss)
    entries = made["entries"]
    r.details["bundle"] = {"entries": entries, "accounts": made.get("accounts"), "bundle_mb": round(bundle.stat().st_size / 2**20, 2),
                           "export_s": exports, "import_s": imports}
    r.figure("bundle export of one village school (whole process)", med(exports, 2), 1.0, unit=" s",
             reference=f"{entries:,} entries (a year and a half), {spread(exports, 2)} over {runs}")
    r.figure("bundle import into a district store (whole process)", med(imports, 2), 1.0, unit=" s",
             reference=f"{spread(imports, 2)} over {runs}")


# --- the stores ------------------------------------------------------------------------------

def build_demo(b: Bench, r: Results, url: str, schools: int) -> None:
    seconds, out, _ = b.run("--store", url, "demo", *(["--schools", str(schools)] if schools > 1 else []), "--json",
                            timeout=None)
    summary = json.loads(out)
    r.details.setdefault("builds", []).append({"store": url, "schools": schools, "events": summary.get("events"),
                                               "build_s": round(seconds, 1)})
    print(f"  built {url}: {schools} school(s), {summary.get('events'):,} events in {seconds:.1f} s", flush=True)


def district_store(b: Bench, r: Results, path: str | None, schools: int, demo: str | None) -> str:
    if path is None:
        if schools == 1 and demo is not None:
            return demo
        path = str(b.folder / f"district-{schools}.sqlite")
    if os.path.exists(path) and os.path.getsize(path) > 0:
        from events.store import Store

        with Store(path, key_file=b.key) as store:
            held = len(store.recorder.school_ids())
            head = store.head()
        print(f"  reusing {path}: {held} schools, {head:,} events", flush=True)
        if held != schools:
            print(f"  (it holds {held} schools, not --schools {schools}: the figures are of {held})", flush=True)
        return path
    build_demo(b, r, path, schools)
    return path


# --- output ----------------------------------------------------------------------------------

def table(r: Results) -> str:
    def cell(v) -> str:
        return "" if v is None else str(v).replace("|", "/")

    out = ["| figure | measured | reference (same run) | target | met | missed by |", "|---|---:|---|---:|---|---:|"]
    for row in r.rows:
        met = "n/a" if row["met"] is None else ("yes" if row["met"] else "no")
        measured = "—" if row["measured"] is None else f"{row['measured']}{row['unit']}"
        ref = row["reference"] + (f" ({row['note']})" if row["note"] else "")
        out.append(f"| {cell(row['figure'])} | {measured} | {cell(ref)} | {row['target']} | {met} | {row['missed_by']} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", default="", help=f"some figures, comma separated: {','.join(FIGURES)}")
    parser.add_argument("--runs", type=int, help="runs per whole-process figure (median; default 11, quick 3)")
    parser.add_argument("--schools", type=int, help="schools of the district store (default 200, quick 1)")
    parser.add_argument("--district-store", help="the district store: built there if missing, else reused")
    parser.add_argument("--key-file", help="the key of every store of the run (default: beside the district store)")
    parser.add_argument("--appends", type=int, help="contacts appended (default 2000, quick 200)")
    parser.add_argument("--rows", type=int, help="rows of the roster (default 2000, quick 200)")
    parser.add_argument("--stage-schools", type=int, default=10, help="schools of the rebuild's stage profile")
    parser.add_argument("--json", dest="json_file", help="write the figures there")
    a = parser.parse_args()
    only = [n.strip() for n in a.only.split(",") if n.strip()] or list(FIGURES)
    unknown = set(only) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures {sorted(unknown)}: choose from {','.join(FIGURES)}")
    runs = a.runs or (3 if a.quick else 11)
    schools = a.schools or (1 if a.quick else 200)
    appends = a.appends or (200 if a.quick else 2000)
    rows = a.rows or (200 if a.quick else 2000)
    # an installed careterm has its bytecode compiled (pip does it); a checkout may not have it
    for package in ("careterm", "events", "projections"):
        compileall.compile_dir(ROOT / package, quiet=1)
    r = Results()
    with tempfile.TemporaryDirectory(prefix="careterm-targets-") as tmp:
        folder = Path(tmp)
        if a.key_file:
            key = Path(a.key_file)
        elif a.district_store:
            key = Path(a.district_store + ".key")
        else:
            key = folder / "careterm.key"
        b = Bench(folder, key)
        started = time.perf_counter()
        print(f"careterm targets (issue 16): {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
              f"runs {runs}, schools {schools}", flush=True)
        demo = None
        if {"view", "appends", "handbook", "bundle"} & set(only) or (
                {"rebuild", "tui"} & set(only) and schools == 1 and not a.district_store):
            demo = str(folder / "demo.sqlite")
            build_demo(b, r, demo, 1)
        if "view" in only:
            fig_view(b, r, demo, runs)
        if "appends" in only:
            fig_appends(b, r, demo, appends)
        if "roster" in only:
            fig_roster(b, r, rows, min(runs, 5))
        if "handbook" in only:
            fig_handbook(b, r, demo, min(runs, 7))
        if "bundle" in only:
            fig_bundle(b, r, demo, min(runs, 5))
        if {"rebuild", "tui"} & set(only):
            url = district_store(b, r, a.district_store, schools, demo)
            if "rebuild" in only:
                fig_rebuild(b, r, url, min(runs, 3) if schools > 1 else runs, a.stage_schools)
            if "tui" in only:
                fig_tui(b, r, url, min(runs, 5))
        elapsed = time.perf_counter() - started
    print(f"\n## careterm's targets (issue 16): {os.cpu_count()} cores, shared: upper bounds; "
          f"run took {elapsed:.0f} s, load now {os.getloadavg()[0]:.2f}\n")
    print(table(r))
    if a.json_file:
        Path(a.json_file).write_text(json.dumps(
            {"cores": os.cpu_count(), "runs": runs, "quick": a.quick, "figures": r.rows, "details": r.details,
             "sections": [{"title": t, "text": x} for t, x in r.sections]},
            ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
