"""Every run kind renders to the objects its controller expects, and every object validates."""

from __future__ import annotations

from typing import Any

import k8s_plans
import pytest
from k8s_plans import context, plan, replica

from k8s_schema import assert_valid
from mizzen.compiler.plan import DistributedPlan, EnvironmentPlan, RunKind, TerminationPlan
from mizzen.errors import ExecutorError
from mizzen.render.k8s import RENDERERS, RenderOptions, render_plan
from mizzen.render.k8s.render import EXPANDED_KINDS


def render(p: Any, options: RenderOptions | None = None) -> list[dict[str, Any]]:
    return render_plan(p, context(), options or RenderOptions())


def containers(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in template["spec"]["containers"]}


@pytest.mark.parametrize("options_name", sorted(k8s_plans.ALL_OPTIONS))
@pytest.mark.parametrize("plan_name", sorted(k8s_plans.ALL_PLANS))
def test_every_kind_and_option_renders_objects_that_validate(plan_name: str, options_name: str) -> None:
    objects = render(k8s_plans.ALL_PLANS[plan_name](), k8s_plans.ALL_OPTIONS[options_name]())
    assert objects
    assert_valid(objects)


def test_every_run_kind_has_a_renderer_or_is_expanded_by_the_scheduler() -> None:
    assert set(RunKind) == set(RENDERERS) | EXPANDED_KINDS


@pytest.mark.parametrize("kind", sorted(EXPANDED_KINDS))
def test_dags_and_tuners_are_not_rendered_themselves(kind: RunKind) -> None:
    with pytest.raises(ExecutorError, match="scheduler expands it"):
        render(plan(kind))


def test_rendering_is_pure_and_deterministic() -> None:
    p = k8s_plans.full_job()
    before = p.model_dump()
    first, second = render(p), render(p)
    assert first == second
    first[0]["spec"]["podFailurePolicy"]["rules"].clear()
    assert p.model_dump() == before  # the output shares nothing with the Plan


def test_names_are_unique_per_run_and_stable() -> None:
    a = render_plan(plan(), context(uuid="1" * 32))[0]["metadata"]["name"]
    b = render_plan(plan(), context(uuid="2" * 32))[0]["metadata"]["name"]
    assert a == "mzn-job-111111111111" and b == "mzn-job-222222222222"


# -- job ------------------------------------------------------------------------------------------


def test_job_maps_termination_to_job_fields() -> None:
    (job,) = render(k8s_plans.full_job())
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    spec = job["spec"]
    assert spec["backoffLimit"] == 3
    assert spec["activeDeadlineSeconds"] == 3600
    assert spec["ttlSecondsAfterFinished"] == 600
    assert spec["podFailurePolicy"]["rules"][0]["action"] == "FailJob"
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert job["metadata"]["namespace"] == "ml"


def test_job_defaults_to_no_retry_and_no_deadline() -> None:
    (job,) = render(plan())
    assert job["spec"]["backoffLimit"] == 0
    assert "activeDeadlineSeconds" not in job["spec"] and "ttlSecondsAfterFinished" not in job["spec"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_job_keeps_an_on_failure_restart_policy() -> None:
    p = plan()
    p.main.pod.environment = EnvironmentPlan(restart_policy="OnFailure")
    (job,) = render(p)
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    assert_valid(job)


def test_pod_failure_policy_with_on_failure_is_refused_with_the_reason() -> None:
    p = plan(termination=TerminationPlan(pod_failure_policy={"rules": []}))
    p.main.pod.environment = EnvironmentPlan(restart_policy="OnFailure")
    with pytest.raises(ExecutorError, match=r"podFailurePolicy needs environment\.restartPolicy Never"):
        render(p)


def test_job_refuses_restart_policy_always() -> None:
    p = plan()
    p.main.pod.environment = EnvironmentPlan(restart_policy="Always")
    with pytest.raises(ExecutorError, match="not allowed for a job"):
        render(p)


@pytest.mark.parametrize("kind", [RunKind.NOTIFIER, RunKind.CLEANER])
def test_notifiers_and_cleaners_run_as_jobs(kind: RunKind) -> None:
    (job,) = render(plan(kind))
    assert job["kind"] == "Job" and job["metadata"]["name"].startswith(f"mzn-{kind.value}-")
    assert_valid(job)


# -- service --------------------------------------------------------------------------------------


def test_service_renders_a_deployment_and_a_service_on_its_ports() -> None:
    deployment, service = render(k8s_plans.service())
    assert (deployment["kind"], service["kind"]) == ("Deployment", "Service")
    assert deployment["spec"]["replicas"] == 2
    template = deployment["spec"]["template"]
    assert template["spec"]["restartPolicy"] == "Always"
    labels = template["metadata"]["labels"]
    assert all(labels[k] == v for k, v in deployment["spec"]["selector"]["matchLabels"].items())
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(8888, 8888), (6006, 6006)]
    main_ports = {p["containerPort"] for p in template["spec"]["containers"][0]["ports"]}
    assert main_ports == {8888, 6006}
    assert service["metadata"]["annotations"]["mizzen.dev/external"] == "true"
    assert service["metadata"]["annotations"]["mizzen.dev/rewrite-path"] == "true"


