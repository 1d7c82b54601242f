"""Labels and annotations that tie every object and pod to its run, project and owner."""

from __future__ import annotations

from typing import Any

from mizzen.compiler.plan import EnvironmentPlan, Plan, RuntimeContext
from mizzen.render.k8s.names import label_value, short_uuid
from mizzen.render.k8s.options import RenderOptions
from mizzen.runtime_env import run_instance

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "mizzen"
RUN_UUID = "mizzen.dev/run-uuid"
PROJECT = "mizzen.dev/project"
OWNER = "mizzen.dev/owner"
RUN_NAME = "mizzen.dev/run-name"
KIND = "mizzen.dev/kind"
ROLE = "mizzen.dev/role"
GROUP = "mizzen.dev/group"
RUN_INSTANCE = "mizzen.dev/run-instance"  # annotation: owner.project.runs.uuid


def run_uuid_label(uuid: str) -> str:
    """The ``mizzen.dev/run-uuid`` label value of a run's objects and pods."""
    return short_uuid(uuid, 32)


def identity_labels(plan: Plan, context: RuntimeContext, options: RenderOptions) -> dict[str, str]:
    """Labels the agent selects on; values are shortened to valid label values when needed."""
    labels = dict(options.extra_labels)
    labels.update(
        {
            MANAGED_BY: MANAGED_BY_VALUE,
            RUN_UUID: run_uuid_label(context.uuid),
            PROJECT: label_value(context.project_name),
            OWNER: label_value(context.owner_name),
            KIND: plan.kind.value,
        }
    )
    run_name = context.name or plan.name
    if run_name:
        labels[RUN_NAME] = label_value(run_name)
    return labels


def identity_annotations(plan: Plan, context: RuntimeContext) -> dict[str, str]:
    """The unshortened identity, for people and tools reading the objects."""
    annotations = {
        PROJECT: context.project_name,
        OWNER: context.owner_name,
        RUN_INSTANCE: run_instance(context),
    }
    run_name = context.name or plan.name
    if run_name:
        annotations[RUN_NAME] = run_name
    return annotations


def role_labels(role: str, group: str | None = None) -> dict[str, str]:
    labels = {ROLE: label_value(role)}
    if group:
        labels[GROUP] = label_value(group)
    return labels


def object_metadata(
    name: str,
    namespace: str,
    labels: dict[str, str],
    annotations: dict[str, str],
) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations}


def pod_metadata(
    identity: dict[str, str],
    annotations: dict[str, str],
    environment: EnvironmentPlan,
    role: str,
    group: str | None = None,
) -> dict[str, Any]:
    """Pod template metadata: the user's labels/annotations, then ours (ours win on a clash)."""
    labels = {**environment.labels, **identity, **role_labels(role, group)}
    return {"labels": labels, "annotations": {**environment.annotations, **annotations}}
