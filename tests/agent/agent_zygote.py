"""A fork server of `mizzen agent` processes, for tests that restart the agent many times.

Started once (``python agent_zygote.py``), it imports what `mizzen agent` imports (the CLI, the agent,
the kubernetes client: seconds of CPU on a loaded machine) and nothing else; it has read no settings,
opened no connection and started no thread. Each line on its stdin is a JSON object
``{"argv": [...], "log": PATH}``: it forks a child that sends its stdout and stderr to ``log`` and runs
``mizzen AGENT-ARGV`` through the CLI's own entry point, and answers the child's pid on a line.

A child is a new process in every way that matters to recovery: it shares no memory with an earlier
agent (the server never ran one), so a SIGKILLed agent restarted this way recovers only from what the
API and the cluster hold, as one started from the `mizzen` binary does. Children are reaped at once
(SIGCHLD ignored): a killed one leaves no zombie, so ``/proc/PID`` tells whether it still runs.
"""

from __future__ import annotations

import json
import os
import signal
import sys


def _preload() -> None:
    import httpcore  # noqa: F401  (httpx loads it with its first client)
    from kubernetes import client, config, watch  # noqa: F401  (its modules load on first use)

    import mizzen.agent.process
    import mizzen.cli.main as cli
    import mizzen.executors.kubernetes.adapter  # noqa: F401

    for api in ("CoreV1Api", "CustomObjectsApi", "ApiClient", "Configuration"):
        getattr(client, api)
    cli._register()


def _child(argv: list[str], log_path: str) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setpgid(0, 0)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    code = 1
    try:
        from mizzen.cli.main import main

        sys.argv = ["mizzen", *argv]
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    _preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request["argv"], request["log"])
        print(pid, flush=True)


if __name__ == "__main__":
    serve()
