"""Sweeps driven by the real PipelineDriver over the real store: trials are created by key and never
beyond numRuns, concurrency holds, tuners suggest the same values after a restart, and the sweep
ends as docs/sweeps.md says."""

from __future__ import annotations

from sweep_harness import Sweep, new_driver

from mizzen.compiler.search_space import first_trials
from mizzen.scheduler.compile_run import pipeline_compiler
from mizzen.scheduler.pipeline.structure import structure_of
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.settings import Settings

UNIFORM = {"x": {"kind": "uniform", "value": [-2, 2]}, "k": {"kind": "choice", "value": ["a", "b", "c"]}}


def branin_like(values: dict) -> float:
    return (values["x"] - 0.7) ** 2 + {"a": 1.0, "b": 0.0, "c": 2.0}[values["k"]]


def test_a_grid_runs_every_combination_in_order_and_succeeds(make_sweep) -> None:
    grid = {
        "kind": "grid",
        "params": {"a": {"kind": "choice", "value": [1, 2]}, "b": {"kind": "range", "value": [0, 3, 1]}},
    }
    sweep: Sweep = make_sweep(grid)
    ended = sweep.run_to_end(lambda v: v["a"] + v["b"], "loss")
    assert ended.status == RunStatus.SUCCEEDED
    assert [sweep.trial_values()[i] for i in range(6)] == [
        {"a": a, "b": b} for a in (1, 2) for b in (0, 1, 2)
    ]


def test_a_render_shows_exactly_the_trials_a_random_search_runs(make_sweep, settings: Settings) -> None:
    matrix = {"kind": "random", "numRuns": 5, "seed": 11, "params": UNIFORM}
    sweep: Sweep = make_sweep(matrix)
    sweep.run_to_end(branin_like, "loss")
    pipeline = sweep.pipeline()
    rendered = first_trials(structure_of(pipeline, pipeline_compiler(settings)(pipeline)).matrix, 10)
    assert [sweep.trial_values()[i] for i in range(5)] == rendered


def test_num_runs_is_never_exceeded_by_two_drivers_and_concurrency_holds(
    make_sweep, settings: Settings
) -> None:
    sweep: Sweep = make_sweep(
        {"kind": "random", "numRuns": 7, "concurrency": 3, "seed": 1, "params": UNIFORM}
    )
    other = new_driver(sweep.database, settings)
    most_at_once = 0
    for turn in range(60):
        sweep.tick(other if turn % 2 else None)
        sweep.tick(other if turn % 2 == 0 else None)
        children = sweep.children()
        not_done = [c for c in children if c.status not in DONE_STATUSES]
        most_at_once = max(most_at_once, len(not_done))
        assert len(children) <= 7
        if not_done:
            sweep.finish(not_done[0], loss=1.0)
        if sweep.pipeline().status in DONE_STATUSES:
            break
    assert len(sweep.children()) == 7
    assert most_at_once == 3
    assert sorted(c.key for c in sweep.children()) == [f"trial-{i:05d}" for i in range(7)]
    assert sweep.pipeline().status == RunStatus.SUCCEEDED


def test_tpe_suggests_the_same_values_from_the_stored_trials_after_a_restart(
    make_sweep, settings: Settings
) -> None:
    matrix = {
        "kind": "tpe",
        "numRuns": 12,
        "concurrency": 1,
        "seed": 5,
        "params": UNIFORM,
        "metric": {"name": "loss", "optimization": "minimize"},
    }
    first: Sweep = make_sweep(matrix)
    first.run_to_end(branin_like, "loss")
    again: Sweep = make_sweep(matrix)
    # a new driver each tick: nothing survives in memory, the tuner is rebuilt from the store
    for _ in range(200):
        pipeline = again.tick(new_driver(again.database, settings))
        if pipeline.status in DONE_STATUSES:
            break
        for child in again.children():
            if child.status not in DONE_STATUSES:
                again.finish(child, loss=branin_like(child.meta["trial"]["values"]))
    assert again.pipeline().status == RunStatus.SUCCEEDED
    assert again.trial_values() == first.trial_values()
    assert len(set(str(v) for v in first.trial_values().values())) == 12


def test_bayes_starts_at_random_then_follows_its_gaussian_process(make_sweep) -> None:
    matrix = {
        "kind": "bayes",
        "numInitialRuns": 4,
        "maxIterations": 6,
        "seed": 2,
        "concurrency": 2,
        "params": {"x": {"kind": "uniform", "value": [-2, 2]}},
        "metric": {"name": "score", "optimization": "maximize"},
        "utilityFunction": {"acquisitionFunction": "ucb", "kappa": 1.5},
    }
    sweep: Sweep = make_sweep(matrix)
    ended = sweep.run_to_end(lambda v: -((v["x"] - 1.0) ** 2), "score")
    assert ended.status == RunStatus.SUCCEEDED
    values = sweep.trial_values()
    assert len(values) == 10
    best = ended.meta["pipeline"]["best"]
    assert abs(best["params"]["x"] - 1.0) < 0.5
    assert ended.outputs["best_trial"] == best["uuid"] and ended.outputs["score"] == best["metric"]


