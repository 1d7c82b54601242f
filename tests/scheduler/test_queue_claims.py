"""Queues with `concurrency` and `priority` across pipelines: the policy alone, then applied by the
real store's claim (SQLite and PostgreSQL, two claimers at once), then two real sweeps whose trials
share a queue of concurrency 1, driven and run by the real driver, scheduler and local executor."""

from __future__ import annotations

import contextlib
import itertools
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mizzen.compiler.compile import Compiler
from mizzen.errors import MizzenError
from mizzen.executors.local import GpuInventory, LocalExecutor
from mizzen.scheduler.compile_run import run_compiler
from mizzen.scheduler.loop import RunScheduler
from mizzen.scheduler.pipeline.driver import PipelineDriver
from mizzen.scheduler.queues import QueueConfig, QueuePolicy, queue_policy
from mizzen.scheduler.store_source import StoreRunSource
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.settings import Settings
from mizzen.store import Database, open_database
from mizzen.store.gateway import claims, pipelines, run_changes, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import NewRun

JOB = {
    "version": 1.1,
    "kind": "operation",
    "component": {"run": {"kind": "job", "container": {"image": "x", "command": ["true"]}}},
}


def test_the_policy_takes_higher_priority_queues_first_and_keeps_each_queue_within_its_concurrency() -> None:
    policy = QueuePolicy({"high": QueueConfig("high", priority=10), "q": QueueConfig("q", concurrency=2)})
    waiting = [("a", "q"), ("b", None), ("c", "q"), ("d", "high"), ("e", "q"), ("f", "other")]
    assert policy(waiting, {}, 10) == ["d", "a", "b", "c", "f"]
    assert policy(waiting, {"q": 1}, 10) == ["d", "a", "b", "f"]
    assert policy(waiting, {"q": 2}, 2) == ["d", "b"]


def test_the_queues_setting_is_checked_and_says_what_is_wrong() -> None:
    assert queue_policy({}) is None
    with pytest.raises(MizzenError, match="queue 'gpu': concurrency must be a whole number of 1 or more"):
        queue_policy({"gpu": {"concurrency": 0}})
    with pytest.raises(MizzenError, match="unknown option"):
        queue_policy({"gpu": {"limit": 2}})


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = open_database(db_url)
    yield db
    db.dispose()


def create(database: Database, **fields: Any) -> str:
    return run_changes.create_run(database, NewRun(project="p", executor="local", **fields)).detail.run.uuid


def two_sweeps_trials(database: Database, per_sweep: int, queue: str = "q") -> list[str]:
    """Trials of two sweeps, created alternately (as two drivers would), all on ``queue``."""
    sweeps = [create(database, kind="matrix", spec=JOB, queue=queue) for _ in range(2)]
    trials = []
    for index in range(per_sweep):
        for sweep in sweeps:
            trials.append(
                create(
                    database, spec=JOB, queue=queue, pipeline_uuid=sweep, pipeline_key=f"trial-{index:05d}"
                )
            )
    return trials


def test_a_claim_takes_trials_of_two_sweeps_within_their_queues_concurrency(database: Database) -> None:
    trials = two_sweeps_trials(database, per_sweep=3)
    policy = QueuePolicy({"q": QueueConfig("q", concurrency=2)})
    first = claims.claim_runs(database, "local", "me", limit=16, admit=policy)
    assert [c.run.uuid for c in first] == trials[:2]  # the oldest two, one of each sweep
    assert claims.claim_runs(database, "local", "me", limit=16, admit=policy) == []
    for status in (RunStatus.RUNNING, RunStatus.SUCCEEDED):
        statuses.set_status(database, trials[0], status)
    (third,) = claims.claim_runs(database, "local", "me", limit=16, admit=policy)
    assert third.run.uuid == trials[2]


def test_a_higher_priority_queue_is_claimed_before_older_runs(database: Database) -> None:
    older = [create(database, spec=JOB, queue="low") for _ in range(2)]
    urgent = create(database, spec=JOB, queue="high")
    policy = QueuePolicy({"high": QueueConfig("high", priority=10), "low": QueueConfig("low")})
    (claimed,) = claims.claim_runs(database, "local", "me", limit=1, admit=policy)
    assert claimed.run.uuid == urgent
    rest = claims.claim_runs(database, "local", "me", limit=5, admit=policy)
    assert [c.run.uuid for c in rest] == older


