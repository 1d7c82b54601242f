"""What the Kubernetes renderer needs to know besides the Plan: cluster-side settings of the agent."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mizzen.artifacts.location import StoreLocation
from mizzen.compiler.plan import Resources


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _default_init_resources() -> Resources:
    return Resources(requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "512Mi"})


class RenderOptions(_Options):
    init_image: str = "mizzen/mizzen:0.1.0"
    init_image_pull_policy: str | None = "IfNotPresent"
    sidecar_image: str | None = None  # default: init_image
    init_resources: Resources = Field(default_factory=_default_init_resources)
    sidecar_resources: Resources = Field(default_factory=_default_init_resources)
    api_host: str | None = None  # default: the RuntimeContext's api_host
    # A Secret holding the run's API token under ``token_secret_key``; MIZZEN_TOKEN reads it.
    token_secret: str | None = None
    token_secret_key: str = "token"
    namespace: str | None = None  # default: the Plan's namespace, then the RuntimeContext's
    artifacts_store: StoreLocation | None = None
    poll_interval: int = Field(10, ge=1)  # seconds between two sidecar syncs
    # Kubernetes >= 1.29: the sidecar is an init container with restartPolicy Always, stopped by the
    # kubelet when the main containers finish. Off (or for pod specs that cannot express it, such as
    # Dask's): a plain container that exits when it sees the main container terminate.
    native_sidecars: bool = True
    service_account_name: str | None = None  # default for runs whose environment names none
    image_pull_secrets: list[str] = Field(default_factory=list)  # added to every pod
    extra_labels: dict[str, str] = Field(default_factory=dict)  # added to every object and pod
