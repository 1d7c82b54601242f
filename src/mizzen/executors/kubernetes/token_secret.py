"""The server's API token as a Secret, made once per installation (the deployment's token Job)."""

from __future__ import annotations

import secrets

from mizzen.executors.kubernetes.adapter import KubeAdapter

TOKEN_KEY = "token"


def ensure_token_secret(adapter: KubeAdapter, namespace: str, name: str) -> bool:
    """Create Secret ``name`` with a new random token under ``token`` unless it exists (an existing
    token is never replaced: clients hold it). True when it was created."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "mizzen"}},
        "stringData": {TOKEN_KEY: secrets.token_urlsafe(32)},
    }
    _existing, created = adapter.create(secret)
    return created
