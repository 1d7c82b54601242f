"""Hyperband's brackets and promotions (Li et al. 2018), and the early stopping policies that stop
single trials on their tracked metric, over the real store and driver."""

from __future__ import annotations

from sweep_harness import Sweep

from mizzen.scheduler.pipeline.model import ResumeChild, Step
from mizzen.scheduler.pipeline.structure import structure_of
from mizzen.scheduler.sweeps.hyperband import layout
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.gateway import runs as runs_gateway

HYPERBAND = {
    "kind": "hyperband",
    "maxIterations": 9,
    "eta": 3,
    "seed": 4,
    "resource": {"name": "epochs", "type": "int"},
    "metric": {"name": "loss", "optimization": "minimize"},
    "params": {"lr": {"kind": "loguniform", "value": [-7, 0]}},
}


def test_the_layout_follows_li_et_al() -> None:
    rungs = layout(9, 3)
    first_rungs = [(r.size, r.resource) for r in rungs if r.rung == 0]
    assert first_rungs == [(9, 1), (5, 3), (3, 9)]
    assert [(r.bracket, r.rung, r.size, r.resource) for r in rungs] == [
        (2, 0, 9, 1),
        (2, 1, 3, 3),
        (2, 2, 1, 9),
        (1, 0, 5, 3),
        (1, 1, 1, 9),
        (0, 0, 3, 9),
    ]
    assert sum(r.size for r in rungs) == 22
    assert (
        sum(r.size for r in layout(81, 3)) == 81 + 27 + 9 + 3 + 1 + 34 + 11 + 3 + 1 + 15 + 5 + 1 + 8 + 2 + 5
    )


def test_hyperband_runs_22_trials_promoting_the_best_of_each_rung(make_sweep) -> None:
    sweep: Sweep = make_sweep(HYPERBAND, inputs=["lr", "epochs"])
    ended = sweep.run_to_end(lambda v: abs(v["lr"] - 0.01) / v["epochs"], "loss")
    assert ended.status == RunStatus.SUCCEEDED
    values = sweep.trial_values()
    assert len(values) == 22
    assert [values[i]["epochs"] for i in range(22)] == [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] + [9] * 3

    def loss(i: int) -> float:
        return abs(values[i]["lr"] - 0.01) / values[i]["epochs"]

    best_three = sorted(range(9), key=loss)[:3]
    assert [values[i]["lr"] for i in range(9, 12)] == [values[i]["lr"] for i in best_three]
    assert values[12]["lr"] == values[min(range(9, 12), key=loss)]["lr"]
    assert values[18]["lr"] == values[min(range(13, 18), key=loss)]["lr"]
    promoted = {c.meta["trial"]["index"]: c.meta["trial"].get("promoted_from") for c in sweep.children()}
    uuids = {c.meta["trial"]["index"]: c.uuid for c in sweep.children()}
    assert promoted[9] == uuids[best_three[0]] and promoted[0] is None


def test_a_promotion_waits_for_its_whole_rung(make_sweep) -> None:
    sweep: Sweep = make_sweep(HYPERBAND, inputs=["lr", "epochs"])
    sweep.tick()
    assert len(sweep.children()) == 9 + 5 + 3  # every bracket's first rung starts at once
    first_rung = [c for c in sweep.children() if c.meta["trial"]["index"] < 9]
    for child in first_rung[:-1]:
        sweep.finish(child, loss=1.0)
    sweep.tick()
    assert len(sweep.children()) == 17
    sweep.finish(first_rung[-1], loss=0.5)
    sweep.tick()
    indexes = sorted(c.meta["trial"]["index"] for c in sweep.children())
    assert indexes == list(range(12)) + list(range(13, 18)) + list(range(19, 22))


