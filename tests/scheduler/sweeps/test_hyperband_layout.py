"""Hyperband's arithmetic against Li et al. 2018 (s_max, bracket sizes, rung sizes and resources),
float noise in log_eta, rounding of int resources, and how a rung ranks its trials for promotion:
pure, on the tuner the sweep planner uses."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from mizzen.scheduler.sweeps.hyperband import HyperbandTuner, layout
from mizzen.scheduler.sweeps.trials import Goal, Trial
from mizzen.schemas.statuses import RunStatus
from mizzen.spec.matrix import HyperbandSpec


def brackets(max_iterations: float, eta: float) -> dict[int, list[tuple[int, float]]]:
    """{s: [(configs, resource) of each rung]}"""
    found: dict[int, list[tuple[int, float]]] = {}
    for rung in layout(max_iterations, eta):
        found.setdefault(rung.bracket, []).append((rung.size, round(rung.resource, 9)))
    return found


@pytest.mark.parametrize(
    ("max_iterations", "eta", "s_max"),
    [
        (81, 3, 4),  # math.log(81) / math.log(3) = 4.000000000000001
        (243, 3, 5),  # = 4.999999999999999: must not floor to 4
        (1000, 10, 3),  # = 2.9999999999999996: must not floor to 2
        (9, 3, 2),
        (100, 3, 4),  # not a power of eta: floor(4.19)
        (8, 2, 3),
        (2, 3, 0),  # below eta: one bracket, every config at R
    ],
)
def test_s_max_is_floor_log_eta_of_max_iterations_without_float_noise(
    max_iterations: int, eta: int, s_max: int
) -> None:
    assert max(brackets(max_iterations, eta)) == s_max
    assert sorted(brackets(max_iterations, eta)) == list(range(s_max + 1))


def test_r81_eta3_has_the_five_brackets_of_the_paper() -> None:
    """Li et al. 2018, table 1 (R=81, eta=3)."""
    assert brackets(81, 3) == {
        4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        3: [(34, 3), (11, 9), (3, 27), (1, 81)],
        2: [(15, 9), (5, 27), (1, 81)],
        1: [(8, 27), (2, 81)],
        0: [(5, 81)],
    }
    # slots are numbered bracket after bracket (s_max first), rung after rung, without gaps
    rungs = layout(81, 3)
    assert [r.first for r in rungs] == [sum(x.size for x in rungs[:i]) for i in range(len(rungs))]


def test_each_rung_keeps_floor_of_the_rung_before_over_eta_for_a_fractional_eta() -> None:
    """A rung keeps the best floor(size / eta) of the rung before. With a fractional eta that is
    not floor(n * eta^-i): R=10, eta=1.5, bracket 4 starts n=7 configs; floor(7 / 1.5^2) = 3, but
    only floor(4 / 1.5) = 2 of its second rung's 4 can go on."""
    for rungs in brackets(10, 1.5).values():
        sizes = [size for size, _ in rungs]
        assert all(after == math.floor(before / 1.5) for before, after in itertools.pairwise(sizes))
    assert [size for size, _ in brackets(10, 1.5)[4]] == [7, 4, 2, 1]
    # bracket 5: n = ceil(6/6 * 1.5^5) = 8, then 5, 3, 2, 1; a rung of 1 promotes floor(1/1.5) = 0
    assert [size for size, _ in brackets(10, 1.5)[5]] == [8, 5, 3, 2, 1]


def _tuner(
    max_iterations: int, *, eta: float = 3, resource_type: str = "int", maximize: bool = False
) -> HyperbandTuner:
    matrix = HyperbandSpec.model_validate(
        {
            "kind": "hyperband",
            "maxIterations": max_iterations,
            "eta": eta,
            "seed": 1,
            "resource": {"name": "epochs", "type": resource_type},
            "metric": {"name": "loss", "optimization": "maximize" if maximize else "minimize"},
            "params": {"lr": {"kind": "uniform", "value": [0, 1]}},
        }
    )
    return HyperbandTuner(matrix, 1, Goal("loss", maximize))


