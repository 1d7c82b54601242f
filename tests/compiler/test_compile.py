"""compile_files: params, templating, Plan building, merging, strictness — with located errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from compile_support import compile_error

from mizzen.compiler.compile import Compiler, compile_files, compile_operation
from mizzen.compiler.plan import ConnectionPlan, RuntimeContext
from mizzen.errors import CompileError
from mizzen.spec import load_file

Write = Callable[[str, str], Path]
QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "polyaxonfile.yaml"


def main_container(path: Path, params: dict[str, str] | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    plan = compile_files([path], params or {}, **kwargs).plan  # type: ignore[arg-type]
    assert plan is not None and plan.main.pod.main is not None
    return plan.main.pod.main


def test_quickstart_compiles_to_a_job_plan() -> None:
    compiled = compile_files([QUICKSTART])
    plan = compiled.plan
    assert plan is not None and plan.kind == "job" and plan.name == "quickstart"
    assert plan.main.pod.main is not None
    assert plan.main.pod.main.command == ["python", "train.py", "--lr=0.01", "--epochs=20"]
    assert plan.inputs == {"lr": 0.01, "epochs": 20}
    assert plan.outputs == {}  # outputs are produced by the run
    assert compiled.warnings == []


def test_cli_params_are_coerced_by_input_type() -> None:
    compiled = compile_files([QUICKSTART], {"lr": "0.5", "epochs": "3"})
    assert compiled.plan is not None
    assert compiled.plan.params == {"lr": 0.5, "epochs": 3}
    assert compiled.plan.main.pod.main.command[-2:] == ["--lr=0.5", "--epochs=3"]  # type: ignore[union-attr]


def test_a_cli_param_of_the_wrong_type_is_rejected_pointing_at_its_input() -> None:
    error = compile_error(QUICKSTART, {"epochs": "many"})
    first, where = str(error).splitlines()[:2]
    assert first == "-P epochs=many: expected an int, got 'many'"
    assert where.endswith("polyaxonfile.yaml:9:3 inputs[1]: declared here as int")


def test_a_param_of_the_wrong_type_in_the_file_is_located(write: Write) -> None:
    path = write(
        "op.yaml",
        """
        version: 1.1
        kind: operation
        params:
          lr: {value: fast}
        component:
          inputs: [{name: lr, type: float}]
          run: {kind: job, container: {image: x}}
        """,
    )
    problem = compile_error(path).first
    assert (problem.file, problem.line, problem.column) == (str(path), 4, 15)
    assert problem.field_path == "params.lr.value"
    assert problem.message == "expected a float, got 'fast' (input 'lr' is of type float)"
    assert problem.render().startswith(f"{path}:4:15 params.lr.value: expected a float")


def test_missing_required_inputs_are_listed_with_how_to_pass_them(write: Write) -> None:
    path = write(
        "c.yaml",
        """
        kind: component
        inputs:
        - {name: data, type: path}
        - {name: epochs, type: int}
        - {name: lr, type: float, value: 0.1}
        run: {kind: job, container: {image: x, command: "train --data={{ data }}"}}
        """,
    )
    error = compile_error(path)
    messages = [p.render() for p in error.problems]
    assert messages == [
        f"{path}:3:3 inputs[0]: required input 'data' (path) has no value",
        f"{path}:4:3 inputs[1]: required input 'epochs' (int) has no value",
    ]
    assert error.hint == "pass them with: -P data=VALUE -P epochs=VALUE"
    partial = compile_files([path], require_inputs=False)
    assert [m.name for m in partial.missing_inputs] == ["data", "epochs"] and partial.plan is None
    assert compile_files([path], {"data": "/d", "epochs": "2"}).plan is not None


def test_options_and_validation_rules_are_enforced_with_locations(write: Write) -> None:
    path = write(
        "c.yaml",
        """
        kind: operation
        params: {act: tanh, rate: 0.9}
        component:
          inputs:
          - {name: act, type: str, options: [relu, sigmoid]}
          - {name: rate, type: float, validation: {lt: 0.5}}
          run: {kind: job, container: {image: x}}
        """,
    )
    error = compile_error(path)
    assert [(p.field_path, p.message.split(" (")[0]) for p in error.problems] == [
        ("params.act.value", "value 'tanh' must be one of ['relu', 'sigmoid']"),
        ("params.rate.value", "value 0.9 must be less than 0.5"),
    ]
    assert all(p.line == 2 for p in error.problems)


def test_undeclared_params_are_context_unless_forbidden(write: Write) -> None:
    base = """
        kind: operation
        {extra}
        params: {{note: {{value: hello{context_only}}}}}
        component:
          run: {{kind: job, container: {{image: x, args: ["{{{{ note }}}}"]}}}}
        """
    ok = write("ok.yaml", base.format(extra="", context_only=""))
    assert main_container(ok).args == ["hello"]
    forbidden = write("no.yaml", base.format(extra="", context_only=", contextOnly: false"))
    with pytest.raises(CompileError, match="param 'note' matches no input or output"):
        compile_files([forbidden])
    strict = write("strict.yaml", base.format(extra="strictParams: true", context_only=""))
    with pytest.raises(CompileError, match="strictParams"):
        compile_files([strict])
    allowed = write(
        "allowed.yaml", base.format(extra="strictParams: true", context_only=", contextOnly: true")
    )
    assert main_container(allowed).args == ["hello"]


def test_is_flag_and_arg_format_rendering(write: Write) -> None:
    path = write(
        "c.yaml",
        """
        kind: component
        inputs:
        - {name: verbose, type: bool, isFlag: true}
        - {name: loss, type: str, argFormat: "--loss-fn={{ loss }}"}
        - {name: lr, type: float}
        run:
          kind: job
          container:
            image: x
            command: [train]
            args:
            - "{{ verbose }}"
            - "{{ params.loss.as_arg }}"
            - "{{ params.lr.as_arg }}"
            - "{{ params.verbose.as_arg }}"
        """,
    )
    on = main_container(path, {"verbose": "true", "loss": "mse", "lr": "0.1"})
    assert on.args == ["--verbose", "--loss-fn=mse", "--lr=0.1", "--verbose"]
    off = main_container(path, {"verbose": "false", "loss": "mae", "lr": "1"})
    assert off.args == ["--loss-fn=mae", "--lr=1.0"]


def test_string_commands_are_split_and_shell_scripts_kept_whole(write: Write) -> None:
    path = write(
        "c.yaml",
        """
        kind: component
        inputs: [{name: msg, type: str, value: "hello world"}]
        run:
          kind: job
          init:
          - container: {image: busybox, command: ["/bin/sh", "-c"], args: "echo {{ msg }} && ls -la"}
          container:
            image: x
            command: python -c "import sys; print(sys.argv)" --msg="{{ msg }}" {{ msg }}
        """,
    )
    plan = compile_files([path]).plan
    assert plan is not None and plan.main.pod.main is not None
    assert plan.main.pod.main.command == [
        "python", "-c", "import sys; print(sys.argv)", "--msg=hello world", "hello world",
    ]  # fmt: skip
    init = plan.main.pod.init[0]
    assert init.kind == "container" and init.container is not None
    assert init.container.args == ["echo hello world && ls -la"]


def test_unbalanced_quotes_are_a_located_error(write: Write) -> None:
    path = write(
        "c.yaml", 'kind: component\nrun:\n  kind: job\n  container: {image: x, command: "python -c \'oops"}\n'
    )
    error = compile_error(path)
    assert error.first.field_path == "run.container.command"
    assert "No closing quotation" in error.first.message and error.first.line == 4


def test_globals_come_from_the_runtime_context(write: Write) -> None:
    path = write(
        "c.yaml",
        """
        kind: component
        run:
          kind: job
          container:
            image: x
            workingDir: "{{ globals.artifacts_path }}/code"
            args:
            - "{{ globals.run_outputs_path }}"
            - "{{ globals.uuid }}"
            - "{{ globals.project_name }}"
            - "{{ globals.run_info }}"
        """,
    )
    context = RuntimeContext(
        uuid="abc", project_name="p", owner_name="o", artifacts_path="/a", run_outputs_path="/a/abc/outputs"
    )
    container = main_container(path, context=context)
    assert container.working_dir == "/a/code"
    assert container.args == ["/a/abc/outputs", "abc", "p", "o.p.runs.abc"]


def test_connections_render_from_the_catalog_and_unknown_ones_are_carried(write: Write) -> None:
    path = write(
        "c.yaml",
        """
        kind: component
        run:
          kind: job
          connections: [data, other]
          container:
            image: x
            args: ["{{ connections['data'].bucket }}", "{{ connections['other'].bucket }}"]
        """,
    )
    catalog = [ConnectionPlan(name="data", kind="s3", schema={"bucket": "s3://b"})]
    compiled = compile_files([path], connections=catalog)
    plan = compiled.plan
    assert plan is not None and plan.main.pod.main is not None
    assert plan.main.pod.main.args == ["s3://b", "{{ connections['other'].bucket }}"]
    assert plan.main.pod.connections == ["data", "other"]
    assert [c.name for c in plan.connections] == ["data"]
    assert compiled.warnings == [
        f"{path}:7:48 run.container.args[1]: cannot be rendered before connections.other is known"
    ]
    with pytest.raises(
        CompileError, match=r"args\[1\]: cannot be rendered before connections.other is known"
    ):
        compile_files([path], connections=catalog, strict=True)


def test_template_errors_are_warnings_when_checking_and_errors_when_strict(write: Write) -> None:
    path = write(
        "c.yaml",
        "kind: component\nrun:\n  kind: job\n  container: {image: x, args: ['--x={{ lerning_rate }}']}\n",
    )
    compiled = compile_files([path])
    assert compiled.plan is not None and compiled.plan.main.pod.main.args == ["--x={{ lerning_rate }}"]  # type: ignore[union-attr]
    assert "'lerning_rate' is undefined (kept as written" in compiled.warnings[0]
    error = compile_error(path, strict=True)
    assert error.first.render() == f"{path}:4:32 run.container.args[0]: 'lerning_rate' is undefined"


def test_to_env_and_to_init_params(write: Write) -> None:
    path = write(
        "c.yaml",
        """
        kind: operation
        params:
          repo: {value: {url: "https://github.com/acme/models.git", revision: main}, toInit: true}
          batch: {value: 32, toEnv: BATCH_SIZE}
        component:
          inputs: [{name: repo, type: git}, {name: batch, type: int}]
          run: {kind: job, container: {image: x, env: [{name: A, value: "1"}]}}
        """,
    )
    plan = compile_files([path]).plan
    assert plan is not None and plan.main.pod.main is not None
    assert [(e.name, e.value) for e in plan.main.pod.main.env] == [("A", "1"), ("BATCH_SIZE", "32")]
    step = plan.main.pod.init[0]
    assert (
        step.kind == "git" and step.git is not None and step.git.url == "https://github.com/acme/models.git"
    )
    assert step.git.revision == "main" and step.path == "/mizzen/context/artifacts/models"


def test_init_steps_become_plan_init_steps(write: Write) -> None:
    path = write(
        "c.yaml",
        """
        kind: component
        run:
          kind: job
          init:
          - git: {url: "https://github.com/acme/code"}
          - connection: repo
          - artifacts: {files: [a.txt], dirs: [d]}
            path: data
          - file: {content: "print(1)", filename: run.py}
          - dockerfile: {image: "python:3.11", run: ["pip install x"], env: {A: 1}}
          - paths: [[s3://b/x, /tmp/x]]
          container: {image: x}
        """,
    )
    plan = compile_files([path]).plan
    assert plan is not None
    steps = plan.main.pod.init
    assert [s.kind for s in steps] == ["git", "git", "artifacts", "file", "dockerfile", "paths"]
    assert [s.name for s in steps] == [f"init-{i}" for i in range(6)]
    assert steps[0].path == "/mizzen/context/artifacts/code"
    assert steps[1].connection == "repo" and steps[1].path == "/mizzen/context/artifacts/repo"
    assert (
        steps[2].path == "/mizzen/context/artifacts/data"
        and steps[2].artifacts is not None
        and steps[2].artifacts.files == ["a.txt"]
    )
    assert steps[3].file is not None and steps[3].file.filename == "run.py"
    assert steps[4].dockerfile is not None and steps[4].dockerfile.env == {"A": "1"}
    assert steps[5].paths == [["s3://b/x", "/tmp/x"]]


def test_service_ports_replicas_and_resources(write: Write) -> None:
    path = write(
        "s.yaml",
        """
        kind: component
        run:
          kind: service
          ports: [8888]
          replicas: 2
          container:
            image: x
            args: ["--port={{ globals.ports[0] }}", "--base={{ globals.base_url }}"]
            resources: {requests: {cpu: 1, memory: 1024}, limits: {nvidia.com/gpu: 1}}
        """,
    )
    plan = compile_files([path], context=RuntimeContext(base_url="/")).plan
    assert plan is not None and plan.service is not None
    assert (plan.service.ports, plan.service.replicas) == ([8888], 2)
    main = plan.main.pod.main
    assert main is not None and main.args == ["--port=8888", "--base=/"]
    assert main.resources.requests == {"cpu": "1", "memory": "1024"} and main.resources.gpus == 1


def test_operation_overrides_and_run_patch_merge_into_the_component(write: Write) -> None:
    write(
        "component.yaml",
        """
        kind: component
        name: base
        termination: {maxRetries: 1}
        run:
          kind: job
          container: {image: x, env: [{name: A, value: "1"}]}
        """,
    )
    op = write(
        "op.yaml",
        """
        kind: operation
        name: tuned
        pathRef: component.yaml
        termination: {timeout: 60}
        runPatch:
          container: {env: [{name: B, value: "2"}]}
          environment: {nodeSelector: {gpu: "yes"}}
        """,
    )
    plan = compile_files([op]).plan
    assert plan is not None and plan.main.pod.main is not None
    assert plan.name == "tuned"
    assert (plan.termination.max_retries, plan.termination.timeout) == (1, 60)
    assert [e.name for e in plan.main.pod.main.env] == ["A", "B"]
    assert plan.main.pod.environment.node_selector == {"gpu": "yes"}


def test_replace_strategy_replaces_instead_of_merging(write: Write) -> None:
    write("component.yaml", "kind: component\nrun:\n  kind: job\n  container: {image: x, args: [a, b]}\n")
    op = write(
        "op.yaml",
        "kind: operation\npathRef: component.yaml\npatchStrategy: replace\n"
        "runPatch: {container: {args: [c]}}\n",
    )
    assert main_container(op).args == ["c"]


def test_overlay_files_apply_in_order(write: Write) -> None:
    main = write("main.yaml", "kind: component\nrun:\n  kind: job\n  container: {image: x}\n")
    overlay = write("gpu.yaml", "runPatch:\n  container: {resources: {limits: {nvidia.com/gpu: 2}}}\n")
    plan = compile_files([main, overlay]).plan
    assert plan is not None and plan.main.pod.main is not None and plan.main.pod.main.resources.gpus == 2


def test_a_preset_alone_has_nothing_to_run(write: Write) -> None:
    preset = write("preset.yaml", "runPatch:\n  container: {resources: {limits: {cpu: 2}}}\n")
    with pytest.raises(CompileError, match=r"runPatch needs a run to patch.*-f MAIN.yaml -f THIS.yaml"):
        compile_files([preset])
    empty = write("termination.yaml", "termination: {maxRetries: 2}\n")
    with pytest.raises(CompileError, match="nothing to run"):
        compile_files([empty])


def test_top_level_shortcuts_make_a_job(write: Write) -> None:
    path = write(
        "c.yaml",
        """
        kind: component
        container: {image: "python:3.11"}
        cmd: python run.py
        env: {MODE: fast}
        resources: {cpu: 2, gpu: 1}
        """,
    )
    plan = compile_files([path]).plan
    assert plan is not None and plan.kind == "job" and plan.main.pod.main is not None
    main = plan.main.pod.main
    assert main.command == ["python", "run.py"] and [(e.name, e.value) for e in main.env] == [
        ("MODE", "fast")
    ]
    assert main.resources.limits == {"cpu": "2", "nvidia.com/gpu": "1"} and main.resources.requests == {
        "cpu": "2"
    }


@pytest.mark.parametrize(
    ("run", "roles"),
    [
        (
            "{kind: pytorchjob, master: {replicas: 1, container: {image: x}},"
            " worker: {replicas: 3, container: {image: x}}}",
            [("master", 1), ("worker", 3)],
        ),
        (
            "{kind: tfjob, chief: {container: {image: x}}, ps: {replicas: 2, container: {image: x}}}",
            [("chief", 1), ("ps", 2)],
        ),
        (
            "{kind: mpijob, slotsPerWorker: 2, launcher: {container: {image: x}},"
            " worker: {replicas: 4, container: {image: x}}}",
            [("launcher", 1), ("worker", 4)],
        ),
        (
            "{kind: raycluster, head: {container: {image: x}},"
            " workers: {small: {replicas: 2, container: {image: x}}}}",
            [("head", 1), ("worker", 2)],
        ),
        (
            "{kind: daskcluster, scheduler: {container: {image: x}},"
            " worker: {replicas: 5, container: {image: x}}}",
            [("scheduler", 1), ("worker", 5)],
        ),
    ],
)
def test_distributed_kinds_become_replica_roles(write: Write, run: str, roles: list[tuple[str, int]]) -> None:
    path = write("d.yaml", f"kind: component\nrun: {run}\n")
    plan = compile_files([path]).plan
    assert plan is not None and plan.distributed is not None
    assert [(r.role, r.replicas) for r in plan.replicas] == roles


def test_templated_replicas_are_rendered_and_checked(write: Write) -> None:
    path = write(
        "d.yaml",
        """
        kind: component
        inputs: [{name: workers, type: int, value: 3}]
        run: {kind: pytorchjob, worker: {replicas: "{{ workers }}", container: {image: x}}}
        """,
    )
    plan = compile_files([path], {"workers": "5"}).plan
    assert plan is not None and plan.replicas[0].replicas == 5


def test_compile_operation_returns_the_plan_of_one_run() -> None:
    plan = compile_operation(load_file(QUICKSTART), {"lr": "0.2"}, RuntimeContext(uuid="u1"))
    assert plan.params["lr"] == 0.2


def test_compiler_keeps_its_settings_between_compiles() -> None:
    compiler = Compiler(context=RuntimeContext(uuid="u2"), strict=True)
    compiled = compiler.compile_loaded(load_file(QUICKSTART), {"epochs": "1"})
    assert compiled.plan is not None and compiled.plan.params["epochs"] == 1


def test_named_presets_are_reported_as_applied_by_the_server(write: Write) -> None:
    path = write("c.yaml", "kind: component\npresets: [gpu]\nrun:\n  kind: job\n  container: {image: x}\n")
    compiled = compile_files([path])
    assert compiled.plan is not None
    assert compiled.warnings == [
        f"{path}:2:10 presets: presets ['gpu'] are named here and applied by the server that runs "
        "the operation; to check them locally, lay their files over this one with -f"
    ]
