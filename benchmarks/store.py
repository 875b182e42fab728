"""Write-side figures: single-command appends (rules, head guard and hash chain on), bulk appends,
reading the log, and `verify`. Prints a table and, with --json, JSON.

    python benchmarks/store.py [--store URL] [--events N] [--json]

Without --store it uses a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from events import commands as C  # noqa: E402
from events.service import Service  # noqa: E402
from events.store import Store  # noqa: E402


def setup(service: Service, today: dt.date) -> None:
    start = today - dt.timedelta(days=400)
    ctx = C.Context(school="s1", actor="admin", today=today, date=start)
    service.execute(lambda s: C.init(s, ctx, name="基准小学", admin_name="管理员"))
    service.execute(lambda s: C.add_staff(s, ctx, "t1", name="王老师"))
    for i in range(50):
        service.execute(
            lambda s, i=i: C.add_pupil(
                s, ctx, f"p{i}", name=f"学生{i}", gender="F", birth=dt.date(2016, 1, 1), grade=3, class_=1,
                categories=["left_behind"],
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.store or str(Path(tmp) / "bench.sqlite")
    today = dt.date.today()
    figures: dict[str, float | int | str] = {"store": "postgresql" if url.startswith("postgres") else "sqlite"}
    with Store(url, create=True) as store:
        service = Service(store)
        setup(service, today)
        ctx = C.Context(school="s1", actor="admin", today=today, date=today - dt.timedelta(days=1))

        latencies = []
        started = time.perf_counter()
        for i in range(args.events):
            t0 = time.perf_counter()
            service.execute(lambda s, i=i: C.contact(s, ctx, f"p{i % 50}", kind="talk"))
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        latencies.sort()
        figures["single_appends_per_s"] = round(args.events / elapsed)
        figures["single_append_p50_ms"] = round(statistics.median(latencies) * 1000, 3)
        figures["single_append_p99_ms"] = round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 3)

        started = time.perf_counter()
        with service.batch():
            for i in range(args.events * 5):
                service.execute(lambda s, i=i: C.contact(s, ctx, f"p{i % 50}", kind="parent_call"))
        elapsed = time.perf_counter() - started
        figures["bulk_appends_per_s"] = round(args.events * 5 / elapsed)

        total = store.head()
        started = time.perf_counter()
        count = sum(1 for _ in store.read())
        figures["read_decode_per_s"] = round(count / (time.perf_counter() - started))

        started = time.perf_counter()
        result = store.verify()
        figures["verify_events_per_s"] = round(result.events / (time.perf_counter() - started))
        figures["events"] = total

    if args.json:
        print(json.dumps(figures))
    else:
        width = max(map(len, figures))
        for key, value in figures.items():
            print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
