"""Property tests of the samplers every tuner and `mizzen render` draw from: each distribution's
draws lie where the distribution says (q-variants quantised, log-variants in log space), pchoice
follows its weights, a grid's trial i is itertools.product's i-th, and draws are reproducible."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from mizzen.compiler.search_space import (
    dimensions,
    discrete_values,
    grid_size,
    grid_trial,
    random_trial,
    sample,
)
from mizzen.spec.distributions import HpParam

PARAM = TypeAdapter(HpParam)
floats = st.floats(min_value=-50, max_value=50, allow_nan=False)
seeds = st.integers(min_value=0, max_value=2**31)


def hp(kind: str, value: object):
    return PARAM.validate_python({"kind": kind, "value": value})


def _is_multiple(value: float, q: float) -> bool:
    return math.isclose(value / q, round(value / q), abs_tol=1e-6)


@given(low=floats, width=st.floats(min_value=0.01, max_value=50), seed=seeds)
def test_uniform_draws_lie_in_their_bounds(low: float, width: float, seed: int) -> None:
    drawn = sample(hp("uniform", [low, low + width]), random.Random(seed))
    assert low - 1e-9 <= drawn <= low + width + 1e-9


@given(low=floats, width=st.floats(min_value=1, max_value=50), q=st.sampled_from([0.5, 1, 2, 5]), seed=seeds)
def test_quniform_draws_are_multiples_of_q_near_their_bounds(
    low: float, width: float, q: float, seed: int
) -> None:
    drawn = sample(hp("quniform", [low, low + width, q]), random.Random(seed))
    assert _is_multiple(drawn, q)
    assert low - q / 2 - 1e-9 <= drawn <= low + width + q / 2 + 1e-9


@given(low=st.floats(min_value=-10, max_value=2), width=st.floats(min_value=0.1, max_value=5), seed=seeds)
def test_loguniform_draws_are_exp_of_a_uniform_in_log_space(low: float, width: float, seed: int) -> None:
    drawn = sample(hp("loguniform", [low, low + width]), random.Random(seed))
    assert low - 1e-6 <= math.log(drawn) <= low + width + 1e-6


@given(seed=seeds, q=st.sampled_from([0.1, 1.0, 10.0]))
def test_qloguniform_draws_are_quantised_after_exp(seed: int, q: float) -> None:
    drawn = sample(hp("qloguniform", [0, 5, q]), random.Random(seed))
    assert _is_multiple(drawn, q) and 0 <= drawn <= math.exp(5) + q


@given(loc=floats, scale=st.floats(min_value=0.1, max_value=5), seed=seeds)
def test_normal_variants_are_drawn_around_loc(loc: float, scale: float, seed: int) -> None:
    rng = random.Random(seed)
    assert isinstance(sample(hp("normal", [loc, scale]), rng), float)
    assert _is_multiple(sample(hp("qnormal", [loc, scale, 0.5]), rng), 0.5)
    assert sample(hp("lognormal", [0, 1]), rng) > 0
    assert _is_multiple(sample(hp("qlognormal", [0, 1, 0.25]), rng), 0.25)


def test_normal_draws_have_their_mean_and_scale_and_lognormal_is_exp_of_it() -> None:
    rng = random.Random(3)
    normal = [sample(hp("normal", [2.0, 0.5]), rng) for _ in range(4000)]
    mean = sum(normal) / len(normal)
    spread = math.sqrt(sum((v - mean) ** 2 for v in normal) / len(normal))
    assert abs(mean - 2.0) < 0.05 and abs(spread - 0.5) < 0.05
    logs = [math.log(sample(hp("lognormal", [1.0, 0.2]), rng)) for _ in range(4000)]
    assert abs(sum(logs) / len(logs) - 1.0) < 0.02


def test_pchoice_follows_its_weights() -> None:
    rng = random.Random(5)
    counts = Counter(sample(hp("pchoice", [["a", 0.7], ["b", 0.2], ["c", 0.1]]), rng) for _ in range(10000))
    assert abs(counts["a"] / 10000 - 0.7) < 0.03
    assert abs(counts["b"] / 10000 - 0.2) < 0.03
    assert abs(counts["c"] / 10000 - 0.1) < 0.02


@given(start=st.integers(-20, 20), count=st.integers(1, 20), step=st.integers(1, 5), seed=seeds)
def test_range_draws_are_values_of_the_range(start: int, count: int, step: int, seed: int) -> None:
    param = hp("range", [start, start + count * step, step])
    assert discrete_values(param) == list(range(start, start + count * step, step))
    assert sample(param, random.Random(seed)) in discrete_values(param)


def test_spaces_and_dates_enumerate_their_values() -> None:
    assert discrete_values(hp("linspace", [0, 1, 5])) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert discrete_values(hp("logspace", [0, 3, 4])) == [1.0, 10.0, 100.0, 1000.0]
    assert discrete_values(hp("logspace", {"start": 0, "stop": 2, "num": 3, "base": 2})) == [1.0, 2.0, 4.0]
    assert discrete_values(hp("geomspace", [1, 1000, 4])) == [1.0, 10.0, 100.0, 1000.0]
    days = discrete_values(hp("daterange", [date(2024, 1, 1), date(2024, 1, 8), 3]))
    assert days == ["2024-01-01", "2024-01-04", "2024-01-07"]
    moments = discrete_values(hp("datetimerange", [datetime(2024, 1, 1), datetime(2024, 1, 1, 3), 3600]))
    assert moments == ["2024-01-01T00:00:00", "2024-01-01T01:00:00", "2024-01-01T02:00:00"]


@settings(max_examples=50)
@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_grid_trial_i_is_the_products_i_th(sizes: list[int]) -> None:
    params = {f"p{n}": hp("choice", list(range(size))) for n, size in enumerate(sizes)}
    expected = [
        dict(zip(params, combo, strict=True)) for combo in itertools.product(*(range(s) for s in sizes))
    ]
    assert grid_size(params) == len(expected)
    assert [grid_trial(params, i) for i in range(len(expected))] == expected


@given(seed=seeds, index=st.integers(0, 10000))
def test_a_trial_draws_the_same_values_alone_and_again(seed: int, index: int) -> None:
    params = {"a": hp("uniform", [0, 1]), "b": hp("choice", [1, 2, 3]), "c": hp("qnormal", [0, 1, 0.1])}
    assert random_trial(params, seed, index) == random_trial(params, seed, index)
    assert random_trial(params, seed, index) != random_trial(params, seed, index + 1)


def test_model_based_tuners_see_categories_and_log_intervals() -> None:
    dims = {
        d.name: d
        for d in dimensions(
            {"lr": hp("loguniform", [-7, 0]), "k": hp("choice", ["x", "y"]), "n": hp("normal", [0, 1])}
        )
    }
    assert math.isclose(dims["lr"].low, math.exp(-7)) and dims["lr"].log and dims["lr"].high == 1.0
    assert dims["k"].choices == ("x", "y") and dims["k"].value_of(1) == "y" and dims["k"].point_of("y") == 1
    assert (dims["n"].low, dims["n"].high) == (-3.0, 3.0)
