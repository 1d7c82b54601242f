"""The Kubernetes kinds Mizzen creates or watches, and the operators that serve the custom ones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mizzen.compiler.plan import RunKind
from mizzen.errors import ExecutorError


@dataclass(frozen=True)
class ResourceKind:
    api_version: str
    kind: str
    plural: str
    namespaced: bool = True
    custom: bool = False  # served by an operator's CRD, not by Kubernetes itself

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def snake(self) -> str:
        """``ConfigMap`` -> ``config_map``: how the core client names its methods."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.kind).lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"


POD = ResourceKind("v1", "Pod", "pods")
EVENT = ResourceKind("v1", "Event", "events")
SECRET = ResourceKind("v1", "Secret", "secrets")
SERVICE = ResourceKind("v1", "Service", "services")
CONFIG_MAP = ResourceKind("v1", "ConfigMap", "configmaps")
NODE = ResourceKind("v1", "Node", "nodes", namespaced=False)
JOB = ResourceKind("batch/v1", "Job", "jobs")
DEPLOYMENT = ResourceKind("apps/v1", "Deployment", "deployments")
CRD = ResourceKind("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False)
TFJOB = ResourceKind("kubeflow.org/v1", "TFJob", "tfjobs", custom=True)
PYTORCHJOB = ResourceKind("kubeflow.org/v1", "PyTorchJob", "pytorchjobs", custom=True)
MPIJOB = ResourceKind("kubeflow.org/v1", "MPIJob", "mpijobs", custom=True)
RAYCLUSTER = ResourceKind("ray.io/v1", "RayCluster", "rayclusters", custom=True)
RAYJOB = ResourceKind("ray.io/v1", "RayJob", "rayjobs", custom=True)
DASKCLUSTER = ResourceKind("kubernetes.dask.org/v1", "DaskCluster", "daskclusters", custom=True)
DASKJOB = ResourceKind("kubernetes.dask.org/v1", "DaskJob", "daskjobs", custom=True)

KINDS: dict[tuple[str, str], ResourceKind] = {
    (k.api_version, k.kind): k
    for k in (
        POD, EVENT, SECRET, SERVICE, CONFIG_MAP, NODE, JOB, DEPLOYMENT, CRD,
        TFJOB, PYTORCHJOB, MPIJOB, RAYCLUSTER, RAYJOB, DASKCLUSTER, DASKJOB,
    )
}  # fmt: skip

# The objects whose state is a run's state (the others, Secrets and Services, only serve them).
PRIMARY_KINDS = (JOB, DEPLOYMENT, TFJOB, PYTORCHJOB, MPIJOB, RAYCLUSTER, RAYJOB, DASKCLUSTER, DASKJOB)


def kind_of(obj: dict[str, Any]) -> ResourceKind:
    found = KINDS.get((str(obj.get("apiVersion")), str(obj.get("kind"))))
    if found is None:
        raise ExecutorError(f"Mizzen does not manage {obj.get('apiVersion')} {obj.get('kind')} objects")
    return found


@dataclass(frozen=True)
class Operator:
    name: str
    url: str
    kinds: tuple[ResourceKind, ...]


KUBEFLOW = Operator(
    "the Kubeflow training operator",
    "https://github.com/kubeflow/training-operator",
    (TFJOB, PYTORCHJOB, MPIJOB),
)
KUBERAY = Operator("the KubeRay operator", "https://github.com/ray-project/kuberay", (RAYCLUSTER, RAYJOB))
DASK = Operator(
    "the Dask Kubernetes operator", "https://kubernetes.dask.org/en/latest/operator_installation.html",
    (DASKCLUSTER, DASKJOB),
)  # fmt: skip
OPERATORS = (KUBEFLOW, KUBERAY, DASK)

# What each run kind may create: it needs the CRDs of the kinds it renders to.
RUN_KIND_RESOURCES: dict[RunKind, tuple[ResourceKind, ...]] = {
    RunKind.JOB: (JOB,),
    RunKind.NOTIFIER: (JOB,),
    RunKind.CLEANER: (JOB,),
    RunKind.SERVICE: (DEPLOYMENT,),
    RunKind.TFJOB: (TFJOB,),
    RunKind.PYTORCHJOB: (PYTORCHJOB,),
    RunKind.MPIJOB: (MPIJOB,),
    RunKind.RAYCLUSTER: (RAYCLUSTER, RAYJOB),
    RunKind.DASKCLUSTER: (DASKCLUSTER, DASKJOB),
}


def operator_of(kind: ResourceKind) -> Operator | None:
    return next((operator for operator in OPERATORS if kind in operator.kinds), None)


class OperatorMissing(ExecutorError):
    """A run needs a custom resource whose operator is not installed in the cluster."""


def missing_operator_message(run_kind: str, kind: ResourceKind) -> str:
    operator = operator_of(kind)
    where = (
        f"{operator.name} (CRD {kind.crd_name}); install it: {operator.url}" if operator else kind.crd_name
    )
    return f"{run_kind} needs {where}"
