"""The 3-step idea on Kubernetes: `mizzen run` of a DAG against a server whose pipeline driver
creates the ops, the agent runs them as Jobs on the Kubernetes API double, and the second op gets
the first one's output value and, through its init container run for real, its file from S3."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.agent.cluster import NS, Installation
from tests.agent.conftest import installation, k8s_settings  # noqa: F401  (fixtures)
from tests.agent.kubelet import run_mizzen_init_containers
from tests.agent.support import eventually, moto_s3  # noqa: F401  (moto_s3: a fixture)

from k8s_double.fixtures import k8s_double, k8s_kubeconfig  # noqa: F401  (fixtures)
from mizzen.render.k8s import run_object_name
from mizzen.scheduler.compile_run import pipeline_compiler
from mizzen.scheduler.pipeline.driver import PipelineDriver
from mizzen.schemas.api import RunRead
from mizzen.schemas.statuses import RunStatus as S
from mizzen.settings import Settings
from mizzen.store import open_database

DAG = {
    "version": 1.1,
    "kind": "operation",
    "name": "three-steps",
    "component": {
        "run": {
            "kind": "dag",
            "operations": [
                {
                    "name": "prepare",
                    "component": {
                        "outputs": [{"name": "rows", "type": "int"}],
                        "run": {"kind": "job", "container": {"image": "python:3.11", "command": ["prepare"]}},
                    },
                },
                {
                    "name": "train",
                    "params": {"rows": {"ref": "ops.prepare", "value": "outputs.rows"}},
                    "component": {
                        "inputs": [{"name": "rows", "type": "int"}],
                        "run": {
                            "kind": "job",
                            "init": [{"paths": ["{{ ops.prepare.globals.run_outputs_path }}/data.csv"]}],
                            "container": {
                                "image": "python:3.11",
                                "command": [
                                    "train",
                                    "--rows={{ rows }}",
                                    "{{ globals.artifacts_path }}/data.csv",
                                ],
                            },
                        },
                    },
                },
            ],
        }
    },
}


@pytest.fixture
def driver(
    installation: Installation,  # noqa: F811
    k8s_settings: Settings,  # noqa: F811
) -> Iterator[PipelineDriver]:
    """What `mizzen server` runs beside the API: the pipeline driver of the kubernetes executor."""
    database = open_database(k8s_settings.resolved_database_url)
    driver = PipelineDriver(
        database, pipeline_compiler(k8s_settings), executor="kubernetes", poll_interval=0.1
    )
    driver.start()
    try:
        yield driver
    finally:
        driver.close()
        database.dispose()


def op_run(setup: Installation, dag_uuid: str, name: str) -> dict:
    def found() -> dict | None:
        listed = setup.mizzen("ops", "ls", "-p", "dags", "-q", f"pipeline:{dag_uuid}", "--json")
        assert listed.returncode == 0, listed.stderr
        return next((run for run in json.loads(listed.stdout) if run["name"] == name), None)

    return eventually(found, f"op {name} of the DAG")


def first_run(setup: Installation) -> RunRead | None:
    with setup.client() as client:
        page = client.runs.list(project="dags", sort="created_at", limit=1)
    return page.items[0] if page.items else None


def run_pod(setup: Installation, uuid: str) -> str:
    job = run_object_name("job", uuid)
    setup.object("batch/v1", "Job", job)
    (pod,) = setup.pods("Job", job)
    setup.double.set_pod_phase(NS, pod, "Pending", node="node-1")
    setup.wait_status(uuid, S.STARTING)
    return pod


def test_a_dag_runs_on_kubernetes_passing_a_value_and_a_file_downstream(
    installation: Installation,  # noqa: F811
    driver: PipelineDriver,
) -> None:
    setup = installation
    setup.start_agent()
    path = setup.write_polyaxonfile("dag.yaml", DAG)
    cli = setup.mizzen_background("run", "-f", str(path), "-p", "dags")
    dag = eventually(lambda: first_run(setup), "the DAG created by mizzen run")
    assert dag.kind == "dag"

    prepare = op_run(setup, dag.uuid, "prepare")
    pod = run_pod(setup, prepare["uuid"])
    setup.double.set_pod_phase(NS, pod, "Running")
    setup.wait_status(prepare["uuid"], S.RUNNING)
    store = setup.agent_env["MIZZEN_ARTIFACTS_STORE"]
    with setup.s3.filesystem().open(
        f"{store.removeprefix('s3://')}/{prepare['uuid']}/outputs/data.csv", "wb"
    ) as f:
        f.write(b"x,y\n1,2\n")  # what prepare's sidecar archives from its outputs folder
    with setup.client() as client:
        client.runs.update(prepare["uuid"], outputs={"rows": 42})  # what tracking.log_outputs sends
    setup.double.set_pod_phase(NS, pod, "Succeeded")
    setup.wait_status(prepare["uuid"], S.SUCCEEDED)

    train = op_run(setup, dag.uuid, "train")
    assert train["meta"]["upstream"]["prepare"]["outputs"] == {"rows": 42}
    job = setup.object("batch/v1", "Job", run_object_name("job", train["uuid"]))
    main = job["spec"]["template"]["spec"]["containers"][0]
    assert main["command"][:2] == ["train", "--rows=42"]
    init = [
        c
        for c in job["spec"]["template"]["spec"]["initContainers"]
        if c["command"] == ["mizzen", "init", "paths"]
    ]
    assert init and f"{store}/{prepare['uuid']}/outputs/data.csv" in init[0]["args"]
    pod = run_pod(setup, train["uuid"])
    pod_root = setup.root / "pod"
    run_mizzen_init_containers(setup.double, pod, pod_root)  # the init container, run for real
    copied = pod_root / "mizzen" / "context" / "artifacts" / "data.csv"
    assert copied.read_text() == "x,y\n1,2\n"
    setup.double.set_pod_phase(NS, pod, "Running")
    setup.wait_status(train["uuid"], S.RUNNING)
    setup.double.set_pod_phase(NS, pod, "Succeeded")

    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, (out, err)  # the DAG succeeded
    assert setup.wait_status(dag.uuid, S.SUCCEEDED).status == S.SUCCEEDED
