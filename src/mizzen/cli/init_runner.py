"""One init step inside a pod (``mizzen init <kind>``): the local executor's init code, fed from the
pod's environment.

The renderer (``mizzen.render.k8s.init_containers``) gives each init container the run's MIZZEN_*
variables (``mizzen.runtime_env``) and the credentials of the step's connection as env or files;
this module turns them into what ``InitRunner`` needs. Output goes to stdout, which is the init
container's log, with credentials redacted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mizzen import runtime_env
from mizzen.artifacts.connections import s3_options
from mizzen.artifacts.location import POD_CONTEXT_PATH
from mizzen.artifacts.store import ArtifactsStore, StoreError
from mizzen.compiler.plan import InitStep, RuntimeContext
from mizzen.errors import MizzenError
from mizzen.executors.local.init_steps import InitRunner
from mizzen.executors.local.outcome import RunFailure
from mizzen.render.local import InitSpec, repo_name
from mizzen.runtime_env import ARTIFACTS_STORE as STORE_ENV

# Imported by `mizzen init` when it runs (never by `mizzen --help`): heavy imports are fine here.

DEFAULT_CONTEXT_PATH = POD_CONTEXT_PATH

REDACTED = "********"


class InitFailed(MizzenError):
    """The step could not be done; the message says why (the init container exits non-zero)."""


class PodOutput:
    """Lines to the container's log (stdout), never showing a registered secret."""

    def __init__(self) -> None:
        self._secrets: list[str] = []

    def redact(self, secrets: Iterable[str]) -> None:
        self._secrets += [secret for secret in secrets if secret]

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def emit(self, line: str, container: str = "") -> None:
        sys.stdout.write(self.clean(line) + "\n")
        sys.stdout.flush()


def context_from_env(env: Mapping[str, str], store_url: str | None) -> RuntimeContext:
    """The run's RuntimeContext as the pod's MIZZEN_* variables describe it (the inverse of
    ``mizzen.executors.kubernetes.executor.pod_context``, which the renderer writes into them)."""
    context_path = env.get(runtime_env.CONTEXT_PATH, DEFAULT_CONTEXT_PATH)
    values: dict[str, Any] = {
        "uuid": env.get(runtime_env.RUN_UUID),
        "name": env.get(runtime_env.RUN_NAME) or None,
        "project_name": env.get(runtime_env.PROJECT),
        "owner_name": env.get(runtime_env.OWNER),
        "context_path": context_path,
        "artifacts_path": env.get(runtime_env.ARTIFACTS_PATH, f"{context_path}/artifacts"),
        "run_artifacts_path": env.get(runtime_env.RUN_ARTIFACTS_PATH),
        "run_outputs_path": env.get(runtime_env.RUN_OUTPUTS_PATH),
        "api_host": env.get(runtime_env.HOST),
        "store_path": store_url,
    }
    return RuntimeContext(**{key: value for key, value in values.items() if value is not None})


def default_path(step: InitStep, context_path: str) -> str:
    """Where a step writes when its command line names no ``--path`` (as the local renderer does)."""
    root = f"{context_path}/artifacts"
    if step.kind == "auth":
        return f"{context_path}/.configs"
    if step.connection:
        return f"{root}/{step.connection}"
    if step.kind == "git" and step.git and step.git.url:
        return f"{root}/{repo_name(step.git.url)}"
    return root


class NoStore(ArtifactsStore):
    """Stands for a store that was not given: fine until a step needs to read from it."""

    def __init__(self) -> None:
        super().__init__(tempfile.gettempdir())

    def exists(self, path: str) -> bool:
        raise StoreError(f"no artifacts store to read '{path}' from: pass --store URL or set {STORE_ENV}")

    def download(self, path: str, destination: Path) -> int:
        raise StoreError(f"no artifacts store to read '{path}' from: pass --store URL or set {STORE_ENV}")


def open_store(url: str | None, env: Mapping[str, str]) -> ArtifactsStore:
    """The store a step reads from; its credentials come from the pod's AWS_* (or other) env."""
    if not url:
        return NoStore()
    options = s3_options(env) if url.startswith(("s3://", "s3a://")) else {}
    return ArtifactsStore(url, options)


def run_init_step(step: InitStep, store_url: str | None, environ: Mapping[str, str] | None = None) -> None:
    """Do ``step`` in this pod; raises ``InitFailed`` with the reason when it cannot be done."""
    pod_env = dict(os.environ if environ is None else environ)
    store_url = store_url or pod_env.get(STORE_ENV) or None
    context = context_from_env(pod_env, store_url)
    output = PodOutput()
    if step.path is None:
        step = step.model_copy(update={"path": default_path(step, context.context_path)})
    assert step.path is not None

    def run_command(argv: list[str], env: dict[str, str], cwd: str, container: str) -> int:
        with subprocess.Popen(
            argv,
            env={**pod_env, **env},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                output.emit(line.rstrip("\n"))
            return process.wait()

    def no_process(_spec: Any) -> int:
        raise InitFailed(f"{step.name}: a user init container runs as its own container, not through mizzen")

    with tempfile.TemporaryDirectory(prefix="mizzen-init-") as scratch:
        runner = InitRunner(
            context=context,
            store=open_store(store_url, pod_env),
            api_host=pod_env.get(runtime_env.HOST, ""),
            token=pod_env.get(runtime_env.TOKEN) or None,
            run_command=run_command,
            run_process=no_process,
            emit=output.emit,
            redact=output.redact,
            scratch=Path(scratch),
        )
        try:
            runner.run(InitSpec(step, step.path, None, pod_env))
        except RunFailure as failure:
            message = failure.outcome.message or failure.outcome.reason or "failed"
            raise InitFailed(output.clean(message)) from None
