"""After a restart: the runs this agent owns, made ready for ``KubernetesExecutor.adopt``.

For each unfinished run it owns, the agent needs the Plan it submitted (stored by ``record_plan``;
compiled again, identically, when the store never got it), a token when the run may have to be
submitted again, and where its stored log ends (so that each line is streamed once).

Tokens: the token Secret the executor created holds the run's token. If it exists, that token is
used as it is (pods may already carry it). Only a run whose Secret does not exist gets a fresh token
from the API (which invalidates the old one, lost with the old process).
"""

from __future__ import annotations

import base64
import logging

from mizzen.agent.log_resume import stored_log_position
from mizzen.compiler.plan import Plan
from mizzen.errors import MizzenError
from mizzen.executors.kubernetes import KubernetesExecutor, OwnedRun
from mizzen.executors.kubernetes.executor import NOT_YET_SUBMITTED
from mizzen.executors.kubernetes.resources import SECRET
from mizzen.executors.kubernetes.runs import token_secret_name
from mizzen.render.k8s import RenderOptions
from mizzen.scheduler.api_source import ApiRunSource, claimed_run
from mizzen.scheduler.loop import CompileRun
from mizzen.scheduler.source import run_ref
from mizzen.schemas.api import AgentRun
from mizzen.schemas.statuses import RunStatus

log = logging.getLogger(__name__)


class Adopter:
    def __init__(
        self,
        source: ApiRunSource,
        executor: KubernetesExecutor,
        compile_run: CompileRun,
        api_host: str,
    ) -> None:
        self.source = source
        self.executor = executor
        self.compile_run = compile_run
        self.api_host = api_host

    def adopt_all(self) -> list[str]:
        """Hand every unfinished run this agent owns back to the executor; their uuids."""
        owned: list[OwnedRun] = []
        for run in self.source.owned_runs():
            try:
                owned.append(self._owned(run))
            except MizzenError as error:
                log.error("run %s cannot be adopted: %s", run.uuid, error)
                self.source.report_status(run.uuid, RunStatus.FAILED, "not adopted", str(error))
        self.source.track(item.run.uuid for item in owned)
        if owned:
            log.info("adopting %d runs: %s", len(owned), ", ".join(item.run.uuid for item in owned))
        self.executor.adopt(owned)
        return [item.run.uuid for item in owned]

    def _owned(self, run: AgentRun) -> OwnedRun:
        token = None
        if run.status in NOT_YET_SUBMITTED:  # may be submitted now: its pods will need a token
            token = self._token_in_cluster(run.uuid) or self.source.reclaim(run.uuid).token
        claimed = claimed_run(run.model_copy(update={"token": token}))
        ref = run_ref(claimed, self.api_host)
        plan = Plan.model_validate(run.plan) if run.plan else None
        if plan is None:  # claimed but its plan never reached the store: compile it again
            plan = self.compile_run(claimed, self.executor.runtime_context(ref))
            self.source.record_plan(run.uuid, plan.model_dump(mode="json", by_alias=True))
        logs = stored_log_position(self.source.client, run.uuid)
        return OwnedRun(run=ref, plan=plan, status=run.status, logs=logs)

    def _token_in_cluster(self, uuid: str) -> str | None:
        secret = self.executor.adapter.get(SECRET, token_secret_name(uuid), self.executor.namespace)
        if secret is None:
            return None
        key = RenderOptions.model_fields["token_secret_key"].default
        encoded = (secret.get("data") or {}).get(key)
        return base64.b64decode(encoded).decode() if encoded else None
