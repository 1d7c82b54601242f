"""Services (a port, readiness, the URL), GPUs handed out through CUDA_VISIBLE_DEVICES, distributed kinds."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest
from tests.executors.support import (
    PYTHON,
    MakeExecutor,
    Recorder,
    container,
    free_port,
    make_plan,
    new_run,
    pid_gone,
    run_to_end,
)

from mizzen.compiler.plan import PodPlan, ReplicaPlan, RunKind, ServicePlan
from mizzen.executors.local import GpuInventory, LocalExecutor
from mizzen.executors.local.gpus import GpuAllocator
from mizzen.schemas.statuses import RunStatus

S = RunStatus
SHOW_GPUS = "import os; print('gpus=' + os.environ['CUDA_VISIBLE_DEVICES'])"


def http_server(*args: str) -> list[str]:
    return [PYTHON, "-m", "http.server", *args, "--bind", "127.0.0.1"]


def test_a_service_gets_a_port_answers_and_stops(executor, recorder: Recorder, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("hello from the service")
    main = container(http_server("$(MIZZEN_PORT)"), working_dir=str(tmp_path / "site"))
    run = new_run()
    executor.submit(run, make_plan(main=main, kind=RunKind.SERVICE))
    running = recorder.wait_status(run.uuid, S.RUNNING)
    assert running.message is not None and running.message.startswith("service ready at http://127.0.0.1:")
    url = running.message.removeprefix("service ready at ")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read().decode() == "hello from the service"
    recorder.wait_for(lambda: running.message in recorder.lines(run.uuid, "mizzen"))
    executor.stop(run.uuid, grace_seconds=2)
    assert executor.wait(run.uuid, 30) == S.STOPPED
    assert recorder.statuses(run.uuid) == [
        S.QUEUED,
        S.SCHEDULED,
        S.STARTING,
        S.RUNNING,
        S.STOPPING,
        S.STOPPED,
    ]


def test_a_service_gets_its_declared_port_when_it_is_free(executor, recorder: Recorder) -> None:
    port = free_port()
    plan = make_plan(
        main=container(http_server(str(port))), kind=RunKind.SERVICE, service=ServicePlan(ports=[port])
    )
    run = new_run()
    executor.submit(run, plan)
    assert recorder.wait_status(run.uuid, S.RUNNING).message == f"service ready at http://127.0.0.1:{port}"
    executor.stop(run.uuid, grace_seconds=2)
    assert executor.wait(run.uuid, 30) == S.STOPPED


def test_a_service_that_dies_before_answering_fails(executor, recorder: Recorder) -> None:
    run = run_to_end(executor, make_plan(["sh", "-c", "exit 4"], kind=RunKind.SERVICE))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "exit code 4")
    assert "before it answered on port" in (last.message or "")


def test_gpus_are_handed_out_through_cuda_visible_devices(
    make_executor: MakeExecutor, recorder: Recorder
) -> None:
    executor = make_executor(gpus=GpuInventory.of(4))
    one = run_to_end(executor, make_plan(main=container([PYTHON, "-c", SHOW_GPUS], gpus=2)))
    none = run_to_end(executor, make_plan(main=container([PYTHON, "-c", SHOW_GPUS])))
    assert recorder.lines(one.uuid, "main") == ["gpus=0,1"]
    assert recorder.event(one.uuid, S.SCHEDULED).message == "GPUs 0,1"
    assert recorder.lines(none.uuid, "main") == ["gpus="]
    assert any("asked for none" in line for line in recorder.lines(none.uuid, "mizzen"))
    assert executor.capabilities.gpus == 4


def test_a_run_waits_in_the_queue_for_gpus(
    make_executor: MakeExecutor, recorder: Recorder, tmp_path: Path
) -> None:
    executor = make_executor(gpus=GpuInventory.of(2), max_concurrency=4)
    gate = tmp_path / "gate"
    holder = container(["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"], gpus=2)
    first, second = new_run(), new_run()
    executor.submit(first, make_plan(main=holder))
    recorder.wait_status(first.uuid, S.RUNNING)
    executor.submit(second, make_plan(main=container([PYTHON, "-c", SHOW_GPUS], gpus=1)))
    assert executor.wait(second.uuid, 0.5) is None
    assert recorder.statuses(second.uuid) == [S.QUEUED]
    gate.touch()
    assert executor.wait(second.uuid, 30) == S.SUCCEEDED
    assert recorder.lines(second.uuid, "main") == ["gpus=0"]
    order = [(e.uuid, e.status) for e in recorder.events if e.status in (S.SUCCEEDED, S.SCHEDULED)]
    assert order.index((first.uuid, S.SUCCEEDED)) < order.index((second.uuid, S.SCHEDULED))


def test_a_run_needing_more_gpus_than_the_machine_has_is_unschedulable(
    make_executor: MakeExecutor, recorder: Recorder
) -> None:
    executor = make_executor(gpus=GpuInventory.of(2))
    run = run_to_end(executor, make_plan(main=container(["true"], gpus=3)))
    assert recorder.statuses(run.uuid) == [S.QUEUED, S.UNSCHEDULABLE, S.FAILED]
    assert recorder.last(run.uuid).reason == "unschedulable: needs 3 GPUs, this machine has 2"


def test_the_allocator_hands_out_whole_free_gpus() -> None:
    allocator = GpuAllocator(GpuInventory.of(3))
    assert allocator.allocate("a", 2) == [0, 1]
    assert allocator.allocate("b", 2) is None
    assert allocator.allocate("b", 1) == [2]
    assert allocator.free == 0
    allocator.release("a")
    assert allocator.held_by("b") == [2]
    assert allocator.allocate("c", 2) == [0, 1]
    assert allocator.allocate("d", 0) == []


FAKE_NVIDIA_SMI = """#!/bin/sh
case "$*" in
  *--query-gpu=index,uuid,name,memory.total*)
    echo "0, GPU-aaaa, NVIDIA H100 80GB HBM3, 81559"
    echo "1, GPU-bbbb, NVIDIA H100 80GB HBM3, 81559" ;;
  *) exit 9 ;;
