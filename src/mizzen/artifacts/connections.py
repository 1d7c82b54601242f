"""The artifacts store a connection (s3, gcs, wasb, host_path, volume_claim) points at."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mizzen.artifacts.store import ArtifactsStore, StoreError
from mizzen.compiler.plan import ConnectionPlan


def connection_store(connection: ConnectionPlan, env: Mapping[str, str]) -> ArtifactsStore:
    """The store a connection (s3, gcs, host_path, ...) points at, with its credentials from env."""
    schema = connection.schema_
    kind = connection.kind
    if kind in ("host_path", "volume_claim"):
        folder = schema.get("hostPath") or schema.get("host_path") or schema.get("mountPath")
        if not folder:
            raise StoreError(f"connection '{connection.name}' ({kind}) has no hostPath/mountPath")
        return ArtifactsStore(str(folder))
    bucket = str(schema.get("bucket") or "")
    if not bucket:
        raise StoreError(f"connection '{connection.name}' ({kind}) has no bucket in its schema")
    if kind == "s3":
        url = bucket if "://" in bucket else f"s3://{bucket}"
        return ArtifactsStore(url, s3_options(env, schema))
    if kind == "gcs":
        return ArtifactsStore(bucket if "://" in bucket else f"gs://{bucket}")
    if kind == "wasb":
        return ArtifactsStore(bucket if "://" in bucket else f"az://{bucket}")
    raise StoreError(f"connection '{connection.name}' of kind '{kind}' is not an artifacts store")


def s3_options(env: Mapping[str, str], schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """s3fs options from the AWS_* variables of a connection (never the caller's, implicitly)."""
    schema = schema or {}
    options: dict[str, Any] = {}
    if env.get("AWS_ACCESS_KEY_ID"):
        options["key"] = env["AWS_ACCESS_KEY_ID"]
        options["secret"] = env.get("AWS_SECRET_ACCESS_KEY", "")
    if env.get("AWS_SESSION_TOKEN"):
        options["token"] = env["AWS_SESSION_TOKEN"]
    endpoint = (
        env.get("AWS_ENDPOINT_URL_S3")
        or env.get("AWS_ENDPOINT_URL")
        or env.get("AWS_S3_ENDPOINT_URL")
        or schema.get("endpointUrl")
        or schema.get("endpoint_url")
    )
    if endpoint:
        options["endpoint_url"] = endpoint
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        options["client_kwargs"] = {"region_name": region}
    return options
