"""render.local: Plan + RuntimeContext -> process specs, without touching the machine."""

from __future__ import annotations

import json

import pytest

from mizzen.compiler.plan import (
    ConnectionPlan,
    ContainerPlan,
    EnvVar,
    GitInit,
    InitStep,
    Plan,
    PodPlan,
    Port,
    ReplicaPlan,
    Resources,
    RunKind,
    RuntimeContext,
    ServicePlan,
    Volume,
)
from mizzen.render.local import (
    LocalRenderError,
    SecretCatalog,
    declared_port,
    expand_k8s_refs,
    gpus_needed,
    ports_needed,
    render_local,
    repo_name,
)

CONTEXT = RuntimeContext(
    uuid="u1",
    name="r",
    project_name="p",
    context_path="/runs/u1/context",
    artifacts_path="/store",
    run_artifacts_path="/store/u1",
    run_outputs_path="/store/u1/outputs",
)


def box(command: list[str], name: str = "main", **fields: object) -> ContainerPlan:
    return ContainerPlan.model_validate({"name": name, "command": command, **fields})


def job(main: ContainerPlan, kind: RunKind = RunKind.JOB, **fields: object) -> Plan:
    pod_fields = {k: fields.pop(k) for k in ("init", "sidecars", "connections", "volumes") if k in fields}
    return Plan.model_validate(
        {"kind": kind, "replicas": [ReplicaPlan(role="main", pod=PodPlan(main=main, **pod_fields))], **fields}
    )


def distributed(kind: RunKind, roles: dict[str, int], gpus: int = 0) -> Plan:
    limits = {"nvidia.com/gpu": str(gpus)} if gpus else {}
    return Plan(
        kind=kind,
        replicas=[
            ReplicaPlan(
                role=role,
                replicas=count,
                pod=PodPlan(main=box(["train"], resources=Resources(limits=limits))),
            )
            for role, count in roles.items()
        ],
    )


def test_env_is_layered_connections_then_plan_then_runtime() -> None:
    catalog = SecretCatalog(secrets={"s": {"K": "from-secret"}}, config_maps={"c": {"LEVEL": "info"}})
    connection = ConnectionPlan.model_validate(
        {
            "name": "conn",
            "kind": "custom",
            "secret": {"name": "s"},
            "env": [{"name": "SHARED", "value": "conn"}],
        }
    )
    main = box(
        ["run", "$(SHARED)", "$(MIZZEN_RUN_UUID)", "$$(MIZZEN_RUN_UUID)", "$(NOPE)"],
        env=[
            EnvVar(name="SHARED", value="plan"),
            EnvVar(name="MIZZEN_RUN_UUID", value="spoofed"),
            EnvVar(name="DERIVED", value="$(SHARED)-x"),
            EnvVar(name="POD", value_from={"fieldRef": {"fieldPath": "metadata.name"}}),
            EnvVar(name="NODE_IP", value_from={"fieldRef": {"fieldPath": "status.hostIP"}}),
        ],
        env_from=[
            {"configMapRef": {"name": "c"}, "prefix": "CFG_"},
            {"secretRef": {"name": "gone", "optional": True}},
        ],
    )
    plan = job(main, connections=["conn"])
    plan = plan.model_copy(update={"connections": [connection]})
    local = render_local(plan, CONTEXT, api_host="http://h:1", token="t", catalog=catalog)
    spec = local.replicas[0].main
    assert spec.env["K"] == "from-secret"
    assert spec.env["SHARED"] == "plan"
    assert spec.env["MIZZEN_RUN_UUID"] == "u1"  # the runtime wins: a run cannot pretend to be another
    assert spec.env["DERIVED"] == "plan-x"
    assert spec.env["CFG_LEVEL"] == "info"
    assert spec.env["POD"] == "r"
    assert spec.env["NODE_IP"] == "127.0.0.1"
    assert spec.env["MIZZEN_HOST"] == "http://h:1"
    assert spec.env["MIZZEN_TOKEN"] == "t"
    assert spec.argv == ["run", "plan", "u1", "$(MIZZEN_RUN_UUID)", "$(NOPE)"]
    assert spec.cwd == "/runs/u1/context"
    assert spec.label == "main"