def test_service_without_ports_is_a_deployment_alone() -> None:
    (deployment,) = render(plan(RunKind.SERVICE))
    assert deployment["kind"] == "Deployment" and deployment["spec"]["replicas"] == 1
    assert_valid(deployment)


def test_service_refuses_a_restart_policy_other_than_always() -> None:
    p = plan(RunKind.SERVICE)
    p.main.pod.environment = EnvironmentPlan(restart_policy="Never")
    with pytest.raises(ExecutorError, match="always restart"):
        render(p)


# -- kubeflow -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan_name", "resource", "field", "container", "types"),
    [
        ("tfjob", "TFJob", "tfReplicaSpecs", "tensorflow", {"Chief", "PS", "Worker", "Evaluator"}),
        ("pytorchjob", "PyTorchJob", "pytorchReplicaSpecs", "pytorch", {"Master", "Worker"}),
        ("mpijob", "MPIJob", "mpiReplicaSpecs", "mpi", {"Launcher", "Worker"}),
    ],
)
def test_kubeflow_jobs_have_replica_specs_and_the_operators_container_name(
    plan_name: str, resource: str, field: str, container: str, types: set[str]
) -> None:
    (obj,) = render(k8s_plans.ALL_PLANS[plan_name]())
    assert (obj["apiVersion"], obj["kind"]) == ("kubeflow.org/v1", resource)
    specs = obj["spec"][field]
    assert set(specs) == types
    for replica_type, spec in specs.items():
        assert spec["template"]["spec"]["containers"][0]["name"] == container, replica_type
        assert "restartPolicy" not in spec["template"]["spec"]  # the operator sets it
        assert spec["restartPolicy"] == "OnFailure"  # retries were asked for
    run_policy = obj["spec"]["runPolicy"]
    assert run_policy["backoffLimit"] == 2
    assert run_policy["activeDeadlineSeconds"] == 7200
    assert run_policy["ttlSecondsAfterFinished"] == 300


