"""The pod pieces every kind shares: init containers, sidecar, volumes, env, resources, settings."""

from __future__ import annotations

from typing import Any

import k8s_plans
import pytest
from k8s_plans import context, plan, replica

from k8s_schema import assert_valid
from mizzen import runtime_env
from mizzen.compiler.plan import (
    ConnectionPlan,
    ContainerPlan,
    EnvVar,
    GitInit,
    InitStep,
    PluginsPlan,
    PodPlan,
    Resources,
    Volume,
    VolumeMount,
)
from mizzen.errors import ExecutorError
from mizzen.render.k8s import RenderOptions, render_plan


def pod_spec(p: Any, options: RenderOptions | None = None) -> dict[str, Any]:
    objects = render_plan(p, context(), options or RenderOptions())
    assert_valid(objects)
    return objects[0]["spec"]["template"]["spec"]


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def mounts_of(container: dict[str, Any]) -> dict[str, str]:
    return {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}


def job_with(pod: PodPlan, **fields: Any) -> Any:
    fields.setdefault("connections", k8s_plans.connections())
    return plan(replicas=[replica(pod=pod)], **fields)


# -- init containers ------------------------------------------------------------------------------


def test_every_init_step_becomes_an_init_container_in_order() -> None:
    spec = pod_spec(k8s_plans.full_job())
    names = [c["name"] for c in spec["initContainers"]]
    assert names == [step.name for step in k8s_plans.init_steps()] + ["mizzen-sidecar"]


def test_mizzen_init_steps_run_mizzen_init_from_the_init_image() -> None:
    options = RenderOptions(init_image="registry.local/mizzen:9.9", init_image_pull_policy="Always")
    inits = by_name(pod_spec(k8s_plans.full_job(), options)["initContainers"])
    for step in k8s_plans.init_steps():
        container = inits[step.name]
        if step.kind == "container":
            assert container["image"] == "busybox:1.36"
            assert container["command"] == ["sh", "-c", "echo warm"]
            continue
        assert container["image"] == "registry.local/mizzen:9.9"
        assert container["imagePullPolicy"] == "Always"
        assert container["command"] == ["mizzen", "init", step.kind]
        assert mounts_of(container)["/mizzen/context"] == "mizzen-context"
        assert env_of(container)[runtime_env.RUN_UUID] == k8s_plans.UUID


def test_git_init_takes_url_and_revision_from_its_connection_and_gets_its_credentials() -> None:
    inits = by_name(pod_spec(k8s_plans.full_job())["initContainers"])
    git = inits["init-git-1"]
    assert git["args"] == [
        "--url",
        "https://github.com/acme/mnist.git",
        "--revision",
        "main",
        "--flag",
        "--depth=1",
        "--path",
        "/mizzen/context/code",
        "--connection",
        "repo",
    ]
    assert env_of(git)["GIT_TOKEN"] == {"secretKeyRef": {"name": "git-token", "key": "GIT_TOKEN"}}
    # the git secret is for the init step only
    assert "GIT_TOKEN" not in env_of(pod_spec(k8s_plans.full_job())["containers"][0])
    assert inits["init-git-2"]["args"][:4] == [
        "--url",
        "https://github.com/acme/lib.git",
        "--revision",
        "v1.2.0",
    ]


def test_git_init_without_any_url_is_refused() -> None:
    pod = PodPlan(main=k8s_plans.container(), init=[InitStep(kind="git", name="init-git", git=GitInit())])
    with pytest.raises(ExecutorError, match="init step 'init-git': a git init needs a url"):
        pod_spec(job_with(pod))


