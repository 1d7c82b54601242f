"""Early stopping policies on tracked metric histories: ``evaluationInterval`` (a trial is judged at
every n-th value it logged, on its values up to there), ``minInterval`` (not before that many
values), comparisons at the same interval (a young trial against the others' first values, not
their later ones), and truncation's ``includeSucceeded``. Pure: ``judge`` on records as the
driver reads them."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from mizzen.scheduler.sweeps.early_stopping import evaluation_point, judge
from mizzen.scheduler.sweeps.trials import trials_of
from mizzen.schemas.statuses import RunStatus
from mizzen.spec.matrix import EarlyStoppingSpec
from mizzen.store.records import ChildRecord

POLICY = TypeAdapter(EarlyStoppingSpec)


def early_stopping(policy: dict[str, Any], optimization: str = "minimize") -> Any:
    return POLICY.validate_python(
        {
            "kind": "metric_early_stopping",
            "metric": "loss",
            "value": -1,
            "optimization": optimization,
            "policy": policy,
        }
    )


def child(index: int, losses: list[float], status: RunStatus = RunStatus.RUNNING) -> ChildRecord:
    return ChildRecord(
        uuid=f"t{index}",
        key=f"trial-{index:05d}",
        name=None,
        kind="job",
        status=status,
        params={},
        inputs={},
        outputs={},
        meta={"trial": {"index": index, "values": {}}},
        created_at=None,
        started_at=None,
        finished_at=None,
        metrics={"loss": losses[-1]} if losses else {},
        histories={"loss": tuple(losses)} if losses else {},
    )


def stopped(policy: dict[str, Any], *children: ChildRecord, optimization: str = "minimize") -> dict[str, str]:
    trials = trials_of(children, "loss")
    verdict = judge(
        [early_stopping(policy, optimization)], trials, {c.uuid: c for c in children}, len(trials)
    )
    return dict(verdict.stop)


def test_evaluation_points_are_multiples_of_the_interval_from_min_interval_on() -> None:
    every_3 = early_stopping({"kind": "median", "evaluationInterval": 3}).policy
    assert [evaluation_point(every_3, n) for n in range(8)] == [None, None, None, 3, 3, 3, 6, 6]
    from_4 = early_stopping({"kind": "median", "evaluationInterval": 2, "minInterval": 4}).policy
    assert [evaluation_point(from_4, n) for n in range(8)] == [None, None, None, None, 4, 4, 6, 6]


def test_a_trial_is_judged_on_its_values_up_to_its_latest_evaluation_point() -> None:
    policy = {"kind": "diff", "percent": 50, "evaluationInterval": 3}
    good = child(0, [0.5, 0.4, 0.3, 0.3, 0.3, 0.3], RunStatus.SUCCEEDED)
    # 2 values: no evaluation point yet, however bad they are
    assert stopped(policy, good, child(1, [9.0, 9.0])) == {}
    # its verdict changes only at evaluation points: the 4th and 5th values do not count before a 6th
    assert stopped(policy, good, child(1, [0.6, 0.5, 0.4, 0.2, 0.2])) == {}  # 0.4 at 3: fine
    assert stopped(policy, good, child(1, [2.0, 2.0, 2.0, 0.1, 0.1])) == {
        "t1": "diff stopping at interval 3: best loss=2 is more than 50% worse than the best 0.3 "
        "of other trials"
    }
    # at 6, the best of its 6 values against the others' first 6
    assert stopped(policy, good, child(1, [2.0, 2.0, 2.0, 0.1, 0.1, 0.1])) == {}
    assert list(stopped(policy, good, child(1, [0.6, 0.5, 0.4, 0.5, 0.5, 0.5]))) == []
    assert list(stopped(policy, child(0, [0.5, 0.4, 0.3, 0.2, 0.1, 0.01]), child(1, [0.5] * 6))) == ["t1"]


def test_min_interval_delays_the_first_judgement() -> None:
    policy = {"kind": "median", "evaluationInterval": 1, "minInterval": 3}
    others = [child(i, [0.1, 0.1, 0.1, 0.1], RunStatus.SUCCEEDED) for i in (0, 1)]
    assert stopped(policy, *others, child(2, [5.0, 5.0])) == {}
    assert stopped(policy, *others, child(2, [5.0, 5.0, 5.0])) == {
        "t2": "median stopping at interval 3: best loss=5 is worse than the median 0.1 of the other trials' "
        "running averages"
    }


def test_a_young_trial_is_compared_with_the_others_at_the_same_interval() -> None:
    """Others that reached 0.05 at their 4th value were at 0.9 and 1.0 after 2: a trial at 0.7
    after 2 values is ahead of them then, and is not stopped for the others' later values."""
    policy = {"kind": "median", "evaluationInterval": 1, "minSamples": 2}
    older = [child(0, [1.0, 0.9, 0.1, 0.05], RunStatus.SUCCEEDED), child(1, [1.1, 1.0, 0.2, 0.06])]
    assert stopped(policy, *older, child(2, [0.8, 0.7])) == {}
    # once it logged 4 values without getting better, the others' running averages (0.5125,
    # 0.59) are below its best
    assert list(stopped(policy, *older, child(2, [0.8, 0.7, 0.7, 0.7]))) == ["t2"]
    # the old trial still running is judged at its 4th value against the young one's 2 values
    assert "t1" not in stopped(policy, *older, child(2, [0.8, 0.7]))


