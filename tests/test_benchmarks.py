"""A seconds-long smoke run of the district benchmark: one school, a few appends.

The figures themselves are not asserted (they are measurements, see the README); this checks
the script runs from a checkout and reports every figure, on SQLite and (when the test server
is there) PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURES = {
    "build_s", "events", "raw_scan_rows_per_s", "rebuild_events_per_s", "rebuild_vs_scan",
    "view_after_one_event_s", "cli_write_s", "audit_one_pupil_s", "appends_per_s",
    "append_p50_ms", "append_p99_ms",
}


def test_district_benchmark_runs_and_reports_every_figure(tmp_path):
    out = tmp_path / "figures.json"
    env = dict(os.environ)
    pg = env.get("CARETERM_TEST_PG", "")
    done = subprocess.run(
        [sys.executable, "benchmarks/district.py", "--schools", "1", "--appends", "20", "--pg", pg, "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    assert [r["store"] for r in results] == (["sqlite", "postgresql"] if pg else ["sqlite"])
    for r in results:
        assert FIGURES <= r.keys(), FIGURES - r.keys()
        assert r["schools"] == 1 and r["events"] > 10_000
        assert all(r[k] > 0 for k in FIGURES), r
        if shutil.which("tmux"):  # the TUI's figures need a real terminal
            assert r["tui_first_paint_s"] and r["tui_first_paint_s"] > 0, r
            assert 0 < r["tui_peak_rss_mb"] < 1000, r
    assert "| rebuild_vs_scan |" in done.stdout  # the table


def test_the_targets_benchmark_prints_every_figure_beside_its_target(tmp_path):
    """benchmarks/targets.py --quick (one school, one run each, few rows): a figure for every
    target of issue 16, each with its target, whether it is met, and its reference when a
    ratio; the table printed. The figures themselves are not asserted."""
    out = tmp_path / "targets.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/targets.py", "--quick", "--runs", "1", "--appends", "20", "--rows", "20",
         "--json", str(out)],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = {f["figure"]: f for f in json.loads(out.read_text())["figures"]}
    wanted = ["view after one entry", "appends per second", "roster of 20 rows", "handbook", "bundle export",
              "bundle import", "rebuild of 1 schools ÷ raw row scan"]
    if shutil.which("tmux"):
        wanted += ["TUI first paint", "TUI resident memory"]
    for start in wanted:
        found = [f for name, f in figures.items() if name.startswith(start)]
        assert found, (start, list(figures))
        for f in found:
            assert f["measured"] and f["measured"] > 0 and f["target"][:1] in "≤≥" and f["met"] in (True, False), f
    assert "raw scan" in figures["rebuild of 1 schools ÷ raw row scan (rates)"]["reference"]
    view = next(f for name, f in figures.items() if name.startswith("view after one entry ("))
    assert "bare python" in view["reference"]
    assert "| figure | measured | reference (same run) | target | met | missed by |" in done.stdout
