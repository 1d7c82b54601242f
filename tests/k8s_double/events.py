"""core/v1 Events as controllers, the scheduler and the kubelet record them (repeats are counted)."""

from __future__ import annotations

import secrets

from .api import ObjectApi, copy_obj, now
from .store import Obj


class EventRecorder:
    def __init__(self, api: ObjectApi) -> None:
        self.api = api
        self._events = api.rtype("v1", "Event")

    def record(
        self,
        involved: Obj,
        event_type: str,
        reason: str,
        message: str,
        component: str,
        host: str | None = None,
    ) -> Obj:
        meta = involved["metadata"]
        namespace = meta.get("namespace") or "default"
        stamp = now()
        with self.api.store.transaction():
            for existing in self.api.list(self._events, namespace):
                ref = existing["involvedObject"]
                if (
                    ref.get("uid") == meta.get("uid")
                    and existing.get("reason") == reason
                    and existing.get("message") == message
                ):
                    updated = copy_obj(existing)
                    updated["count"] = existing.get("count", 1) + 1
                    updated["lastTimestamp"] = stamp
                    return self.api.write(self._events, updated)
            source: dict[str, str] = {"component": component}
            if host:
                source["host"] = host
            event = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": namespace},
                "involvedObject": {
                    "apiVersion": involved.get("apiVersion", "v1"),
                    "kind": involved.get("kind", ""),
                    "name": meta["name"],
                    "uid": meta.get("uid", ""),
                    "resourceVersion": meta.get("resourceVersion", ""),
                    **({"namespace": meta["namespace"]} if meta.get("namespace") else {}),
                },
                "reason": reason,
                "message": message,
                "type": event_type,
                "source": source,
                "firstTimestamp": stamp,
                "lastTimestamp": stamp,
                "count": 1,
                "reportingComponent": component,
                "reportingInstance": host or "",
            }
            return self.api.create(self._events, namespace, event)