esac
"""


def test_gpus_are_discovered_with_nvidia_smi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text(FAKE_NVIDIA_SMI)
    (bin_dir / "nvidia-smi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    inventory = GpuInventory.discover()
    assert [(d.index, d.uuid, d.memory_mib) for d in inventory.devices] == [
        (0, "GPU-aaaa", 81559),
        (1, "GPU-bbbb", 81559),
    ]
    executor = LocalExecutor(recorder, home=tmp_path / "home", artifacts_store=str(tmp_path / "store"))
    assert executor.capabilities.gpus == 2
    (bin_dir / "nvidia-smi").write_text("#!/bin/sh\nexit 1\n")
    assert GpuInventory.discover().count == 0
    assert GpuInventory.discover("no-such-nvidia-smi").count == 0


RENDEZVOUS = """
import os, socket, sys
rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
address = (os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]))
print(f"rank={rank} world={world} local_rank={os.environ['LOCAL_RANK']}", flush=True)
if rank == 0:
    server = socket.create_server(address)
    seen = sorted(int(server.accept()[0].recv(16)) for _ in range(world - 1))
    print(f"master saw ranks {seen}", flush=True)
else:
    import time
    for _ in range(300):
        try:
            connection = socket.create_connection(address)
            break
        except OSError:
            time.sleep(0.05)
    connection.sendall(str(rank).encode())
"""


def test_a_pytorchjob_runs_every_replica_with_ranks_that_meet(executor, recorder: Recorder) -> None:
    pod = PodPlan(main=container([PYTHON, "-c", RENDEZVOUS]))
    replicas = [
        ReplicaPlan(role="worker", replicas=2, pod=pod),
        ReplicaPlan(role="master", replicas=1, pod=pod),
    ]
    run = run_to_end(executor, make_plan(kind=RunKind.PYTORCHJOB, replicas=replicas))
    assert recorder.last(run.uuid).status == S.SUCCEEDED
    by_replica = {
        line.replica: line.line for line in recorder.log_lines(run.uuid) if line.line.startswith("rank=")
    }
    assert by_replica == {
        "master-0": "rank=0 world=3 local_rank=0",
        "worker-0": "rank=1 world=3 local_rank=0",
        "worker-1": "rank=2 world=3 local_rank=0",
    }
    assert "master saw ranks [1, 2]" in recorder.lines(run.uuid, "main")


def test_a_failing_replica_fails_the_run_and_ends_the_others(
    executor, recorder: Recorder, tmp_path: Path
) -> None:
    pid_file = tmp_path / "master.pid"
    master = PodPlan(main=container(["sh", "-c", f"echo $$$$ > {pid_file}; sleep 300"]))
    worker = PodPlan(main=container(["sh", "-c", f"while [ ! -e {pid_file} ]; do sleep 0.05; done; exit 7"]))
    replicas = [ReplicaPlan(role="master", pod=master), ReplicaPlan(role="worker", pod=worker)]
    run = run_to_end(executor, make_plan(kind=RunKind.PYTORCHJOB, replicas=replicas))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "exit code 7")
    assert "worker-0/main" in (last.message or "")
    assert pid_gone(int(pid_file.read_text()))


def test_a_tfjob_gets_tf_config_and_ends_when_its_workers_are_done(executor, recorder: Recorder) -> None:
    show = container([PYTHON, "-c", "import os; print(os.environ['TF_CONFIG'])"])
    ps = container(["sh", "-c", "echo ps up; sleep 300"])
    replicas = [
        ReplicaPlan(role="worker", replicas=2, pod=PodPlan(main=show)),
        ReplicaPlan(role="ps", replicas=1, pod=PodPlan(main=ps)),
        ReplicaPlan(role="chief", replicas=1, pod=PodPlan(main=show)),
    ]
    run = run_to_end(executor, make_plan(kind=RunKind.TFJOB, replicas=replicas))
    assert recorder.last(run.uuid).status == S.SUCCEEDED
    configs = {
        line.replica: json.loads(line.line)
        for line in recorder.log_lines(run.uuid)
        if line.line.startswith("{")
    }
    assert set(configs) == {"chief-0", "worker-0", "worker-1"}
    cluster = configs["chief-0"]["cluster"]
    assert [len(cluster[role]) for role in ("chief", "worker", "ps")] == [1, 2, 1]
    assert len({address for addresses in cluster.values() for address in addresses}) == 4
    assert configs["worker-1"]["task"] == {"type": "worker", "index": 1}
    assert all(config["cluster"] == cluster for config in configs.values())