def test_tfjob_options() -> None:
    (obj,) = render(k8s_plans.tfjob())
    assert obj["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] == 4
    assert obj["spec"]["successPolicy"] == "AllWorkers"
    assert obj["spec"]["runPolicy"]["cleanPodPolicy"] == "Running"
    # snake_case options from a polyaxonfile are written the way the CRD spells them
    assert obj["spec"]["runPolicy"]["schedulingPolicy"] == {"minAvailable": 8, "queue": "research"}


def test_pytorchjob_options() -> None:
    (obj,) = render(k8s_plans.pytorchjob())
    spec = obj["spec"]
    assert spec["nprocPerNode"] == "2"
    assert spec["elasticPolicy"] == {
        "minReplicas": 1,
        "maxReplicas": 4,
        "rdzvBackend": "c10d",
        "maxRestarts": 3,
    }
    assert spec["runPolicy"]["cleanPodPolicy"] == "All"
    assert spec["runPolicy"]["schedulingPolicy"]["scheduleTimeoutSeconds"] == 600
    gpu = spec["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["resources"]
    assert gpu["limits"]["nvidia.com/gpu"] == "2"


def test_mpijob_options() -> None:
    (obj,) = render(k8s_plans.mpijob())
    assert obj["spec"]["slotsPerWorker"] == 2
    assert obj["metadata"]["annotations"]["mizzen.dev/mpi-implementation"] == "openmpi"


def test_kubeflow_replica_without_retries_never_restarts() -> None:
    p = k8s_plans.pytorchjob()
    p.termination = TerminationPlan()
    (obj,) = render(p)
    assert {s["restartPolicy"] for s in obj["spec"]["pytorchReplicaSpecs"].values()} == {"Never"}
    assert obj["spec"]["runPolicy"] == {
        "backoffLimit": 0,
        "cleanPodPolicy": "All",
        "schedulingPolicy": obj["spec"]["runPolicy"]["schedulingPolicy"],
    }


def test_kubeflow_refuses_an_unknown_role() -> None:
    p = plan(RunKind.PYTORCHJOB, [replica("chief")])
    with pytest.raises(ExecutorError, match="a pytorchjob has no role 'chief': use master, worker"):
        render(p)


# -- ray ------------------------------------------------------------------------------------------


def test_raycluster_has_a_head_and_worker_groups() -> None:
    (obj,) = render(k8s_plans.raycluster())
    assert (obj["apiVersion"], obj["kind"]) == ("ray.io/v1", "RayCluster")
    spec = obj["spec"]
    assert spec["rayVersion"] == "2.9.0"
    head = spec["headGroupSpec"]
    assert head["rayStartParams"] == {"dashboard-host": "0.0.0.0", "num-cpus": "0"}
    assert head["template"]["spec"]["containers"][0]["name"] == "ray-head"
    small, gpu = spec["workerGroupSpecs"]
    assert (small["groupName"], small["replicas"], small["minReplicas"], small["maxReplicas"]) == (
        "small-group",
        2,
        1,
        5,
    )
    assert small["rayStartParams"] == {"num-cpus": "4"}
    assert (gpu["groupName"], gpu["minReplicas"], gpu["maxReplicas"]) == ("gpu-group", 1, 1)
    assert gpu["template"]["spec"]["containers"][0]["name"] == "ray-worker"
    assert gpu["template"]["metadata"]["labels"]["mizzen.dev/group"] == "gpu-group"


def test_raycluster_with_an_entrypoint_is_a_rayjob_embedding_the_cluster() -> None:
    (obj,) = render(k8s_plans.ALL_PLANS["rayjob"]())
    assert obj["kind"] == "RayJob"
    spec = obj["spec"]
    assert spec["entrypoint"].startswith("python -c")
    assert "requests==2.31.0" in spec["runtimeEnvYAML"]
    assert spec["metadata"] == {"owner": "acme"}
    assert spec["shutdownAfterJobFinishes"] is True
    assert (spec["ttlSecondsAfterFinished"], spec["activeDeadlineSeconds"], spec["backoffLimit"]) == (
        120,
        1800,
        1,
    )
    assert spec["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["name"] == "ray-head"


def test_ray_cluster_needs_one_head() -> None:
    with pytest.raises(ExecutorError, match="exactly one head"):
        render(plan(RunKind.RAYCLUSTER, [replica("worker")]))


def test_ray_worker_group_bounds_are_checked() -> None:
    p = plan(RunKind.RAYCLUSTER, [replica("head"), replica("worker", min_replicas=3, max_replicas=2)])
    with pytest.raises(ExecutorError, match=r"minReplicas \(3\) is above maxReplicas \(2\)"):
        render(p)


# -- dask -----------------------------------------------------------------------------------------


def test_daskcluster_scheduler_service_selects_the_cluster_by_name() -> None:
    (obj,) = render(k8s_plans.daskcluster())
    assert (obj["apiVersion"], obj["kind"]) == ("kubernetes.dask.org/v1", "DaskCluster")
    scheduler = obj["spec"]["scheduler"]
    assert scheduler["service"]["selector"] == {
        "dask.org/cluster-name": obj["metadata"]["name"],
        "dask.org/component": "scheduler",
    }
    ports = {p["name"]: p["containerPort"] for p in scheduler["spec"]["containers"][0]["ports"]}
    assert ports == {"tcp-comm": 8786, "http-dashboard": 8787}
    assert [p["targetPort"] for p in scheduler["service"]["ports"]] == ["tcp-comm", "http-dashboard"]
    assert obj["spec"]["worker"]["replicas"] == 3
    assert obj["spec"]["worker"]["spec"]["containers"][0]["name"] == "worker"


def test_daskcluster_with_a_job_role_is_a_daskjob() -> None:
    (obj,) = render(k8s_plans.ALL_PLANS["daskjob"]())
    assert obj["kind"] == "DaskJob"
    job = obj["spec"]["job"]["spec"]
    assert job["containers"][0]["name"] == "job" and job["restartPolicy"] == "Never"
    cluster = obj["spec"]["cluster"]["spec"]
    assert cluster["scheduler"]["service"]["selector"]["dask.org/cluster-name"] == obj["metadata"]["name"]


def test_dask_pods_carry_the_sidecar_as_a_plain_container_that_waits_for_main() -> None:
    (obj,) = render(k8s_plans.daskcluster())
    spec = obj["spec"]["worker"]["spec"]
    assert "initContainers" not in spec  # the Dask CRD's PodSpec has no native sidecars
    sidecar = containers({"spec": spec})["mizzen-sidecar"]
    assert "--wait-main" in sidecar["args"] and "restartPolicy" not in sidecar


def test_dask_needs_a_scheduler_and_workers() -> None:
    with pytest.raises(ExecutorError, match="needs a scheduler"):
        render(plan(RunKind.DASKCLUSTER, [replica("worker")]))


def test_distributed_plan_options_ignored_by_other_kinds_do_not_leak() -> None:
    p = plan(distributed=DistributedPlan(slots_per_worker=3))
    (job,) = render(p)
    assert "slotsPerWorker" not in str(job)