@pytest.mark.parametrize(
    ("value_from", "reason", "words"),
    [
        (
            {"secretKeyRef": {"name": "absent", "key": "K"}},
            "missing secret",
            "secret 'absent' is not in the local",
        ),
        (
            {"secretKeyRef": {"name": "s", "key": "NOKEY"}},
            "missing secret key",
            "secret 's' has no key 'NOKEY'",
        ),
        ({"configMapKeyRef": {"name": "cm", "key": "K"}}, "missing config_map", "config_map 'cm'"),
    ],
)
def test_unresolvable_references_name_what_is_missing(value_from: dict, reason: str, words: str) -> None:
    catalog = SecretCatalog(secrets={"s": {"K": "v"}})
    plan = job(box(["x"], env=[EnvVar(name="V", value_from=value_from)]))
    with pytest.raises(LocalRenderError) as caught:
        render_local(plan, CONTEXT, api_host="h", catalog=catalog)
    assert caught.value.reason == reason
    assert "env V: " in caught.value.message and words in caught.value.message


def test_optional_references_are_skipped() -> None:
    plan = job(
        box(
            ["x"],
            env=[EnvVar(name="V", value_from={"secretKeyRef": {"name": "a", "key": "b", "optional": True}})],
        )
    )
    assert "V" not in render_local(plan, CONTEXT, api_host="h").replicas[0].main.env


def test_plans_that_cannot_run_here_say_why() -> None:
    with pytest.raises(LocalRenderError, match="has no command: locally Mizzen runs the command"):
        render_local(job(box([])), CONTEXT, api_host="h")
    with pytest.raises(
        LocalRenderError,
        match="uses connection 'ghost', which is not in the connections catalog: define it in",
    ):
        render_local(job(box(["x"]), connections=["ghost"]), CONTEXT, api_host="h")
    for kind in (RunKind.MPIJOB, RunKind.RAYCLUSTER, RunKind.DASKCLUSTER, RunKind.DAG, RunKind.TUNER):
        with pytest.raises(LocalRenderError) as caught:
            render_local(distributed(kind, {"worker": 1}), CONTEXT, api_host="h")
        assert caught.value.reason == "unsupported locally"
        assert f"kind '{kind.value}' cannot run locally" in caught.value.message


def test_pytorchjob_ranks_master_first_with_one_master_port() -> None:
    plan = distributed(RunKind.PYTORCHJOB, {"worker": 2, "master": 1}, gpus=1)
    assert ports_needed(plan) == 1
    assert gpus_needed(plan) == 3
    local = render_local(plan, CONTEXT, api_host="h", ports=[29500])
    envs = {r.main.replica: r.main.env for r in local.replicas}
    assert list(envs) == ["master-0", "worker-0", "worker-1"]
    assert [envs[k]["RANK"] for k in envs] == ["0", "1", "2"]
    assert {envs[k]["WORLD_SIZE"] for k in envs} == {"3"}
    assert {(envs[k]["MASTER_ADDR"], envs[k]["MASTER_PORT"], envs[k]["LOCAL_RANK"]) for k in envs} == {
        ("127.0.0.1", "29500", "0")
    }
    assert all(r.completes_run for r in local.replicas)
    assert local.gpus == 3


