"""The apiextensions controller's part: a new CRD gets its accepted names and Established condition."""

from __future__ import annotations

from ..crds import stored_form
from ..resources import ResourceType
from .base import ControllerContext


class CrdController:
    group = "apiextensions.k8s.io"
    kinds: tuple[str, ...] = ("CustomResourceDefinition",)

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx

    def reconcile(self, rtype: ResourceType, namespace: str, name: str) -> None:
        crd = self.ctx.api.try_get(rtype, "", name)
        if crd is None or crd["metadata"].get("deletionTimestamp"):
            return
        wanted = stored_form(crd)["status"]
        current = crd.get("status") or {}
        if current.get("acceptedNames") != wanted["acceptedNames"] or not current.get("conditions"):
            self.ctx.update_status(rtype, crd, {**current, **wanted})