def test_store_reading_steps_read_from_the_artifacts_store_or_their_connection() -> None:
    options = RenderOptions(artifacts_store=k8s_plans.s3_store())
    inits = by_name(pod_spec(k8s_plans.full_job(), options)["initContainers"])
    assert inits["init-artifacts-3"]["args"][:2] == ["--store", "s3://acme-artifacts/mizzen"]
    assert inits["init-artifacts-3"]["envFrom"] == [{"secretRef": {"name": "artifacts-s3"}}]
    from_bucket = inits["init-artifacts-4"]
    assert from_bucket["args"][:2] == ["--store", "s3://acme-data"]
    assert from_bucket["envFrom"] == [{"secretRef": {"name": "aws-credentials"}}]
    assert env_of(from_bucket)["AWS_REGION"] == "eu-west-1"
    assert inits["init-paths-5"]["args"] == [
        "--store",
        "s3://acme-artifacts/mizzen",
        "--item",
        "data/a.csv",
        "--item-to",
        "data/b.csv",
        "/mizzen/context/b.csv",
    ]
    assert "envFrom" not in inits["init-file-6"]  # steps that read no store get no store credentials


def test_file_dockerfile_tensorboard_and_lineage_arguments() -> None:
    inits = by_name(pod_spec(k8s_plans.full_job())["initContainers"])
    assert inits["init-file-6"]["args"] == [
        "--filename",
        "config.yaml",
        "--content",
        "lr: 0.1\n",
        "--chmod",
        "0644",
    ]
    assert inits["init-dockerfile-7"]["args"] == [
        "--dockerfile",
        '{"env":{"A":"1"},"image":"python:3.11","run":["pip install torch"]}',
    ]
    board = inits["init-tensorboard-8"]["args"]
    assert board.count("--uuid") == 2 and "--use-names" in board and board[-2:] == ["--plugin", "hparams"]
    assert inits["init-lineage-9"]["args"] == ["--ref", '{"modelRef":"mnist:v1"}']
    assert "args" not in inits["init-auth-0"]


def test_a_user_init_container_without_an_image_is_refused() -> None:
    step = InitStep(
        kind="container", name="prepare", container=ContainerPlan(name="prepare", command=["true"])
    )
    with pytest.raises(ExecutorError, match="init step 'prepare': an init container needs an image"):
        pod_spec(job_with(PodPlan(main=k8s_plans.container(), init=[step])))


# -- sidecar --------------------------------------------------------------------------------------


def test_native_sidecar_is_the_last_init_container_and_always_restarts() -> None:
    options = RenderOptions(
        artifacts_store=k8s_plans.s3_store(), sidecar_image="mizzen/sidecar:1", poll_interval=7
    )
    spec = pod_spec(plan(), options)
    sidecar = spec["initContainers"][-1]
    assert sidecar["name"] == "mizzen-sidecar" and sidecar["restartPolicy"] == "Always"
    assert sidecar["image"] == "mizzen/sidecar:1"
    assert sidecar["command"] == ["mizzen", "sidecar"]
    assert sidecar["args"] == [
        "--run-uuid",
        k8s_plans.UUID,
        "--artifacts-path",
        "/mizzen/context/artifacts/run",
        "--poll-interval",
        "7",
        "--main-container",
        "mizzen-main",
        "--store",
        "s3://acme-artifacts/mizzen",
    ]
    assert mounts_of(sidecar) == {"/mizzen/context/artifacts": "mizzen-artifacts"}
    assert sidecar["envFrom"] == [{"secretRef": {"name": "artifacts-s3"}}]
    assert [c["name"] for c in spec["containers"]] == ["mizzen-main"]


def test_sidecar_as_a_plain_container_waits_for_main() -> None:
    spec = pod_spec(plan(), RenderOptions(native_sidecars=False))
    assert "initContainers" not in spec
    sidecar = by_name(spec["containers"])["mizzen-sidecar"]
    assert sidecar["args"][-1] == "--wait-main" and "restartPolicy" not in sidecar


