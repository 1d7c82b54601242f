"""Scale, simulated: 10,000 runs through Mizzen's own queueing and admission on a 100-node cluster.

A discrete-event simulation on a virtual clock (no sleeping): runs arrive, wait in Mizzen's queues
(`mizzen.scheduler.queues.Admission`), are placed gang-style on nodes (CPU nodes, and GPU nodes
with a `nvidia.com/gpu` taint and accelerator labels), run for their duration and free their nodes.

Prints queue wait p50/p99 (all runs and GPU runs), GPU utilisation, GPU fragmentation (the share
of free GPUs on partly used nodes) and its own wall time.
Target: under 30 s of wall time for 10,000 runs.

    python benchmarks/cluster_sim.py [--runs 10000] [--seed 7]
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import random
import statistics
import time
from dataclasses import dataclass, field

from mizzen.scheduler.queues import Admission, Node, QueueConfig, Request, WaitingRun

GiB = 1024**3
GPU_TAINT = "nvidia.com/gpu"


def build_cluster() -> list[Node]:
    nodes = [Node(f"cpu-{i:02d}", cpu=32, memory=128 * GiB, labels={"pool": "cpu"}) for i in range(70)]
    for i in range(30):
        accelerator = "h100" if i < 10 else "a100"
        nodes.append(
            Node(
                f"gpu-{i:02d}",
                cpu=96,
                memory=768 * GiB,
                gpu=8,
                labels={"pool": "gpu", "accelerator": accelerator},
                taints=frozenset({GPU_TAINT}),
            )
        )
    return nodes


@dataclass
class SimRun:
    run: WaitingRun
    duration: float
    admitted_at: float | None = None
    nodes: list[Node] = field(default_factory=list)


def make_workload(count: int, rng: random.Random) -> list[SimRun]:
    """A mix seen on shared ML clusters: many small CPU jobs, GPU jobs of 1-8 GPUs, some
    multi-node distributed training, a few long services. Arrivals are Poisson."""
    runs: list[SimRun] = []
    clock = 0.0
    gpu_tolerations = frozenset({GPU_TAINT})
    for index in range(count):
        clock += rng.expovariate(1 / 20.0)  # a run every ~20 s on average
        roll = rng.random()
        if roll < 0.63:
            replicas = [Request(cpu=rng.choice([1, 2, 4, 8]), memory=rng.choice([2, 4, 8, 16]) * GiB)]
            duration, queue, priority = rng.lognormvariate(math.log(600), 0.9), "default", 0
        elif roll < 0.93:
            gpus = rng.choice([1, 1, 1, 2, 2, 4, 8])
            selector: tuple[tuple[str, str], ...] = (("accelerator", "h100"),) if rng.random() < 0.2 else ()
            replicas = [
                Request(
                    cpu=6 * gpus,
                    memory=48 * gpus * GiB,
                    gpu=gpus,
                    node_selector=selector,
                    tolerations=gpu_tolerations,
                )
            ]
            duration, queue, priority = rng.lognormvariate(math.log(1800), 0.8), "gpu", 0
        elif roll < 0.97:
            workers = rng.choice([2, 2, 3])
            per_worker = rng.choice([4, 8])
            replicas = [
                Request(
                    cpu=8 * per_worker,
                    memory=64 * per_worker * GiB,
                    gpu=per_worker,
                    tolerations=gpu_tolerations,
                )
                for _ in range(workers)
            ]
            duration, queue, priority = rng.lognormvariate(math.log(2400), 0.6), "gpu", 1
        else:
            replicas = [Request(cpu=2, memory=4 * GiB)]
            duration, queue, priority = rng.uniform(4, 12) * 3600, "services", 5
        runs.append(
            SimRun(
                WaitingRun(f"run-{index:05d}", queue, replicas, priority=priority, arrived_at=clock),
                duration,
            )
        )
    return runs


QUEUES = [
    QueueConfig("services", priority=10, concurrency=200),
    QueueConfig("gpu", priority=5),
    QueueConfig("default", priority=0, concurrency=400),
]


def simulate(runs: list[SimRun], nodes: list[Node], admission: Admission) -> dict[str, float]:
    total_gpus = sum(n.gpu for n in nodes)
    by_uuid = {r.run.uuid: r for r in runs}
    events: list[tuple[float, int, str, str]] = []
    seq = itertools.count()
    for r in runs:
        heapq.heappush(events, (r.run.arrived_at, next(seq), "arrive", r.run.uuid))

    now = 0.0
    gpu_busy_area = 0.0
    used_gpus = 0
    frag_area = 0.0
    frag_time = 0.0
    while events:
        at, _, kind, uuid = heapq.heappop(events)
        elapsed = at - now
        gpu_busy_area += used_gpus * elapsed
        frag_area += fragmentation(nodes) * elapsed
        frag_time += elapsed
        now = at
        sim = by_uuid[uuid]
        if kind == "arrive":
            admission.enqueue(sim.run)
        else:
            for node, request in zip(sim.nodes, sim.run.replicas, strict=True):
                node.give_back(request)
            used_gpus -= sim.run.gpus
            admission.finished(sim.run)
        # Events at the same instant are applied together before one admission round.
        if events and events[0][0] == now:
            continue
        for run, placed in admission.admit(nodes, now):
            started = by_uuid[run.uuid]
            started.admitted_at = now
            started.nodes = placed
            used_gpus += run.gpus
            heapq.heappush(events, (now + started.duration, next(seq), "finish", run.uuid))

    waits = [r.admitted_at - r.run.arrived_at for r in runs if r.admitted_at is not None]
    gpu_waits = [r.admitted_at - r.run.arrived_at for r in runs if r.admitted_at is not None and r.run.gpus]
    return {
        "runs": len(runs),
        "completed": len(waits),
        "makespan_h": now / 3600,
        "wait_p50_s": percentile(waits, 50),
        "wait_p99_s": percentile(waits, 99),
        "gpu_wait_p50_s": percentile(gpu_waits, 50),
        "gpu_wait_p99_s": percentile(gpu_waits, 99),
        "gpu_utilisation": gpu_busy_area / (total_gpus * now) if now else 0.0,
        "gpu_fragmentation": frag_area / frag_time if frag_time else 0.0,
    }


def fragmentation(nodes: list[Node]) -> float:
    """Share of the free GPUs that sit on partly used nodes: free, but not as a whole node, so a
    run that needs a full node (8 GPUs, or one multi-node worker) cannot use them."""
    free = [(n.free_gpu, n.gpu) for n in nodes if n.gpu]
    total_free = sum(f for f, _ in free)
    if total_free == 0:
        return 0.0
    return sum(f for f, size in free if f < size) / total_free


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1] if pct < 100 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    nodes = build_cluster()
    result = simulate(make_workload(args.runs, random.Random(args.seed)), nodes, Admission(QUEUES, 1800.0))
    wall = time.perf_counter() - started
    # The same workload through a strict FIFO (no backfill, no priorities): what Mizzen's admission buys.
    fifo = simulate(
        make_workload(args.runs, random.Random(args.seed)),
        build_cluster(),
        Admission([QueueConfig(q.name) for q in QUEUES], reserve_after=math.inf, backfill_depth=1),
    )

    gpu_nodes = sum(1 for n in nodes if n.gpu)
    print(f"cluster: {len(nodes)} nodes ({gpu_nodes} GPU nodes, {sum(n.gpu for n in nodes)} GPUs)")
    print(f"runs: {result['runs']:.0f} submitted, {result['completed']:.0f} admitted and finished")
    rows = [
        ("virtual time (h)", "makespan_h", "{:.1f}"),
        ("queue wait p50, all runs (s)", "wait_p50_s", "{:.0f}"),
        ("queue wait p99, all runs (s)", "wait_p99_s", "{:.0f}"),
        ("queue wait p50, GPU runs (s)", "gpu_wait_p50_s", "{:.0f}"),
        ("queue wait p99, GPU runs (s)", "gpu_wait_p99_s", "{:.0f}"),
        ("GPU utilisation", "gpu_utilisation", "{:.1%}"),
        ("GPU fragmentation (free on partly used nodes)", "gpu_fragmentation", "{:.1%}"),
    ]
    print(f"{'':46} {'mizzen':>12} {'strict FIFO':>12}")
    for label, key, fmt in rows:
        print(f"{label:46} {fmt.format(result[key]):>12} {fmt.format(fifo[key]):>12}")
    print(f"wall time of the mizzen simulation: {wall:.2f} s (target < 30 s)")


if __name__ == "__main__":
    main()