def test_tfjob_tf_config_lists_every_task_but_the_evaluator() -> None:
    plan = distributed(RunKind.TFJOB, {"ps": 1, "worker": 2, "chief": 1, "evaluator": 1})
    assert ports_needed(plan) == 4
    local = render_local(plan, CONTEXT, api_host="h", ports=[1001, 1002, 1003, 1004])
    configs = {r.main.replica: json.loads(r.main.env["TF_CONFIG"]) for r in local.replicas}
    assert configs["chief-0"]["cluster"] == {
        "chief": ["127.0.0.1:1001"],
        "worker": ["127.0.0.1:1002", "127.0.0.1:1003"],
        "ps": ["127.0.0.1:1004"],
    }
    assert configs["evaluator-0"]["task"] == {"type": "evaluator", "index": 0}
    assert {r.role: r.completes_run for r in local.replicas} == {
        "chief": True,
        "worker": True,
        "ps": False,
        "evaluator": False,
    }


def test_a_service_gets_its_port_in_env_and_references() -> None:
    main = box(["serve", "--port=$(MIZZEN_PORT)"], ports=[Port(container_port=8888)])
    plan = job(main, RunKind.SERVICE)
    assert declared_port(plan) == 8888
    assert declared_port(job(main, RunKind.SERVICE, service=ServicePlan(ports=[6006]))) == 6006
    local = render_local(plan, CONTEXT, api_host="h", ports=[41000])
    assert local.service_port == 41000
    assert local.replicas[0].main.argv == ["serve", "--port=41000"]
    assert local.replicas[0].main.env["PORT"] == "41000"
    with pytest.raises(LocalRenderError, match="1 free ports needed, 0 given"):
        render_local(plan, CONTEXT, api_host="h")


def test_init_paths_default_like_polyaxon_and_steps_shared_by_roles_run_once() -> None:
    steps = [
        InitStep(kind="git", name="init-git-0", git=GitInit(url="https://github.com/org/my-repo.git")),
        InitStep(kind="git", name="init-git-1", connection="code"),
        InitStep(kind="auth", name="init-auth"),
        InitStep(kind="file", name="init-file", path="/custom", file={"content": "x"}),
        InitStep(kind="paths", name="init-paths", paths=["a"]),
    ]
    pod = PodPlan(main=box(["x"]), init=steps)
    plan = Plan(
        kind=RunKind.PYTORCHJOB,
        connections=[ConnectionPlan(name="code", kind="git", schema={"url": "https://h/x.git"})],
        replicas=[ReplicaPlan(role="master", pod=pod), ReplicaPlan(role="worker", replicas=3, pod=pod)],
    )
    local = render_local(plan, CONTEXT, api_host="h", ports=[1])
    assert [(s.step.name, s.path) for s in local.init] == [
        ("init-git-0", "/runs/u1/context/artifacts/my-repo"),
        ("init-git-1", "/runs/u1/context/artifacts/code"),
        ("init-auth", "/runs/u1/context/.configs"),
        ("init-file", "/custom"),
        ("init-paths", "/runs/u1/context/artifacts"),
    ]
    assert local.init[1].connection is not None and local.init[1].connection.name == "code"


def test_notes_and_image_messages() -> None:
    main = box(["x"], image="tensorflow/tensorflow:2.15", volume_mounts=[{"name": "d", "mount_path": "/d"}])
    plan = job(
        main,
        RunKind.SERVICE,
        volumes=[Volume(name="d", source={"emptyDir": {}})],
        service=ServicePlan(replicas=3),
    )
    local = render_local(plan, CONTEXT, api_host="h", ports=[5])
    assert local.image_message == (
        "image 'tensorflow/tensorflow:2.15' recorded, not run: local runs use this machine's environment"
    )
    assert "volumes are not mounted locally: the workload sees this machine's paths" in local.notes
    assert "a service runs 1 replica locally (3 asked)" in local.notes
    assert render_local(job(box(["x"])), CONTEXT, api_host="h").image_message is None


def test_small_helpers() -> None:
    assert repo_name("https://github.com/org/repo.git") == "repo"
    assert repo_name("git@github.com:org/other.git/") == "other"
    assert expand_k8s_refs("$(A)$$(A)$$ $(B)", {"A": "1"}) == "1$(A)$ $(B)"
