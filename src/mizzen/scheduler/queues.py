"""Queues and admission: which waiting runs may be submitted to compute now.

Pure logic, no I/O. ``QueuePolicy`` decides which waiting runs a claim takes (queue priority and
queue concurrency across every pipeline and scheduler: the store applies it inside the claim).
``Admission`` is the capacity-aware variant the cluster simulation (`benchmarks/cluster_sim.py`)
drives. A run waits in a named queue;
queues have a priority and a concurrency limit. Each round, ``Admission.admit`` walks the waiting
runs in order (queue priority, run priority, arrival) and admits those that fit both their queue's
limit and the free capacity the caller reports.

Capacity is checked per node, gang-style: a distributed run is admitted only if every replica fits
somewhere at once, so it never holds half its pods while the rest sit unschedulable. The head of the
line gets a reservation after it has waited ``reserve_after`` seconds: smaller runs may backfill
around it only while they cannot delay it (they must fit in what is left after its reservation).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mizzen.errors import MizzenError


@dataclass(frozen=True)
class Request:
    """What one replica (pod) asks for: CPU in cores, memory in bytes, GPUs."""

    cpu: float = 0.0
    memory: float = 0.0
    gpu: int = 0
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: frozenset[str] = frozenset()  # taint keys tolerated


@dataclass
class Node:
    name: str
    cpu: float
    memory: float
    gpu: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    taints: frozenset[str] = frozenset()  # taint keys with effect NoSchedule
    used_cpu: float = 0.0
    used_memory: float = 0.0
    used_gpu: int = 0

    @property
    def free_cpu(self) -> float:
        return self.cpu - self.used_cpu

    @property
    def free_memory(self) -> float:
        return self.memory - self.used_memory

    @property
    def free_gpu(self) -> int:
        return self.gpu - self.used_gpu

    def accepts(self, request: Request) -> bool:
        """Selectors and taints only (what the kube-scheduler's filters check first)."""
        if any(self.labels.get(k) != v for k, v in request.node_selector):
            return False
        return self.taints <= request.tolerations

    def fits(self, request: Request) -> bool:
        return (
            self.accepts(request)
            and request.cpu <= self.free_cpu + 1e-9
            and request.memory <= self.free_memory + 1e-9
            and request.gpu <= self.free_gpu
        )

    def take(self, request: Request) -> None:
        self.used_cpu += request.cpu
        self.used_memory += request.memory
        self.used_gpu += request.gpu

    def give_back(self, request: Request) -> None:
        self.used_cpu -= request.cpu
        self.used_memory -= request.memory
        self.used_gpu -= request.gpu


@dataclass(frozen=True)
class QueueConfig:
    name: str
    priority: int = 0  # higher first
    concurrency: int | None = None  # runs of this queue running at once; None: unlimited


@dataclass
class WaitingRun:
    uuid: str
    queue: str
    replicas: Sequence[Request]
    priority: int = 0  # higher first, within a queue
    arrived_at: float = 0.0

    @property
    def gpus(self) -> int:
        return sum(r.gpu for r in self.replicas)


def place(replicas: Sequence[Request], nodes: Sequence[Node]) -> list[Node] | None:
    """Best-fit placement of every replica, or None. Does not change the nodes.

    Best fit (the node left with the fewest free GPUs, then CPU) keeps whole GPU nodes free for
    the large runs that need them: this is what keeps fragmentation low.
    """
    # Place big replicas first: they have the fewest candidate nodes.
    order = sorted(range(len(replicas)), key=lambda i: (-replicas[i].gpu, -replicas[i].cpu))
    placed: dict[int, Node] = {}
    for index in order:
        request = replicas[index]
        best: Node | None = None
        best_key: tuple[float, float] | None = None
        for node in nodes:
            if not node.fits(request):
                continue
            key = (node.free_gpu - request.gpu, node.free_cpu - request.cpu)
            if best_key is None or key < best_key:
                best, best_key = node, key
        if best is None:
            for i, node in placed.items():
                node.give_back(replicas[i])
            return None
        best.take(request)  # so that the next replica sees what this one uses
        placed[index] = best
    for i, node in placed.items():
        node.give_back(replicas[i])
    return [placed[i] for i in range(len(replicas))]


class Admission:
    """Decides, round after round, which waiting runs to submit."""

    def __init__(
        self, queues: Iterable[QueueConfig] = (), reserve_after: float = 600.0, backfill_depth: int = 256
    ) -> None:
        self.queues: dict[str, QueueConfig] = {q.name: q for q in queues}
        self.reserve_after = reserve_after
        # How far past the head of the line a round looks for runs that fit: bounds a round's cost
        # when thousands wait, at the price of not finding a fitting run deeper than this.
        self.backfill_depth = backfill_depth
        self.running_per_queue: dict[str, int] = {}
        self._waiting: list[tuple[tuple[int, int, float, int], WaitingRun]] = []
        self._counter = itertools.count()

    def queue(self, name: str) -> QueueConfig:
        return self.queues.get(name) or QueueConfig(name)

    def enqueue(self, run: WaitingRun) -> None:
        config = self.queue(run.queue)
        key = (-config.priority, -run.priority, run.arrived_at, next(self._counter))
        heapq.heappush(self._waiting, (key, run))

    def finished(self, run: WaitingRun) -> None:
        self.running_per_queue[run.queue] = self.running_per_queue.get(run.queue, 1) - 1

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _queue_full(self, name: str) -> bool:
        limit = self.queue(name).concurrency
        return limit is not None and self.running_per_queue.get(name, 0) >= limit

    def admit(self, nodes: Sequence[Node], now: float) -> list[tuple[WaitingRun, list[Node]]]:
        """Runs to submit now, each with the nodes its replicas were placed on (nodes updated)."""
        admitted: list[tuple[WaitingRun, list[Node]]] = []
        kept: list[tuple[tuple[int, int, float, int], WaitingRun]] = []
        reservation: list[tuple[Node, Request]] = []
        free_gpu = sum(n.free_gpu for n in nodes)
        free_cpu = sum(n.free_cpu for n in nodes)
        looked = 0
        while self._waiting and looked < self.backfill_depth:
            key, run = heapq.heappop(self._waiting)
            looked += 1
            if self._queue_full(run.queue):
                kept.append((key, run))
                continue
            # Cheap totals first: most rounds end here when the cluster is full.
            need_cpu = sum(r.cpu for r in run.replicas)
            enough = run.gpus <= free_gpu and need_cpu <= free_cpu + 1e-9
            placement = place(run.replicas, nodes) if enough else None
            if placement is None:
                kept.append((key, run))
                if not reservation and now - run.arrived_at >= self.reserve_after:
                    reservation = _reserve(run, nodes)
                    free_gpu -= sum(r.gpu for _, r in reservation)
                    free_cpu -= sum(r.cpu for _, r in reservation)
                continue
            for node, request in zip(placement, run.replicas, strict=True):
                node.take(request)
            free_gpu -= run.gpus
            free_cpu -= need_cpu
            self.running_per_queue[run.queue] = self.running_per_queue.get(run.queue, 0) + 1
            admitted.append((run, placement))
        for node, request in reservation:
            node.give_back(request)
        for item in kept:
            heapq.heappush(self._waiting, item)
        return admitted


def _reserve(run: WaitingRun, nodes: Sequence[Node]) -> list[tuple[Node, Request]]:
    """Hold capacity for a starving run: the best nodes it could use, even partially free.

    The reservation is modelled by marking resources used for the rest of this round, so smaller
    runs behind it only backfill into what the starving run could not use anyway.
    """
    held: list[tuple[Node, Request]] = []
    for request in sorted(run.replicas, key=lambda r: -r.gpu):
        candidates = [
            n for n in nodes if n.accepts(request) and n.gpu >= request.gpu and n.cpu >= request.cpu
        ]
        if not candidates:
            continue
        node = max(candidates, key=lambda n: (n.free_gpu, n.free_cpu))
        hold = Request(
            cpu=min(request.cpu, node.free_cpu),
            memory=min(request.memory, node.free_memory),
            gpu=min(request.gpu, node.free_gpu),
        )
        node.take(hold)
        held.append((node, hold))
    return held


# -- claiming across pipelines -----------------------------------------------------------------------


def queue_policy(settings: Mapping[str, Any]) -> QueuePolicy | None:
    """The policy of the ``queues`` setting (``{"gpu": {"concurrency": 2, "priority": 10}}``), or
    None without queues (claims then take the oldest runs, as they come)."""
    if not settings:
        return None
    try:
        return QueuePolicy(queue_configs(settings))
    except ValueError as error:
        raise MizzenError(f"setting 'queues' (MIZZEN_QUEUES or config.yaml): {error}") from None


def queue_configs(settings: Mapping[str, Any]) -> dict[str, QueueConfig]:
    """``{"gpu": {"concurrency": 2, "priority": 10}}`` as ``QueueConfig``s; ``ValueError`` names a bad one."""
    configs = {}
    for name, options in settings.items():
        if not isinstance(options, Mapping):
            raise ValueError(f"queue {name!r}: give a mapping such as {{concurrency: 2, priority: 10}}")
        unknown = set(options) - {"concurrency", "priority"}
        if unknown:
            raise ValueError(
                f"queue {name!r}: unknown option(s) {', '.join(sorted(unknown))}; use concurrency, priority"
            )
        concurrency = options.get("concurrency")
        if concurrency is not None and (not isinstance(concurrency, int) or concurrency < 1):
            raise ValueError(f"queue {name!r}: concurrency must be a whole number of 1 or more")
        priority = options.get("priority", 0)
        if not isinstance(priority, int):
            raise ValueError(f"queue {name!r}: priority must be a whole number")
        configs[name] = QueueConfig(name, priority=priority, concurrency=concurrency)
    return configs


class QueuePolicy:
    """Which waiting runs a claim takes, whoever made them (runs, trials of any sweep, DAG ops):
    highest queue priority first, then oldest; never more runs of a queue active at once than its
    ``concurrency``. The store applies it inside the claim's transaction (``claims.claim_runs``),
    with the active counts it read there, so every scheduler and agent sharing the database
    respects the same limits."""

    def __init__(self, queues: Mapping[str, QueueConfig]) -> None:
        self.queues = dict(queues)

    def __call__(
        self, waiting: Sequence[tuple[str, str | None]], active: Mapping[str, int], limit: int
    ) -> list[str]:
        """``waiting``: (uuid, queue) oldest first; ``active``: runs started per queue. The uuids to claim."""
        order = sorted(
            range(len(waiting)),
            key=lambda i: (-self._priority(waiting[i][1]), i),
        )
        taken: dict[str, int] = {}
        chosen: list[str] = []
        for index in order:
            if len(chosen) >= limit:
                break
            uuid, queue = waiting[index]
            if queue is not None:
                limit_of_queue = self.queues.get(queue, QueueConfig(queue)).concurrency
                used = active.get(queue, 0) + taken.get(queue, 0)
                if limit_of_queue is not None and used >= limit_of_queue:
                    continue
                taken[queue] = taken.get(queue, 0) + 1
            chosen.append(uuid)
        return chosen

    def _priority(self, queue: str | None) -> int:
        config = self.queues.get(queue) if queue is not None else None
        return config.priority if config is not None else 0
