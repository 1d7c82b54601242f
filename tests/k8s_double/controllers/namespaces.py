"""What every new namespace gets: the `default` ServiceAccount and the kube-root-ca.crt ConfigMap."""

from __future__ import annotations

from ..resources import ResourceType
from .base import ControllerContext

ROOT_CA = "-----BEGIN CERTIFICATE-----\nMIIBdouble\n-----END CERTIFICATE-----\n"


class NamespaceController:
    group = ""
    kinds: tuple[str, ...] = ("Namespace",)

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.sa_type = ctx.api.rtype("v1", "ServiceAccount")
        self.cm_type = ctx.api.rtype("v1", "ConfigMap")

    def reconcile(self, rtype: ResourceType, namespace: str, name: str) -> None:
        api = self.ctx.api
        ns = api.try_get(rtype, "", name)
        if ns is None or (ns.get("status") or {}).get("phase") == "Terminating":
            return
        if api.try_get(self.sa_type, name, "default") is None:
            api.create(self.sa_type, name, {"metadata": {"name": "default"}})
        if api.try_get(self.cm_type, name, "kube-root-ca.crt") is None:
            api.create(
                self.cm_type,
                name,
                {
                    "metadata": {
                        "name": "kube-root-ca.crt",
                        "annotations": {
                            "kubernetes.io/description": "Contains a CA bundle for the API server."
                        },
                    },
                    "data": {"ca.crt": ROOT_CA},
                },
            )
