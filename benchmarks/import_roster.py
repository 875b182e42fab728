"""What importing a school's roster costs: a 2,000-row roster made with openpyxl (the columns a
class teacher's sheet has, Excel date cells, categories by name, a guardian and both parents, and
民族 / 身份证号 columns that are ignored), imported into a fresh store by the real program.

    python benchmarks/import_roster.py [--rows 2000] [--runs 5] [--json FILE]

Whole-process figures (wall clock around `careterm import pupils FILE`, as a person waits, and
the process's peak resident memory from wait4), each the median of `--runs` runs on a fresh copy
of a new school's store: the import itself (every row checked and all of them written in one
transaction), the same file again (every row unchanged, nothing written) and a --dry-run on the
fresh store. No figure is asserted: this is a measurement.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARETERM = [sys.executable, "-m", "careterm.cli"]
PASSWORD = "bench-pass-1234"
HEADERS = ["序号", "学号", "姓名", "性别", "民族", "出生日期", "年级", "班级", "类别", "身份证号", "联系电话",
           "监护人", "监护人关系", "监护人电话", "父亲", "父亲务工地址", "父亲电话", "母亲", "母亲务工地址", "母亲电话"]
CATEGORIES = ["留守儿童", "家庭经济困难", "留守儿童、家庭经济困难", "孤儿", "困境儿童", "学困生", "残疾儿童", "心理困扰"]


def make_roster(path: Path, rows: int, today: dt.date) -> None:
    """`rows` pupils of grades 1–6, ten classes each: the shape of a real roster."""
    from openpyxl import Workbook

    r = random.Random(2026)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("学生名单")
    sheet.append(HEADERS)
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    for i in range(rows):
        grade = i % 6 + 1
        born = dt.datetime(today.year - 6 - grade, 1, 1) + dt.timedelta(days=r.randrange(300))
        surname = r.choice(surnames)
        sheet.append([
            i + 1, f"2025{i:05d}", f"{surname}小{i}", r.choice("男女"), "汉族", born, f"{'一二三四五六'[grade - 1]}年级",
            f"{i // 6 % 10 + 1}班", r.choice(CATEGORIES), "", f"139{r.randrange(10**8):08d}",
            f"{surname}奶奶", "祖母", f"138{r.randrange(10**8):08d}",
            f"{surname}大{i}", "广东东莞", f"137{r.randrange(10**8):08d}", f"李{i}", "浙江义乌", f"136{r.randrange(10**8):08d}",
        ])
    book.save(path)


def careterm(env: dict, *args: str, stdin: str | None = None) -> str:
    """The standard output of one careterm process (the untimed set-up)."""
    done = subprocess.run([*CARETERM, *args], env=env, cwd=ROOT, text=True, input=stdin, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"careterm {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def timed(env: dict, *args: str) -> tuple[float, float, str]:
    """Like `careterm`, with the process's own peak memory (wait4's ru_maxrss, KiB on Linux)."""
    out_file = tempfile.TemporaryFile(mode="w+")
    started = time.perf_counter()
    child = subprocess.Popen([*CARETERM, *args], env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                             stdout=out_file, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read()
    out_file.seek(0)
    out = out_file.read()
    if child.returncode != 0:
        raise SystemExit(f"careterm {' '.join(args)} failed ({child.returncode}):\n{err}\n{out[:2000]}")
    return seconds, usage.ru_maxrss / 1024, out


def _round(key: str, value: float) -> float:
    return round(value, 1 if key.endswith("_mb") else 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", metavar="FILE")
    a = parser.parse_args()
    # an installed careterm has its bytecode compiled (pip does it); a checkout may not have it,
    # or may not be allowed to write it (PYTHONDONTWRITEBYTECODE): compile it once first
    for package in ("careterm", "events", "projections"):
        compileall.compile_dir(ROOT / package, quiet=1)
    work = Path(tempfile.mkdtemp(prefix="careterm-import-bench-"))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARETERM_")}
        env.update(CARETERM_KEY_FILE=str(work / "key"), XDG_STATE_HOME=str(work / "state"),
                   XDG_DATA_HOME=str(work / "data"), XDG_CONFIG_HOME=str(work / "config"), PYTHONIOENCODING="utf-8")
        base = work / "base.sqlite"
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        # a new school, and a token for its admin (kept in the store: every copy signs in with it)
        careterm(env, "--store", str(base), "--as", "admin", "init", "--school", "测试小学", "--password-stdin",
                 "--date", (today - dt.timedelta(days=30)).isoformat(), stdin=PASSWORD + "\n")
        careterm(env, "--store", str(base), "login", "admin", "--password-stdin", stdin=PASSWORD + "\n")
        token = careterm(env, "--store", str(base), "token", "create", "--name", "bench", "--days", "1", "--json")
        env["CARETERM_TOKEN"] = json.loads(token)["token"]
        roster = work / "roster.xlsx"
        started = time.perf_counter()
        make_roster(roster, a.rows, today)
        made_s = time.perf_counter() - started
        figures: dict[str, list[float]] = {"import_s": [], "import_peak_mb": [], "again_s": [], "again_peak_mb": [],
                                           "dry_run_s": [], "dry_run_peak_mb": []}
        written = 0
        for run in range(a.runs):
            store = work / f"run{run}.sqlite"
            shutil.copyfile(base, store)
            seconds, peak, _ = timed(env, "--store", str(store), "import", "pupils", str(roster), "--dry-run", "--json")
            figures["dry_run_s"].append(seconds)
            figures["dry_run_peak_mb"].append(peak)
            seconds, peak, out = timed(env, "--store", str(store), "import", "pupils", str(roster), "--json")
            report = json.loads(out)
            assert len(report["added"]) == a.rows and not report["errors"], report["errors"][:3]
            written = report["written"]
            figures["import_s"].append(seconds)
            figures["import_peak_mb"].append(peak)
            seconds, peak, out = timed(env, "--store", str(store), "import", "pupils", str(roster), "--json")
            assert json.loads(out)["written"] == 0
            figures["again_s"].append(seconds)
            figures["again_peak_mb"].append(peak)
            store.unlink()
        result = {
            "rows": a.rows, "events_written": written, "runs": a.runs,
            "roster_mb": round(roster.stat().st_size / 2**20, 2), "roster_made_s": round(made_s, 2),
            **{f"{k}_median": _round(k, statistics.median(v)) for k, v in figures.items()},
            **{f"{k}_range": [_round(k, min(v)), _round(k, max(v))] for k, v in figures.items()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"| figure ({a.rows} rows, median of {a.runs}) | value |")
    print("|---|---:|")
    for key, label in (("import_s", "import into a fresh store, s"), ("import_peak_mb", "its peak memory, MB"),
                       ("again_s", "the same file again (nothing written), s"), ("again_peak_mb", "its peak memory, MB"),
                       ("dry_run_s", "--dry-run on a fresh store, s"), ("dry_run_peak_mb", "its peak memory, MB")):
        low, high = result[f"{key}_range"]
        print(f"| {label} | {result[f'{key}_median']} ({low}–{high}) |")
    print(f"| events written | {result['events_written']} |")
    print(f"| roster file, MB | {result['roster_mb']} |")
    if a.json:
        Path(a.json).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
