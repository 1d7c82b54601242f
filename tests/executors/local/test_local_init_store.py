"""Init steps other than git, and the artifacts store: a local folder and a real S3 server (moto)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.executors.support import (
    MakeExecutor,
    Recorder,
    S3Server,
    container,
    make_plan,
    new_run,
    run_to_end,
)

from mizzen.compiler.plan import (
    ArtifactsInit,
    ConnectionPlan,
    DockerfileInit,
    EnvVar,
    FileInit,
    InitStep,
    RunKind,
    TensorboardInit,
)
from mizzen.executors.local.init_steps import AUTH_FILE
from mizzen.render.local import SecretCatalog
from mizzen.schemas.statuses import RunStatus

S = RunStatus


def test_file_auth_and_dockerfile_steps_write_their_files(executor, recorder: Recorder) -> None:
    init = [
        InitStep(kind="auth", name="init-auth"),
        InitStep(
            kind="file",
            name="init-file-0",
            file=FileInit(content="#!/bin/sh\necho from the script\n", filename="run.sh", chmod="+x"),
        ),
        InitStep(
            kind="dockerfile",
            name="init-dockerfile-0",
            dockerfile=DockerfileInit(
                image="python:3.11", env={"A": "1"}, run=["pip install numpy"], workdir="/w"
            ),
        ),
    ]
    plan = make_plan(["sh", "-c", '"$MIZZEN_CONTEXT_PATH/artifacts/run.sh"'], init=init)
    run = run_to_end(executor, plan, new_run(token="run-token-9", api_host="http://127.0.0.1:5999"))
    assert recorder.last(run.uuid).status == S.SUCCEEDED, recorder.last(run.uuid)
    assert recorder.lines(run.uuid, "main") == ["from the script"]
    context = Path(executor.runtime_context(run).context_path)
    auth = context / ".configs" / AUTH_FILE
    assert json.loads(auth.read_text()) == {"token": "run-token-9", "host": "http://127.0.0.1:5999"}
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert (context / "artifacts" / "run.sh").stat().st_mode & stat.S_IXUSR
    dockerfile = (context / "artifacts" / "Dockerfile").read_text().splitlines()
    assert dockerfile[0] == "FROM python:3.11"
    assert 'ENV A "1"' in dockerfile
    assert "WORKDIR /w" in dockerfile
    assert "RUN pip install numpy" in dockerfile


def test_a_container_init_step_runs_first_and_its_failure_stops_the_run(executor, recorder: Recorder) -> None:
    ok = InitStep(
        kind="container",
        name="init-prepare",
        container=container(["sh", "-c", 'echo prepared > "$MIZZEN_CONTEXT_PATH/ready"; echo init says hi']),
    )
    run = run_to_end(executor, make_plan(["sh", "-c", 'cat "$MIZZEN_CONTEXT_PATH/ready"'], init=[ok]))
    assert recorder.lines(run.uuid, "init-prepare") == ["init says hi"]
    assert recorder.lines(run.uuid, "main") == ["prepared"]

    bad = InitStep(kind="container", name="init-broken", container=container(["sh", "-c", "exit 6"]))
    run = run_to_end(executor, make_plan(["echo", "must not run"], init=[bad]))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "init failed: init-broken")
    assert "exit code 6" in (last.message or "")
    assert recorder.lines(run.uuid, "main") == []


def test_artifacts_of_an_earlier_run_are_copied_from_the_local_store(executor, recorder: Recorder) -> None:
    producer = run_to_end(
        executor,
        make_plan(
            [
                "sh",
                "-c",
                'mkdir -p "$MIZZEN_RUN_OUTPUTS_PATH/model" "$MIZZEN_RUN_OUTPUTS_PATH/tensorboard" && '
                'echo weights > "$MIZZEN_RUN_OUTPUTS_PATH/model/w.bin" && '
                'echo metrics > "$MIZZEN_RUN_OUTPUTS_PATH/score.txt" && '
                'echo events > "$MIZZEN_RUN_OUTPUTS_PATH/tensorboard/events.out"',
            ]
        ),
    )
    uuid = producer.uuid
    init = [
        InitStep(
            kind="artifacts",
            name="init-artifacts-0",
            artifacts=ArtifactsInit(files=[f"{uuid}/outputs/score.txt"], dirs=[f"{uuid}/outputs/model"]),
        ),
        InitStep(kind="paths", name="init-paths-0", paths=[[f"{uuid}/outputs/model", "renamed"]]),
        InitStep(kind="tensorboard", name="init-tb-0", tensorboard=TensorboardInit(uuids=[uuid, "missing"])),
    ]
    show = (
        'cd "$MIZZEN_CONTEXT_PATH/artifacts" && '
        f"cat {uuid}/outputs/score.txt {uuid}/outputs/model/w.bin renamed/w.bin {uuid}/events.out"
    )
    run = run_to_end(executor, make_plan(["sh", "-c", show], init=init))
    assert recorder.last(run.uuid).status == S.SUCCEEDED, recorder.last(run.uuid)
    assert recorder.lines(run.uuid, "main") == ["metrics", "weights", "weights", "events"]
    assert any(
        "run missing has no tensorboard logs" in line for line in recorder.lines(run.uuid, "init-tb-0")
    )


def test_a_path_missing_from_the_store_fails_clearly(executor, recorder: Recorder) -> None:
    step = InitStep(kind="paths", name="init-paths-0", paths=["nowhere/data.csv"])
    run = run_to_end(executor, make_plan(["true"], init=[step]))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "init failed: init-paths-0")
    assert "'nowhere/data.csv' is not in the artifacts store" in (last.message or "")


def test_a_lineage_reference_without_a_path_says_what_to_do(executor, recorder: Recorder) -> None:
    step = InitStep(kind="lineage", name="init-lineage-0", lineage={"modelRef": "my-model:v2"})
    run = run_to_end(executor, make_plan(["true"], init=[step]))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "init failed: init-lineage-0")
    assert "modelRef needs the run registry" in (last.message or "")
    assert "paths:" in (last.message or "")


def s3_connection(server: S3Server, bucket: str, *, via_secret: bool) -> tuple[ConnectionPlan, SecretCatalog]:
    if via_secret:
        connection = ConnectionPlan.model_validate(
            {"name": "lake", "kind": "s3", "schema": {"bucket": f"s3://{bucket}"}, "secret": {"name": "aws"}}
        )
        return connection, SecretCatalog(secrets={"aws": server.env})
    env = [EnvVar(name=k, value=v) for k, v in server.env.items()]
    return ConnectionPlan(name="lake", kind="s3", schema={"bucket": bucket}, env=env), SecretCatalog()


def test_paths_are_fetched_from_s3_through_a_connection(
    make_executor: MakeExecutor, recorder: Recorder, s3_server: S3Server
) -> None:
    bucket = s3_server.make_bucket()
    fs = s3_server.filesystem()
    fs.pipe(f"{bucket}/data/train.csv", b"a,b\n1,2\n")
    fs.pipe(f"{bucket}/data/images/x.txt", b"x")
    fs.pipe(f"{bucket}/data/images/deep/y.txt", b"y")
    connection, catalog = s3_connection(s3_server, bucket, via_secret=True)
    executor = make_executor(catalog=catalog)
    step = InitStep(
        kind="paths",
        name="init-paths-0",
        connection="lake",
        paths=["data/train.csv", ["data/images", "imgs"]],
    )
    show = 'cd "$MIZZEN_CONTEXT_PATH/artifacts/lake" && cat data/train.csv imgs/x.txt imgs/deep/y.txt'
    run = run_to_end(executor, make_plan(["sh", "-c", show], init=[step], connections=[connection]))
    assert recorder.last(run.uuid).status == S.SUCCEEDED, recorder.last(run.uuid)
    assert recorder.lines(run.uuid, "main") == ["a,b", "1,2", "xy"]


def test_outputs_and_logs_are_synced_to_an_s3_store(
    make_executor: MakeExecutor, recorder: Recorder, s3_server: S3Server, tmp_path: Path
) -> None:
    bucket = s3_server.make_bucket()
    executor = make_executor(artifacts_store=f"s3://{bucket}/runs", storage_options=s3_server.options)
    run = new_run()
    context = executor.runtime_context(run)
    assert context.store_path == f"s3://{bucket}/runs"
    assert context.run_outputs_path.startswith(str(tmp_path / "home" / "runs" / run.uuid))
    write = 'echo trained > "$MIZZEN_RUN_OUTPUTS_PATH/model.txt"; echo done'
    run_to_end(executor, make_plan(["sh", "-c", write]), run)
    assert recorder.last(run.uuid).status == S.SUCCEEDED, recorder.last(run.uuid)
    fs = s3_server.filesystem()
    assert fs.cat(f"{bucket}/runs/{run.uuid}/outputs/model.txt") == b"trained\n"
    assert b" done\n" in fs.cat(f"{bucket}/runs/{run.uuid}/logs/main.log")

    # the next run reads it back from the S3 store through an artifacts init step
    step = InitStep(
        kind="artifacts",
        name="init-artifacts-0",
        artifacts=ArtifactsInit(files=[f"{run.uuid}/outputs/model.txt"]),
    )
    reader = run_to_end(
        executor,
        make_plan(
            ["sh", "-c", f'cat "$MIZZEN_CONTEXT_PATH/artifacts/{run.uuid}/outputs/model.txt"'], init=[step]
        ),
    )
    assert recorder.lines(reader.uuid, "main") == ["trained"]


def test_a_stopped_run_still_syncs_what_it_wrote(
    make_executor: MakeExecutor, recorder: Recorder, s3_server: S3Server
) -> None:
    bucket = s3_server.make_bucket()
    executor = make_executor(artifacts_store=f"s3://{bucket}", storage_options=s3_server.options)
    run = new_run()
    script = 'echo partial > "$MIZZEN_RUN_OUTPUTS_PATH/checkpoint.txt"; echo written; sleep 300'
    executor.submit(run, make_plan(["sh", "-c", script], kind=RunKind.JOB))
    recorder.wait_for(lambda: "written" in recorder.lines(run.uuid, "main"))
    executor.stop(run.uuid, grace_seconds=1)
    assert executor.wait(run.uuid, 30) == S.STOPPED
    assert s3_server.filesystem().cat(f"{bucket}/{run.uuid}/outputs/checkpoint.txt") == b"partial\n"


def test_s3_credentials_from_plain_connection_env(
    make_executor: MakeExecutor, recorder: Recorder, s3_server: S3Server
) -> None:
    bucket = s3_server.make_bucket()
    s3_server.filesystem().pipe(f"{bucket}/one.txt", b"one")
    connection, catalog = s3_connection(s3_server, bucket, via_secret=False)
    executor = make_executor(catalog=catalog)
    step = InitStep(kind="paths", name="init-paths-0", connection="lake", paths=["one.txt"])
    plan = make_plan(
        ["cat", "$(MIZZEN_CONTEXT_PATH)/artifacts/lake/one.txt"], init=[step], connections=[connection]
    )
    run = run_to_end(executor, plan)
    assert recorder.last(run.uuid).status == S.SUCCEEDED, recorder.last(run.uuid)
    assert recorder.lines(run.uuid, "main") == ["one"]


def test_a_failed_upload_to_the_store_fails_the_run(
    make_executor: MakeExecutor, recorder: Recorder, s3_server: S3Server
) -> None:
    executor = make_executor(artifacts_store="s3://no-such-bucket-here/x", storage_options=s3_server.options)
    run = run_to_end(executor, make_plan(["sh", "-c", 'echo x > "$MIZZEN_RUN_OUTPUTS_PATH/out.txt"']))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "artifacts upload failed")
    assert "s3://no-such-bucket-here/x" in (last.message or "")


def test_links_a_run_plants_are_not_archived_to_the_store(
    make_executor: MakeExecutor, recorder: Recorder, s3_server: S3Server, tmp_path: Path
) -> None:
    """A run links files of this machine into its outputs (a secret, the whole home): the executor
    archives the run's own files only, so nothing behind a link reaches the store."""
    secret = tmp_path / "secret.txt"
    secret.write_text("the server's secret\n")
    bucket = s3_server.make_bucket()
    executor = make_executor(artifacts_store=f"s3://{bucket}/runs", storage_options=s3_server.options)
    script = (
        'cd "$MIZZEN_RUN_OUTPUTS_PATH" && echo mine > own.txt'
        f" && ln -s {secret} leak.txt && ln -s {tmp_path} everything"
    )
    run = run_to_end(executor, make_plan(["sh", "-c", script]))
    assert recorder.last(run.uuid).status == S.SUCCEEDED, recorder.last(run.uuid)
    fs = s3_server.filesystem()
    keys = sorted(
        key.removeprefix(f"{bucket}/runs/{run.uuid}/") for key in fs.find(f"{bucket}/runs/{run.uuid}")
    )
    assert "outputs/own.txt" in keys
    assert not [key for key in keys if "leak" in key or "everything" in key], keys
    assert all(b"the server's secret" not in fs.cat(f"{bucket}/runs/{run.uuid}/{key}") for key in keys)