def first_rung_resources(tuner: HyperbandTuner) -> list[Any]:
    slots = {}
    for rung in tuner.rungs:
        if rung.rung == 0:
            meta = tuner.suggest_slot(rung.first, {})
            assert meta is not None
            slots[rung.bracket] = meta["values"]["epochs"]
    return [slots[s] for s in sorted(slots, reverse=True)]


def test_int_resources_are_rounded_half_up_and_float_ones_kept() -> None:
    # R = 100, eta = 3: 100/81 = 1.23, 100/27 = 3.70, 100/9 = 11.1, 100/3 = 33.3, 100
    ints = first_rung_resources(_tuner(100))
    assert ints == [1, 4, 11, 33, 100] and all(type(v) is int for v in ints)
    floats = first_rung_resources(_tuner(100, resource_type="float"))
    assert floats == pytest.approx([100 / 81, 100 / 27, 100 / 9, 100 / 3, 100])
    assert all(type(v) is float for v in floats)
    # 81 * 3^-4 is 1.0000000000000002 in floats: still exactly 1 epoch
    assert first_rung_resources(_tuner(81)) == [1, 3, 9, 27, 81]
    # half up, not to the even neighbour: R = 10, eta = 4 starts bracket 1 at 2.5 -> 3 epochs
    assert first_rung_resources(_tuner(10, eta=4)) == [3, 10]


def _done(
    tuner: HyperbandTuner, scores: dict[int, float | None], failed: set[int] = frozenset()
) -> dict[int, Trial]:  # type: ignore[assignment]
    trials = {}
    for index, score in scores.items():
        meta = tuner.suggest_slot(index, {})
        assert meta is not None
        status = RunStatus.FAILED if index in failed else RunStatus.SUCCEEDED
        trials[index] = Trial(index, f"uuid-{index}", status, meta["values"], meta, score)
    return trials


def promoted(tuner: HyperbandTuner, trials: dict[int, Trial]) -> list[str]:
    """The trials the second rung of the first bracket (9 -> 3 with R=9) continues, in slot order."""
    second = next(r for r in tuner.rungs if r.bracket == 2 and r.rung == 1)
    found = []
    for index in range(second.first, second.first + second.size):
        meta = tuner.suggest_slot(index, trials)
        assert meta is not None and meta["values"]["epochs"] == 3
        found.append(meta["promoted_from"])
    return found


def test_a_rung_promotes_the_best_with_ties_to_the_lower_index() -> None:
    tuner = _tuner(9)
    scores: dict[int, float | None] = {0: 0.5, 1: 0.2, 2: 0.9, 3: 0.2, 4: 0.7, 5: 0.2, 6: 0.8, 7: 0.3, 8: 0.6}
    assert promoted(tuner, _done(tuner, scores)) == ["uuid-1", "uuid-3", "uuid-5"]
    # one trial of the rung not done yet: no promotion
    trials = _done(tuner, scores)
    trials.pop(8)
    assert tuner.suggest_slot(9, trials) is None


def test_failed_unscored_and_nan_trials_are_promoted_last() -> None:
    tuner = _tuner(9)
    scores: dict[int, float | None] = {
        0: float("nan"),
        1: None,
        2: 0.1,  # failed
        3: 0.9,
        4: float("nan"),
        5: 0.8,
        6: None,
        7: 0.95,
        8: float("nan"),
    }
    trials = _done(tuner, scores, failed={2})
    assert promoted(tuner, trials) == ["uuid-5", "uuid-3", "uuid-7"]
    # with fewer scored trials than slots, the rest go in index order
    only_one = {i: (0.5 if i == 4 else float("nan")) for i in range(9)}
    assert promoted(tuner, _done(tuner, only_one)) == ["uuid-4", "uuid-0", "uuid-1"]


def test_a_maximised_metric_promotes_the_highest() -> None:
    tuner = _tuner(9, maximize=True)
    scores: dict[int, float | None] = {i: float(i % 5) for i in range(9)}  # 0 1 2 3 4 0 1 2 3
    assert promoted(tuner, _done(tuner, scores)) == ["uuid-4", "uuid-3", "uuid-8"]
