from mizzen.scheduler.queues import Admission, Node, QueueConfig, Request, WaitingRun, place

GPU_TAINT = "nvidia.com/gpu"
TOLERATE_GPU = frozenset({GPU_TAINT})


def gpu_node(name: str, gpus: int = 8, **labels: str) -> Node:
    return Node(name, cpu=64, memory=512, gpu=gpus, labels=labels, taints=frozenset({GPU_TAINT}))


def cpu_node(name: str, cpu: float = 8) -> Node:
    return Node(name, cpu=cpu, memory=64)


def gpu_run(
    uuid: str, *gpus: int, queue: str = "default", arrived: float = 0.0, priority: int = 0
) -> WaitingRun:
    replicas = [Request(cpu=1, memory=1, gpu=g, tolerations=TOLERATE_GPU) for g in gpus]
    return WaitingRun(uuid, queue, replicas, priority=priority, arrived_at=arrived)


def cpu_run(uuid: str, cpu: float, queue: str = "default", arrived: float = 0.0) -> WaitingRun:
    return WaitingRun(uuid, queue, [Request(cpu=cpu, memory=1)], arrived_at=arrived)


def admitted_uuids(admission: Admission, nodes: list[Node], now: float = 0.0) -> list[str]:
    return [run.uuid for run, _ in admission.admit(nodes, now)]


def test_higher_priority_queue_goes_first_then_arrival_order() -> None:
    admission = Admission([QueueConfig("low", priority=0), QueueConfig("high", priority=10)])
    admission.enqueue(cpu_run("low-early", 4, queue="low", arrived=1))
    admission.enqueue(cpu_run("high-late", 4, queue="high", arrived=5))
    admission.enqueue(cpu_run("low-late", 4, queue="low", arrived=9))
    assert admitted_uuids(admission, [cpu_node("n1", cpu=8)]) == ["high-late", "low-early"]
    assert admission.waiting == 1


def test_queue_concurrency_limit_holds_runs_back_until_one_finishes() -> None:
    admission = Admission([QueueConfig("q", concurrency=1)])
    first, second = cpu_run("a", 1, queue="q"), cpu_run("b", 1, queue="q", arrived=1)
    admission.enqueue(first)
    admission.enqueue(second)
    nodes = [cpu_node("n1")]
    assert admitted_uuids(admission, nodes) == ["a"]
    assert admitted_uuids(admission, nodes) == []
    admission.finished(first)
    assert admitted_uuids(admission, nodes) == ["b"]


def test_distributed_run_is_admitted_whole_or_not_at_all() -> None:
    nodes = [gpu_node("g1"), gpu_node("g2")]
    nodes[1].used_gpu = 4  # only 4 free on g2
    admission = Admission()
    admission.enqueue(gpu_run("ddp", 8, 8))
    assert admitted_uuids(admission, nodes) == []
    assert (nodes[0].used_gpu, nodes[1].used_gpu) == (0, 4)  # nothing held by a half-placed run
    nodes[1].used_gpu = 0
    assert admitted_uuids(admission, nodes) == ["ddp"]
    assert (nodes[0].used_gpu, nodes[1].used_gpu) == (8, 8)


def test_taints_and_selectors_are_respected() -> None:
    nodes = [cpu_node("cpu"), gpu_node("a100", accelerator="a100"), gpu_node("h100", accelerator="h100")]
    untolerating = WaitingRun("no-toleration", "default", [Request(cpu=1, memory=1, gpu=1)])
    assert place(untolerating.replicas, nodes) is None
    wants_h100 = Request(
        cpu=1, memory=1, gpu=2, node_selector=(("accelerator", "h100"),), tolerations=TOLERATE_GPU
    )
    placed = place([wants_h100], nodes)
    assert placed is not None and placed[0].name == "h100"
    # CPU runs never land on tainted GPU nodes.
    placed_cpu = place([Request(cpu=2, memory=1)], nodes)
    assert placed_cpu is not None and placed_cpu[0].name == "cpu"


def test_best_fit_keeps_whole_gpu_nodes_free_for_big_runs() -> None:
    nodes = [gpu_node("g1"), gpu_node("g2")]
    admission = Admission()
    admission.enqueue(gpu_run("one", 1, arrived=0))
    admission.enqueue(gpu_run("two", 1, arrived=1))
    admission.enqueue(gpu_run("full-node", 8, arrived=2))
    assert admitted_uuids(admission, nodes) == ["one", "two", "full-node"]
    assert sorted(n.used_gpu for n in nodes) == [2, 8]


def test_small_runs_backfill_around_a_blocked_head_of_line() -> None:
    nodes = [gpu_node("g1")]
    nodes[0].used_gpu = 6
    admission = Admission(reserve_after=3600)
    admission.enqueue(gpu_run("big", 4, arrived=0))
    admission.enqueue(gpu_run("small", 2, arrived=1))
    assert admitted_uuids(admission, nodes, now=10) == ["small"]
    assert admission.waiting == 1


def test_a_starving_run_reserves_capacity_so_backfill_cannot_delay_it() -> None:
    nodes = [gpu_node("g1")]
    nodes[0].used_gpu = 6
    admission = Admission(reserve_after=60)
    admission.enqueue(gpu_run("big", 4, arrived=0))
    admission.enqueue(gpu_run("small", 2, arrived=1))
    # "big" has waited past reserve_after: the 2 free GPUs are held for it, "small" waits too.
    assert admitted_uuids(admission, nodes, now=120) == []
    assert nodes[0].used_gpu == 6  # the reservation is released after the round
    nodes[0].used_gpu = 4
    assert admitted_uuids(admission, nodes, now=130) == ["big"]


def test_backfill_depth_bounds_the_work_of_one_round() -> None:
    admission = Admission(backfill_depth=3)
    for i in range(10):
        admission.enqueue(gpu_run(f"r{i}", 8, arrived=i))
    assert admitted_uuids(admission, [cpu_node("n1")]) == []
    assert admission.waiting == 10
    admission.enqueue(cpu_run("late-cpu", 1, arrived=100))
    # The CPU run sits beyond the depth this round looks at.
    assert admitted_uuids(admission, [cpu_node("n1")]) == []
