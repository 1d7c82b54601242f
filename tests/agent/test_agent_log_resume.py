"""An agent that takes a run over after a restart resumes its logs exactly where the stored log
ends, even inside a group of lines that share one timestamp (one write of several lines)."""

from __future__ import annotations

from tests.agent.cluster import NS, Installation, eventually
from tests.agent.test_agent_e2e import MAIN, job_file

from mizzen.agent.log_resume import stored_log_position
from mizzen.client import MizzenClient
from mizzen.executors.kubernetes import LogPosition
from mizzen.render.k8s import run_object_name
from mizzen.schemas.api import LogLine
from mizzen.schemas.statuses import RunStatus

S = RunStatus


def _lines(setup: Installation, uuid: str) -> list[str]:
    with setup.client() as client:
        return [line.line for line in client.logs.get(uuid).lines if line.line.startswith("step")]


def _stamps(setup: Installation, uuid: str) -> list[float]:
    with setup.client() as client:
        return [line.timestamp for line in client.logs.get(uuid).lines if line.line.startswith("step")]


def test_lines_sharing_a_timestamp_at_the_restart_are_each_stored_once(installation: Installation) -> None:
    setup = installation
    first = setup.start_agent()
    path = setup.write_polyaxonfile("job.yaml", job_file())
    submitted = setup.mizzen("run", "-f", str(path), "--detach", "-p", "logs")
    assert submitted.returncode == 0, submitted.stderr
    uuid = submitted.stdout.strip()
    (pod,) = setup.pods("Job", run_object_name("job", uuid))
    setup.double.set_pod_phase(NS, pod, "Running", node="node-1")
    setup.wait_status(uuid, S.RUNNING)

    setup.double.append_log(NS, pod, MAIN, "step 1\n")
    setup.double.append_log(NS, pod, MAIN, "step 2a\nstep 2b\n")  # one write: one timestamp
    eventually(lambda: _lines(setup, uuid) == ["step 1", "step 2a", "step 2b"], "the first lines stored")
    first.kill()
    # The rest of that write (same timestamp) never reached the killed agent; then more lines.
    setup.double.append_log(NS, pod, MAIN, "step 2c\nstep 2d\n", same_write=True)
    setup.double.append_log(NS, pod, MAIN, "step 3\n")

    setup.start_agent()  # the same name: it adopts the run and resumes its logs
    eventually(lambda: "step 3" in _lines(setup, uuid), "the lines written while no agent watched")
    setup.double.set_pod_phase(NS, pod, "Succeeded")
    setup.wait_status(uuid, S.SUCCEEDED)
    assert _lines(setup, uuid) == ["step 1", "step 2a", "step 2b", "step 2c", "step 2d", "step 3"]
    stamps = _stamps(setup, uuid)
    assert stamps[1] == stamps[2] == stamps[3] == stamps[4] < stamps[5]  # the restart fell inside one stamp


def test_the_stored_position_counts_each_streams_lines_at_its_newest_timestamp(api_server: str) -> None:
    base = 1_000_000.0

    def line(at: float, text: str, container: str = "main", replica: str | None = None) -> LogLine:
        return LogLine(timestamp=base + at, line=text, container=container, replica=replica)

    lines = [
        *(line(-200 + i, f"clone {i}", container="init-git-0") for i in range(10)),  # long before
        line(0.0, "w0", replica="worker-1"),
        line(1.0, "a"),
        line(1.5, "x", container="sidecar"),
        line(2.0, "b"),
        line(2.0, "c"),
        line(2.0, "p1", replica="worker-1"),
        line(2.0, "p2", replica="worker-1"),
        line(2.5, "y", container="sidecar"),
    ]
    with MizzenClient(api_server) as client:
        uuid = client.runs.create(project="logs").uuid
        for start in range(0, len(lines), 3):  # several posts, as an agent makes them
            client.logs.append(uuid, lines[start : start + 3])
        position = stored_log_position(client, uuid, slack=10.0, page=2)
    assert position == LogPosition(
        newest=base + 2.5,
        streams={
            ("sidecar", None): (base + 2.5, 1),
            ("main", "worker-1"): (base + 2.0, 2),
            ("main", None): (base + 2.0, 2),
            ("init-git-0", None): (base - 191, 1),  # the read stopped long before its first lines
        },
        slack=10.0,
    )
    assert position.stored(("main", None), base + 2.0, 1) and not position.stored(
        ("main", None), base + 2.0, 2
    )
    assert position.stored(("main", "worker-2"), base - 8, 0)  # a stream not seen: only old lines
    assert not position.stored(("main", "worker-2"), base - 7, 0)


def test_a_run_without_stored_lines_has_no_position(api_server: str) -> None:
    with MizzenClient(api_server) as client:
        uuid = client.runs.create(project="logs").uuid
        assert stored_log_position(client, uuid) is None
