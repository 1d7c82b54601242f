"""The agent's configuration: its identity, where the API and the cluster are, and how run pods reach
the artifacts store (the env the deploy manifests give the agent: ``deploy/kustomize/base``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mizzen.compiler.plan import ConnectionPlan, SecretRef
from mizzen.errors import MizzenError
from mizzen.render.k8s import RenderOptions, StoreLocation
from mizzen.settings import Settings

# The PersistentVolumeClaim that holds a path store: mounted in run pods at the store's path.
ARTIFACTS_CLAIM_ENV = "MIZZEN_AGENT_ARTIFACTS_CLAIM"
# A Secret with the store's credentials (AWS_ACCESS_KEY_ID, ...): env of init and sidecar containers.
ARTIFACTS_SECRET_ENV = "MIZZEN_AGENT_ARTIFACTS_SECRET"
SERVICE_ACCOUNT_ENV = "MIZZEN_AGENT_SERVICE_ACCOUNT"  # run pods' default service account
PULL_SECRETS_ENV = "MIZZEN_AGENT_IMAGE_PULL_SECRETS"  # comma-separated, added to every run pod
RUNS_API_HOST_ENV = "MIZZEN_AGENT_RUNS_HOST"  # the API as run pods reach it (default: the agent's)
STORE_CONNECTION = "mizzen-artifacts-store"


@dataclass(frozen=True)
class AgentConfig:
    name: str
    namespace: str
    host: str  # the Mizzen API as the agent reaches it
    token: str | None = None
    queue: str | None = None
    kubeconfig: str | None = None
    kube_context: str | None = None
    in_cluster: bool = False
    runs_host: str | None = None  # the API as run pods reach it (default: ``host``)
    heartbeat_interval: float = 10.0
    poll_interval: float = 1.0  # idle: one claim request a second
    # after a claim or a run's end (a pipeline's next step comes right after): one each 0.1 s, for 5 s
    busy_poll_interval: float = 0.1
    busy_seconds: float = 5.0

    @property
    def api_host_for_runs(self) -> str:
        return self.runs_host or self.host


def default_agent_name(namespace: str, queue: str | None) -> str:
    """Stable across restarts (so the new process adopts the old one's runs): namespace[-queue]."""
    return f"{namespace}-{queue}" if queue else namespace


def artifacts_store(settings: Settings, env: Mapping[str, str]) -> StoreLocation | None:
    """Where run pods archive to and read from, as their init and sidecar containers see it."""
    url = settings.artifacts_store
    if not url:
        return None
    claim = env.get(ARTIFACTS_CLAIM_ENV)
    secret = env.get(ARTIFACTS_SECRET_ENV)
    if "://" not in url:
        if not url.startswith("/"):
            raise MizzenError(f"MIZZEN_ARTIFACTS_STORE={url}: a path store must be absolute")
        if not claim:
            raise MizzenError(
                f"MIZZEN_ARTIFACTS_STORE={url} is a path: set {ARTIFACTS_CLAIM_ENV} to the "
                "PersistentVolumeClaim that holds it, so that run pods can mount it"
            )
        connection = ConnectionPlan.model_validate(
            {
                "name": STORE_CONNECTION,
                "kind": "volume_claim",
                "schema": {"volumeClaim": claim, "mountPath": url},
            }
        )
        return StoreLocation(url=url, connection=connection)
    scheme = url.split("://", 1)[0]
    kind = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "wasb", "abfs": "wasb"}.get(scheme)
    if kind is None:
        raise MizzenError(f"MIZZEN_ARTIFACTS_STORE={url}: run pods cannot use a '{scheme}://' store")
    connection = ConnectionPlan.model_validate(
        {
            "name": STORE_CONNECTION,
            "kind": kind,
            "schema": {"bucket": url},
            "secret": SecretRef(name=secret) if secret else None,
        }
    )
    return StoreLocation(url=url, connection=connection)


def render_options(settings: Settings, env: Mapping[str, str], namespace: str | None = None) -> RenderOptions:
    pull_secrets = [name.strip() for name in env.get(PULL_SECRETS_ENV, "").split(",") if name.strip()]
    return RenderOptions(
        init_image=settings.init_image,
        artifacts_store=artifacts_store(settings, env),
        namespace=namespace,
        service_account_name=env.get(SERVICE_ACCOUNT_ENV) or None,
        image_pull_secrets=pull_secrets,
    )
