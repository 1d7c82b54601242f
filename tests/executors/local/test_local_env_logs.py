"""What a local process sees (env, cwd, argv) and how its output is captured."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tests.executors.support import (
    PYTHON,
    MakeExecutor,
    Recorder,
    container,
    make_plan,
    new_run,
    pid_gone,
    run_to_end,
)

from mizzen.compiler.plan import ConnectionPlan, EnvVar, SecretRef
from mizzen.executors.local.logs import MAX_LINE_BYTES
from mizzen.render.local import SecretCatalog
from mizzen.schemas.statuses import RunStatus

S = RunStatus
DUMP_ENV = (
    "import json, os, sys; print(json.dumps({'env': dict(os.environ), 'cwd': os.getcwd(), 'argv': sys.argv}))"
)


def dumped(recorder: Recorder, uuid: str) -> dict:
    return json.loads(next(line for line in recorder.lines(uuid, "main") if line.startswith("{")))


def test_the_process_sees_the_runtime_env_the_plan_env_and_the_callers_env(
    make_executor: MakeExecutor, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FROM_THE_CALLER", "inherited")
    catalog = SecretCatalog(
        secrets={"db": {"PASSWORD": "s3cret"}, "aws": {"AWS_ACCESS_KEY_ID": "AK", "OTHER": "x"}},
        config_maps={"settings": {"LEVEL": "debug"}},
    )
    executor = make_executor(catalog=catalog)
    main = container(
        [PYTHON, "-c", DUMP_ENV],
        env={"LR": "0.1"},
        env_vars=[
            EnvVar(name="DB_PASSWORD", value_from={"secretKeyRef": {"name": "db", "key": "PASSWORD"}}),
            EnvVar(name="LOG_LEVEL", value_from={"configMapKeyRef": {"name": "settings", "key": "LEVEL"}}),
        ],
    )
    connection = ConnectionPlan(
        name="s3-data",
        kind="s3",
        schema={"bucket": "s3://data"},
        secret=SecretRef(name="aws", items=["AWS_ACCESS_KEY_ID"]),
        env=[EnvVar(name="DATA_REGION", value="eu-west-1")],
    )
    plan = make_plan(main=main, connections=[connection], pod_connections=["s3-data"])
    run = run_to_end(executor, plan, new_run(name="env-run", project="proj", token="tok-1", iteration=4))
    assert recorder.last(run.uuid).status == S.SUCCEEDED
    seen = dumped(recorder, run.uuid)
    env = seen["env"]
    context = executor.runtime_context(run)
    assert env["FROM_THE_CALLER"] == "inherited"
    assert env["LR"] == "0.1"
    assert env["DB_PASSWORD"] == "s3cret"
    assert env["LOG_LEVEL"] == "debug"
    assert env["AWS_ACCESS_KEY_ID"] == "AK"
    assert "OTHER" not in env  # only the items the connection lists
    assert env["DATA_REGION"] == "eu-west-1"
    assert env["MIZZEN_RUN_UUID"] == run.uuid
    assert env["MIZZEN_RUN_NAME"] == "env-run"
    assert env["MIZZEN_PROJECT"] == "proj"
    assert env["MIZZEN_TOKEN"] == "tok-1"
    assert env["MIZZEN_ITERATION"] == "4"
    assert env["MIZZEN_IS_MANAGED"] == "true"
    assert env["MIZZEN_HOST"] == run.api_host
    assert (
        env["MIZZEN_RUN_OUTPUTS_PATH"]
        == context.run_outputs_path
        == str(tmp_path / "store" / run.uuid / "outputs")
    )
    assert Path(env["MIZZEN_RUN_OUTPUTS_PATH"]).is_dir()
    assert seen["cwd"] == context.context_path  # no workingDir: the run's context folder


def test_a_missing_secret_fails_the_run_and_names_it(executor, recorder: Recorder) -> None:
    main = container(
        ["true"],
        env_vars=[EnvVar(name="TOKEN", value_from={"secretKeyRef": {"name": "api", "key": "TOKEN"}})],
    )
    run = run_to_end(executor, make_plan(main=main))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "missing secret")
    assert "env TOKEN: secret 'api' is not in the local catalog" in (last.message or "")
    assert "secrets.yaml" in (last.message or "")


def test_python_is_the_callers_python_with_mizzen_importable(executor, recorder: Recorder) -> None:
    code = "import sys, mizzen; print(sys.prefix); print(mizzen.__file__)"
    run = run_to_end(executor, make_plan(["python", "-c", code]))
    assert recorder.last(run.uuid).status == S.SUCCEEDED
    prefix, module = recorder.lines(run.uuid, "main")[:2]
    assert prefix == sys.prefix
    import mizzen

    assert module == mizzen.__file__


def test_working_dir_and_kubernetes_style_references(executor, recorder: Recorder, tmp_path: Path) -> None:
    workdir = tmp_path / "work" / "here"
    main = container(
        [PYTHON, "-c", DUMP_ENV],
        args=["$(MIZZEN_RUN_UUID)", "$$(MIZZEN_RUN_UUID)", "$(UNDEFINED)", "$(GREETING)-x"],
        env={"GREETING": "hi"},
        working_dir=str(workdir),
    )
    run = run_to_end(executor, make_plan(main=main))
    seen = dumped(recorder, run.uuid)
    assert seen["cwd"] == str(workdir)
    assert seen["argv"][1:] == [run.uuid, "$(MIZZEN_RUN_UUID)", "$(UNDEFINED)", "hi-x"]


def test_logs_keep_order_and_content_in_events_and_files(
    executor, recorder: Recorder, tmp_path: Path
) -> None:
    code = (
        "import sys\n"
        "for i in range(3000):\n"
        "    stream = sys.stderr if i % 7 == 0 else sys.stdout\n"
        "    print(f'line {i}', file=stream, flush=True)\n"
        f"sys.stdout.write('x' * {MAX_LINE_BYTES + 10} + '\\n')\n"
        "sys.stdout.flush()\n"
        "sys.stdout.buffer.write(b'bin \\xff\\xfe end\\n')\n"
        "sys.stdout.buffer.write(b'no newline at the end')\n"
    )
    run = run_to_end(executor, make_plan([PYTHON, "-c", code]))
    lines = recorder.lines(run.uuid, "main")
    assert lines[:3000] == [f"line {i}" for i in range(3000)]
    assert lines[3000:3002] == ["x" * MAX_LINE_BYTES, "x" * 10]
    assert lines[3002] == "bin \ufffd\ufffd end"
    assert lines[3003] == "no newline at the end"
    stamps = [line.timestamp for line in recorder.log_lines(run.uuid) if line.container == "main"]
    assert stamps == sorted(stamps)
    assert all(len(batch) <= 500 for _uuid, batch in recorder.log_batches)
    written = (tmp_path / "store" / run.uuid / "logs" / "main.log").read_text().splitlines()
    assert [w.split(" ", 1)[1] for w in written] == lines
    assert written[0].split(" ", 1)[0].startswith("20")  # an ISO timestamp first


def test_logs_stream_while_the_process_runs(executor, recorder: Recorder, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    script = f"echo first; while [ ! -e {gate} ]; do sleep 0.05; done; echo second"
    run = new_run()
    executor.submit(run, make_plan(["sh", "-c", script]))
    recorder.wait_for(lambda: "first" in recorder.lines(run.uuid, "main"))
    assert "second" not in recorder.lines(run.uuid, "main")
    assert recorder.statuses(run.uuid)[-1] == S.RUNNING
    gate.touch()
    assert executor.wait(run.uuid, 30) == S.SUCCEEDED
    assert recorder.lines(run.uuid, "main") == ["first", "second"]


def test_the_image_is_reported_once_as_recorded_not_run(executor, recorder: Recorder) -> None:
    main = container(["true"], image="pytorch/pytorch:2.3")
    sidecar = container(["sleep", "30"], name="helper", image="busybox")
    plan = make_plan(main=main, sidecars=[sidecar], termination=None)
    run = run_to_end(executor, plan)
    notes = [line for line in recorder.lines(run.uuid, "mizzen") if "recorded, not run" in line]
    assert notes == [
        "images 'pytorch/pytorch:2.3', 'busybox' recorded, not run: local runs use this machine's environment"
    ]


def test_sidecars_run_beside_the_main_container_and_end_with_it(
    executor, recorder: Recorder, tmp_path: Path
) -> None:
    pid_file = tmp_path / "sidecar.pid"
    sidecar = container(
        ["sh", "-c", f"echo $MIZZEN_RUN_UUID; echo $$$$ > {pid_file}; sleep 300"], name="watcher"
    )
    main = container(["sh", "-c", f"while [ ! -e {pid_file} ]; do sleep 0.05; done; echo main done"])
    run = run_to_end(executor, make_plan(main=main, sidecars=[sidecar]))
    assert recorder.last(run.uuid).status == S.SUCCEEDED
    assert recorder.lines(run.uuid, "watcher") == [run.uuid]
    assert recorder.lines(run.uuid, "main") == ["main done"]
    assert pid_gone(int(pid_file.read_text()))
    assert (tmp_path / "store" / run.uuid / "logs" / "watcher.log").is_file()
    assert not any("sidecar" in line for line in recorder.lines(run.uuid, "mizzen"))


def test_a_working_dir_that_cannot_exist_fails_clearly(executor, recorder: Recorder, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = run_to_end(executor, make_plan(main=container(["true"], working_dir=str(blocker / "sub"))))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, f"bad working dir: {blocker / 'sub'}")