def _running_sweep(make_sweep, policy: dict, scores: list[float]) -> tuple[Sweep, dict[str, str]]:
    """Five running trials report ``scores``; one tick applies the policy; (sweep, uuid -> status)."""
    sweep: Sweep = make_sweep(
        {
            "kind": "random",
            "numRuns": 5,
            "seed": 1,
            "params": {"x": {"kind": "uniform", "value": [0, 1]}},
            "earlyStopping": [
                {
                    "kind": "metric_early_stopping",
                    "metric": "loss",
                    "value": -1,
                    "optimization": "minimize",
                    "policy": policy,
                }
            ],
        }
    )
    sweep.tick()
    children = sorted(sweep.children(), key=lambda c: c.meta["trial"]["index"])
    for child, score in zip(children, scores, strict=True):
        sweep.start(child)
        sweep.report(child, loss=score)
    sweep.tick()
    return sweep, {c.meta["trial"]["index"]: c.status for c in sweep.children()}


def test_median_stopping_stops_the_trials_worse_than_the_median_of_the_others(make_sweep) -> None:
    sweep, statuses = _running_sweep(
        make_sweep, {"kind": "median", "evaluationInterval": 1, "minSamples": 3}, [0.1, 0.2, 0.3, 0.9, 1.0]
    )
    assert [statuses[i] for i in range(5)] == [RunStatus.RUNNING] * 3 + [RunStatus.STOPPING] * 2
    stopped = next(c for c in sweep.children() if c.meta["trial"]["index"] == 4)
    reason, message = sweep.last_condition(stopped.uuid)
    assert reason == "PipelineStopped"
    assert message == (
        "median stopping at interval 1: best loss=1 is worse than the median 0.25 of the other "
        "trials' running averages"
    )


def test_the_driver_judges_a_running_trial_at_its_evaluation_interval(make_sweep) -> None:
    """Through the store and the driver's incremental reads: a trial's history grows tick after
    tick, and the policy judges it at its 2nd logged value, not at its 1st."""
    sweep, statuses = _running_sweep(
        make_sweep, {"kind": "median", "evaluationInterval": 2}, [0.1, 0.2, 0.3, 0.9, 1.0]
    )
    assert all(status == RunStatus.RUNNING for status in statuses.values())  # 1 value each
    children = sorted(sweep.children(), key=lambda c: c.meta["trial"]["index"])
    for child, score in zip(children, [0.1, 0.2, 0.3, 0.9, 1.0], strict=True):
        sweep.report(child, step=2, loss=score)
    sweep.tick()
    statuses = {c.meta["trial"]["index"]: c.status for c in sweep.children()}
    assert [statuses[i] for i in range(5)] == [RunStatus.RUNNING] * 3 + [RunStatus.STOPPING] * 2
    stopped = next(c for c in sweep.children() if c.meta["trial"]["index"] == 4)
    assert sweep.last_condition(stopped.uuid)[1].startswith("median stopping at interval 2: best loss=1 ")


def test_truncation_stops_the_worst_percent(make_sweep) -> None:
    _, statuses = _running_sweep(
        make_sweep, {"kind": "truncation", "percent": 40, "evaluationInterval": 1}, [0.5, 0.1, 0.9, 0.3, 0.7]
    )
    assert {i for i, s in statuses.items() if s == RunStatus.STOPPING} == {2, 4}


def test_diff_stops_trials_far_from_the_best(make_sweep) -> None:
    _, statuses = _running_sweep(
        make_sweep, {"kind": "diff", "percent": 50, "evaluationInterval": 1}, [1.0, 1.4, 1.6, 3.0, 1.1]
    )
    assert {i for i, s in statuses.items() if s == RunStatus.STOPPING} == {2, 3}


def test_no_policy_judges_before_min_samples(make_sweep) -> None:
    _, statuses = _running_sweep(
        make_sweep, {"kind": "median", "evaluationInterval": 1, "minSamples": 5}, [0.1, 0.2, 0.3, 0.9, 1.0]
    )
    assert all(status not in DONE_STATUSES and status != RunStatus.STOPPING for status in statuses.values())


