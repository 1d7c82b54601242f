"""The sidecar's view of its own pod, through the Kubernetes API (plain HTTP: the sidecar needs two
reads, not the kubernetes client).

In a pod the API is ``https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`` with the service
account's token and CA; ``MIZZEN_KUBE_API`` (and ``MIZZEN_KUBE_TOKEN_FILE``) point elsewhere (a
proxy, a test API server). The pod is ``$MIZZEN_POD_NAME`` in ``$MIZZEN_NAMESPACE`` (downward API).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from mizzen.errors import MizzenError

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class PodApiError(MizzenError):
    """The pod's API could not answer (not in a pod, no permission, API down)."""


class PodApi:
    def __init__(self, base_url: str, namespace: str, pod: str, token: str | None, verify: Any) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.namespace = namespace
        self.pod = pod
        self._http = httpx.Client(base_url=base_url, headers=headers, verify=verify, timeout=10)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PodApi:
        base = env.get("MIZZEN_KUBE_API")
        if not base and env.get("KUBERNETES_SERVICE_HOST"):
            host = env["KUBERNETES_SERVICE_HOST"]
            host = f"[{host}]" if ":" in host else host
            base = f"https://{host}:{env.get('KUBERNETES_SERVICE_PORT', '443')}"
        if not base:
            raise PodApiError("not in a Kubernetes pod (no KUBERNETES_SERVICE_HOST) and no MIZZEN_KUBE_API")
        namespace = env.get("MIZZEN_NAMESPACE") or _read(SERVICE_ACCOUNT / "namespace")
        pod = env.get("MIZZEN_POD_NAME") or env.get("HOSTNAME")
        if not namespace or not pod:
            raise PodApiError("cannot tell which pod this is: set MIZZEN_POD_NAME and MIZZEN_NAMESPACE")
        token_file = env.get("MIZZEN_KUBE_TOKEN_FILE")
        token = _read(Path(token_file) if token_file else SERVICE_ACCOUNT / "token")
        ca = SERVICE_ACCOUNT / "ca.crt"
        verify: Any = str(ca) if base.startswith("https://") and ca.is_file() else True
        return cls(base, namespace, pod, token, verify)

    def _get(self, path: str, **params: Any) -> httpx.Response:
        url = f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}{path}"
        try:
            response = self._http.get(url, params=params or None)
        except httpx.HTTPError as error:
            raise PodApiError(f"cannot reach the Kubernetes API: {error}") from None
        if response.status_code >= 400:
            reason = "no permission" if response.status_code in (401, 403) else response.reason_phrase
            raise PodApiError(
                f"reading pod {self.namespace}/{self.pod}{path}: {response.status_code} {reason}"
            )
        return response

    def container_state(self, container: str) -> str | None:
        """``waiting``, ``running`` or ``terminated`` (None: the pod does not list the container yet)."""
        status = self._get("").json().get("status") or {}
        for entry in status.get("containerStatuses") or []:
            if entry.get("name") == container:
                state = entry.get("state") or {}
                for name in ("terminated", "running", "waiting"):
                    if name in state:
                        return name
        return None

    def container_log(self, container: str) -> str:
        return self._get("/log", container=container).text

    def close(self) -> None:
        self._http.close()


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None
