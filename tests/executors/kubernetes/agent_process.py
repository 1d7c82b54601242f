"""A Kubernetes executor in a process of its own, for tests that kill it (SIGKILL) mid-run.

    python agent_process.py KUBECONFIG RUN_JSON PLAN_JSON

Submits the run, then prints every status and log line it reports as one JSON object per line
(flushed at once) until it is killed.
"""

from __future__ import annotations

import json
import sys
import threading

from mizzen.compiler.plan import Plan
from mizzen.executors.base import RunRef
from mizzen.executors.kubernetes import KubeAdapter, KubernetesExecutor
from mizzen.schemas.api import LogLine
from mizzen.schemas.statuses import RunStatus

_lock = threading.Lock()


def _say(**fields: object) -> None:
    with _lock:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()


class PrintingEvents:
    def on_status(self, uuid: str, status: RunStatus, reason: str | None, message: str | None) -> None:
        _say(kind="status", uuid=uuid, status=status.value, reason=reason)

    def on_logs(self, uuid: str, lines: list[LogLine]) -> None:
        for line in lines:
            _say(kind="log", uuid=uuid, container=line.container, line=line.line, timestamp=line.timestamp)


def main() -> None:
    kubeconfig, run_json, plan_json = sys.argv[1:4]
    run = RunRef(**json.loads(run_json))
    plan = Plan.model_validate_json(plan_json)
    executor = KubernetesExecutor(
        PrintingEvents(),
        adapter=KubeAdapter.from_kubeconfig(kubeconfig),
        tick_interval=0.05,
        log_flush_interval=0.05,
    )
    executor.submit(run, plan)
    threading.Event().wait()  # until killed


if __name__ == "__main__":
    main()