def test_sidecar_follows_the_collect_plugins_and_its_own_settings() -> None:
    only_logs = plan(
        plugins=PluginsPlan(collect_artifacts=False, sidecar={"image": "custom:1", "sleep_interval": 3})
    )
    sidecar = pod_spec(only_logs)["initContainers"][-1]
    assert sidecar["image"] == "custom:1"
    assert "--no-outputs" in sidecar["args"] and "--no-logs" not in sidecar["args"]
    assert sidecar["args"][sidecar["args"].index("--poll-interval") + 1] == "3"
    nothing = plan(plugins=PluginsPlan(collect_artifacts=False, collect_logs=False))
    spec = pod_spec(nothing)
    assert "initContainers" not in spec and [c["name"] for c in spec["containers"]] == ["mizzen-main"]


# -- volumes and connections ----------------------------------------------------------------------


def test_connections_become_volumes_mounts_and_env() -> None:
    spec = pod_spec(k8s_plans.full_job())
    volumes = by_name(spec["volumes"])
    main = spec["containers"][0]
    mounts = mounts_of(main)
    assert volumes[mounts["/data"]]["hostPath"] == {"path": "/data/datasets"}
    assert volumes[mounts["/models"]]["persistentVolumeClaim"] == {
        "claimName": "models-pvc",
        "readOnly": True,
    }
    assert volumes[mounts["/var/secrets/gcs"]]["secret"] == {
        "secretName": "gcs-key",
        "items": [{"key": "key.json", "path": "key.json"}],
        "defaultMode": 0o400,
    }
    assert volumes[mounts["/etc/train"]]["configMap"] == {"name": "train-settings"}
    assert {"secretRef": {"name": "aws-credentials"}} in main["envFrom"]
    assert {"configMapRef": {"name": "env-config"}} in main["envFrom"]
    assert {"secretRef": {"name": "wandb"}} in main["envFrom"]  # the container's own envFrom is kept
    assert env_of(main)["AWS_REGION"] == "eu-west-1"
    assert volumes["scratch"] == {"name": "scratch", "emptyDir": {"sizeLimit": "10Gi"}}
    assert mounts["/scratch"] == "scratch"


def test_context_artifacts_shm_and_docker_volumes() -> None:
    spec = pod_spec(k8s_plans.full_job())
    volumes = by_name(spec["volumes"])
    mounts = mounts_of(spec["containers"][0])
    assert volumes[mounts["/mizzen/context"]]["emptyDir"] == {}
    assert volumes[mounts["/mizzen/context/artifacts"]]["emptyDir"] == {}
    assert volumes[mounts["/dev/shm"]]["emptyDir"] == {"medium": "Memory"}
    assert volumes[mounts["/var/run/docker.sock"]]["hostPath"] == {
        "path": "/var/run/docker.sock",
        "type": "Socket",
    }
    without = pod_spec(plan(plugins=PluginsPlan(shm=False, docker=False)))
    assert set(mounts_of(without["containers"][0])) == {"/mizzen/context", "/mizzen/context/artifacts"}


@pytest.mark.parametrize("mount_store", [True, False])
def test_a_volume_artifacts_store_is_mounted_where_the_run_expects_its_artifacts(mount_store: bool) -> None:
    options = RenderOptions(artifacts_store=k8s_plans.volume_store("/mizzen/context/artifacts"))
    init = [InitStep(kind="artifacts", name="init-artifacts")]
    p = plan(plugins=PluginsPlan(mount_artifacts_store=mount_store))
    p.main.pod.init = init
    spec = pod_spec(p, options)
    volumes = by_name(spec["volumes"])
    mounts = mounts_of(spec["containers"][0])
    assert volumes[mounts["/mizzen/context/artifacts"]]["persistentVolumeClaim"] == {
        "claimName": "mizzen-artifacts"
    }
    assert "mizzen-artifacts" not in volumes  # no pod-local artifacts folder
    init_container, sidecar = spec["initContainers"]
    assert mounts_of(sidecar) == {"/mizzen/context/artifacts": mounts["/mizzen/context/artifacts"]}
    assert mounts_of(init_container)["/mizzen/context/artifacts"] == mounts["/mizzen/context/artifacts"]