def test_a_failed_trial_fails_the_sweep_unless_a_failure_policy_tolerates_it(make_sweep) -> None:
    plain: Sweep = make_sweep({"kind": "grid", "params": {"a": {"kind": "choice", "value": [1, 2, 3, 4]}}})
    tolerant: Sweep = make_sweep(
        {
            "kind": "grid",
            "params": {"a": {"kind": "choice", "value": [1, 2, 3, 4]}},
            "earlyStopping": [{"kind": "failure_early_stopping", "percent": 50}],
        }
    )
    for sweep in (plain, tolerant):
        for _ in range(20):
            if sweep.tick().status in DONE_STATUSES:
                break
            for child in sweep.children():
                failing = child.meta["trial"]["values"]["a"] == 2
                sweep.finish(child, RunStatus.FAILED if failing else RunStatus.SUCCEEDED)
    assert plain.pipeline().status == RunStatus.FAILED
    assert plain.last_condition() == ("SweepFailed", "3 of 4 trials succeeded, 1 did not")
    assert tolerant.pipeline().status == RunStatus.SUCCEEDED


def test_too_many_failures_stop_the_sweep(make_sweep) -> None:
    sweep: Sweep = make_sweep(
        {
            "kind": "random",
            "numRuns": 10,
            "concurrency": 2,
            "seed": 3,
            "params": UNIFORM,
            "earlyStopping": [{"kind": "failure_early_stopping", "percent": 20}],
        }
    )
    for _ in range(30):
        if sweep.tick().status in DONE_STATUSES:
            break
        running = [c for c in sweep.children() if c.status not in DONE_STATUSES]
        if running:
            sweep.finish(running[0], RunStatus.FAILED)
    pipeline = sweep.pipeline()
    assert pipeline.status == RunStatus.FAILED
    assert sweep.last_condition()[0] == "TooManyFailures"
    assert len(sweep.children()) < 10
    assert [c.status for c in sweep.children()].count(RunStatus.FAILED) == 2


def test_a_metric_reaching_its_threshold_ends_the_sweep_and_stops_the_rest(make_sweep) -> None:
    sweep: Sweep = make_sweep(
        {
            "kind": "random",
            "numRuns": 10,
            "concurrency": 3,
            "seed": 3,
            "params": UNIFORM,
            "earlyStopping": [
                {"kind": "metric_early_stopping", "metric": "acc", "value": 0.9, "optimization": "maximize"}
            ],
        }
    )
    sweep.tick()
    first, *others = sweep.children()
    for child in others:
        sweep.start(child)
    sweep.finish(first, acc=0.95)
    sweep.tick()
    stopped = {c.uuid: c for c in sweep.children()}
    for child in others:
        assert stopped[child.uuid].status in (RunStatus.STOPPING, RunStatus.STOPPED)
        sweep.finish(stopped[child.uuid], RunStatus.STOPPED)
    ended = sweep.tick()
    assert ended.status == RunStatus.SUCCEEDED
    assert sweep.last_condition() == ("EarlyStopping", "trial 0 reached acc=0.95 (earlyStopping at 0.9)")
    assert len(sweep.children()) == 3


def test_progress_counts_the_trials_and_names_the_best(make_sweep) -> None:
    sweep: Sweep = make_sweep(
        {
            "kind": "random",
            "numRuns": 6,
            "concurrency": 3,
            "seed": 8,
            "params": UNIFORM,
            "earlyStopping": [
                {"kind": "metric_early_stopping", "metric": "loss", "value": -100, "optimization": "minimize"}
            ],
        }
    )
    sweep.tick()
    first, second, third = sorted(sweep.children(), key=lambda c: c.meta["trial"]["index"])
    sweep.finish(first, loss=0.5)
    sweep.finish(second, loss=0.2)
    sweep.start(third)
    progress = sweep.tick().meta["pipeline"]
    assert {k: progress[k] for k in ("total", "created", "done", "running", "queued", "succeeded")} == {
        "total": 6,
        "created": 5,
        "done": 2,
        "running": 1,
        "queued": 3,
        "succeeded": 2,
    }
    assert progress["best"] == {
        "uuid": second.uuid,
        "index": 1,
        "params": second.meta["trial"]["values"],
        "metric": 0.2,
    }
    assert sweep.pipeline().outputs == {
        "best_trial": second.uuid,
        "best_params": second.meta["trial"]["values"],
        "loss": 0.2,
    }


def test_a_custom_tuner_on_a_tpe_sweep_fails_saying_only_iterative_runs_one(make_sweep) -> None:
    sweep: Sweep = make_sweep(
        {
            "kind": "tpe",
            "numRuns": 3,
            "metric": {"name": "loss", "optimization": "minimize"},
            "params": UNIFORM,
            "tuner": {"hubRef": "acme/tuner"},
        }
    )
    sweep.driver.tick()  # claims the sweep and drives it: the planner refuses it, the sweep fails
    assert sweep.pipeline().status == RunStatus.FAILED
    message = sweep.last_condition()[1] or ""
    assert "a custom tuner component for a 'tpe' sweep is not supported" in message
    assert "`kind: iterative`" in message


def test_model_based_tuners_suggest_the_same_from_the_same_history() -> None:
    from pydantic import TypeAdapter

    from mizzen.scheduler.sweeps.tuners import BayesTuner, TpeTuner
    from mizzen.spec.distributions import HpParam

    params = {name: TypeAdapter(HpParam).validate_python(spec) for name, spec in UNIFORM.items()}
    seen = [({"x": x / 4, "k": "abc"[i % 3]}, (x / 4 - 0.7) ** 2) for i, x in enumerate(range(-8, 8, 2))]
    for make in (lambda: BayesTuner(params, 4, 10, 9), lambda: TpeTuner(params, 20, 9)):
        first, again = make().suggest(12, seen), make().suggest(12, seen)
        assert first == again and first is not None
        assert first != make().suggest(13, seen)
