"""The web UI's speed in headless Chromium (Debian's), against the API served in this process.

    python benchmarks/ui.py [--runs 10000] [--points 100000]

Fills a fresh store with a project of N runs (10 params each, 5 metrics each) and one run with
4 metrics x P points, then measures, from navigation or from the keypress:
- the runs table's first screen visible;  target < 1 s
- a filter answered (query typed, Enter, the new rows shown) and a sort (column header click);  < 300 ms
- the run page's 4 charts drawn (every chart has its downsampled data on a canvas);  < 500 ms
Prints the median of --repeat tries. The MLflow side by side and the compare page are still to come
(issue 9). Needs /usr/bin/chromium (make chromium).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = os.environ.get("MIZZEN_CHROMIUM", "/usr/bin/chromium")


@contextmanager
def served(home: Path) -> Iterator[tuple[str, object]]:
    import uvicorn

    from mizzen.server.app import create_app
    from mizzen.settings import Settings

    os.environ["MIZZEN_HOME"] = str(home)
    app = create_app(Settings.load())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(10)


def fill(app: object, runs: int, points: int) -> str:
    """The data, written through the services the API uses (the API's HTTP cost is not measured)."""
    from mizzen.schemas.api import MetricsBatch, MetricSeries, RunCreate, StatusUpdate

    services = app.state.services  # type: ignore[attr-defined]
    now = time.time()
    started = time.perf_counter()
    for number in range(runs):
        params = {f"p{k}": (number * 7 + k) % 100 / 10 for k in range(10)}
        run = services.runs.create(
            RunCreate(project="big", name=f"run-{number:05d}", inputs=params, managed=False)
        )
        status = ("running", "succeeded") if number % 5 else ("running", "failed")
        for name in status:
            services.runs.set_status(run.uuid, StatusUpdate(status=name))
        series = [
            MetricSeries(name=f"m{k}", values=[number % (k + 3) / 10], timestamps=[now], steps=[1])
            for k in range(5)
        ]
        services.metrics.ingest(run.uuid, MetricsBatch(series=series))
    chart = services.runs.create(RunCreate(project="charts", name="long", managed=False))
    steps = list(range(points))
    for k in range(4):
        values = [((i % 1000) / 1000.0) * (k + 1) + (i / points) for i in steps]
        series = MetricSeries(name=f"metric-{k}", values=values, timestamps=[now] * points, steps=steps)
        services.metrics.ingest(chart.uuid, MetricsBatch(series=[series]))
    print(f"filled: {runs} runs + 4 x {points} points in {time.perf_counter() - started:.0f} s", flush=True)
    return str(chart.uuid)


def median_ms(repeat: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(repeat)) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: sudo apt-get install -y chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as home, served(Path(home)) as (base, app):
        chart_run = fill(app, args.runs, args.points)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"{base}/projects/big")  # warm: caches, first compile of the page's scripts

            def first_screen() -> float:
                start = time.perf_counter()
                page.goto(f"{base}/projects/big")
                page.locator("#runs-table tbody tr").nth(49).wait_for()
                return time.perf_counter() - start

            def filtered() -> float:
                page.goto(f"{base}/projects/big")
                page.fill("#query", "status:failed, inputs.p3:>5")
                start = time.perf_counter()
                page.press("#query", "Enter")
                page.wait_for_function("location.search.includes('failed')")
                page.locator("#runs-table tbody tr").first.wait_for()
                return time.perf_counter() - start

            def sorted_by_name() -> float:
                page.goto(f"{base}/projects/big")
                start = time.perf_counter()
                page.click("#runs-table th >> text=Name")
                page.wait_for_function("location.search.includes('sort=name')")
                page.locator("#runs-table tbody tr >> text=run-00000").wait_for()
                return time.perf_counter() - start

            def charts() -> float:
                start = time.perf_counter()
                page.goto(f"{base}/runs/{chart_run}")
                page.wait_for_function("document.querySelectorAll('.chart[data-points] canvas').length === 4")
                return time.perf_counter() - start

            rows = [
                (f"runs table, first screen (50 of {args.runs} runs)", first_screen, 1000),
                ("runs table, filter answered", filtered, 300),
                ("runs table, sort by a column", sorted_by_name, 300),
                (f"run page, 4 charts x {args.points} points drawn", charts, 500),
            ]
            print(f"{'scenario':<48} {'median ms':>10} {'target':>8}")
            for label, measure, target in rows:
                print(
                    f"{label:<48} {median_ms(args.repeat, measure):>10.0f} {'< ' + str(target):>8}",
                    flush=True,
                )
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
