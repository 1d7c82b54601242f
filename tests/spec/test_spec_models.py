"""The models, area by area: what loads, how it is normalised, and what is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mizzen.errors import SpecError
from mizzen.spec import (
    ComponentSpec,
    DagSpec,
    JobSpec,
    OperationSpec,
    PyTorchJobSpec,
    RayClusterSpec,
    ServiceSpec,
    TFJobSpec,
    load_dict,
)
from mizzen.spec.matrix import (
    BayesSpec,
    GridSearchSpec,
    HyperbandSpec,
    IterativeSpec,
    MappingSpec,
    RandomSearchSpec,
    TPESpec,
)
from mizzen.spec.schedules import CronScheduleSpec, DateTimeScheduleSpec, IntervalScheduleSpec


def component(run: dict[str, Any], **extra: Any) -> ComponentSpec:
    spec = load_dict({"version": 1.1, "kind": "component", "run": run, **extra}).spec
    assert isinstance(spec, ComponentSpec)
    return spec


def operation(**fields: Any) -> OperationSpec:
    spec = load_dict({"version": 1.1, "kind": "operation", **fields}).spec
    assert isinstance(spec, OperationSpec)
    return spec


def problem_of(data: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as info:
        load_dict(data)
    return str(info.value)


# -- container and Kubernetes objects -----------------------------------------------------------


def test_string_command_is_kept_as_written() -> None:
    spec = component(
        {"kind": "job", "container": {"image": "x", "command": "python train.py", "args": "--a"}}
    )
    assert isinstance(spec.run, JobSpec)
    assert spec.run.container is not None
    assert spec.run.container.command == "python train.py"
    assert spec.run.container.args == "--a"


def test_snake_case_kubernetes_keys_are_normalised_to_camel_case() -> None:
    spec = component(
        {
            "kind": "job",
            "container": {
                "image": "x",
                "volume_mounts": [{"name": "foo", "mount_path": "/a", "readOnly": True}],
            },
            "environment": {
                "node_selector": {"pool_name": "gpu"},
                "affinity": {"node_affinity": {"preferred_during_scheduling_ignored_during_execution": []}},
            },
        }
    )
    run = spec.dump()["run"]
    assert run["container"]["volumeMounts"] == [{"name": "foo", "mountPath": "/a", "readOnly": True}]
    assert run["environment"]["nodeSelector"] == {"pool_name": "gpu"}  # user keys are not renamed
    assert run["environment"]["affinity"] == {
        "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}
    }


def test_affinity_is_checked_and_keeps_user_label_keys() -> None:
    affinity = {
        "node_affinity": {
            "required_during_scheduling_ignored_during_execution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                ]
            }
        },
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 10,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app_name": "x"}},
                    },
                }
            ]
        },
    }
    spec = component({"kind": "job", "environment": {"affinity": affinity}})
    dumped = spec.dump()["run"]["environment"]["affinity"]
    assert dumped["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0][
        "matchExpressions"
    ] == [{"key": "zone", "operator": "In", "values": ["a"]}]
    term = dumped["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
    assert term["labelSelector"]["matchLabels"] == {"app_name": "x"}
    assert "unknown key 'nodeAfinity' (did you mean 'nodeAffinity'?)" in problem_of(
        {"kind": "component", "run": {"kind": "job", "environment": {"affinity": {"nodeAfinity": {}}}}}
    )
    bad = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 1, "preference": {"matchExpressions": [{"key": "zone", "operator": "in"}]}}
            ]
        }
    }
    assert (
        "expected one of 'In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt', got 'in' (did you mean 'In'?)"
        in (problem_of({"kind": "component", "run": {"kind": "job", "environment": {"affinity": bad}}}))
    )


def test_env_mapping_and_single_volume_mount_are_accepted_as_polyaxon_does() -> None:
    spec = component(
        {
            "kind": "job",
            "container": {
                "image": "x",
                "env": {"A": "1", "B": 2},
                "volumeMounts": {"name": "ssh", "mount_path": "/root/.ssh"},
            },
        }
    )
    container = spec.dump()["run"]["container"]
    assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert container["volumeMounts"] == [{"name": "ssh", "mountPath": "/root/.ssh"}]


def test_v1_per_resource_form_is_normalised() -> None:
    spec = component(
        {
            "kind": "job",
            "container": {
                "image": "x",
                "resources": {"cpu": {"requests": 1, "limits": 2}, "nvidia.com/gpu": {"limits": 1}},
            },
        }
    )
    assert spec.dump()["run"]["container"]["resources"] == {
        "requests": {"cpu": 1},
        "limits": {"cpu": 2, "nvidia.com/gpu": 1},
    }


def test_unknown_container_key_and_bad_pull_policy() -> None:
    assert "unknown key 'imagePullPolicyy' (did you mean 'imagePullPolicy'?)" in problem_of(
        {"kind": "component", "run": {"kind": "job", "container": {"imagePullPolicyy": "Always"}}}
    )
    assert "expected one of 'Always', 'IfNotPresent', 'Never', got 'always'" in problem_of(
        {"kind": "component", "run": {"kind": "job", "container": {"imagePullPolicy": "always"}}}
    )


def test_volumes_keep_their_source_as_written_but_reject_unknown_sources() -> None:
    spec = component({"kind": "job", "volumes": [{"name": "c", "config_map": {"name": "cfg"}}]})
    assert spec.dump()["run"]["volumes"] == [{"name": "c", "configMap": {"name": "cfg"}}]
    assert "unknown key 'secrte' (did you mean 'secret'?)" in problem_of(
        {"kind": "component", "run": {"kind": "job", "volumes": [{"name": "c", "secrte": {}}]}}
    )


def test_probes_tolerations_and_ports() -> None:
    spec = component(
        {
            "kind": "service",
            "ports": [8888],
            "container": {
                "image": "x",
                "ports": [{"containerPort": 8888, "name": "http", "protocol": "TCP"}],
                "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
            },
            "environment": {"tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]},
        }
    )
    assert isinstance(spec.run, ServiceSpec)
    assert spec.run.ports == [8888]
    assert spec.run.container is not None and spec.run.container.liveness_probe is not None
    assert spec.run.container.liveness_probe.http_get is not None
    assert spec.run.container.liveness_probe.http_get.port == "http"


def test_templates_are_accepted_where_polyaxon_accepts_them() -> None:
    spec = component(
        {"kind": "service", "replicas": "{{ replicas }}", "container": {"image": "{{ image }}"}},
        termination={"maxRetries": "{{ retries }}"},
    )
    assert isinstance(spec.run, ServiceSpec)
    assert spec.run.replicas == "{{ replicas }}"
    assert spec.termination is not None and spec.termination.max_retries == "{{ retries }}"
    assert "expected an integer, got 'many'" in problem_of(
        {"kind": "component", "termination": {"maxRetries": "many"}}
    )


# -- run kinds ------------------------------------------------------------------------------------


def test_distributed_run_kinds_and_their_replicas() -> None:
    tf = component(
        {"kind": "tfjob", "chief": {"replicas": 1}, "worker": {"replicas": 2, "container": {"image": "t"}}}
    )
    assert isinstance(tf.run, TFJobSpec)
    assert tf.run.worker is not None and tf.run.worker.replicas == 2
    torch = component(
        {
            "kind": "pytorchjob",
            "elasticPolicy": {"minReplicas": 1, "maxReplicas": 4, "rdvzBackend": "c10d"},
            "nProcPerNode": 2,
            "master": {"replicas": 1},
        }
    )
    assert isinstance(torch.run, PyTorchJobSpec)
    assert torch.run.n_proc_per_node == 2
    assert torch.run.elastic_policy is not None and torch.run.elastic_policy.max_replicas == 4
    ray = component(
        {"kind": "raycluster", "head": {"container": {"image": "r"}}, "workers": {"small": {"replicas": 2}}}
    )
    assert isinstance(ray.run, RayClusterSpec)
    assert ray.run.workers is not None and ray.run.workers["small"].replicas == 2
    for kind in ("mpijob", "daskcluster", "tuner", "notifier", "cleaner"):
        assert component({"kind": kind}).run is not None


def test_replica_keys_belong_to_their_kind() -> None:
    message = problem_of({"kind": "component", "run": {"kind": "tfjob", "master": {"replicas": 1}}})
    assert "run: unknown key 'master'" in message


def test_dag_holds_operations_and_components() -> None:
    spec = component(
        {
            "kind": "dag",
            "concurrency": 2,
            "operations": [
                {"name": "a", "dagRef": "train", "params": {"lr": {"value": 0.1}}},
                {"name": "b", "hubRef": "tensorboard", "dependencies": ["a"], "trigger": "all_done"},
            ],
            "components": [{"name": "train", "run": {"kind": "job", "container": {"image": "x"}}}],
        }
    )
    assert isinstance(spec.run, DagSpec)
    assert spec.run.operations is not None and spec.run.operations[1].dependencies == ["a"]
    assert spec.run.components is not None and spec.run.components[0].name == "train"
    assert "expected one of 'all_succeeded'" in problem_of(
        {"kind": "component", "run": {"kind": "dag", "operations": [{"name": "a", "trigger": "always"}]}}
    )


# -- IO and params --------------------------------------------------------------------------------


def test_inputs_with_every_option() -> None:
    spec = component(
        {"kind": "job"},
        inputs=[
            {
                "name": "lr",
                "type": "float",
                "value": 0.1,
                "isOptional": True,
                "isList": False,
                "isFlag": False,
                "argFormat": "--lr={{ lr }}",
                "options": [0.1, 0.2],
                "validation": {"gt": 0, "le": 1, "delay": False},
                "delayValidation": False,
                "toEnv": "LR",
            },
            {"name": "data", "type": "path", "connection": "s3-data", "toInit": True},
        ],
    )
    assert spec.inputs is not None
    assert spec.inputs[0].validation is not None and spec.inputs[0].validation.le == 1
    assert spec.inputs[1].to_init is True


def test_params_long_and_short_form() -> None:
    spec = operation(
        hubRef="train",
        params={
            "lr": 0.1,
            "layers": [1, 2],
            "config": {"a": 1},
            "upstream": {"ref": "ops.train", "value": "outputs.loss", "contextOnly": True},
            "data": {"value": "s3://b", "connection": "s3", "toInit": True},
        },
    )
    assert spec.params is not None
    assert spec.params["lr"].value == 0.1
    assert spec.params["config"].value == {"a": 1}
    assert spec.params["upstream"].ref == "ops.train"
    assert spec.dump()["params"]["lr"] == {"value": 0.1}


def test_long_form_param_typo_is_an_error_not_a_dict_value() -> None:
    assert "unknown key 'valeu' (did you mean 'value'?)" in problem_of(
        {"kind": "operation", "hubRef": "x", "params": {"lr": {"valeu": 0.1}}}
    )


# -- matrix ---------------------------------------------------------------------------------------


def test_every_matrix_kind_loads() -> None:
    choice = {"kind": "choice", "value": [1, 2]}
    metric = {"name": "loss", "optimization": "minimize"}
    cases: list[tuple[dict[str, Any], type]] = [
        ({"kind": "grid", "params": {"a": choice}, "numRuns": 2}, GridSearchSpec),
        ({"kind": "random", "params": {"a": choice}, "numRuns": 2, "seed": 1}, RandomSearchSpec),
        ({"kind": "mapping", "values": [{"a": 1}, {"a": 2}]}, MappingSpec),
        (
            {
                "kind": "hyperband",
                "params": {"a": choice},
                "maxIterations": 9,
                "eta": 3,
                "metric": metric,
                "resource": {"name": "epochs", "type": "int"},
                "resume": False,
            },
            HyperbandSpec,
        ),
        (
            {
                "kind": "bayes",
                "params": {"a": choice},
                "numInitialRuns": 2,
                "maxIterations": 4,
                "metric": metric,
                "utilityFunction": {
                    "acquisitionFunction": "ucb",
                    "kappa": 1.2,
                    "gaussianProcess": {"kernel": "matern", "nu": 1.5},
                },
            },
            BayesSpec,
        ),
        ({"kind": "tpe", "params": {"a": choice}, "numRuns": 3, "metric": metric}, TPESpec),
        (
            {"kind": "hyperopt", "algorithm": "tpe", "params": {"a": choice}, "numRuns": 3, "metric": metric},
            TPESpec,
        ),
        ({"kind": "iterative", "params": {"a": choice}, "maxIterations": 3}, IterativeSpec),
    ]
    for matrix, model in cases:
        spec = operation(hubRef="train", matrix=matrix)
        assert isinstance(spec.matrix, model), matrix["kind"]


def test_distribution_values_in_mapping_list_and_string_forms() -> None:
    params = {
        "a": {"kind": "range", "value": "1:10:2"},
        "b": {"kind": "range", "value": [1, 10, 2]},
        "c": {"kind": "linspace", "value": {"start": 0, "stop": 1, "num": 5}},
        "d": {"kind": "logspace", "value": "0:2:3"},
        "e": {"kind": "geomspace", "value": [1, 8, 4]},
        "f": {"kind": "uniform", "value": [0, 1]},
        "g": {"kind": "quniform", "value": {"low": 0, "high": 1, "q": 0.1}},
        "h": {"kind": "loguniform", "value": "0.001:0.1"},
        "i": {"kind": "qloguniform", "value": [0.001, 0.1, 0.001]},
        "j": {"kind": "normal", "value": {"loc": 0, "scale": 1}},
        "k": {"kind": "qnormal", "value": [0, 1, 0.5]},
        "l": {"kind": "lognormal", "value": [0, 1]},
        "m": {"kind": "qlognormal", "value": [0, 1, 1]},
        "n": {"kind": "pchoice", "value": [["adam", 0.7], ["sgd", 0.3]]},
        "o": {"kind": "daterange", "value": {"start": "2024-01-01", "stop": "2024-01-10", "step": 2}},
        "p": {"kind": "datetimerange", "value": ["2024-01-01T00:00:00", "2024-01-02T00:00:00", 3600]},
    }
    spec = operation(hubRef="train", matrix={"kind": "random", "numRuns": 5, "params": params})
    assert isinstance(spec.matrix, RandomSearchSpec)
    got = spec.matrix.params
    assert got["a"].value == got["b"].value
    assert got["a"].value.dump() == {"start": 1, "stop": 10, "step": 2}  # type: ignore[union-attr]
    assert got["h"].value.dump() == {"low": 0.001, "high": 0.1}  # type: ignore[union-attr]
    assert got["n"].value == [("adam", 0.7), ("sgd", 0.3)]
    assert got["o"].value.start == date(2024, 1, 1)  # type: ignore[union-attr]
    assert got["p"].value.step == timedelta(hours=1)  # type: ignore[union-attr]


def test_grid_accepts_every_discrete_distribution() -> None:
    params = {
        "a": {"kind": "choice", "value": [1]},
        "b": {"kind": "range", "value": [1, 3, 1]},
        "c": {"kind": "linspace", "value": [0, 1, 3]},
        "d": {"kind": "logspace", "value": [0, 1, 3]},
        "e": {"kind": "geomspace", "value": [1, 4, 3]},
        "f": {"kind": "daterange", "value": ["2024-01-01", "2024-01-03", 1]},
    }
    assert isinstance(operation(hubRef="t", matrix={"kind": "grid", "params": params}).matrix, GridSearchSpec)
    for dist in ("pchoice", "normal", "loguniform"):
        value = [["a", 1.0]] if dist == "pchoice" else [0, 1]
        message = problem_of(
            {
                "kind": "operation",
                "hubRef": "t",
                "matrix": {"kind": "grid", "params": {"x": {"kind": dist, "value": value}}},
            }
        )
        assert f"matrix.params.x.kind: '{dist}' cannot be used in a grid matrix" in message


def test_bad_distribution_value_is_located() -> None:
    message = problem_of(
        {
            "kind": "operation",
            "hubRef": "t",
            "matrix": {
                "kind": "random",
                "numRuns": 1,
                "params": {"x": {"kind": "uniform", "value": {"low": 0, "hihg": 1}}},
            },
        }
    )
    assert "matrix.params.x.value: unknown key 'hihg' (did you mean 'high'?)" in message


def test_early_stopping_policies() -> None:
    spec = operation(
        hubRef="t",
        matrix={
            "kind": "mapping",
            "values": [{"a": 1}],
            "earlyStopping": [
                {
                    "kind": "metric_early_stopping",
                    "metric": "loss",
                    "value": 0.1,
                    "optimization": "minimize",
                    "policy": {"kind": "truncation", "percent": 50, "evaluationInterval": 1},
                },
                {
                    "kind": "metric_early_stopping",
                    "metric": "acc",
                    "value": 0.9,
                    "policy": {"kind": "median", "evaluationInterval": 2, "minSamples": 3},
                },
                {
                    "kind": "metric_early_stopping",
                    "metric": "acc",
                    "value": 0.9,
                    "policy": {"kind": "diff", "percent": 5, "evaluationInterval": 2},
                },
                {"kind": "failure_early_stopping", "percent": 30},
            ],
        },
    )
    assert isinstance(spec.matrix, MappingSpec)
    assert spec.matrix.early_stopping is not None and len(spec.matrix.early_stopping) == 4


# -- schedules, hooks, joins, events, init, termination, plugins, cache -------------------------------


def test_schedules() -> None:
    cron = operation(hubRef="t", schedule={"kind": "cron", "cron": "0 * * * *", "maxRuns": 3})
    assert isinstance(cron.schedule, CronScheduleSpec)
    interval = operation(
        hubRef="t",
        schedule={
            "kind": "interval",
            "frequency": 120,
            "startAt": "2019-06-24T21:20:07+00:00",
            "dependsOnPast": True,
        },
    )
    assert isinstance(interval.schedule, IntervalScheduleSpec)
    assert interval.schedule.frequency == timedelta(seconds=120)
    assert interval.schedule.start_at == datetime(2019, 6, 24, 21, 20, 7, tzinfo=UTC)
    assert interval.dump()["schedule"]["frequency"] == 120
    once = operation(hubRef="t", schedule={"kind": "datetime", "startAt": "2030-01-01T00:00:00"})
    assert isinstance(once.schedule, DateTimeScheduleSpec)
    assert "unknown kind 'crom' (did you mean 'cron'?)" in problem_of(
        {"kind": "operation", "hubRef": "t", "schedule": {"kind": "crom", "cron": "* * * * *"}}
    )


def test_flow_sections() -> None:
    spec = operation(
        hubRef="t",
        hooks=[
            {
                "hubRef": "slack",
                "trigger": "succeeded",
                "connection": "slack",
                "params": {"url": {"value": "u"}},
            }
        ],
        joins=[
            {
                "query": "metrics.loss:<0.1",
                "sort": "metrics.loss",
                "limit": 5,
                "params": {"uuids": {"value": "globals.uuid"}},
            }
        ],
        events=[{"kinds": ["run_status_done"], "ref": "ops.upstream"}],
        conditions="{{ loss < 0.1 }}",
        skipOnUpstreamSkip=True,
        isApproved=False,
        cost=2.5,
        queue="agent/queue",
        namespace="ml",
        build={"hubRef": "kaniko", "connection": "registry", "params": {"destination": {"value": "img:1"}}},
        template={"enabled": True, "fields": ["params.lr"]},
    )
    assert spec.hooks is not None and spec.hooks[0].trigger == "succeeded"
    assert spec.joins is not None and spec.joins[0].limit == 5
    assert spec.events is not None and spec.events[0].kinds == ["run_status_done"]
    assert spec.build is not None and spec.build.hub_ref == "kaniko"


def test_init_steps() -> None:
    spec = component(
        {
            "kind": "job",
            "init": [
                {"git": {"url": "https://github.com/a/b", "revision": "main", "flags": ["--depth=1"]}},
                {"artifacts": {"files": ["a.txt", ["b", "c"]], "dirs": ["d"], "workers": 2}},
                {"paths": [["/src", "/dst"], "/x"]},
                {
                    "dockerfile": {
                        "image": "python",
                        "run": ["pip install x"],
                        "env": {"A": 1},
                        "copy": [["a", "b"]],
                    }
                },
                {"file": {"filename": "f.sh", "content": "echo", "chmod": "+x"}},
                {"tensorboard": {"uuids": ["u1", "u2"], "useNames": True, "port": 6006}},
                {"lineageRef": "uuid"},
                {"connection": "data", "path": "/data"},
                {"container": {"name": "wait", "image": "busybox", "command": ["sleep", "1"]}},
            ],
        }
    )
    assert isinstance(spec.run, JobSpec) and spec.run.init is not None
    assert spec.run.init[0].git is not None and spec.run.init[0].git.revision == "main"
    assert spec.run.init[3].dockerfile is not None and spec.run.init[3].dockerfile.copy_ == [["a", "b"]]
    assert spec.dump()["run"]["init"][3]["dockerfile"]["copy"] == [["a", "b"]]


def test_termination_plugins_cache() -> None:
    spec = component(
        {"kind": "job"},
        termination={
            "maxRetries": 2,
            "ttl": 60,
            "timeout": 600,
            "culling": {"timeout": 30},
            "probe": {"exec": {"command": ["true"]}},
            "podFailurePolicy": {"rules": []},
        },
        plugins={
            "auth": True,
            "docker": False,
            "shm": True,
            "collectLogs": True,
            "logLevel": "INFO",
            "notifications": [{"connections": ["slack"], "trigger": "failed"}],
        },
        cache={"disable": False, "ttl": 3600, "io": ["lr"], "sections": ["init"]},
    )
    assert spec.termination is not None and spec.termination.timeout == 600
    assert spec.termination.probe is not None and spec.termination.probe.exec_ is not None
    assert spec.plugins is not None and spec.plugins.log_level == "INFO"
    assert spec.cache is not None and spec.cache.sections == ["init"]


def test_top_level_shortcuts_of_spec_2x() -> None:
    spec = component(
        {"kind": "job"},
        container={"image": "x"},
        cmd="python train.py",
        env={"A": "1"},
        resources={"cpu": 1, "memory": "1Gi"},
        ports=[8000],
        connections=["data"],
        init=[{"git": {"url": "u"}}],
        sidecars=[{"name": "s", "image": "y"}],
        volumes=[{"name": "v", "emptyDir": {}}],
        environment={"nodeSelector": {"a": "b"}},
        mount=["/a", {"from": "x", "to": "y"}],
    )
    dumped = spec.dump()
    assert dumped["cmd"] == "python train.py"
    assert dumped["mount"] == ["/a", {"from": "x", "to": "y"}]


def test_operation_references_and_patches() -> None:
    spec = operation(
        pathRef="../train.yaml",
        runPatch={
            "container": {"resources": {"limits": {"nvidia.com/gpu": 1}}},
            "environment": {"labels": {"a": "b"}},
        },
        patchStrategy="post_merge",
        isPreset=False,
        presets=["gpu"],
        dependencies=["a"],
    )
    assert spec.path_ref == "../train.yaml"
    assert spec.run_patch is not None and spec.run_patch.container is not None
    assert spec.dump()["runPatch"]["container"]["resources"] == {"limits": {"nvidia.com/gpu": 1}}
    assert "expected one of 'replace', 'isnull', 'post_merge', 'pre_merge'" in problem_of(
        {"kind": "operation", "hubRef": "x", "patchStrategy": "merge"}
    )
    assert "unknown key 'contaner'" in problem_of(
        {"kind": "operation", "hubRef": "x", "runPatch": {"contaner": {}}}
    )


def test_names_versions_and_kindless_files() -> None:
    assert operation(name="my-op_1", hubRef="t").name == "my-op_1"
    assert "expected a name made of letters, digits, '-' and '_', got 'my op'" in problem_of(
        {"kind": "operation", "name": "my op"}
    )
    for version in (1, 1.0, 1.1, "1.1"):
        assert load_dict({"version": version, "kind": "component"}).kind == "component"
    preset = load_dict(
        {"patchStrategy": "isnull", "isPreset": True, "runPatch": {"container": {"workingDir": "/c"}}}
    )
    assert isinstance(preset.spec, OperationSpec)
