"""What driving a pipeline costs: Mizzen's time per trial and per DAG step, and the driver's work
per tick as a sweep grows to 10,000 trials.

    python benchmarks/pipelines.py [sweep] [dag] [k8s] [scale] [--trials 1000] [--scale-trials 10000]

- sweep: a 1,000-trial random sweep (``--matrix grid``: a grid) of `true` at concurrency 8 through
  `mizzen server` (local executor). Mizzen time per trial = (sweep wall time - the trials' own
  time) / trials, where the trials' own time is the sum of their run times divided by the
  concurrency. Target < 50 ms.
- dag: a 10-op linear DAG of `true`, same server. Per step = (wall - the ops' own time) / ops.
  Target < 0.2 s. Needs the DAG planner.
- k8s: a 10-op linear DAG on the Kubernetes API double (`mizzen server` with executor kubernetes +
  `mizzen agent`); the benchmark plays the kubelet and succeeds each pod the moment it appears, so
  what is measured is Mizzen's time per step on top of pod start. Target < 1 s.
- scale: a 10,000-trial grid sweep (concurrency 100) driven tick by tick in this process on SQLite,
  its trials ended by the benchmark through the store: SQL statements and time per driver tick,
  early (few trials) and late (thousands): the statements must not grow with the trials.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MIZZEN = str(Path(sys.executable).with_name("mizzen"))
ROOT = Path(__file__).resolve().parent.parent


def grid(trials: int) -> dict[str, list[int]]:
    """A grid of ``trials`` points as a user writes one: a few params of 10 values each when
    ``trials`` is a power of 10 (a 10,000-value list would be copied into every trial's spec)."""
    digits = len(str(trials)) - 1
    if trials == 10**digits and digits > 0:
        return {f"p{d}": list(range(10)) for d in range(digits)}
    return {"p0": list(range(trials))}


def sweep_spec(trials: int, concurrency: int, kind: str = "grid") -> dict[str, Any]:
    """A sweep of ``trials`` trials of `true`: a grid, or a random search (``numRuns``, one
    uniform param, seeded)."""
    matrix: dict[str, Any]
    if kind == "random":
        matrix = {
            "kind": "random",
            "numRuns": trials,
            "seed": 1,
            "concurrency": concurrency,
            "params": {"p0": {"kind": "uniform", "value": [0.0, 1.0]}},
        }
        inputs = [{"name": "p0", "type": "float"}]
    else:
        params = grid(trials)
        matrix = {
            "kind": "grid",
            "concurrency": concurrency,
            "params": {name: {"kind": "choice", "value": values} for name, values in params.items()},
        }
        inputs = [{"name": name, "type": "int"} for name in params]
    return {
        "version": 1.1,
        "kind": "operation",
        "name": "bench-sweep",
        "matrix": matrix,
        "component": {
            "inputs": inputs,
            "run": {"kind": "job", "container": {"image": "busybox", "command": ["true"]}},
        },
    }


def dag_spec(ops: int) -> dict[str, Any]:
    operations = []
    for i in range(ops):
        op: dict[str, Any] = {
            "name": f"op{i}",
            "component": {"run": {"kind": "job", "container": {"image": "busybox", "command": ["true"]}}},
        }
        if i:
            op["dependencies"] = [f"op{i - 1}"]
        operations.append(op)
    return {
        "version": 1.1,
        "kind": "operation",
        "name": "bench-dag",
        "component": {"run": {"kind": "dag", "operations": operations}},
    }


# -- a server in another process -------------------------------------------------------------------


@contextmanager
def mizzen_server(home: Path, extra_env: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """`mizzen server` on this home; yields the environment of commands that use it."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    env |= {"MIZZEN_HOME": str(home), **(extra_env or {})}
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [MIZZEN, "server", "--port", "0"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while not (home / "server.json").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"mizzen server did not start: {(home / 'server.log').read_text()}")
            time.sleep(0.05)
        yield env | {"MIZZEN_HOST": json.loads((home / "server.json").read_text())["url"]}
    finally:
        process.terminate()
        process.wait(60)
        log.close()


def submit(spec: dict[str, Any], env: dict[str, str], folder: Path) -> str:
    import yaml

    path = folder / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run(
        [MIZZEN, "run", "-f", str(path), "--detach", "-p", spec["name"]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"mizzen run failed:\n{done.stdout}\n{done.stderr}")
    found = re.search(r"\b[0-9a-f]{32}\b", done.stdout)
    if found is None:
        raise SystemExit(f"no run uuid in what mizzen run said:\n{done.stdout}")
    return found.group(0)


def wait_done(env: dict[str, str], uuid: str, timeout: float = 3600) -> Any:
    from mizzen.client import MizzenClient
    from mizzen.schemas.statuses import DONE_STATUSES

    deadline = time.monotonic() + timeout
    with MizzenClient(env["MIZZEN_HOST"]) as client:
        while (run := client.runs.get(uuid)).status not in DONE_STATUSES:
            if time.monotonic() > deadline:
                raise SystemExit(f"pipeline {uuid} still {run.status} after {timeout}s")
            time.sleep(0.2)
        return run


def children_times(env: dict[str, str], uuid: str) -> list[float]:
    """Each child's own run time (started -> finished), from the store."""
    from mizzen.client import MizzenClient

    times = []
    with MizzenClient(env["MIZZEN_HOST"]) as client:
        offset = 0
        while True:
            page = client.runs.list(query=f"pipeline_uuid:{uuid}", limit=500, offset=offset)
            for run in page.items:
                if run.started_at and run.finished_at:
                    times.append((run.finished_at - run.started_at).total_seconds())
            offset += len(page.items)
            if not page.items or offset >= page.count:
                return times


def overhead(env: dict[str, str], uuid: str, parallel: int, units: int) -> tuple[float, float, float]:
    """(wall, own time, Mizzen time per unit) of a finished pipeline."""
    run = wait_done(env, uuid)
    if str(run.status) != "succeeded":
        raise SystemExit(f"pipeline {uuid} ended {run.status}")
    wall = (run.finished_at - run.created_at).total_seconds()
    own = sum(children_times(env, uuid)) / parallel
    return wall, own, (wall - own) / units


def bench_sweep(trials: int, concurrency: int, kind: str, folder: Path) -> None:
    with mizzen_server(folder / "sweep-home") as env:
        started = time.perf_counter()
        uuid = submit(sweep_spec(trials, concurrency, kind), env, folder)
        wall, own, per = overhead(env, uuid, concurrency, trials)
        print(
            f"sweep: {kind}, {trials} trials of `true` at concurrency {concurrency}: wall {wall:.1f} s "
            f"(submit to end {time.perf_counter() - started:.1f} s), trials' own time {own:.1f} s, "
            f"Mizzen time per trial {per * 1000:.1f} ms (target < 50 ms)"
        )


def bench_dag(ops: int, folder: Path) -> None:
    with mizzen_server(folder / "dag-home") as env:
        uuid = submit(dag_spec(ops), env, folder)
        wall, own, per = overhead(env, uuid, 1, ops)
        print(
            f"dag: {ops} linear ops of `true`: wall {wall:.2f} s, ops' own time {own:.2f} s, "
            f"per step {per:.3f} s (target < 0.2 s)"
        )


# -- Kubernetes, on the API double --------------------------------------------------------------------


def bench_k8s(ops: int, folder: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from k8s_double import K8sDouble

    with K8sDouble() as double, mizzen_server(folder / "k8s-home", {"MIZZEN_EXECUTOR": "kubernetes"}) as env:
        kubeconfig = double.write_kubeconfig(folder / "kubeconfig")
        agent_env = {k: v for k, v in env.items() if k != "MIZZEN_HOST"} | {
            "MIZZEN_HOME": str(folder / "agent-home")
        }
        agent_log = (folder / "agent.log").open("wb")
        agent = subprocess.Popen(
            [
                MIZZEN,
                "agent",
                "--namespace",
                "default",
                "--kubeconfig",
                str(kubeconfig),
                "--host",
                env["MIZZEN_HOST"],
            ],
            env=agent_env,
            stdout=agent_log,
            stderr=subprocess.STDOUT,
        )
        try:
            uuid = submit(dag_spec(ops), env, folder)
            seen: dict[str, float] = {}  # pod -> when it appeared
            succeeded_at: list[float] = []
            from mizzen.client import MizzenClient
            from mizzen.schemas.statuses import DONE_STATUSES

            with MizzenClient(env["MIZZEN_HOST"]) as client:
                deadline = time.monotonic() + 600
                while client.runs.get(uuid).status not in DONE_STATUSES:
                    for pod in double.list("v1", "Pod", "default"):
                        name = pod["metadata"]["name"]
                        if name not in seen:
                            seen[name] = time.perf_counter()
                            double.set_pod_phase("default", name, "Pending", node="node-1")
                            double.set_pod_phase("default", name, "Running")
                            double.set_pod_phase("default", name, "Succeeded")
                            succeeded_at.append(time.perf_counter())
                    if time.monotonic() > deadline:
                        raise SystemExit("the DAG on the API double did not end")
                    time.sleep(0.01)
                status = client.runs.get(uuid).status
            appeared = sorted(seen.values())
            steps = [appeared[i + 1] - succeeded_at[i] for i in range(len(appeared) - 1)]
            print(
                f"k8s: {ops} linear ops on the API double ({status}): from a pod's success to the next "
                f"op's pod, median {statistics.median(steps):.3f} s, max {max(steps):.3f} s (target < 1 s)"
            )
        finally:
            agent.terminate()
            agent.wait(60)
            agent_log.close()


# -- scale: statements per driver tick ------------------------------------------------------------------


def bench_scale(trials: int, concurrency: int, folder: Path) -> None:
    from sqlalchemy import event

    from mizzen.scheduler.compile_run import pipeline_compiler
    from mizzen.scheduler.pipeline.children import ChildrenCache
    from mizzen.scheduler.pipeline.driver import PipelineDriver
    from mizzen.schemas.statuses import RunStatus
    from mizzen.settings import Settings
    from mizzen.store import open_database
    from mizzen.store.gateway import pipelines as gateway
    from mizzen.store.gateway import run_changes, statuses
    from mizzen.store.gateway import runs as runs_gateway
    from mizzen.store.records import NewRun

    os.environ["MIZZEN_HOME"] = str(folder / "scale-home")
    settings = Settings.load()
    database = open_database(f"sqlite:///{folder / 'scale.db'}")
    statements = [0]

    @event.listens_for(database.engine, "before_cursor_execute")
    def count(*_: Any) -> None:
        statements[0] += 1

    new = NewRun(project="scale", kind="matrix", spec=sweep_spec(trials, concurrency), executor="local")
    uuid = run_changes.create_run(database, new).detail.run.uuid
    # no overlap: this process is the only writer, and the benchmark must see steady state at once
    cache = ChildrenCache(database, overlap=timedelta(0))
    driver = PipelineDriver(database, pipeline_compiler(settings), executor="local", children=cache)
    samples: list[tuple[int, int, float]] = []  # (children before the tick, statements, seconds)

    def tick(children: int) -> None:
        statements[0] = 0
        started = time.perf_counter()
        driver.tick()
        samples.append((children, statements[0], time.perf_counter() - started))

    def succeed(children: list[Any]) -> None:  # the executor: each trial runs and succeeds
        for child in children:
            statuses.set_status(database, child.uuid, RunStatus.RUNNING, "Running", "")
            statuses.set_status(database, child.uuid, RunStatus.SUCCEEDED, "Done", "")

    far = datetime.now(UTC) + timedelta(days=1)  # children_changed(since=far): the active ones only

    def idle(children: int) -> None:
        """Ticks with nothing changed since the last one: what watching a sweep this big costs."""
        samples.clear()
        for _ in range(3):
            tick(children)
        statements[0] = 0
        started = time.perf_counter()
        gateway.children(database, uuid)
        full = time.perf_counter() - started
        print(
            f"scale: {children} children stored, nothing changed: SQL statements per tick "
            f"{min(s[1] for s in samples)}..{max(s[1] for s in samples)}, median "
            f"{statistics.median(s[2] for s in samples) * 1000:.0f} ms per tick (reading every child "
            f"instead: {full * 1000:.0f} ms)",
            flush=True,
        )

    created = 0
    checkpoints = [n for n in (1_000, trials // 2, trials) if n <= trials]
    while created < trials:
        tick(created)
        if samples[-1][0] < concurrency * 3:
            print(f"scale: a tick creating {concurrency} trials: {samples[-1][1]} statements", flush=True)
        active, created = gateway.children_changed(database, uuid, far)
        if checkpoints and created >= checkpoints[0]:
            idle(created)
            checkpoints = [n for n in checkpoints if n > created]
        if created < trials:
            succeed(active)
    succeed(gateway.children_changed(database, uuid, far)[0])
    driver.tick()
    print(
        f"scale: the sweep ended {runs_gateway.get_run(database, uuid).status}, "
        f"{gateway.status_counts(database, uuid)}"
    )
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("parts", nargs="*", default=["sweep", "dag", "k8s", "scale"])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--matrix", choices=["random", "grid"], default="random", help="the sweep's kind")
    parser.add_argument("--ops", type=int, default=10)
    parser.add_argument("--scale-trials", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mizzen-bench-") as tmp:
        folder = Path(tmp)
        if "scale" in args.parts:
            bench_scale(args.scale_trials, 100, folder)
        if "sweep" in args.parts:
            bench_sweep(args.trials, args.concurrency, args.matrix, folder)
        if "dag" in args.parts:
            bench_dag(args.ops, folder)
        if "k8s" in args.parts:
            bench_k8s(args.ops, folder)


if __name__ == "__main__":
    main()