def test_a_volume_artifacts_store_elsewhere_is_mounted_for_the_sidecar_only_by_default() -> None:
    spec = pod_spec(plan(), RenderOptions(artifacts_store=k8s_plans.volume_store("/store")))
    assert "/store" not in mounts_of(spec["containers"][0])
    assert set(mounts_of(spec["initContainers"][-1])) == {"/mizzen/context/artifacts", "/store"}


def test_unknown_connection_is_refused_with_its_name() -> None:
    pod = PodPlan(main=k8s_plans.container(), connections=["nope"])
    with pytest.raises(ExecutorError, match="uses connection 'nope', which is not in the run's plan"):
        pod_spec(job_with(pod))


def test_volume_connection_without_mount_path_is_refused() -> None:
    broken = ConnectionPlan(name="data", kind="volume_claim", schema={"volumeClaim": "pvc"})
    pod = PodPlan(main=k8s_plans.container(), connections=["data"])
    with pytest.raises(ExecutorError, match=r"connection 'data' \(volume_claim\) has no schema.mountPath"):
        pod_spec(job_with(pod, connections=[broken]))


def test_two_mounts_on_one_path_are_refused() -> None:
    main = k8s_plans.container(volume_mounts=[VolumeMount(name="extra", mount_path="/mizzen/context")])
    pod = PodPlan(main=main, volumes=[Volume(name="extra", source={"emptyDir": {}})])
    with pytest.raises(ExecutorError, match="mounts two volumes at /mizzen/context"):
        pod_spec(job_with(pod))


def test_a_mount_of_an_undeclared_volume_is_refused() -> None:
    main = k8s_plans.container(volume_mounts=[VolumeMount(name="ghost", mount_path="/ghost")])
    with pytest.raises(
        ExecutorError, match="mounts volume 'ghost' at /ghost, but the run declares no volume"
    ):
        pod_spec(job_with(PodPlan(main=main)))


# -- env ------------------------------------------------------------------------------------------


def test_main_container_env_has_the_runtime_variables_downward_api_and_token() -> None:
    ctx = context(iteration=3)
    (job,) = render_plan(plan(), ctx, RenderOptions(token_secret="run-token", api_host="http://api:8000"))
    env = env_of(job["spec"]["template"]["spec"]["containers"][0])
    for name, value in runtime_env.runtime_env(ctx, "http://api:8000", token=None).items():
        assert env[name] == value
    assert env[runtime_env.ITERATION] == "3"
    assert env[runtime_env.TOKEN] == {"secretKeyRef": {"name": "run-token", "key": "token"}}
    assert env["MIZZEN_POD_NAME"] == {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}
    assert env["MIZZEN_NODE_NAME"] == {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}
    assert env["MIZZEN_NAMESPACE"] == {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}


def test_user_env_is_kept_but_cannot_override_the_run_identity() -> None:
    main = k8s_plans.gpu_container()
    env = env_of(
        pod_spec(job_with(PodPlan(main=main, volumes=[Volume(name="scratch", source={"emptyDir": {}})])))[
            "containers"
        ][0]
    )
    assert env["EPOCHS"] == "10"
    assert env[runtime_env.RUN_UUID] == k8s_plans.UUID
    names = [e["name"] for e in pod_spec(plan())["containers"][0]["env"]]
    assert len(names) == len(set(names))


def test_env_from_a_secret_key_is_passed_as_is() -> None:
    ref = {"secretKeyRef": {"name": "db", "key": "password"}}
    main = k8s_plans.container(env=[EnvVar(name="DB_PASSWORD", value_from=ref)])
    assert env_of(pod_spec(job_with(PodPlan(main=main)))["containers"][0])["DB_PASSWORD"] == ref


# -- resources ------------------------------------------------------------------------------------


