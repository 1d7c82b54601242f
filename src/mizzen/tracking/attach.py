"""``init()``: attach to the managed run described by the environment, or create a run.

Inside ``mizzen run`` the executor sets ``MIZZEN_IS_MANAGED``, ``MIZZEN_RUN_UUID``, ``MIZZEN_HOST``,
``MIZZEN_TOKEN`` and the run's paths: the journal goes to ``$MIZZEN_RUN_ARTIFACTS_PATH/.tracking``.
Elsewhere a run is created in a project through the API (``managed=False``) and its journal lives in
``$MIZZEN_HOME/tracking/<uuid>``; with no server to talk to, everything is still journaled there for
``mizzen ops sync``.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import uuid as uuid_lib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from mizzen import runtime_env as env
from mizzen.tracking.journal import RunRecord
from mizzen.tracking.own_imports import load_client_stack
from mizzen.tracking.run import DEFAULT_FLUSH_TIMEOUT, Run
from mizzen.tracking.safety import logger, warn_once

if TYPE_CHECKING:
    from mizzen.client import MizzenClient

EXIT_TIMEOUT_ENV = "MIZZEN_TRACKING_EXIT_TIMEOUT"  # seconds the exit flush may wait for uploads
INIT_TIMEOUT = 5.0  # seconds init() waits for the API to create a run


class _State:
    """The process-wide tracking state: the default run and every run still to end at exit."""

    def __init__(self) -> None:
        self.run: Run | None = None
        self.live: list[Run] = []
        self.failure: tuple[str, str] | None = None  # (status, message) of an uncaught exception
        self.hooks_installed = False
        self.lock = threading.Lock()


STATE = _State()


def mizzen_home() -> Path:
    return Path(os.environ.get("MIZZEN_HOME") or Path.home() / ".mizzen").expanduser()


def configured(key: str) -> str | None:
    """``MIZZEN_<KEY>`` from the environment, else ``key`` in ``$MIZZEN_HOME/config.yaml``."""
    value = os.environ.get(f"MIZZEN_{key.upper()}")
    if value:
        return value
    config = mizzen_home() / "config.yaml"
    if not config.is_file():
        return None
    import yaml

    try:
        data = yaml.safe_load(config.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        warn_once("config", f"ignoring {config}: {exc}")
        return None
    found = data.get(key) if isinstance(data, dict) else None
    return str(found) if found else None


def connector(host: str, token: str | None, timeout: float = 30.0) -> Callable[[], MizzenClient]:
    """A factory of API clients; imports the client stack now, in the caller's thread (see
    ``own_imports``)."""
    load_client_stack()

    def connect() -> MizzenClient:
        import httpx

        from mizzen.client import MizzenClient

        return MizzenClient(host, token=token, timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)))

    return connect


def is_managed_environment() -> bool:
    return os.environ.get(env.IS_MANAGED, "").lower() in ("1", "true", "yes") and bool(
        os.environ.get(env.RUN_UUID)
    )


def init(
    project: str | None = None,
    name: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    *,
    run_uuid: str | None = None,
    is_new: bool | None = None,
    host: str | None = None,
    token: str | None = None,
    flush_timeout: float | None = None,
    collect_env: bool = False,
) -> Run:
    """Starts tracking and makes the run the default one of the module-level ``log_*`` functions.

    ``is_new=True`` creates a new run even inside ``mizzen run``; ``run_uuid`` attaches to an existing
    run. Never raises: without a server the run is recorded to its journal only.
    """
    with STATE.lock:
        if STATE.run is not None and not STATE.run._ended:
            if is_managed_environment() and not is_new and run_uuid in (None, STATE.run.uuid):
                return STATE.run
            STATE.run.end()
        timeout = flush_timeout if flush_timeout is not None else _exit_timeout()
        if is_managed_environment() and not is_new:
            run = _attach_managed(run_uuid, host, token, timeout)
            for field, value in (("name", name), ("description", description)):
                if value:
                    run._put(("update", field, value))
        else:
            create: dict[str, object] = {"project": project, "name": name, "description": description}
            create["tags"] = tags or []
            run = _start_unmanaged(create, run_uuid=run_uuid, host=host, token=token, timeout=timeout)
        if tags and (run.managed or run_uuid):
            run.log_tags(*tags)
        if collect_env:
            run.log_env()
        STATE.run = run
        STATE.live.append(run)
        _install_hooks()
        return run


def _exit_timeout() -> float:
    try:
        return float(os.environ.get(EXIT_TIMEOUT_ENV, DEFAULT_FLUSH_TIMEOUT))
    except ValueError:
        return DEFAULT_FLUSH_TIMEOUT


def _attach_managed(run_uuid: str | None, host: str | None, token: str | None, timeout: float) -> Run:
    uuid = run_uuid or os.environ[env.RUN_UUID]
    artifacts = os.environ.get(env.RUN_ARTIFACTS_PATH)
    run_dir = Path(artifacts) if artifacts else mizzen_home() / "tracking" / uuid
    outputs = os.environ.get(env.RUN_OUTPUTS_PATH)
    host = host or os.environ.get(env.HOST)
    token = token or os.environ.get(env.TOKEN)
    if not host:
        warn_once("no-host", f"{env.HOST} is not set: recording run {uuid} to its journal in {run_dir} only")
    record = RunRecord(local_id=uuid, uuid=uuid, managed=True, host=host)
    return Run(
        record, run_dir, Path(outputs) if outputs else None, connector(host, token) if host else None, timeout
    )


def _start_unmanaged(
    create: dict[str, object], *, run_uuid: str | None, host: str | None, token: str | None, timeout: float
) -> Run:
    host = host or configured("host")
    token = token or configured("token")
    local_id = uuid_lib.uuid4().hex
    create = {
        **create,
        "project": create["project"] or configured("project") or "default",
        "managed": False,
        # The run keeps this id and creation time on the server, even when it is synced days later.
        "uuid": local_id,
        "created_at": datetime.now(UTC).isoformat(),
    }
    record = RunRecord(local_id=local_id, uuid=run_uuid, managed=False, host=host, create=create)
    if run_uuid is None and host:
        record.uuid = _create_run(host, token, record)
    run_dir = mizzen_home() / "tracking" / (record.uuid or local_id)
    if not host:
        logger.warning(
            "mizzen.tracking: no Mizzen server is configured, and tracking needs one: start it with "
            "`mizzen server` and set MIZZEN_HOST (or `mizzen config set host URL`). Recording to the "
            "journal in %s meanwhile; upload it later with `mizzen ops sync %s`.",
            run_dir,
            run_dir,
        )
    run = Run(record, run_dir, None, connector(host, token) if host else None, timeout)
    if run_uuid is None:
        run.log_status("running", "tracking", "started by tracking.init()")
    return run


def _create_run(host: str, token: str | None, record: RunRecord) -> str | None:
    """Creates the run now if the API answers within a few seconds; else the uploader will, later,
    with the same idempotency key (so a request that did get through yields the same run)."""
    from mizzen.errors import ApiError
    from mizzen.schemas.api import RunCreate

    try:
        with connector(host, token, timeout=INIT_TIMEOUT)() as client:
            body = RunCreate.model_validate(record.creation())
            return client.runs.create(body, idempotency_key=record.creation_key).uuid
    except ApiError as exc:
        logger.warning(
            "mizzen.tracking: %s. Recording to the journal meanwhile; it is uploaded as soon as the API "
            "answers (or later with `mizzen ops sync`).",
            exc,
        )
    except Exception as exc:
        logger.warning("mizzen.tracking: could not create the run (%s); recording to the journal", exc)
    return None


# ---- process hooks: end at exit, note a crash, survive fork ---------------------------------------


def _install_hooks() -> None:
    if STATE.hooks_installed:
        return
    STATE.hooks_installed = True
    atexit.register(_end_all_at_exit)
    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            STATE.failure = ("stopped", "interrupted (KeyboardInterrupt)")
        else:
            STATE.failure = ("failed", f"{kind.__name__}: {value}")
        previous_hook(kind, value, tb)

    sys.excepthook = excepthook
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _end_all_at_exit() -> None:
    status, message = STATE.failure or ("succeeded", None)
    for run in STATE.live:
        try:
            run.end(status, message)
        except Exception as exc:  # never turn a clean exit into a traceback
            warn_once("exit", f"could not finish tracking at exit: {exc}")


def _after_fork_in_child() -> None:
    STATE.lock = threading.Lock()
    for run in STATE.live:
        run._after_fork_in_child()
