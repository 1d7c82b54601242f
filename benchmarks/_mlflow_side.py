"""The MLflow half of `benchmarks/tracking.py`. Runs inside the MLflow venv (not Mizzen's) against
an MLflow tracking server the caller started; prints one JSON object of measurements."""

from __future__ import annotations

import json
import statistics
import sys
import time

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient


def main() -> None:
    uri, points, runs, single_calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    experiment = client.create_experiment(f"bench-{time.time_ns()}")
    result: dict[str, float] = {}

    # Single log_metric calls: what a training loop pays per call.
    run = client.create_run(experiment)
    costs = []
    for step in range(single_calls):
        started = time.perf_counter()
        client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1), step=step)
        costs.append(time.perf_counter() - started)
    result["single_p50_s"] = statistics.median(costs)
    result["single_p99_s"] = statistics.quantiles(costs, n=100)[98]
    result["single_calls_per_s"] = single_calls / sum(costs)

    # Batched ingest of a long history, then reading it back whole.
    run = client.create_run(experiment)
    now = int(time.time() * 1000)
    started = time.perf_counter()
    for first in range(0, points, 1000):
        batch = [Metric("loss", 1.0 / (i + 1), now + i, i) for i in range(first, min(first + 1000, points))]
        client.log_batch(run.info.run_id, metrics=batch)
    result["batch_ingest_s"] = time.perf_counter() - started
    result["batch_points_per_s"] = points / result["batch_ingest_s"]
    started = time.perf_counter()
    history = client.get_metric_history(run.info.run_id, "loss")
    result["history_read_s"] = time.perf_counter() - started
    result["history_points"] = len(history)

    # Creating runs, each with one metric to sort by; then a filtered, sorted search.
    started = time.perf_counter()
    created = [client.create_run(experiment).info.run_id for _ in range(runs)]
    result["runs_created_per_s"] = runs / (time.perf_counter() - started)
    for index, run_id in enumerate(created):  # one metric per run, to filter and sort by
        client.log_metric(run_id, "score", (index * 7919 % runs) / runs)
    searches = []
    for _ in range(5):
        started = time.perf_counter()
        found = client.search_runs(
            [experiment], filter_string="metrics.score < 0.5", order_by=["metrics.score ASC"], max_results=100
        )
        searches.append(time.perf_counter() - started)
    result["search_s"] = statistics.median(searches)
    result["search_found"] = len(found)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
