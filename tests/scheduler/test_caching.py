"""The run cache through the real scheduler loop, the real local executor and the real store
(SQLite and PostgreSQL): a second identical run is skipped and names the run it reused, `ttl`
expires entries, `io` and `sections` choose what the key covers, invalidation drops an entry, trials
cache like runs, and an agent gets the same answer through the API."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mizzen.client import MizzenClient
from mizzen.compiler.compile import Compiler
from mizzen.compiler.plan import RuntimeContext
from mizzen.errors import CompileError
from mizzen.executors.local import GpuInventory, LocalExecutor
from mizzen.scheduler.api_source import ApiRunSource
from mizzen.scheduler.caching import cache_key
from mizzen.scheduler.compile_run import run_compiler
from mizzen.scheduler.loop import RunScheduler
from mizzen.scheduler.source import ClaimedRun
from mizzen.scheduler.store_source import StoreRunSource
from mizzen.schemas.pipelines import TRIAL_KEY
from mizzen.schemas.run_meta import CACHE_HIT_KEY
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.settings import Settings
from mizzen.spec import load_dict
from mizzen.store import Database, open_database
from mizzen.store.gateway import flow, run_changes, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import NewRun


def spec(
    cache: dict[str, Any] | None,
    *,
    command: str = "print('work')",
    inputs: dict[str, Any] | None = None,
    init: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    run: dict[str, Any] = {
        "kind": "job",
        "container": {"image": "x", "command": [sys.executable, "-c", command]},
    }
    if init is not None:
        run["init"] = init
    values = inputs or {"lr": 0.1, "epochs": 3}
    return {
        "version": 1.1,
        "kind": "operation",
        **({"cache": cache} if cache is not None else {}),
        "params": {name: {"value": value} for name, value in values.items()},
        "component": {
            "name": "train",
            "inputs": [
                {"name": "lr", "type": "float"},
                {"name": "epochs", "type": "int"},
            ],
            "run": run,
        },
        **extra,
    }


@dataclass
class Loop:
    database: Database
    scheduler: RunScheduler

    def create(self, run_spec: dict[str, Any], **fields: Any) -> str:
        new = NewRun(project="p", spec=run_spec, executor="local", **fields)
        return run_changes.create_run(self.database, new).detail.run.uuid

    def run_to_end(self, uuid: str, timeout: float = 60) -> RunStatus:
        deadline = time.monotonic() + timeout
        while (status := runs_gateway.get_run(self.database, uuid).status) not in DONE_STATUSES:
            assert time.monotonic() < deadline, f"run {uuid} is still {status}"
            self.scheduler.tick()
            time.sleep(0.05)
        return status


@pytest.fixture
def loop(db_url: str, settings: Settings, tmp_path: Path) -> Iterator[Loop]:
    database = open_database(db_url)
    source = StoreRunSource(database, lambda _uuid, _lines: None, retry_interval=0.05)
    scheduler = RunScheduler(source, run_compiler(settings), api_host="http://127.0.0.1:9")
    executor = LocalExecutor(
        scheduler, home=tmp_path / "home", artifacts_store=str(tmp_path / "store"), gpus=GpuInventory()
    )
    scheduler.attach(executor)
    yield Loop(database, scheduler)
    scheduler.close(grace_seconds=1)
    source.close(timeout=5)
    database.dispose()


def succeeded_with_outputs(loop: Loop, run_spec: dict[str, Any], outputs: dict[str, Any]) -> str:
    first = loop.create(run_spec)
    assert loop.run_to_end(first) == RunStatus.SUCCEEDED
    runs_gateway.update_run(loop.database, first, outputs=outputs)  # what its tracking would report
    return first


def test_a_second_identical_run_is_skipped_reusing_the_first_runs_outputs(loop: Loop) -> None:
    first = succeeded_with_outputs(loop, spec({"ttl": 3600}), {"accuracy": 0.93})
    second = loop.create(spec({"ttl": 3600}))
    assert loop.run_to_end(second) == RunStatus.SKIPPED
    run = runs_gateway.get_run(loop.database, second)
    assert run.meta[CACHE_HIT_KEY]["uuid"] == first
    assert run.outputs == {"accuracy": 0.93}
    assert run.cache_key == runs_gateway.get_run(loop.database, first).cache_key is not None
    condition = runs_gateway.conditions_of(loop.database, second)[-1]
    assert condition.reason == "CacheHit" and first in (condition.message or "")
    assert run.started_at is None  # it never ran


def test_without_cache_or_with_disable_every_run_runs(loop: Loop) -> None:
    for cache in (None, {"disable": True}):
        first = loop.create(spec(cache))
        second = loop.create(spec(cache))
        assert loop.run_to_end(first) == RunStatus.SUCCEEDED
        assert loop.run_to_end(second) == RunStatus.SUCCEEDED
        assert runs_gateway.get_run(loop.database, second).cache_key is None


def test_an_entry_older_than_ttl_is_not_reused(loop: Loop) -> None:
    first = succeeded_with_outputs(loop, spec({"ttl": 60}), {"x": 1})
    finished = runs_gateway.get_run(loop.database, first).finished_at
    assert finished is not None
    key = runs_gateway.get_run(loop.database, first).cache_key
    assert key is not None
    fresh, stale = loop.create(spec({"ttl": 60})), loop.create(spec({"ttl": 60}))
    hit = flow.use_cache(loop.database, fresh, key, ttl=60, now=finished + timedelta(seconds=59))
    assert hit is not None and hit.run.status == RunStatus.SKIPPED
    assert flow.use_cache(loop.database, stale, key, ttl=60, now=finished + timedelta(seconds=61)) is None
    assert runs_gateway.get_run(loop.database, stale).status == RunStatus.CREATED  # it goes on to run


def test_io_selects_the_inputs_the_key_covers(loop: Loop) -> None:
    only_lr = {"io": ["lr"]}
    first = succeeded_with_outputs(loop, spec(only_lr, inputs={"lr": 0.1, "epochs": 3}), {"x": 1})
    other_epochs = loop.create(spec(only_lr, inputs={"lr": 0.1, "epochs": 50}))
    other_lr = loop.create(spec(only_lr, inputs={"lr": 0.2, "epochs": 3}))
    assert loop.run_to_end(other_epochs) == RunStatus.SKIPPED  # epochs is not in the key
    assert runs_gateway.get_run(loop.database, other_epochs).meta[CACHE_HIT_KEY]["uuid"] == first
    assert loop.run_to_end(other_lr) == RunStatus.SUCCEEDED  # lr is


def test_by_default_every_input_and_the_command_are_in_the_key(loop: Loop) -> None:
    succeeded_with_outputs(loop, spec({}), {"x": 1})
    other_epochs = loop.create(spec({}, inputs={"lr": 0.1, "epochs": 50}))
    other_command = loop.create(spec({}, command="print('other work')"))
    assert loop.run_to_end(other_epochs) == RunStatus.SUCCEEDED
    assert loop.run_to_end(other_command) == RunStatus.SUCCEEDED


def test_sections_choose_which_parts_of_the_run_count(loop: Loop, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    init_a = [{"paths": [str(data)]}]
    init_b = [{"paths": [str(data), str(data)]}]
    containers = {"sections": ["containers"]}
    succeeded_with_outputs(loop, spec(containers, init=init_a), {"x": 1})
    assert loop.run_to_end(loop.create(spec(containers, init=init_b))) == RunStatus.SKIPPED
    every = {"sections": ["containers", "init"]}
    succeeded_with_outputs(loop, spec(every, init=init_a), {"x": 1})
    assert loop.run_to_end(loop.create(spec(every, init=init_b))) == RunStatus.SUCCEEDED


def test_an_invalidated_run_is_no_longer_reused(loop: Loop) -> None:
    first = succeeded_with_outputs(loop, spec({}), {"x": 1})
    skipped = loop.create(spec({}))
    assert loop.run_to_end(skipped) == RunStatus.SKIPPED
    _detail, dropped = flow.invalidate(loop.database, skipped)  # the entry it reused: the first run
    assert dropped == [skipped, first]
    assert runs_gateway.get_run(loop.database, first).cache_key is None
    again = loop.create(spec({}))
    assert loop.run_to_end(again) == RunStatus.SUCCEEDED
    _detail, dropped = flow.invalidate(loop.database, again)
    assert dropped == [again]
    _detail, dropped = flow.invalidate(loop.database, again)
    assert dropped == []  # nothing left to drop


def test_trials_of_a_sweep_cache_like_runs(loop: Loop) -> None:
    sweep = spec(
        {},
        matrix={"kind": "grid", "params": {"lr": {"kind": "choice", "value": [0.1, 0.2]}}},
    )
    first = loop.create(sweep, meta={TRIAL_KEY: {"index": 0, "values": {"lr": 0.1}}}, params={"lr": 0.1})
    assert loop.run_to_end(first) == RunStatus.SUCCEEDED
    same = loop.create(sweep, meta={TRIAL_KEY: {"index": 0, "values": {"lr": 0.1}}}, params={"lr": 0.1})
    other = loop.create(sweep, meta={TRIAL_KEY: {"index": 1, "values": {"lr": 0.2}}}, params={"lr": 0.2})
    assert loop.run_to_end(same) == RunStatus.SKIPPED
    assert loop.run_to_end(other) == RunStatus.SUCCEEDED


def test_a_cache_io_name_that_is_no_input_fails_the_run_naming_the_field(loop: Loop) -> None:
    uuid = loop.create(spec({"io": ["learning_rate"]}))
    assert loop.run_to_end(uuid) == RunStatus.FAILED
    message = runs_gateway.conditions_of(loop.database, uuid)[-1].message or ""
    assert "cache.io: 'learning_rate' is not an input or output" in message and "lr" in message


def test_the_run_uuid_in_paths_does_not_change_the_key(settings: Settings) -> None:
    compile_run = run_compiler(settings)
    keys = set()
    for uuid in ("a" * 32, "b" * 32):
        run = ClaimedRun(
            uuid=uuid, project="p", kind="job", spec=spec({}, command="print('{{ globals.uuid }}')")
        )
        context = RuntimeContext(uuid=uuid, run_artifacts_path=f"/store/{uuid}")
        keys.add(cache_key(compile_run(run, context), run))
    assert len(keys) == 1 and None not in keys


def test_an_agent_gets_the_cache_answer_through_the_api(api_server: str, api_app: Any) -> None:
    database = api_app.state.services.database

    def make() -> str:
        new = NewRun(project="p", spec=spec({}), executor="kubernetes")
        return run_changes.create_run(database, new).detail.run.uuid

    first, second = make(), make()
    for status in (RunStatus.RUNNING, RunStatus.SUCCEEDED):
        statuses.set_status(database, first, status)
    with MizzenClient(api_server) as client:
        source = ApiRunSource(client, "agent-1")
        try:
            assert source.use_cache(first, "v1-same", None) is None  # records the first run's key
            assert source.use_cache(second, "v1-same", None) == first
        finally:
            source.close(timeout=5)
    assert runs_gateway.get_run(database, second).status == RunStatus.SKIPPED


def test_cache_key_is_none_for_a_plan_without_cache() -> None:
    compiled = Compiler().compile_loaded(load_dict(spec(None), source="test"))
    assert compiled.plan is not None
    assert (
        cache_key(compiled.plan, ClaimedRun(uuid="c" * 32, project="p", kind="job", spec=spec(None))) is None
    )


def test_cache_io_errors_are_compile_errors() -> None:
    compiled = Compiler().compile_loaded(load_dict(spec({"io": ["nope"]}), source="test"))
    assert compiled.plan is not None
    with pytest.raises(CompileError, match=r"cache\.io"):
        cache_key(compiled.plan, ClaimedRun(uuid="c" * 32, project="p", kind="job", spec=spec(None)))


def test_invalidating_a_pipeline_drops_its_runs_from_the_cache(loop: Loop) -> None:
    sweep = loop.create(spec({}), kind="matrix")
    trials = [
        loop.create(spec({}), pipeline_uuid=sweep, pipeline_key=f"trial-{i:05d}", cache_key=f"v1-trial-{i}")
        for i in range(2)
    ]
    for trial in trials:
        for status in (RunStatus.RUNNING, RunStatus.SUCCEEDED):
            statuses.set_status(loop.database, trial, status)
    _detail, dropped = flow.invalidate(loop.database, sweep)
    assert sorted(dropped) == sorted(trials)
    later = loop.create(spec({}))
    assert flow.use_cache(loop.database, later, "v1-trial-0", ttl=None) is None
    assert runs_gateway.get_run(loop.database, sweep).meta["cache_invalidated"]["runs"] == 2
