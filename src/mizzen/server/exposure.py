"""Who may reach a server: listening beyond loopback without a token needs an explicit ``--insecure``;
runs for a cluster may not ask for the host (hostPath, privileged, host namespaces) unless allowed."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from mizzen.errors import Forbidden, MizzenError

# Keys of a pod or container spec that reach into the node: refused unless MIZZEN_ALLOW_HOST_ACCESS.
HOST_KEYS = ("hostPath", "host_path")
HOST_FLAGS = ("privileged", "hostNetwork", "hostPID", "hostIPC", "host_network", "host_pid", "host_ipc")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def check_exposure(host: str, token: str | None, insecure: bool) -> None:
    """Refuse to serve every interface to anyone: a token (MIZZEN_TOKEN) or --insecure is needed."""
    if token or insecure or is_loopback(host):
        return
    raise MizzenError(
        f"refusing to listen on {host} without a token: anyone who reaches it could run anything. "
        "Set MIZZEN_TOKEN (clients send it as MIZZEN_TOKEN too), listen on 127.0.0.1, "
        "or pass --insecure if a proxy in front of it authenticates"
    )


def _host_access(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if (key in HOST_KEYS and item) or (key in HOST_FLAGS and item is True):
                yield where
            else:
                yield from _host_access(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _host_access(item, f"{path}[{index}]")


def check_host_access(fields: dict[str, Any], allowed: bool) -> None:
    """A run for a cluster asks for no hostPath volume, privileged container or host namespace, in
    its spec or its params (``fields``: request field -> value)."""
    if allowed:
        return
    found = next((hit for name, value in fields.items() for hit in _host_access(value, name)), None)
    if found is not None:
        raise Forbidden(
            f"{found}: runs may not use hostPath volumes, privileged containers or the node's "
            "namespaces on this server (its administrator can allow them: MIZZEN_ALLOW_HOST_ACCESS=true)"
        )