def test_two_claimers_at_once_never_exceed_a_queues_concurrency(database: Database, db_url: str) -> None:
    two_sweeps_trials(database, per_sweep=10)
    policy = QueuePolicy({"q": QueueConfig("q", concurrency=3)})
    # Each claimer's first admission (inside its claim's transaction) waits for the other's, so the
    # two claims really overlap: the waiting runs one of them locked are not the other's to count on.
    meet = threading.Barrier(2, timeout=3)

    def admit_meeting(waiting: Any, active: Any, limit: int) -> list[str]:
        # Broken: the other claimer was held outside its transaction, and they took turns.
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait()
        return policy(waiting, active, limit)

    other = open_database(db_url)
    taken: list[str] = []
    start = threading.Barrier(2)

    def claim(db: Database, owner: str) -> None:
        start.wait()
        taken.extend(c.run.uuid for c in claims.claim_runs(db, "local", owner, limit=2, admit=admit_meeting))
        for _ in range(3):
            taken.extend(c.run.uuid for c in claims.claim_runs(db, "local", owner, limit=2, admit=policy))

    try:
        threads = [
            threading.Thread(target=claim, args=(db, f"owner-{i}")) for i, db in enumerate((database, other))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        other.dispose()
    assert len(taken) == 3 and len(set(taken)) == 3


def test_two_real_sweeps_on_a_queue_of_concurrency_1_never_run_two_trials_at_once(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    database = open_database(db_url)
    admit = QueuePolicy({"q": QueueConfig("q", concurrency=1)})
    source = StoreRunSource(database, lambda _uuid, _lines: None, retry_interval=0.05, admit=admit)
    scheduler = RunScheduler(source, run_compiler(settings), api_host="http://127.0.0.1:9")
    executor = LocalExecutor(
        scheduler, home=tmp_path / "home", artifacts_store=str(tmp_path / "store"), gpus=GpuInventory()
    )
    scheduler.attach(executor)
    driver = PipelineDriver(database, lambda _run: Compiler(), executor="local")
    sweep_spec = {
        "version": 1.1,
        "kind": "operation",
        "matrix": {"kind": "grid", "params": {"lr": {"kind": "choice", "value": [0.1, 0.2, 0.3]}}},
        "component": {
            "inputs": [{"name": "lr", "type": "float"}],
            "run": {
                "kind": "job",
                "container": {"command": [sys.executable, "-c", "import time; time.sleep(0.2)"]},
            },
        },
    }
    try:
        sweeps = [create(database, kind="matrix", spec=sweep_spec, queue="q") for _ in range(2)]
        deadline = time.monotonic() + 180
        while any(runs_gateway.get_run(database, s).status not in DONE_STATUSES for s in sweeps):
            assert time.monotonic() < deadline, "the sweeps did not finish"
            driver.tick()
            scheduler.tick()
            time.sleep(0.05)
        trials = [
            runs_gateway.get_run(database, child.uuid)
            for sweep in sweeps
            for child in pipelines.children(database, sweep)
        ]
    finally:
        scheduler.close(grace_seconds=1)
        source.close(timeout=5)
        database.dispose()
    assert [t.status for t in trials] == [RunStatus.SUCCEEDED] * 6
    spans = sorted((t.started_at, t.finished_at) for t in trials)
    assert all(s is not None and f is not None for s, f in spans)
    for (_, finished), (started, _) in itertools.pairwise(spans):
        assert started >= finished, "two trials of queue q ran at once"


def test_the_queues_setting_reaches_the_claims_of_the_embedded_server_and_of_agents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    from mizzen.server.embedded import EmbeddedServer

    monkeypatch.setenv("MIZZEN_QUEUES", '{"gpu": {"concurrency": 2, "priority": 5}}')
    loaded = Settings.load()
    with EmbeddedServer(loaded, run_executor=False) as server:
        assert server.source is not None and isinstance(server.source.admit, QueuePolicy)
        assert server.source.admit.queues["gpu"] == QueueConfig("gpu", priority=5, concurrency=2)
        agents_admit = server.app.state.services.agents.admit
        assert isinstance(agents_admit, QueuePolicy) and agents_admit.queues == server.source.admit.queues
