"""Plan -> Kubernetes manifests: one renderer per run kind, all sharing the pod pieces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mizzen.compiler.plan import Plan, RunKind, RuntimeContext
from mizzen.errors import ExecutorError
from mizzen.render.k8s.dask import render_dask
from mizzen.render.k8s.job import render_job
from mizzen.render.k8s.kubeflow import render_kubeflow
from mizzen.render.k8s.options import RenderOptions
from mizzen.render.k8s.pod import RunRender
from mizzen.render.k8s.ray import render_ray
from mizzen.render.k8s.service import render_service

Renderer = Callable[[RunRender], list[dict[str, Any]]]

RENDERERS: dict[RunKind, Renderer] = {
    RunKind.JOB: render_job,
    RunKind.NOTIFIER: render_job,
    RunKind.CLEANER: render_job,
    RunKind.SERVICE: render_service,
    RunKind.TFJOB: render_kubeflow,
    RunKind.PYTORCHJOB: render_kubeflow,
    RunKind.MPIJOB: render_kubeflow,
    RunKind.RAYCLUSTER: render_ray,
    RunKind.DASKCLUSTER: render_dask,
}
# Expanded by the scheduler into runs of the kinds above; never rendered themselves.
EXPANDED_KINDS = frozenset({RunKind.DAG, RunKind.TUNER})


def render_plan(
    plan: Plan, context: RuntimeContext, options: RenderOptions | None = None
) -> list[dict[str, Any]]:
    """The Kubernetes objects that run ``plan``, in the order to create them. Pure: no I/O."""
    renderer = RENDERERS.get(plan.kind)
    if renderer is None:
        if plan.kind in EXPANDED_KINDS:
            raise ExecutorError(
                f"a {plan.kind.value} run is not rendered itself: the scheduler expands it into "
                "runs of other kinds, which are"
            )
        raise ExecutorError(f"run kind '{plan.kind.value}' cannot run on Kubernetes")
    if not plan.replicas:
        raise ExecutorError(f"the {plan.kind.value} run has nothing to run (no container in its plan)")
    objects = renderer(RunRender.create(plan, context, options or RenderOptions()))
    return [_fresh(obj) for obj in objects]


def _fresh(value: Any) -> Any:
    """A copy that shares nothing, not even within itself (deepcopy would keep shared references):
    no dict is both in two containers, or in the output and in the Plan."""
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    return value