def test_median_uses_the_others_running_averages_and_the_trials_best() -> None:
    policy = {"kind": "median", "evaluationInterval": 2}
    others = [child(0, [0.4, 0.2], RunStatus.SUCCEEDED), child(1, [0.6, 0.4], RunStatus.SUCCEEDED)]
    # averages 0.3 and 0.5: median 0.4; a trial whose best of 2 is 0.35 stays (its last 0.9 does not count)
    assert stopped(policy, *others, child(2, [0.35, 0.9])) == {}
    assert list(stopped(policy, *others, child(2, [0.45, 0.41]))) == ["t2"]
    # maximised: the higher the better
    assert stopped(policy, *others, child(2, [0.45, 0.41]), optimization="maximize") == {}


def test_truncation_ranks_running_trials_and_succeeded_ones_only_when_asked() -> None:
    policy = {"kind": "truncation", "percent": 50, "evaluationInterval": 1}
    succeeded = [child(i, [0.01], RunStatus.SUCCEEDED) for i in (0, 1, 2)]
    running = [child(3, [0.5]), child(4, [0.6])]
    # among the running trials only: 0.6 is the worst half of two
    assert list(stopped(policy, *succeeded, *running)) == ["t4"]
    # with the succeeded ones (0.01 x 3) the worst half of five is both running trials
    assert sorted(stopped({**policy, "includeSucceeded": True}, *succeeded, *running)) == ["t3", "t4"]


def test_min_samples_counts_the_other_trials_with_a_value() -> None:
    policy = {"kind": "diff", "percent": 10, "evaluationInterval": 1, "minSamples": 2}
    assert stopped(policy, child(0, [0.1]), child(1, []), child(2, [5.0])) == {}
    assert list(stopped(policy, child(0, [0.1]), child(1, [0.1]), child(2, [5.0]))) == ["t2"]


def test_a_metric_given_only_as_an_output_counts_as_one_interval() -> None:
    policy = {"kind": "diff", "percent": 10, "evaluationInterval": 1}
    best = child(0, [0.1], RunStatus.SUCCEEDED)
    worse = child(1, [])
    worse = ChildRecord(**{**worse.__dict__, "outputs": {"loss": 3.0}})
    assert list(stopped(policy, best, worse)) == ["t1"]
    assert stopped({**policy, "evaluationInterval": 2}, best, worse) == {}
