"""The iterative sweep over the real store and driver: each iteration a tuner child (given the
finished trials) suggests the next trials as its `suggestions` output; `maxIterations` bounds it; a
tuner that fails, or gives no list, fails the sweep saying why."""

from __future__ import annotations

from typing import Any

from sweep_harness import Sweep, new_driver

from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import ChildRecord

ITERATIVE = {
    "kind": "iterative",
    "maxIterations": 3,
    "seed": 5,
    "params": {"x": {"kind": "uniform", "value": [0, 1]}},
}


def tuners(sweep: Sweep) -> dict[int, ChildRecord]:
    return {c.meta["tuner"]["iteration"]: c for c in sweep.children() if "tuner" in c.meta}


def trials(sweep: Sweep) -> dict[int, ChildRecord]:
    return {c.meta["trial"]["index"]: c for c in sweep.children() if "trial" in c.meta}


def suggest(
    sweep: Sweep, tuner: ChildRecord, suggestions: Any, status: RunStatus = RunStatus.SUCCEEDED
) -> None:
    sweep.start(tuner)
    runs_gateway.update_run(sweep.database, tuner.uuid, outputs={"suggestions": suggestions})
    sweep.finish(tuner, status)


def tuner_params(sweep: Sweep, tuner: ChildRecord) -> dict[str, Any]:
    spec = runs_gateway.get_run(sweep.database, tuner.uuid).spec
    return {name: value["value"] for name, value in spec["params"].items()}


def finish_trials(sweep: Sweep) -> None:
    for child in trials(sweep).values():
        if child.status not in DONE_STATUSES:
            sweep.start(child)
            runs_gateway.update_run(sweep.database, child.uuid, outputs={"loss": child.params["x"] * 2})
            sweep.finish(child)


def test_each_iteration_runs_a_tuner_on_the_finished_trials_then_its_suggestions(make_sweep) -> None:
    sweep: Sweep = make_sweep(ITERATIVE)
    sweep.tick()
    assert list(tuners(sweep)) == [0] and not trials(sweep)
    first = tuners(sweep)[0]
    assert first.key == "tuner-00000"
    assert tuner_params(sweep, first) == {
        "matrix": {"params": {"x": {"kind": "uniform", "value": {"low": 0, "high": 1}}}, "seed": 5},
        "iteration": 0,
        "trials": [],
    }
    suggest(sweep, first, [{"x": 0.25}, {"x": 0.75}])
    sweep.tick()
    assert {i: c.params["x"] for i, c in trials(sweep).items()} == {0: 0.25, 1: 0.75}
    assert list(tuners(sweep)) == [0]  # the next iteration waits for these trials
    finish_trials(sweep)
    sweep.tick()
    second = tuners(sweep)[1]
    given = tuner_params(sweep, second)["trials"]
    assert [(t["index"], t["params"], t["status"], t["outputs"]) for t in given] == [
        (0, {"x": 0.25}, "succeeded", {"loss": 0.5}),
        (1, {"x": 0.75}, "succeeded", {"loss": 1.5}),
    ]
    suggest(sweep, second, [{"x": 0.5}])
    sweep.tick()
    assert trials(sweep)[2].key == "trial-00002" and trials(sweep)[2].params["x"] == 0.5
    finish_trials(sweep)
    sweep.tick()
    suggest(sweep, tuners(sweep)[2], [{"x": 0.1}])
    sweep.tick()
    finish_trials(sweep)
    ended = sweep.tick()
    assert ended.status == RunStatus.SUCCEEDED, sweep.last_condition()
    assert len(tuners(sweep)) == 3  # maxIterations
    assert sorted(trials(sweep)) == [0, 1, 2, 3]
    assert ended.meta["pipeline"]["iterations"] == 3
    assert sweep.last_condition() == ("SweepDone", "4 of 4 trials succeeded")


def test_a_tuner_that_suggests_nothing_ends_the_sweep(make_sweep) -> None:
    sweep: Sweep = make_sweep(ITERATIVE)
    sweep.tick()
    suggest(sweep, tuners(sweep)[0], [{"x": 0.3}])
    sweep.tick()
    finish_trials(sweep)
    sweep.tick()
    suggest(sweep, tuners(sweep)[1], [])
    ended = sweep.tick()
    assert ended.status == RunStatus.SUCCEEDED
    assert len(tuners(sweep)) == 2 and len(trials(sweep)) == 1


def test_a_failed_tuner_fails_the_sweep_naming_it(make_sweep) -> None:
    sweep: Sweep = make_sweep(ITERATIVE)
    sweep.tick()
    tuner = tuners(sweep)[0]
    suggest(sweep, tuner, None, RunStatus.FAILED)
    ended = sweep.tick()
    assert ended.status == RunStatus.FAILED
    reason, message = sweep.last_condition()
    assert reason == "TunerFailed"
    assert f"the tuner of iteration 0 ({tuner.uuid}) ended failed" in (message or "")


def test_a_tuner_without_a_list_of_suggestions_fails_the_sweep_saying_what_it_must_log(make_sweep) -> None:
    sweep: Sweep = make_sweep(ITERATIVE)
    sweep.tick()
    suggest(sweep, tuners(sweep)[0], {"x": 1})
    ended = sweep.tick()
    assert ended.status == RunStatus.FAILED
    reason, message = sweep.last_condition()
    assert reason == "TunerFailed" and "gave no list of params" in (message or "")
    assert "suggestions: [{param: value, ...}, ...]" in (message or "")


def test_concurrency_caps_the_trials_of_an_iteration(make_sweep) -> None:
    sweep: Sweep = make_sweep({**ITERATIVE, "concurrency": 2})
    sweep.tick()
    suggest(sweep, tuners(sweep)[0], [{"x": 0.1}, {"x": 0.2}, {"x": 0.3}])
    sweep.tick()
    assert sorted(trials(sweep)) == [0, 1]
    finish_trials(sweep)
    sweep.tick()
    assert sorted(trials(sweep)) == [0, 1, 2] and list(tuners(sweep)) == [0]


def test_a_restarted_or_second_driver_continues_the_same_iteration(make_sweep, settings) -> None:
    sweep: Sweep = make_sweep(ITERATIVE)
    sweep.tick()
    suggest(sweep, tuners(sweep)[0], [{"x": 0.4}, {"x": 0.6}])
    other = new_driver(sweep.database, settings)
    sweep.tick(other)  # a fresh driver (a restart) reads the same iteration from the children
    sweep.tick()
    assert sorted(trials(sweep)) == [0, 1] and list(tuners(sweep)) == [0]
    finish_trials(sweep)
    sweep.tick(other)
    sweep.tick(new_driver(sweep.database, settings))
    sweep.tick()
    assert list(tuners(sweep)) == [0, 1] and sorted(trials(sweep)) == [0, 1]
