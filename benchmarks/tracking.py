"""Tracking, side by side with MLflow in one run: both servers on 127.0.0.1 with a SQLite store.

Measures, for Mizzen (its tracking client and API) and MLflow 3.17 (its client and tracking server):
  - what one `log_metric` call costs the training loop (p50, p99);
  - ingesting a 100,000-point metric, and when it is queryable after the loop ends;
  - reading that 100,000-point history back whole;
  - runs created per second;
  - listing runs filtered and sorted by a metric, among 2,000 runs.
Mizzen's targets: log_metric < 10 µs p50 and < 1 ms p99; 100,000 points queryable within 2 s of the
loop's end; the history read in < 0.2 s; 200+ runs/s; the filtered, sorted list in < 50 ms.

MLflow is installed (once) into benchmarks/.venvs/mlflow, so its dependencies never touch Mizzen's.

    python benchmarks/tracking.py [--points 100000] [--runs 2000] [--mlflow-single 300]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
MLFLOW_VENV = HERE / ".venvs" / "mlflow"
MLFLOW_VERSION = "3.17.2"
MIZZEN = str(Path(sys.executable).with_name("mizzen"))


def ensure_mlflow() -> Path:
    python = MLFLOW_VENV / "bin" / "python"
    marker = MLFLOW_VENV / f".mlflow-{MLFLOW_VERSION}"
    if not marker.exists():
        print(f"installing mlflow=={MLFLOW_VERSION} into {MLFLOW_VENV} (once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(MLFLOW_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"mlflow=={MLFLOW_VERSION}"], check=True)
        marker.touch()
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer")
        time.sleep(0.2)


@contextmanager
def serving(command: list[str], env: dict[str, str], health_url: str) -> Iterator[None]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(health_url)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def measure_mizzen(url: str, points: int, runs: int) -> dict[str, float]:
    from mizzen import tracking
    from mizzen.client import MizzenClient
    from mizzen.schemas.api import MetricPoint

    result: dict[str, float] = {}
    client = MizzenClient(url)
    run = tracking.init(project="bench", name="loop", host=url)
    costs = []
    clock = time.perf_counter_ns
    for step in range(points):
        started = clock()
        run.log_metric("loss", 1.0 / (step + 1), step=step)
        costs.append(clock() - started)
    loop_end = time.perf_counter()
    while len(client.metrics.history(run.uuid, "loss").values) < points:
        time.sleep(0.02)
    result["queryable_after_s"] = time.perf_counter() - loop_end
    costs.sort()
    result["single_p50_s"] = costs[len(costs) // 2] / 1e9
    result["single_p99_s"] = costs[int(len(costs) * 0.99)] / 1e9
    result["single_calls_per_s"] = points / (sum(costs) / 1e9)
    result["batch_points_per_s"] = points / (result["queryable_after_s"] + sum(costs) / 1e9)
    run.end()

    reads = []
    for _ in range(5):
        started = time.perf_counter()
        history = client.metrics.history(run.uuid, "loss")
        reads.append(time.perf_counter() - started)
    result["history_read_s"] = statistics.median(reads)
    result["history_points"] = len(history.values)

    started = time.perf_counter()
    created = [client.runs.create(project="bench-search", name=f"r{index}").uuid for index in range(runs)]
    result["runs_created_per_s"] = runs / (time.perf_counter() - started)
    for index, uuid in enumerate(created):  # one metric per run, to filter and sort by
        score = (index * 7919 % runs) / runs
        client.metrics.log(uuid, [MetricPoint(name="score", value=score, timestamp=time.time())])
    searches = []
    for _ in range(10):
        started = time.perf_counter()
        found = client.runs.list(
            project="bench-search", query="metrics.score:<0.5", sort="metrics.score", limit=100
        )
        searches.append(time.perf_counter() - started)
    result["search_s"] = statistics.median(searches)
    result["search_found"] = len(found.items)
    client.close()
    return result


def measure_mlflow(python: Path, url: str, points: int, runs: int, single_calls: int) -> dict[str, float]:
    command = [str(python), str(HERE / "_mlflow_side.py"), url, str(points), str(runs), str(single_calls)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=100_000, help="points of the long metric")
    parser.add_argument("--runs", type=int, default=2_000, help="runs created, then searched")
    parser.add_argument(
        "--mlflow-single", type=int, default=300, help="single log_metric calls timed on MLflow"
    )
    args = parser.parse_args()
    python = ensure_mlflow()

    with tempfile.TemporaryDirectory(prefix="mizzen-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MIZZEN_", "MLFLOW_"))}
        mizzen_port, mlflow_port = free_port(), free_port()
        mizzen_url, mlflow_url = f"http://127.0.0.1:{mizzen_port}", f"http://127.0.0.1:{mlflow_port}"
        mizzen_env = {**env, "MIZZEN_HOME": str(Path(tmp) / "mizzen"), "MIZZEN_EXECUTOR": "none"}
        mlflow_cmd = [
            str(python.with_name("mlflow")), "server", "--host", "127.0.0.1", "--port", str(mlflow_port),
            "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db", "--default-artifact-root", f"{tmp}/mlruns",
            "--workers", "1",
        ]  # fmt: skip
        mizzen_cmd = [MIZZEN, "server", "--port", str(mizzen_port), "--log-level", "warning"]
        print("measuring Mizzen...", flush=True)
        with serving(mizzen_cmd, mizzen_env, f"{mizzen_url}/api/v1/healthz"):
            ours = measure_mizzen(mizzen_url, args.points, args.runs)
        print("measuring MLflow...", flush=True)
        with serving(mlflow_cmd, env, f"{mlflow_url}/health"):
            theirs = measure_mlflow(python, mlflow_url, args.points, args.runs, args.mlflow_single)

    report(ours, theirs, args)


def report(ours: dict[str, float], theirs: dict[str, float], args: argparse.Namespace) -> None:
    rows = [
        ("log_metric p50 (training loop pays)", "single_p50_s", "lower", 10e-6),
        ("log_metric p99", "single_p99_s", "lower", 1e-3),
        ("single log_metric calls/s", "single_calls_per_s", "higher", None),
        ("points/s ingested (batched)", "batch_points_per_s", "higher", None),
        (f"read a {args.points:,}-point history (s)", "history_read_s", "lower", 0.2),
        ("runs created/s", "runs_created_per_s", "higher", 200),
        (f"filter + sort {args.runs:,} runs by a metric (s)", "search_s", "lower", 0.05),
    ]
    print(f"\n{'':44} {'mizzen':>12} {'mlflow 3.17':>12} {'ratio':>9}  target")
    for label, key, better, target in rows:
        mine, peer = ours[key], theirs[key]
        ratio = peer / mine if better == "lower" else mine / peer
        goal = ""
        if target is not None:
            met = mine < target if better == "lower" else mine >= target
            sign = "<" if better == "lower" else ">="
            goal = f"{sign} {format_value(key, target)}: {'ok' if met else 'MISSED'}"
        print(f"{label:44} {format_value(key, mine):>12} {format_value(key, peer):>12} {ratio:8.1f}x  {goal}")
    queryable = ours["queryable_after_s"]
    print(
        f"\n{args.points:,} points queryable {queryable:.2f} s after the loop ended "
        f"(target < 2 s: {'ok' if queryable < 2 else 'MISSED'}); MLflow's log_batch took "
        f"{theirs['batch_ingest_s']:.1f} s for the same points."
    )
    print("ratio: how many times better Mizzen is (MLflow's figure / Mizzen's, or the reverse for rates)")


def format_value(key: str, value: float) -> str:
    if key.endswith("_s") and not key.endswith("per_s"):
        return (
            f"{value * 1e6:.1f} µs"
            if value < 1e-3
            else f"{value * 1e3:.1f} ms"
            if value < 1
            else f"{value:.2f} s"
        )
    return f"{value:,.0f}"


if __name__ == "__main__":
    main()
