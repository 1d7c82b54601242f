"""K8sDouble: the in-process Kubernetes API server and its test-control API."""

from __future__ import annotations

import builtins
import collections
from pathlib import Path
from typing import Any

import yaml
from kubernetes_validate import utils as kv_utils

from . import admission
from .api import ObjectApi, copy_obj
from .bootstrap import bootstrap, install_crd_file, node_manifest
from .controllers.base import ControllerContext, ControllerManager
from .controllers.crds import CrdController
from .controllers.dask import DaskController
from .controllers.deployments import DeploymentController, ReplicaSetController
from .controllers.jobs import JobController
from .controllers.kubeflow import KubeflowController
from .controllers.namespaces import NamespaceController
from .controllers.ray import RayController
from .crds import default_crd_files
from .events import EventRecorder
from .faults import FaultRule, Faults
from .gc import DeleteOptions, Deleter
from .http_app import HttpApp
from .logs import LogStore
from .pods import Kubelet
from .resources import Registry
from .scenarios import Scenarios
from .server import ServerThread
from .store import Change, Obj, Store
from .validation import SchemaChecker
from .watch import WatchHub

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


class K8sDouble:
    """An API server the official client and kubectl talk to, plus controls a test drives it with.

    Start it with `start()` (or use it as a context manager); `url` and `write_kubeconfig()` tell
    clients where it is. Objects returned by the control methods are copies.
    """

    def __init__(
        self,
        *,
        kube_version: str | None = None,
        crd_files: builtins.list[Path] | None = None,
        nodes: int = 5,
        history_window: int = 10_000,
    ) -> None:
        # the newest Kubernetes version kubernetes-validate has schemas for, as the renderer's checks use
        self.kube_version = kube_version or kv_utils.major_minor(kv_utils.latest_version())
        self.registry = Registry()
        self.store = Store(history_window)
        self.api = ObjectApi(self.store, self.registry, SchemaChecker(self.kube_version))
        self.store.on_commit(self._sync_crds)
        admission.install(self.api)
        self.deleter = Deleter(self.api)
        self.events = EventRecorder(self.api)
        self.logs = LogStore(self.api)
        self.kubelet = Kubelet(self.api, self.logs, self.events)
        self.scenarios = Scenarios(self.kubelet)
        self.faults = Faults()
        self.watches = WatchHub(self.api)
        self.requests: collections.deque[tuple[str, str]] = collections.deque(maxlen=2000)
        ctx = ControllerContext(self.api, self.deleter, self.events)
        self.controllers = ControllerManager(ctx)
        for controller in (
            NamespaceController(ctx),
            CrdController(ctx),
            JobController(ctx),
            ReplicaSetController(ctx),
            DeploymentController(ctx),
            KubeflowController(ctx),
            RayController(ctx),
            DaskController(ctx),
        ):
            self.controllers.register(controller)
        bootstrap(self.api, default_crd_files() if crd_files is None else crd_files, nodes)
        self._http = HttpApp(self)
        self._server: ServerThread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> K8sDouble:
        self._server = ServerThread(self._http.app)
        self._server.start()
        return self

    def stop(self, wait: bool = True) -> None:
        """End open watches and log streams and shut the server down (wait=False: do not wait for
        its thread to finish; the port is released a moment later)."""
        self.watches.stop_all()
        self.logs.stop_all()
        if self._server is not None:
            self._server.stop(wait)
            self._server = None

    def __enter__(self) -> K8sDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        if self._server is None:
            return "127.0.0.1:0"
        return f"127.0.0.1:{self._server.port}"

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the double is not started")
        return f"http://{self.address}"

    def write_kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "k8s-double", "cluster": {"server": self.url}}],
            "users": [{"name": "k8s-double", "user": {"token": "k8s-double-token"}}],
            "contexts": [
                {
                    "name": "k8s-double",
                    "context": {"cluster": "k8s-double", "user": "k8s-double", "namespace": namespace},
                }
            ],
            "current-context": "k8s-double",
            "preferences": {},
        }
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def api_client(self) -> Any:
        """An official-client ApiClient pointed at the double (imported lazily)."""
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)

    # -- objects ----------------------------------------------------------------------------
    def create(self, obj: Obj, namespace: str | None = None) -> Obj:
        rtype = self.api.rtype(obj["apiVersion"], obj["kind"])
        ns = namespace or obj.get("metadata", {}).get("namespace") or ("default" if rtype.namespaced else "")
        with self.store.transaction():
            created = self.api.create(rtype, ns, obj)
        return copy_obj(created)

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> Obj | None:
        found = self.api.try_get(self.api.rtype(api_version, kind), namespace, name)
        return None if found is None else copy_obj(found)

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> builtins.list[Obj]:
        rtype = self.api.rtype(api_version, kind)
        return copy_obj(self.api.list(rtype, namespace, label_selector))

    def delete(
        self, api_version: str, kind: str, name: str, namespace: str = "", policy: str | None = None
    ) -> None:
        rtype = self.api.rtype(api_version, kind)
        with self.store.transaction():
            self.deleter.delete(rtype, namespace, name, DeleteOptions(policy))

    def create_namespace(self, name: str) -> Obj:
        return self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def add_node(
        self,
        name: str,
        *,
        cpu: str = "8",
        memory: str = "32Gi",
        gpus: int = 0,
        labels: dict[str, str] | None = None,
        taints: builtins.list[dict[str, Any]] | None = None,
    ) -> Obj:
        index = len(self.list("v1", "Node")) + 1
        node = node_manifest(
            name, index=index, cpu=cpu, memory=memory, gpus=gpus, labels=labels, taints=taints
        )
        with self.store.transaction():
            created = self.api.create(self.api.rtype("v1", "Node"), "", node, keep_status=True)
        return copy_obj(created)

    def pods_of(self, namespace: str, kind: str, name: str) -> builtins.list[Obj]:
        """Pods controlled by the named object (through ReplicaSets and Jobs as well), by name."""
        owners = {(kind, name)}
        found = []
        for rtype_kind in ("ReplicaSet", "Job"):
            for obj in self.api.list(
                self.api.rtype("apps/v1" if rtype_kind == "ReplicaSet" else "batch/v1", rtype_kind), namespace
            ):
                if any(
                    (r["kind"], r["name"]) in owners for r in obj["metadata"].get("ownerReferences") or []
                ):
                    owners.add((rtype_kind, obj["metadata"]["name"]))
        for pod in self.api.list(self.kubelet.pod_type, namespace):
            if any((r["kind"], r["name"]) in owners for r in pod["metadata"].get("ownerReferences") or []):
                found.append(copy_obj(pod))
        return sorted(found, key=lambda p: p["metadata"]["name"])

    def events_for(self, namespace: str, kind: str, name: str) -> builtins.list[Obj]:
        """Events about one object, oldest first."""
        found = [
            copy_obj(e)
            for e in self.api.list(self.api.rtype("v1", "Event"), namespace)
            if e["involvedObject"].get("kind") == kind and e["involvedObject"].get("name") == name
        ]
        return sorted(found, key=lambda e: int(e["metadata"]["resourceVersion"]))

    def check_all_objects(self) -> builtins.list[str]:
        """Re-run the schema check on every stored object; returns the failures (empty when all pass)."""
        failures = []
        with self.store.lock:
            for key in self.store.stored_keys():
                rtype = self.registry.storage_type(*key)
                if rtype is None:
                    failures.append(f"{key}: objects stored for an unknown type")
                    continue
                if rtype.kind == "CustomResourceDefinition":
                    continue  # the vendored CRDs were checked when loaded
                for obj in self.store.objects(key):
                    causes = self.api.checker.check(obj, rtype)
                    failures += [
                        f"{rtype.kind} {obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}: "
                        f"{c.field}: {c.message}"
                        for c in causes
                    ]
        return failures

    # -- pods -------------------------------------------------------------------------------
    def schedule_pod(self, namespace: str, name: str, node: str | None = None) -> Obj:
        return copy_obj(self.kubelet.schedule(namespace, name, node))

    def set_pod_phase(self, namespace: str, name: str, phase: str, **kwargs: Any) -> Obj:
        """Pending, Running, Succeeded, Failed (exit_code=, reason=, message=) or Unknown."""
        return copy_obj(self.kubelet.set_phase(namespace, name, phase, **kwargs))

    def set_pods_phase(
        self, namespace: str, kind: str, name: str, phase: str, **kwargs: Any
    ) -> builtins.list[Obj]:
        """Move every (not yet finished) pod the named object controls to `phase`."""
        moved = []
        for pod in self.pods_of(namespace, kind, name):
            if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                moved.append(self.set_pod_phase(namespace, pod["metadata"]["name"], phase, **kwargs))
        return moved

    def append_log(
        self, namespace: str, pod: str, container: str | None, text: str, *, same_write: bool = False
    ) -> None:
        """Lines written at once share one timestamp; ``same_write``: more lines of the last write."""
        obj = self.kubelet.pod(namespace, pod)
        self.logs.append(obj, container or obj["spec"]["containers"][0]["name"], text, same_write=same_write)

    def make_unschedulable(self, namespace: str, pod: str, resource: str = "nvidia.com/gpu") -> Obj:
        return copy_obj(self.scenarios.unschedulable(namespace, pod, resource))

    def image_pull_backoff(self, namespace: str, pod: str, container: str | None = None) -> Obj:
        return copy_obj(self.scenarios.image_pull_backoff(namespace, pod, container))

    def crash_loop_backoff(
        self, namespace: str, pod: str, container: str | None = None, restarts: int = 3
    ) -> Obj:
        return copy_obj(self.scenarios.crash_loop_backoff(namespace, pod, container, restarts))

    def oom_kill(self, namespace: str, pod: str, container: str | None = None) -> Obj:
        return copy_obj(self.scenarios.oom_killed(namespace, pod, container))

    def evict(self, namespace: str, pod: str) -> Obj:
        return copy_obj(self.scenarios.evicted(namespace, pod))

    def lose_node(self, namespace: str, pod: str, evict: bool = True) -> Obj | None:
        result = self.scenarios.node_lost(namespace, pod, evict)
        return None if result is None else copy_obj(result)

    def hold_pod_termination(self, hold: bool = True) -> None:
        """With hold=True, deleted running pods stay Terminating until finish_pod_termination()."""
        self.deleter.on_pod_terminating = (lambda pod: None) if hold else self.deleter.finish_pod_termination

    def finish_pod_termination(self, namespace: str, name: str) -> None:
        pod = self.kubelet.pod(namespace, name)
        with self.store.transaction():
            self.deleter.finish_pod_termination(pod)

    # -- CRDs, watches, faults --------------------------------------------------------------
    def install_crd(self, path: Path) -> Obj:
        with self.store.transaction():
            return copy_obj({k: v for k, v in install_crd_file(self.api, path).items() if k != "spec"})

    def remove_crd(self, name: str) -> None:
        """Simulate a missing operator: the CRD and its objects go away."""
        self.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)

    def crd_names(self) -> builtins.list[str]:
        return [obj["metadata"]["name"] for obj in self.store.objects(CRD_KEY)]

    def expire_watch_history(self) -> None:
        """Compact: every resourceVersion seen so far is too old to watch from (410 Gone)."""
        self.store.compact()

    def set_watch_window(self, changes: int) -> None:
        self.store.set_history_window(changes)

    def drop_watches(self, mode: str = "reset") -> int:
        """Cut every open watch: mode "reset" breaks the connection, "close" ends it cleanly."""
        return self.watches.drop_all(mode)

    def drop_next_watch(self, after_events: int = 0, mode: str = "reset") -> None:
        self.watches.plan_drop(after_events, mode)

    def wait_for_watches(self, count: int = 1, timeout: float = 30.0) -> None:
        """Block until `count` watch requests are open and registered (so no change can be missed)."""
        self.watches.wait_for_watches(count, timeout)

    def patch(self, api_version: str, kind: str, name: str, patch: Any, namespace: str = "") -> Obj:
        """A JSON merge patch, as a client would send it."""
        rtype = self.api.rtype(api_version, kind)
        obj, _ = self.api.patch(rtype, namespace, name, patch, "application/merge-patch+json")
        return copy_obj(obj)

    def send_bookmarks(self) -> int:
        return self.watches.send_bookmarks()

    def inject_fault(
        self,
        status: int,
        *,
        count: int = 1,
        method: str | None = None,
        path: str | None = None,
        watch: bool | None = None,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> FaultRule:
        """Answer the next `count` requests matching method / path regex / watch-or-not with `status`
        (429 carries Retry-After, 1 s unless given). The returned rule counts its `hits`."""
        return self.faults.inject(
            status,
            count=count,
            method=method,
            path=path,
            watch=watch,
            retry_after=retry_after,
            message=message,
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    # -- internals --------------------------------------------------------------------------
    def _sync_crds(self, change: Change) -> None:
        if change.key != CRD_KEY:
            return
        if change.type == "DELETED":
            self.registry.remove_crd(change.name)
        else:
            self.registry.set_crd(change.obj)