def test_hyperband_with_resume_promotes_by_resuming_the_same_run(make_sweep) -> None:
    sweep: Sweep = make_sweep({**HYPERBAND, "resume": True}, inputs=["lr", "epochs"])
    ended = sweep.run_to_end(lambda v: abs(v["lr"] - 0.01) / v["epochs"], "loss")
    assert ended.status == RunStatus.SUCCEEDED, sweep.last_condition()
    children = sweep.children()
    assert len(children) == 9 + 5 + 3  # every promotion of the 22 trials reused a run
    trials = {c.meta["trial"]["index"]: c for c in children}
    every = [t["index"] for c in children for t in [c.meta["trial"], *c.meta["trial"].get("earlier", [])]]
    assert sorted(every) == list(range(22))  # each of the 22 trials ran once, by one run
    assert {12, 18, 19, 20, 21} <= set(trials)
    promoted = [c for c in children if c.meta["trial"].get("earlier")]
    # bracket 2: 3 runs go from 1 to 3 epochs, one of them on to 9; bracket 1: one from 3 to 9
    assert sorted(len(c.meta["trial"]["earlier"]) for c in promoted) == [1, 1, 1, 2]
    for child in promoted:
        expected = 9 if child.meta["trial"]["index"] in (12, 18) else 3
        assert child.params["epochs"] == child.meta["trial"]["values"]["epochs"] == expected
        assert child.params["lr"] == child.meta["trial"]["earlier"][0]["values"]["lr"]
        assert all(e["status"] == "succeeded" for e in child.meta["trial"]["earlier"])
    best_three = sorted(range(9), key=lambda i: abs(trial_lr(children, i) - 0.01))[:3]
    assert {uuid_of(children, i) for i in range(9, 12)} == {uuid_of(children, i) for i in best_three}
    assert sweep.pipeline().meta["pipeline"]["created"] == 22


def trial_lr(children, index: int) -> float:
    for child in children:
        for trial in [child.meta["trial"], *child.meta["trial"].get("earlier", [])]:
            if trial["index"] == index:
                return float(trial["values"]["lr"])
    raise KeyError(index)


def uuid_of(children, index: int) -> str:
    for child in children:
        if any(t["index"] == index for t in [child.meta["trial"], *child.meta["trial"].get("earlier", [])]):
            return child.uuid
    raise KeyError(index)


def test_a_promotion_applied_twice_resumes_its_run_once(make_sweep) -> None:
    """Two drivers (or a restart) deciding the same promotion: the second finds the run's meta
    already says it ran that trial, and leaves it alone even once it is done again."""
    sweep: Sweep = make_sweep({**HYPERBAND, "resume": True}, inputs=["lr", "epochs"])
    sweep.tick()
    child = next(c for c in sweep.children() if c.meta["trial"]["index"] == 0)
    sweep.finish(child, loss=1.0)
    pipeline = sweep.pipeline()
    structure = structure_of(pipeline, sweep.driver.compiler_for(pipeline))
    trial = {**child.meta["trial"], "index": 9, "values": {**child.meta["trial"]["values"], "epochs": 3}}
    again = ResumeChild(child.uuid, {"epochs": 3}, {"trial": trial}, "promoted")
    sweep.driver.apply(pipeline, structure, Step(resume_with=[again]), has_children=True)
    resumed = next(c for c in sweep.children() if c.uuid == child.uuid)
    assert resumed.status == RunStatus.QUEUED and resumed.params["epochs"] == 3
    sweep.finish(resumed, loss=0.5)
    sweep.driver.apply(pipeline, structure, Step(resume_with=[again]), has_children=True)
    conditions = runs_gateway.conditions_of(sweep.database, child.uuid)
    assert [c.reason for c in conditions].count("Resumed") == 1
    assert next(c for c in sweep.children() if c.uuid == child.uuid).status == RunStatus.SUCCEEDED
