"""`mizzen run` of polyaxonfiles with hooks and joins, end to end: the real CLI in its own process,
real jobs, a real store, a real HTTP server on loopback receiving the notification."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from hooks_support import receiver
from mizzen.settings import Settings

Mizzen = Callable[..., subprocess.CompletedProcess[str]]


def _ops_get(run_mizzen: Mizzen, uuid: str) -> dict:
    result = run_mizzen("ops", "get", uuid, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _runs(run_mizzen: Mizzen, *args: str) -> list[dict]:
    result = run_mizzen("ops", "ls", "--json", "-l", "100", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_mizzen_run_of_a_job_with_a_hook_notifies_the_webhook(
    settings: Settings, run_mizzen: Mizzen, write: Callable[[str, str], Path]
) -> None:
    with receiver() as http:
        path = write(
            "job_with_hook.yaml",
            f"""
            version: 1.1
            kind: component
            name: trainer
            outputs:
            - {{name: loss, type: float, isOptional: true}}
            hooks:
            - hubRef: webhook
              trigger: succeeded
              params:
                url: {{value: "{http.url}"}}
            run:
              kind: job
              container:
                image: python
                command: [{sys.executable}, -c, "print('trained')"]
            """,
        )
        result = run_mizzen("run", "-f", str(path))
        assert result.returncode == 0, result.stderr
        [body] = http.delivered()  # delivered before `mizzen run` returned
        job = next(run for run in _runs(run_mizzen) if run["kind"] == "job")
        assert body["run"]["uuid"] == job["uuid"]
        assert body["run"]["status"] == "succeeded"
        [delivery] = _ops_get(run_mizzen, job["uuid"])["meta"]["hooks"]["deliveries"]
        assert (delivery["state"], delivery["attempts"]) == ("delivered", 1)
        notifier = _ops_get(run_mizzen, delivery["notifier"])
        assert (notifier["kind"], notifier["parent_uuid"], notifier["status"]) == (
            "notifier",
            job["uuid"],
            "succeeded",
        )


CORPUS_JOINS = Path(
    "/work/shared/corpus/polyaxonfiles/cli/cli/tests/fixtures/pipelines/simple_joins_pipeline.yml"
)


def _runnable_simple_joins(folder: Path) -> Path:
    """The corpus file as written (ops, dagRefs, joins, hooks), with a command for each component:
    the reference's verdict is about the spec; `image: test` has no command to run on this machine."""
    data = yaml.safe_load(CORPUS_JOINS.read_text())
    commands = {
        "job-template": [sys.executable, "-c", "print('processing', '{{ bucket }}')"],
        "experiment-template": [
            sys.executable,
            "-c",
            "from mizzen import tracking; tracking.init(); "
            "tracking.log_metrics(loss={{ lr }} * 2); tracking.end()",
        ],
        "reduce-template": [
            sys.executable,
            "-c",
            "import sys; print('buckets', sys.argv[1], 'losses', sys.argv[2])",
            "{{ buckets }}",
            "{{ losses }}",
        ],
    }
    for component in data["run"]["components"]:
        component["run"]["container"]["command"] = commands[component["name"]]
    path = folder / "simple_joins_pipeline.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_corpus_simple_joins_pipeline_joins_the_runs_of_an_earlier_pipeline(
    settings: Settings, run_mizzen: Mizzen, tmp_path: Path
) -> None:
    path = _runnable_simple_joins(tmp_path)
    first = run_mizzen("run", "-f", str(path))
    assert first.returncode == 0, first.stderr
    [pipeline] = [run for run in _runs(run_mizzen) if run["kind"] == "dag"]
    earlier = {run["name"]: run for run in _runs(run_mizzen, "-q", f"pipeline:{pipeline['uuid']}")}
    assert set(earlier) == {"job1", "job2", "experiment1", "experiment2", "reduce"}

    second = run_mizzen("run", "-f", str(path))
    assert second.returncode == 0, second.stderr
    [_, later] = sorted(
        (run for run in _runs(run_mizzen) if run["kind"] == "dag"), key=lambda r: r["created_at"]
    )
    [reduce] = [
        run for run in _runs(run_mizzen, "-q", f"pipeline:{later['uuid']}") if run["name"] == "reduce"
    ]
    reduce = _ops_get(run_mizzen, reduce["uuid"])
    joins = reduce["meta"]["joins"]
    jobs, experiments = joins["selected"]
    assert (jobs["query"], experiments["query"]) == (
        "hub.name: job-template",
        "hub.name: experiment-template",
    )
    # The earlier pipeline's runs of each component are done: selected, with their values.
    assert {earlier["job1"]["uuid"], earlier["job2"]["uuid"]} <= set(jobs["runs"])
    assert {earlier["experiment1"]["uuid"], earlier["experiment2"]["uuid"]} <= set(experiments["runs"])
    assert earlier["reduce"]["uuid"] not in jobs["runs"] + experiments["runs"]
    buckets, losses = joins["values"]["buckets"], joins["values"]["losses"]
    assert {"s3://foo", "s3://bar"} <= set(buckets) <= {"s3://foo", "s3://bar"}
    assert len(losses) >= 2 and set(losses) == {0.2}  # lr 0.1 (the default) logged as loss 0.2
    assert reduce["inputs"] == {"buckets": buckets, "losses": losses}
    said = [c for c in reduce["conditions"] if c["reason"] == "JoinsResolved"]
    assert said and "'hub.name: job-template' selected" in said[-1]["message"]
    logs = run_mizzen("ops", "logs", reduce["uuid"])
    assert f"buckets {json.dumps(buckets)} losses {json.dumps(losses)}" in logs.stdout
    # Its hook names a hub component this machine does not have: recorded as such, never retried.
    [hook] = reduce["meta"]["hooks"]["deliveries"]
    assert hook["state"] == "error" and "component-hook-ref" in hook["outcome"]


def test_a_sweep_notifies_once_when_it_ends_not_once_per_trial(
    settings: Settings, run_mizzen: Mizzen, write: Callable[[str, str], Path]
) -> None:
    with receiver() as http:
        path = write(
            "sweep_with_hook.yaml",
            f"""
            version: 1.1
            kind: operation
            matrix:
              kind: grid
              params:
                lr: {{kind: choice, value: [0.1, 0.2, 0.3]}}
            hooks:
            - hubRef: slack
              params:
                url: {{value: "{http.url}"}}
            component:
              inputs:
              - {{name: lr, type: float}}
              run:
                kind: job
                container:
                  image: python
                  command: [{sys.executable}, -c, "print({{{{ lr }}}})"]
            """,
        )
        result = run_mizzen("run", "-f", str(path))
        assert result.returncode == 0, result.stderr
        runs = _runs(run_mizzen)
        [sweep] = [run for run in runs if run["kind"] == "matrix"]
        assert len([run for run in runs if run["pipeline_uuid"] == sweep["uuid"]]) == 3
        [body] = http.delivered()
        assert len(http.received) == 1
        assert body["text"] == f"Mizzen run default/{sweep['name'] or sweep['uuid']} succeeded"
        assert {"title": "Kind", "value": "matrix", "short": True} in body["attachments"][0]["fields"]
