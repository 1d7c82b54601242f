"""The environment every managed run sees (Mizzen's equivalents of Polyaxon's POLYAXON_* variables).

Executors set these (``runtime_env``); the tracking client reads them (``tracking.init()`` attaches to
the managed run they describe). One module so that both sides agree on the names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the tracking client imports this module and must not import the compiler
    from mizzen.compiler.plan import RuntimeContext

RUN_UUID = "MIZZEN_RUN_UUID"
RUN_NAME = "MIZZEN_RUN_NAME"
PROJECT = "MIZZEN_PROJECT"
OWNER = "MIZZEN_OWNER"
RUN_INSTANCE = "MIZZEN_RUN_INSTANCE"  # owner.project.runs.uuid
IS_MANAGED = "MIZZEN_IS_MANAGED"  # "true" inside a run started by Mizzen
HOST = "MIZZEN_HOST"  # the API base URL, e.g. http://127.0.0.1:41234
TOKEN = "MIZZEN_TOKEN"  # the run's API token
CONTEXT_PATH = "MIZZEN_CONTEXT_PATH"  # where init steps wrote (code, files)
ARTIFACTS_PATH = "MIZZEN_ARTIFACTS_PATH"  # root of the artifacts store as the run sees it
RUN_ARTIFACTS_PATH = "MIZZEN_RUN_ARTIFACTS_PATH"  # this run's folder (tracking journal lives here)
RUN_OUTPUTS_PATH = "MIZZEN_RUN_OUTPUTS_PATH"  # where the run writes its outputs
ITERATION = "MIZZEN_ITERATION"  # sweep iteration, when there is one
ARTIFACTS_STORE = "MIZZEN_ARTIFACTS_STORE"  # the store URL, for Mizzen's init and sidecar containers

TRACKING_DIR = ".tracking"  # inside RUN_ARTIFACTS_PATH: the tracking client's journal


def run_instance(context: RuntimeContext) -> str:
    """``owner.project.runs.uuid``: how MIZZEN_RUN_INSTANCE (and object annotations) name a run."""
    return f"{context.owner_name}.{context.project_name}.runs.{context.uuid}"


def runtime_env(context: RuntimeContext, api_host: str, token: str | None) -> dict[str, str]:
    """The MIZZEN_* variables of a run, from the context it was compiled with."""
    env = {
        RUN_UUID: context.uuid,
        RUN_NAME: context.name or "",
        PROJECT: context.project_name,
        OWNER: context.owner_name,
        RUN_INSTANCE: run_instance(context),
        IS_MANAGED: "true",
        HOST: api_host,
        CONTEXT_PATH: context.context_path,
        ARTIFACTS_PATH: context.artifacts_path,
        RUN_ARTIFACTS_PATH: context.run_artifacts_path,
        RUN_OUTPUTS_PATH: context.run_outputs_path,
    }
    if token:
        env[TOKEN] = token
    if context.iteration is not None:
        env[ITERATION] = str(context.iteration)
    return env
