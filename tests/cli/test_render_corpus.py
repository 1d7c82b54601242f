"""`mizzen render` on real polyaxonfiles of the public corpus, as a user types it: the values the
reference (polyaxon 2.18) compiles for the same files, in objects that validate strictly."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_harness import CliResult

import k8s_schema
from mizzen.compiler.compile import compile_files
from mizzen.errors import MizzenError
from mizzen.settings import Settings
from shared_data import corpus_dir

MIZZEN = str(Path(sys.executable).parent / "mizzen")
CORPUS = corpus_dir()
RAW = "https://raw.githubusercontent.com/polyaxon"
MIRRORS = ",".join(
    f"{RAW}/{repo}/master/={CORPUS / repo}" for repo in ("polyaxon-quick-start", "polyaxon-examples")
)
# Every connection the corpus names, in the catalog format (also the render tests' catalog).
CATALOG = Path(__file__).resolve().parents[1] / "data" / "corpus_connections.yaml"
NOT_IN_CATALOG = re.compile(r"warning: connection '(.+?)' is not in the connections catalog")
# Objects that render but that an API server would reject as written: Polyaxon fixtures with
# `configMap: {configName: ...}` (tests/render/test_k8s_corpus.py says the same), a hub component.
CONFIG_NAME = "'configName' was unexpected"
INVALID_AS_WRITTEN = {
    "cli/cli/tests/fixtures/plain/job_file_with_init.yml": CONFIG_NAME,
    "cli/cli/tests/fixtures/plain/job_file_with_templated_file_init_and_to_env.yml": CONFIG_NAME,
    # `environment.securityContext: {privileged: true}`: a container's field, not a pod's
    "polyaxon-hub/buildah/latest.yaml": "'privileged' was unexpected",
}

Render = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def render(tmp_path: Path) -> Render:
    """`mizzen render ARGS` in a fresh home, hubRefs found in the corpus's hub, its URLs mirrored."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    env["MIZZEN_HOME"] = str(tmp_path / "home")
    env["MIZZEN_HUB_PATH"] = str(CORPUS / "polyaxon-hub")
    env["MIZZEN_URL_MIRRORS"] = MIRRORS

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MIZZEN, "render", *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    return run


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def rendered(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """The objects of a render that succeeded, checked against the schemas."""
    assert done.returncode == 0, done.stderr
    objects = documents(done.stdout)
    k8s_schema.assert_valid(objects)
    return objects


def main_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    job = next(o for o in objects if o["kind"] == "Job")
    container: dict[str, Any] = job["spec"]["template"]["spec"]["containers"][0]
    return container


# -- item 16: a whole-field template over a list input -------------------------------------------


@pytest.mark.parametrize(
    ("hub", "default_args"),
    [("aws-cli", ["--version"]), ("gcloud-cli", ["help"]), ("azure-cli", [])],
)
def test_a_whole_field_template_over_a_list_gives_its_items(
    render: Render, hub: str, default_args: list[str]
) -> None:
    file = str(CORPUS / "polyaxon-hub" / hub / "latest.yaml")
    assert main_container(rendered(render("-f", file))).get("args", []) == default_args
    given = main_container(rendered(render("-f", file, "-P", 'args=["s3", "ls", "a b"]')))
    assert given["args"] == ["s3", "ls", "a b"]
    assert main_container(rendered(render("-f", file, "-P", "args=[]"))).get("args", []) == []


def test_a_whole_field_template_over_a_string_stays_one_argument(render: Render, tmp_path: Path) -> None:
    spec = tmp_path / "echo.yaml"
    spec.write_text(
        "version: 1.1\n"
        "kind: component\n"
        "inputs: [{name: message, type: str}, {name: words, type: str, isList: true}]\n"
        "run:\n"
        "  kind: job\n"
        "  container: {image: busybox, command: '{{ words }}', args: '{{ message }}'}\n"
    )
    done = render("-f", str(spec), "-P", "message=hello world", "-P", 'words=["echo", "-n"]')
    main = main_container(rendered(done))
    assert main["command"] == ["echo", "-n"]
    assert main["args"] == ["hello world"]


# -- item 17: runPatch.container on a distributed run ---------------------------------------------


def test_run_patch_container_reaches_the_workers_of_a_tfjob(render: Render) -> None:
    file = CORPUS / "polyaxon-examples/in_cluster/kubeflow/tfjob/operation-gpu.yml"
    tfjob = next(o for o in rendered(render("-f", str(file))) if o["kind"] == "TFJob")
    worker = tfjob["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]
    assert worker["resources"]["limits"] == {"nvidia.com/gpu": "1"}


def test_run_patch_pod_sections_patch_every_replica(render: Render, tmp_path: Path) -> None:
    component = {
        "version": 1.1,
        "kind": "component",
        "run": {
            "kind": "pytorchjob",
            "master": {"replicas": 1, "container": {"image": "pytorch:2", "command": ["python", "m.py"]}},
            "worker": {"replicas": 3, "container": {"image": "pytorch:2", "command": ["python", "w.py"]}},
        },
    }
    (tmp_path / "component.yaml").write_text(yaml.safe_dump(component))
    operation = {
        "version": 1.1,
        "kind": "operation",
        "pathRef": "component.yaml",
        "runPatch": {
            "container": {"resources": {"limits": {"nvidia.com/gpu": 2}}},
            "environment": {"nodeSelector": {"gpu": "a100"}},
        },
    }
    (tmp_path / "op.yaml").write_text(yaml.safe_dump(operation))
    job = next(o for o in rendered(render("-f", str(tmp_path / "op.yaml"))) if o["kind"] == "PyTorchJob")
    for role in ("Master", "Worker"):
        spec = job["spec"]["pytorchReplicaSpecs"][role]["template"]["spec"]
        assert spec["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": "2"}, role
        assert spec["nodeSelector"] == {"gpu": "a100"}, role
    assert job["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["command"] == [
        "python",
        "w.py",
    ]


def test_a_run_patch_section_the_run_lacks_is_an_error_not_dropped(render: Render, tmp_path: Path) -> None:
    (tmp_path / "op.yaml").write_text(
        "version: 1.1\n"
        "kind: operation\n"
        "runPatch:\n"
        "  replicas: 3\n"
        "component:\n"
        "  run:\n"
        "    kind: job\n"
        "    container: {image: python:3.11, command: [python, train.py]}\n"
    )
    done = render("-f", str(tmp_path / "op.yaml"))
    assert done.returncode != 0
    assert "op.yaml:4" in done.stderr and "runPatch.replicas" in done.stderr, done.stderr
    assert "a job run has no 'replicas' section" in done.stderr
    assert "Traceback" not in done.stderr


# -- item 15: `check` rejects what the API server would ---------------------------------------------


def test_check_rejects_a_node_affinity_without_terms(tmp_path: Path) -> None:
    file = CORPUS / "cli/cli/tests/fixtures/plain/job_file_with_environment.yml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    env["MIZZEN_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [MIZZEN, "check", "-f", str(file)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode != 0, done.stdout
    assert f"{file}:16:9" in done.stderr, done.stderr
    assert (
        "requiredDuringSchedulingIgnoredDuringExecution: missing required key 'nodeSelectorTerms'"
        in done.stderr
    )


# -- item 15: every corpus file that compiles renders ----------------------------------------------


def _params(text: str) -> list[str]:
    """MANIFEST's `params_to_compile` (`loss=x flag=true config={"a": 1}`) as -P arguments."""
    pairs = [p for p in re.split(r"\s+(?=[A-Za-z_][\w-]*=)", text.strip()) if p]
    return [arg for pair in pairs for arg in ("-P", pair)]


@cache
def compiling_files() -> list[tuple[str, tuple[str, ...]]]:
    """(corpus path, -P arguments) of every corpus file that `mizzen check` accepts."""
    settings = Settings(hub_path=str(CORPUS / "polyaxon-hub"), url_mirrors=MIRRORS, home=Path("/nonexistent"))
    with (CORPUS / "MANIFEST.tsv").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    found = []
    for row in rows:
        path = row["path"] if (CORPUS / row["path"]).exists() else row["path"].split(" (")[0]
        args = tuple(_params(row["params_to_compile"]))
        params = dict(pair.split("=", 1) for pair in args[1::2])
        try:
            compile_files([CORPUS / path], params, settings)
        except MizzenError:
            continue
        found.append((path, args))
    return found


@pytest.fixture
def corpus_cli(cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """`mizzen ...` in this process (the real entry point), refs resolved from the corpus."""
    monkeypatch.setenv("MIZZEN_HUB_PATH", str(CORPUS / "polyaxon-hub"))
    monkeypatch.setenv("MIZZEN_URL_MIRRORS", MIRRORS)
    return cli


def test_most_of_the_corpus_compiles() -> None:
    assert len(compiling_files()) >= 115, len(compiling_files())


def _check_objects(path: str, done: CliResult) -> list[dict[str, Any]]:
    assert done.exit_code == 0, f"{path}: {done.stderr}"
    objects = documents(done.stdout)
    assert objects, path
    problems = [problem for obj in objects for problem in k8s_schema.problems(obj)]
    if path in INVALID_AS_WRITTEN:
        assert any(INVALID_AS_WRITTEN[path] in problem for problem in problems), problems
    else:
        assert problems == [], f"{path}:\n" + "\n".join(problems)
    return objects


@pytest.mark.parametrize(("path", "args"), compiling_files(), ids=[path for path, _ in compiling_files()])
def test_every_corpus_file_that_compiles_renders(
    corpus_cli: Callable[..., CliResult], path: str, args: tuple[str, ...]
) -> None:
    """With no connections catalog: a missing connection is a placeholder and a warning on stderr."""
    done = corpus_cli("render", "-f", str(CORPUS / path), *args)
    _check_objects(path, done)
    for name in NOT_IN_CATALOG.findall(done.stderr):
        placeholder = f"<connection '{name}' is not in the connections catalog"
        assert placeholder in str(documents(done.stdout)), name


@pytest.mark.parametrize(("path", "args"), compiling_files(), ids=[path for path, _ in compiling_files()])
def test_every_corpus_file_renders_with_a_connections_file(
    corpus_cli: Callable[..., CliResult], path: str, args: tuple[str, ...]
) -> None:
    """With `--connections FILE` defining what the corpus names, nothing is a placeholder (but
    names that are templates which cannot be rendered yet)."""
    done = corpus_cli("render", "-f", str(CORPUS / path), *args, "--connections", str(CATALOG))
    _check_objects(path, done)
    assert [name for name in NOT_IN_CATALOG.findall(done.stderr) if "{{" not in name] == []


def test_a_missing_connection_is_a_placeholder_and_a_warning(render: Render, tmp_path: Path) -> None:
    file = str(CORPUS / "polyaxon-examples/in_cluster/build_image/build-ml.yaml")
    done = render("-f", file)
    job = main_container(rendered(done))
    warning = (
        "warning: connection 'docker-connection' is not in the connections catalog; "
        "rendered with a placeholder"
    )
    assert warning in done.stderr
    assert f"# {warning}" in done.stdout
    placeholder = {
        "name": "MIZZEN_MISSING_CONNECTION_DOCKER_CONNECTION",
        "value": "<connection 'docker-connection' is not in the connections catalog: define it in "
        "$MIZZEN_HOME/connections.yaml or pass --connections FILE>",
    }
    assert placeholder in job["env"]
    # kaniko prefixes the destination with the url of a connection the catalog defines
    assert job["args"][job["args"].index("-d") + 1] == "polyaxon-examples:ml"

    given = render("-f", file, "--connections", str(CATALOG))
    job = main_container(rendered(given))
    assert "not in the connections catalog" not in given.stderr + given.stdout
    assert job["args"][job["args"].index("-d") + 1] == "registry.local/polyaxon-examples:ml"
    mount = {"name": "conn-docker-connection-secret", "mountPath": "/kaniko/.docker", "readOnly": True}
    assert mount in job["volumeMounts"]

    missing = render("-f", file, "--connections", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1 and "nope.yaml: no such file" in missing.stderr


def test_a_build_section_gives_the_image_it_pushes(render: Render) -> None:
    file = str(CORPUS / "cli/cli/tests/fixtures/plain/distributed_tensorflow_file_build.yml")
    tfjob = next(
        o for o in rendered(render("-f", file, "--connections", str(CATALOG))) if o["kind"] == "TFJob"
    )
    images = {
        role: spec["template"]["spec"]["containers"][0]["image"]
        for role, spec in tfjob["spec"]["tfReplicaSpecs"].items()
    }
    assert set(images) == {"Worker", "PS"}
    image = images["Worker"]
    assert images["PS"] == image and re.fullmatch(r"registry\.local/default:[0-9a-f]{32}", image), images
    assert image == f"registry.local/default:{tfjob['metadata']['labels']['mizzen.dev/run-uuid']}"

    done = render("-f", file)
    tfjob = next(o for o in rendered(done) if o["kind"] == "TFJob")
    worker = tfjob["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]
    assert worker["image"].startswith("<registry of connection 'docker-connection'>/default:")
    assert "connection 'docker-connection' is not in the connections catalog" in done.stderr


def test_an_op_with_an_inline_component_beside_a_hub_ref_runs_the_inline_one(render: Render) -> None:
    file = str(CORPUS / "cli/cli/tests/fixtures/pipelines/matrix_file.yml")
    done = render("-f", file)
    objects = rendered(done)
    warning = (
        "warning: op 'build' has no container to start: its inline component is used, not hubRef 'kaniko'"
    )
    assert warning in done.stderr
    assert done.stdout.startswith(f"---\n# op: build (job)\n# {warning}")
    assert [o["kind"] for o in objects] == ["Secret", "Job"]  # the sweep's trial; nothing for `build`
    assert "kaniko" not in str(objects)


def test_join_inputs_render_as_placeholders(render: Render) -> None:
    done = render("-f", str(CORPUS / "cli/cli/tests/fixtures/pipelines/simple_joins_pipeline.yml"))
    assert len([o for o in rendered(done) if o["kind"] == "Job"]) == 5
    assert (
        "# op: reduce (job)\n"
        "# joins: buckets = <joins: artifacts.bucket of the runs matching 'hub.name: job-template'> "
        "(collected when the op starts)\n"
        "# joins: losses = <joins: outputs.loss of the runs matching 'hub.name: experiment-template'> "
        "(collected when the op starts)\n"
    ) in done.stdout


def test_an_artifacts_init_with_from_to_pairs_copies_to_the_destination(render: Render) -> None:
    file = (
        CORPUS
        / "polyaxon-quick-start/scheduling/build-containers/upload_generate_dockerfile_build_and_run.yaml"
    )
    done = render("-f", str(file), "--connections", str(CATALOG))
    experiment = [o for o in rendered(done) if o["kind"] == "Job"][1]
    init = experiment["spec"]["template"]["spec"]["initContainers"][0]
    assert init["command"] == ["mizzen", "init", "paths"]
    run_uuid = experiment["metadata"]["labels"]["mizzen.dev/run-uuid"]
    # `dirs: [["{{ pipeline_uuid }}", "{{ globals.run_artifacts_path }}"]]`: copied to the destination
    assert init["args"][:3] == ["--item-to", "{{ pipeline_uuid }}", f"/mizzen/context/artifacts/{run_uuid}"]
