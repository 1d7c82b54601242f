"""The server's logic, one service per resource; routers only translate HTTP to these calls.

``Services.build(settings)`` opens the database (upgrading its schema) and the artifacts store. The
embedded mode and tests can reach them as ``app.state.services``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from mizzen.artifacts.store import ArtifactsStore
from mizzen.scheduler.compile_run import pipeline_compiler
from mizzen.scheduler.queues import queue_policy
from mizzen.schemas.statuses import DONE_STATUSES
from mizzen.server.services.agents import AgentService
from mizzen.server.services.artifacts import ArtifactService
from mizzen.server.services.events import RunEvent, RunEventBus
from mizzen.server.services.logs import LogService
from mizzen.server.services.metrics import MetricService
from mizzen.server.services.pipelines import PipelineService
from mizzen.server.services.projects import ProjectService
from mizzen.server.services.runs import RunService
from mizzen.settings import Settings
from mizzen.store import Database, open_database
from mizzen.store.clock import utcnow
from mizzen.store.gateway import idempotency

IDEMPOTENCY_KEEP = timedelta(days=1)


@dataclass
class Services:
    settings: Settings
    database: Database
    store: ArtifactsStore
    events: RunEventBus
    projects: ProjectService
    runs: RunService
    metrics: MetricService
    logs: LogService
    artifacts: ArtifactService
    agents: AgentService
    pipelines: PipelineService

    @classmethod
    def build(cls, settings: Settings, database: Database | None = None) -> Services:
        database = database or open_database(settings.resolved_database_url)
        idempotency.forget_older_than(database, utcnow() - IDEMPOTENCY_KEEP)  # answers to retries: a day
        store = ArtifactsStore(settings.resolved_artifacts_store, settings.artifacts_store_options)
        events = RunEventBus()
        runs = RunService(
            database,
            store,
            events,
            default_executor=settings.executor,
            allow_host_access=settings.allow_host_access,
        )
        logs = LogService(database, store)

        def on_run_event(event: RunEvent) -> None:
            if event.kind == "deleted":
                logs.forget(event.run_uuid)
            elif event.kind == "status_changed" and event.status in DONE_STATUSES:
                logs.forget(event.run_uuid)
                logs.compact_in_background(event.run_uuid)

        events.subscribe(on_run_event)
        return cls(
            settings=settings,
            database=database,
            store=store,
            events=events,
            projects=ProjectService(database, runs.runs_deleted),
            runs=runs,
            metrics=MetricService(database),
            logs=logs,
            artifacts=ArtifactService(database, store),
            agents=AgentService(
                database, events, queue_policy(settings.queues), join_compiler=pipeline_compiler(settings)
            ),
            pipelines=PipelineService(database),
        )

    def close(self) -> None:
        self.database.dispose()
