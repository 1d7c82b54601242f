"""The sweep test harness (imported by conftest.py and the tests): a sweep over the real store
(SQLite and PostgreSQL), driven by the real ``PipelineDriver`` with the real ``SweepPlanner``. The
trials are finished by the test as an executor would (statuses and tracked metrics go through the
store's gateway), so each test decides what every trial scores."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mizzen.scheduler.compile_run import pipeline_compiler
from mizzen.scheduler.pipeline.driver import PipelineDriver
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.settings import Settings
from mizzen.store import Database
from mizzen.store.gateway import metrics, statuses
from mizzen.store.gateway import pipelines as gateway
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import ChildRecord, RunRecord


def sweep_spec(matrix: dict[str, Any], inputs: list[str] | None = None) -> dict[str, Any]:
    """An operation whose component takes the matrix's params as inputs and runs `true`."""
    names = inputs if inputs is not None else list(matrix.get("params", {}))
    return {
        "version": 1.1,
        "kind": "operation",
        "matrix": matrix,
        "component": {
            "name": "trial",
            "inputs": [{"name": name, "type": "any"} for name in names],
            "run": {"kind": "job", "container": {"image": "busybox", "command": ["true"]}},
        },
    }


@dataclass
class Sweep:
    database: Database
    uuid: str
    driver: PipelineDriver

    def pipeline(self) -> RunRecord:
        return runs_gateway.get_run(self.database, self.uuid)

    def tick(self, driver: PipelineDriver | None = None) -> RunRecord:
        pipeline = self.pipeline()
        if pipeline.status not in DONE_STATUSES:
            (driver or self.driver).drive(pipeline)
        return self.pipeline()

    def last_condition(self, uuid: str | None = None) -> tuple[str | None, str | None]:
        """(reason, message) of the run's last status (the pipeline's by default)."""
        last = runs_gateway.conditions_of(self.database, uuid or self.uuid)[-1]
        return last.reason, last.message

    def children(self, *metric_names: str) -> list[ChildRecord]:
        return gateway.children(self.database, self.uuid, metric_names)

    def trial_values(self) -> dict[int, dict[str, Any]]:
        return {c.meta["trial"]["index"]: c.meta["trial"]["values"] for c in self.children()}

    def start(self, child: ChildRecord) -> None:
        statuses.set_status(self.database, child.uuid, RunStatus.RUNNING, "Test", "running")

    def report(self, child: ChildRecord, step: int = 1, **values: float) -> None:
        now = time.time()
        points = [(name, step, now, float(value)) for name, value in values.items()]
        metrics.ingest(self.database, child.uuid, points)

    def finish(self, child: ChildRecord, status: RunStatus = RunStatus.SUCCEEDED, **values: float) -> None:
        if child.status in DONE_STATUSES:
            return
        if child.status not in (RunStatus.RUNNING, RunStatus.STOPPING):
            self.start(child)
        if values:
            self.report(child, **values)
        statuses.set_status(self.database, child.uuid, status, "Test", "done")

    def run_to_end(
        self, score: Callable[[dict[str, Any]], float], metric: str, limit: int = 500
    ) -> RunRecord:
        """Tick, finishing every trial not done with ``score(values)``, until the sweep ends."""
        for _ in range(limit):
            pipeline = self.tick()
            if pipeline.status in DONE_STATUSES:
                return pipeline
            for child in self.children():
                if child.status not in DONE_STATUSES:
                    self.finish(child, **{metric: score(child.meta["trial"]["values"])})
        raise AssertionError(f"the sweep did not end in {limit} ticks: {self.pipeline().status}")


def new_driver(database: Database, settings: Settings) -> PipelineDriver:
    return PipelineDriver(database, pipeline_compiler(settings), executor="local")