def test_gpus_requested_only_are_also_limited() -> None:
    main = k8s_plans.container(resources=Resources(requests={"nvidia.com/gpu": "1", "cpu": "1"}))
    resources = pod_spec(job_with(PodPlan(main=main)))["containers"][0]["resources"]
    assert resources == {"requests": {"nvidia.com/gpu": "1", "cpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}


def test_gpu_request_different_from_its_limit_is_refused() -> None:
    main = k8s_plans.container(
        resources=Resources(requests={"nvidia.com/gpu": "1"}, limits={"nvidia.com/gpu": "2"})
    )
    with pytest.raises(ExecutorError, match=r"nvidia\.com/gpu is requested as 1 but limited to 2"):
        pod_spec(job_with(PodPlan(main=main)))


def test_a_container_without_an_image_is_refused() -> None:
    with pytest.raises(ExecutorError, match="the container has no image"):
        pod_spec(job_with(PodPlan(main=k8s_plans.container(image=None))))


# -- pod settings, labels and annotations ---------------------------------------------------------


def test_environment_settings_reach_the_pod_spec() -> None:
    spec = pod_spec(k8s_plans.full_job(), RenderOptions(image_pull_secrets=["mizzen-pull"]))
    env = k8s_plans.full_environment()
    assert spec["nodeSelector"] == env.node_selector
    assert spec["affinity"] == env.affinity
    assert spec["tolerations"] == env.tolerations
    assert spec["serviceAccountName"] == "trainer"
    assert spec["hostAliases"] == env.host_aliases
    assert spec["securityContext"] == env.security_context
    assert spec["dnsPolicy"] == "ClusterFirst" and spec["dnsConfig"] == env.dns_config
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["priorityClassName"] == "high-priority"
    assert spec["imagePullSecrets"] == [{"name": "regcred"}, {"name": "mizzen-pull"}]
    main = spec["containers"][0]
    assert main["securityContext"] == {"allowPrivilegeEscalation": False}  # container extra fields


def test_default_service_account_applies_when_the_run_names_none() -> None:
    assert (
        pod_spec(plan(), RenderOptions(service_account_name="mizzen-runs"))["serviceAccountName"]
        == "mizzen-runs"
    )


def test_labels_and_annotations_identify_the_run() -> None:
    long_project = "a-project-with-a-name-far-longer-than-sixty-three-characters-allowed-in-labels"
    ctx = context(project_name=long_project, name="Train CNN (v2)")
    (job,) = render_plan(k8s_plans.full_job(), ctx, RenderOptions(extra_labels={"cluster": "eu"}))
    assert_valid(job)
    for meta in (job["metadata"], job["spec"]["template"]["metadata"]):
        labels, annotations = meta["labels"], meta["annotations"]
        assert labels["app.kubernetes.io/managed-by"] == "mizzen"
        assert labels["mizzen.dev/run-uuid"] == k8s_plans.UUID
        assert labels["mizzen.dev/kind"] == "job"
        assert labels["cluster"] == "eu" and labels["team"] == "vision"
        assert len(labels["mizzen.dev/project"]) <= 63
        assert annotations["mizzen.dev/project"] == long_project
        assert annotations["mizzen.dev/run-name"] == "Train CNN (v2)"
        assert annotations["mizzen.dev/run-instance"] == f"acme.{long_project}.runs.{k8s_plans.UUID}"
        assert annotations["acme.com/cost-center"] == "42"
    assert job["spec"]["template"]["metadata"]["labels"]["mizzen.dev/role"] == "main"


def test_user_labels_cannot_replace_mizzen_labels() -> None:
    p = plan()
    p.main.pod.environment.labels = {"mizzen.dev/run-uuid": "someone-else"}
    (job,) = render_plan(p, context())
    assert job["spec"]["template"]["metadata"]["labels"]["mizzen.dev/run-uuid"] == k8s_plans.UUID


def test_namespace_comes_from_options_then_plan_then_context() -> None:
    assert render_plan(plan(), context())[0]["metadata"]["namespace"] == "ml"
    assert render_plan(plan(namespace="team-a"), context())[0]["metadata"]["namespace"] == "team-a"
    options = RenderOptions(namespace="forced")
    assert render_plan(plan(namespace="team-a"), context(), options)[0]["metadata"]["namespace"] == "forced"
