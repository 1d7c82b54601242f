"""Hooks through the agent: `mizzen server` (executor kubernetes) and `mizzen agent` on the
Kubernetes API double. A job with a `webhook` hook runs as a Job; when it succeeded, the server's
hook loop creates a notifier run (a child of the job, kind `notifier`), which the agent runs as a
Job too. The test plays the kubelet: the job's pod just succeeds, and each notifier pod's container
(`python -m mizzen.scheduler.hooks.send webhook ...`) runs for real, with the pod's env, and posts
to a real HTTP server on loopback. Its first answer is a 503: the attempt's pod fails, and the
delivery is retried by a second notifier run, whose POST is delivered and recorded on the job."""

from __future__ import annotations

import re
from typing import Any

from tests.agent.cluster import NS, Installation
from tests.agent.kubelet import run_main_container
from tests.agent.support import eventually
from tests.agent.test_agent_pipelines import ServerProcess, server  # noqa: F401  (server: a fixture)

from hooks_support import receiver
from mizzen.client import MizzenClient
from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

RUN_UUID_LABEL = "mizzen.dev/run-uuid"


def job_with_hook(url: str) -> dict[str, Any]:
    return {
        "version": 1.1,
        "kind": "operation",
        "name": "train-and-notify",
        "hooks": [{"hubRef": "webhook", "trigger": "succeeded", "params": {"url": {"value": url}}}],
        "component": {
            "outputs": [{"name": "loss", "type": "float", "isOptional": True}],
            "run": {"kind": "job", "container": {"image": "python:3.11-slim", "command": ["true"]}},
        },
    }


class NotifyingKubelet:
    """Each new pod: a notifier's runs its container for real (Succeeded or Failed by its exit
    code); any other pod succeeds."""

    def __init__(self, setup: Installation, client: MizzenClient) -> None:
        self.setup, self.client = setup, client
        self.seen: set[str] = set()
        self.notifier_exits: dict[str, int] = {}  # pod: exit code

    def step(self) -> None:
        for pod in self.setup.double.list("v1", "Pod", NS):
            name = pod["metadata"]["name"]
            if name in self.seen or "deletionTimestamp" in pod["metadata"]:
                continue
            self.seen.add(name)
            run = self.client.runs.get(pod["metadata"]["labels"][RUN_UUID_LABEL])
            self.setup.double.set_pod_phase(NS, name, "Pending", node="node-1")
            self.setup.double.set_pod_phase(NS, name, "Running")
            if run.kind != "notifier":
                self.client.runs.update(run.uuid, outputs={"loss": 0.05})
                self.setup.double.set_pod_phase(NS, name, "Succeeded")
                continue
            ran = run_main_container(self.setup.double, name, self.setup.root / "pods")
            self.notifier_exits[name] = ran.returncode
            self.setup.double.set_pod_phase(NS, name, "Succeeded" if ran.returncode == 0 else "Failed")


def test_a_runs_webhook_hook_is_delivered_through_the_agent_and_recorded(
    installation: Installation,
    server: ServerProcess,  # noqa: F811
) -> None:
    setup = installation
    setup.start_agent()
    with receiver(answers=[503]) as http, MizzenClient(server.url) as client:
        path = setup.write_polyaxonfile("job-with-hook.yaml", job_with_hook(http.url))
        submitted = setup.mizzen("run", "-f", str(path), "--detach", "-p", "hooks")
        assert submitted.returncode == 0, (submitted.stdout, submitted.stderr)
        found = re.search(r"\b[0-9a-f]{32}\b", submitted.stdout)
        assert found, submitted.stdout
        uuid = found.group(0)
        kubelet = NotifyingKubelet(setup, client)

        def delivered() -> dict[str, Any] | None:
            kubelet.step()
            record = client.runs.get(uuid).meta.get("hooks") or {}
            deliveries = record.get("deliveries") or [{}]
            return record if deliveries[0].get("state") in ("delivered", "failed", "error") else None

        record = eventually(delivered, "the hook delivered", timeout=180, interval=0.1)
        job = client.runs.get(uuid)
        notifiers = client.runs.list(query="kind:notifier", limit=20).items
    [body] = http.delivered()
    assert [r["status"] for r in http.received] == [503, 200]  # the first attempt failed, retried
    assert body["run"]["uuid"] == uuid and body["run"]["status"] == "succeeded"
    assert body["run"]["outputs"] == {"loss": 0.05}
    assert body["hook"]["hubRef"] == "webhook"
    assert job.status == RunStatus.SUCCEEDED and job.executor == "kubernetes"
    [delivery] = record["deliveries"]
    assert (delivery["state"], delivery["attempts"]) == ("delivered", 2), record
    assert delivery["notifier"] in {n.uuid for n in notifiers}
    notifiers.sort(key=lambda n: n.created_at)
    assert [n.parent_uuid for n in notifiers] == [uuid, uuid]
    assert [n.status for n in notifiers] == [RunStatus.FAILED, RunStatus.SUCCEEDED]
    assert notifiers[-1].uuid == delivery["notifier"]
    assert {n.executor for n in notifiers} == {"kubernetes"}
    assert all(n.status in DONE_STATUSES for n in notifiers)
    # each attempt was a Job of the agent's, its pod running Mizzen's sender
    jobs = {job["metadata"]["name"]: job for job in setup.double.list("batch/v1", "Job", NS)}
    expected = {run_object_name("job", uuid)} | {run_object_name("notifier", n.uuid) for n in notifiers}
    assert set(jobs) == expected
    sender = jobs[run_object_name("notifier", notifiers[-1].uuid)]["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert sender["command"] == ["python", "-m", "mizzen.scheduler.hooks.send"]
    assert sorted(kubelet.notifier_exits.values()) == [0, 1]
