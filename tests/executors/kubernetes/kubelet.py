"""A kubelet for the API double that really runs containers, as local processes.

The shared executor contract runs shell commands and checks their exit codes, output and timeouts.
On the double, pods only change when a test says so; this kubelet makes them run: every new pod of
the namespace is scheduled and set Running, its main container's command runs here (no image: the
command must exist on this machine), its output becomes the container's log, and its exit code the
pod's phase. A pod that is deleted has its process killed.

It also plays the one part of the Job controller the double leaves out: ``activeDeadlineSeconds``
(a Job active for longer fails with DeadlineExceeded and its pods are deleted), as kube-controller-
manager would.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from typing import Any

from k8s_double import K8sDouble

Obj = dict[str, Any]


class ProcessKubelet:
    def __init__(self, double: K8sDouble, namespace: str = "default", kill_grace: float = 2.0) -> None:
        self.double = double
        self.namespace = namespace
        self.kill_grace = kill_grace
        self._processes: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}  # pod uid -> (name, process)
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._workdir = tempfile.mkdtemp(prefix="kubelet-")
        double.store.on_commit(lambda change: self._wake.set())
        self._thread = threading.Thread(target=self._loop, name="process-kubelet", daemon=True)

    def start(self) -> ProcessKubelet:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        self._thread.join(10)
        for _, process in list(self._processes.values()):
            _kill(process, self.kill_grace)

    # -- the loop ----------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(0.1)
            self._wake.clear()
            pods = {p["metadata"]["uid"]: p for p in self.double.list("v1", "Pod", self.namespace)}
            for uid, pod in pods.items():
                if uid not in self._processes and _startable(pod):
                    self._start(pod)
            for uid, (_name, process) in list(self._processes.items()):
                pod = pods.get(uid)
                if (pod is None or pod["metadata"].get("deletionTimestamp")) and process.poll() is None:
                    _kill(process, self.kill_grace)
            self._enforce_deadlines()

    def _start(self, pod: Obj) -> None:
        name, uid = pod["metadata"]["name"], pod["metadata"]["uid"]
        container = pod["spec"]["containers"][0]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self._workdir}
        env.update({e["name"]: e["value"] for e in container.get("env") or [] if "value" in e})
        self.double.set_pod_phase(self.namespace, name, "Running")
        process = subprocess.Popen(
            list(container.get("command") or []) + list(container.get("args") or []),
            env=env,
            cwd=self._workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._processes[uid] = (name, process)
        threading.Thread(target=self._watch, args=(name, container["name"], process), daemon=True).start()

    def _watch(self, pod: str, container: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            with contextlib.suppress(Exception):  # the pod may be gone already
                self.double.append_log(self.namespace, pod, container, raw.decode(errors="replace"))
        code = process.wait()
        with contextlib.suppress(Exception):
            if code == 0:
                self.double.set_pod_phase(self.namespace, pod, "Succeeded")
            else:
                self.double.set_pod_phase(
                    self.namespace, pod, "Failed", exit_code=code if code > 0 else 128 - code
                )

    def _enforce_deadlines(self) -> None:
        for job in self.double.list("batch/v1", "Job", self.namespace):
            deadline = job["spec"].get("activeDeadlineSeconds")
            status = job.get("status") or {}
            done = any(c.get("type") in ("Complete", "Failed") for c in status.get("conditions") or [])
            if deadline is None or done or not status.get("startTime"):
                continue
            started = datetime.fromisoformat(status["startTime"].replace("Z", "+00:00"))
            if (datetime.now(UTC) - started).total_seconds() < deadline:
                continue
            self._fail_deadline(job)

    def _fail_deadline(self, job: Obj) -> None:
        from kubernetes import client

        name = job["metadata"]["name"]
        condition = {
            "status": "True",
            "reason": "DeadlineExceeded",
            "message": "Job was active longer than specified deadline",
        }
        with self.double.api_client() as api:
            conditions = [{"type": "FailureTarget", **condition}, {"type": "Failed", **condition}]
            client.BatchV1Api(api).patch_namespaced_job_status(
                name, self.namespace, {"status": {"conditions": conditions}}
            )
        for pod in self.double.pods_of(self.namespace, "Job", name):
            with contextlib.suppress(Exception):
                self.double.delete("v1", "Pod", pod["metadata"]["name"], self.namespace)


def _startable(pod: Obj) -> bool:
    status = pod.get("status") or {}
    return status.get("phase", "Pending") == "Pending" and not pod["metadata"].get("deletionTimestamp")


def _kill(process: subprocess.Popen[bytes], grace: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 15)
    deadline = time.monotonic() + grace
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait(5)
