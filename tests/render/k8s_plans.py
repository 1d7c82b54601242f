"""Hand-built Plans covering every run kind and option the Kubernetes renderer handles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mizzen.compiler.plan import (
    ArtifactsInit,
    ConnectionPlan,
    ContainerPlan,
    DistributedPlan,
    DockerfileInit,
    EnvironmentPlan,
    EnvVar,
    FileInit,
    GitInit,
    InitStep,
    Plan,
    PluginsPlan,
    PodPlan,
    Port,
    ReplicaPlan,
    Resources,
    RunKind,
    RuntimeContext,
    SecretRef,
    ServicePlan,
    TensorboardInit,
    TerminationPlan,
    Volume,
    VolumeMount,
)
from mizzen.connections_catalog import load_connections
from mizzen.render.k8s import ArtifactsStore, RenderOptions

CORPUS_CONNECTIONS = Path(__file__).resolve().parents[1] / "data" / "corpus_connections.yaml"

UUID = "8f2c1d7e4b6a4c3d9e0f1a2b3c4d5e6f"


def context(**overrides: Any) -> RuntimeContext:
    values: dict[str, Any] = {
        "owner_name": "acme",
        "project_name": "mnist",
        "uuid": UUID,
        "name": "train-cnn",
        "namespace": "ml",
        "api_host": "http://mizzen-server.mizzen:8000",
    }
    return RuntimeContext(**{**values, **overrides})


def container(name: str = "main", image: str | None = "python:3.11-slim", **fields: Any) -> ContainerPlan:
    fields.setdefault("command", ["python", "train.py"])
    return ContainerPlan(name=name, image=image, **fields)


def replica(role: str = "main", main: ContainerPlan | None = None, **fields: Any) -> ReplicaPlan:
    pod = fields.pop("pod", None) or PodPlan(main=main or container())
    return ReplicaPlan(role=role, pod=pod, **fields)


def plan(kind: RunKind = RunKind.JOB, replicas: list[ReplicaPlan] | None = None, **fields: Any) -> Plan:
    return Plan(kind=kind, name="train-cnn", replicas=replicas or [replica()], **fields)


# -- connections: one of every kind --------------------------------------------------------------


def connections() -> list[ConnectionPlan]:
    return [
        ConnectionPlan(
            name="datasets", kind="host_path", schema={"hostPath": "/data/datasets", "mountPath": "/data"}
        ),
        ConnectionPlan(
            name="models",
            kind="volume_claim",
            schema={"volume_claim": "models-pvc", "mount_path": "/models", "read_only": True},
        ),
        ConnectionPlan(
            name="s3-data",
            kind="s3",
            schema={"bucket": "s3://acme-data"},
            secret=SecretRef(name="aws-credentials"),
            env=[EnvVar(name="AWS_REGION", value="eu-west-1")],
        ),
        ConnectionPlan(
            name="gcs-data",
            kind="gcs",
            schema={"bucket": "gs://acme-data"},
            secret=SecretRef(
                name="gcs-key", items=["key.json"], mount_path="/var/secrets/gcs", default_mode=0o400
            ),
        ),
        ConnectionPlan(
            name="repo",
            kind="git",
            schema={"url": "https://github.com/acme/mnist.git", "revision": "main"},
            secret=SecretRef(name="git-token", items=["GIT_TOKEN"]),
        ),
        ConnectionPlan(
            name="settings",
            kind="custom",
            config_map=SecretRef(name="train-settings", mount_path="/etc/train"),
        ),
        ConnectionPlan(name="env-config", kind="custom", config_map=SecretRef(name="env-config")),
    ]


def init_steps() -> list[InitStep]:
    code = "/mizzen/context/code"
    return [
        InitStep(kind="auth", name="init-auth-0"),
        InitStep(
            kind="git", name="init-git-1", path=code, connection="repo", git=GitInit(flags=["--depth=1"])
        ),
        InitStep(
            kind="git",
            name="init-git-2",
            path="/mizzen/context/lib",
            git=GitInit(url="https://github.com/acme/lib.git", revision="v1.2.0"),
        ),
        InitStep(
            kind="artifacts",
            name="init-artifacts-3",
            artifacts=ArtifactsInit(files=["data/train.csv"], dirs=["data/images"], workers=4),
        ),
        InitStep(
            kind="artifacts",
            name="init-artifacts-4",
            connection="s3-data",
            artifacts=ArtifactsInit(dirs=["raw"]),
            path="/mizzen/context/raw",
        ),
        InitStep(
            kind="paths", name="init-paths-5", paths=["data/a.csv", ["data/b.csv", "/mizzen/context/b.csv"]]
        ),
        InitStep(
            kind="file",
            name="init-file-6",
            file=FileInit(content="lr: 0.1\n", filename="config.yaml", chmod="0644"),
        ),
        InitStep(
            kind="dockerfile",
            name="init-dockerfile-7",
            dockerfile=DockerfileInit(image="python:3.11", run=["pip install torch"], env={"A": "1"}),
        ),
        InitStep(
            kind="tensorboard",
            name="init-tensorboard-8",
            tensorboard=TensorboardInit(uuids=["a" * 32, "b" * 32], use_names=True, plugins=["hparams"]),
        ),
        InitStep(kind="lineage", name="init-lineage-9", lineage={"modelRef": "mnist:v1"}),
        InitStep(
            kind="container",
            name="init-container-10",
            container=ContainerPlan(name="warmup", image="busybox:1.36", command=["sh", "-c", "echo warm"]),
        ),
    ]


def full_environment() -> EnvironmentPlan:
    return EnvironmentPlan(
        labels={"team": "vision"},
        annotations={"acme.com/cost-center": "42"},
        node_selector={"node.kubernetes.io/instance-type": "p4d.24xlarge"},
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "gpu", "operator": "In", "values": ["a100"]}]}
                    ]
                }
            }
        },
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        service_account_name="trainer",
        host_aliases=[{"ip": "10.0.0.5", "hostnames": ["registry.local"]}],
        security_context={"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000},
        image_pull_secrets=["regcred"],
        dns_policy="ClusterFirst",
        dns_config={"options": [{"name": "ndots", "value": "2"}]},
        scheduler_name="default-scheduler",
        priority_class_name="high-priority",
    )


def gpu_container(name: str = "main") -> ContainerPlan:
    return container(
        name,
        image="pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
        args=["--epochs", "10"],
        working_dir="/mizzen/context/code",
        env=[EnvVar(name="EPOCHS", value="10"), EnvVar(name="MIZZEN_RUN_UUID", value="spoofed")],
        env_from=[{"secretRef": {"name": "wandb"}}],
        resources=Resources(
            requests={"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "2"}, limits={"memory": "32Gi"}
        ),
        ports=[Port(container_port=6006, name="tensorboard")],
        volume_mounts=[VolumeMount(name="scratch", mount_path="/scratch")],
        extra={"securityContext": {"allowPrivilegeEscalation": False}, "stdin": False},
    )


def full_job() -> Plan:
    """A job that uses every pod-level option at once."""
    pod = PodPlan(
        init=init_steps(),
        main=gpu_container(),
        sidecars=[
            ContainerPlan(name="proxy", image="envoyproxy/envoy:v1.30.1", args=["-c", "/etc/envoy.yaml"])
        ],
        volumes=[Volume(name="scratch", source={"emptyDir": {"sizeLimit": "10Gi"}})],
        connections=["datasets", "models", "s3-data", "gcs-data", "settings", "env-config"],
        environment=full_environment(),
    )
    return plan(
        replicas=[replica(pod=pod)],
        connections=connections(),
        termination=TerminationPlan(
            max_retries=3,
            timeout=3600,
            ttl=600,
            pod_failure_policy={
                "rules": [
                    {
                        "action": "FailJob",
                        "onExitCodes": {"containerName": "mizzen-main", "operator": "In", "values": [42]},
                    },
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
                ]
            },
        ),
        plugins=PluginsPlan(docker=True, shm=True, sidecar={"syncInterval": 30}),
    )


def service() -> Plan:
    main = container(
        command=["jupyter", "lab", "--port=8888"], ports=[Port(container_port=8888, name="http")]
    )
    return plan(
        RunKind.SERVICE,
        [replica(main=main)],
        service=ServicePlan(ports=[8888, 6006], replicas=2, is_external=True, rewrite_path=True),
    )


def _distributed(kind: RunKind, roles: dict[str, int], **distributed: Any) -> Plan:
    replicas = [replica(role, main=gpu_container(role), replicas=count) for role, count in roles.items()]
    for item in replicas:
        item.pod.environment = EnvironmentPlan(tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}])
        item.pod.volumes = [Volume(name="scratch", source={"emptyDir": {}})]
    return plan(
        kind,
        replicas,
        termination=TerminationPlan(max_retries=2, timeout=7200, ttl=300),
        distributed=DistributedPlan(**distributed),
    )


def tfjob() -> Plan:
    return _distributed(
        RunKind.TFJOB,
        {"chief": 1, "ps": 2, "worker": 4, "evaluator": 1},
        clean_pod_policy="Running",
        success_policy="AllWorkers",
        scheduling_policy={"min_available": 8, "queue": "research"},
    )


def pytorchjob() -> Plan:
    return _distributed(
        RunKind.PYTORCHJOB,
        {"master": 1, "worker": 2},
        clean_pod_policy="All",
        n_proc_per_node=2,
        elastic_policy={"minReplicas": 1, "maxReplicas": 4, "rdzvBackend": "c10d", "maxRestarts": 3},
        scheduling_policy={
            "minAvailable": 3,
            "priorityClass": "high-priority",
            "scheduleTimeoutSeconds": 600,
        },
    )


def mpijob() -> Plan:
    return _distributed(
        RunKind.MPIJOB,
        {"launcher": 1, "worker": 2},
        clean_pod_policy="Running",
        slots_per_worker=2,
        implementation="openmpi",
    )


def raycluster(entrypoint: str | None = None) -> Plan:
    head = replica(
        "head",
        main=container("head", image="rayproject/ray:2.9.0", command=[]),
        ray_start_params={"dashboard-host": "0.0.0.0", "num-cpus": "0"},
    )
    small = replica(
        "worker",
        main=container("small", image="rayproject/ray:2.9.0", command=[]),
        group="small-group",
        replicas=2,
        min_replicas=1,
        max_replicas=5,
        ray_start_params={"num-cpus": "4"},
    )
    gpus = replica("worker", main=gpu_container("gpu"), group="gpu-group", replicas=1)
    gpus.pod.volumes = [Volume(name="scratch", source={"emptyDir": {}})]
    return plan(
        RunKind.RAYCLUSTER,
        [head, small, gpus],
        termination=TerminationPlan(max_retries=1, timeout=1800, ttl=120),
        distributed=DistributedPlan(
            ray_version="2.9.0",
            entrypoint=entrypoint,
            runtime_env={"pip": ["requests==2.31.0"], "env_vars": {"A": "1"}} if entrypoint else None,
            metadata={"owner": "acme"} if entrypoint else None,
        ),
    )


def daskcluster(with_job: bool = False) -> Plan:
    image = "ghcr.io/dask/dask:2024.1.0"
    replicas = [
        replica("scheduler", main=container("scheduler", image=image, command=["dask-scheduler"])),
        replica(
            "worker",
            main=container("worker", image=image, command=["dask-worker", "--name", "$(DASK_WORKER_NAME)"]),
            replicas=3,
        ),
    ]
    if with_job:
        replicas.append(replica("job", main=container("job", image=image, command=["python", "job.py"])))
    return plan(RunKind.DASKCLUSTER, replicas)


ALL_PLANS = {
    "job-minimal": plan,
    "job-full": full_job,
    "service": service,
    "tfjob": tfjob,
    "pytorchjob": pytorchjob,
    "mpijob": mpijob,
    "raycluster": raycluster,
    "rayjob": lambda: raycluster(entrypoint="python -c 'import ray; ray.init()'"),
    "daskcluster": daskcluster,
    "daskjob": lambda: daskcluster(with_job=True),
}


def s3_store() -> ArtifactsStore:
    return ArtifactsStore(
        url="s3://acme-artifacts/mizzen",
        connection=ConnectionPlan(name="artifacts", kind="s3", secret=SecretRef(name="artifacts-s3")),
    )


def volume_store(mount_path: str = "/mizzen/store") -> ArtifactsStore:
    connection = ConnectionPlan(
        name="artifacts",
        kind="volume_claim",
        schema={"volumeClaim": "mizzen-artifacts", "mountPath": mount_path},
    )
    return ArtifactsStore(url=mount_path, connection=connection)


ALL_OPTIONS = {
    "defaults": RenderOptions,
    "s3-store": lambda: RenderOptions(
        artifacts_store=s3_store(), token_secret="mizzen-run-token", init_image="registry.local/mizzen:0.1.0"
    ),
    "volume-store": lambda: RenderOptions(artifacts_store=volume_store(), native_sidecars=False),
}


def corpus_catalog() -> list[ConnectionPlan]:
    """The connections the corpus's polyaxonfiles name, as an agent's catalog would define them (the
    same file `mizzen render --connections` reads in tests/cli/test_render_corpus.py)."""
    return list(load_connections(CORPUS_CONNECTIONS).values())
