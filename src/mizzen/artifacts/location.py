"""Where run pods find the artifacts store: what the Kubernetes renderer and the agent share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mizzen.compiler.plan import ConnectionPlan

# Inside a run's pods: the context volume, and the folder of artifacts in it.
POD_CONTEXT_PATH = "/mizzen/context"
POD_ARTIFACTS_PATH = f"{POD_CONTEXT_PATH}/artifacts"


class StoreLocation(BaseModel):
    """Where runs archive their outputs and logs.

    ``url`` is the store as init and sidecar containers address it: an fsspec URL (``s3://bucket/x``)
    or, for a volume store, the path where ``connection`` is mounted. ``connection`` carries the
    credentials (secret, env) of a bucket or the volume (``host_path``/``volume_claim``) of a mounted
    store.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    connection: ConnectionPlan | None = None
