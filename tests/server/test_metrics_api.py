from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mizzen.schemas.api import MetricHistory
from mizzen.server.services.downsample import downsample_indices

Make = Callable[..., dict[str, Any]]


def _points(name: str, values: list[float], first_step: int = 0) -> list[dict[str, Any]]:
    return [
        {"name": name, "value": v, "step": first_step + i, "timestamp": 1000.0 + first_step + i}
        for i, v in enumerate(values)
    ]


def test_ingest_history_and_summaries_on_each_database(
    api_on_each_db: httpx.Client, create_run: Make
) -> None:
    api = api_on_each_db
    run = create_run(api)
    uuid = run["uuid"]
    losses = [1.0 / (i + 1) for i in range(50)]
    answer = api.post(
        f"/runs/{uuid}/metrics", json={"points": _points("loss", losses) + _points("train/acc", [0.5])}
    )
    assert answer.json() == {"accepted": 51}

    history = MetricHistory.model_validate(api.get(f"/runs/{uuid}/metrics/loss").json())
    assert history.steps == list(range(50))
    assert history.values == pytest.approx(losses)
    assert not history.downsampled

    slashed = api.get(f"/runs/{uuid}/metrics/train/acc").json()
    assert slashed["values"] == [0.5]

    summaries = {s["name"]: s for s in api.get(f"/runs/{uuid}/metrics").json()}
    assert summaries["loss"]["last"] == pytest.approx(1 / 50)
    assert (summaries["loss"]["min"], summaries["loss"]["max"], summaries["loss"]["count"]) == (
        pytest.approx(1 / 50),
        1.0,
        50,
    )
    assert summaries["loss"]["last_step"] == 49
    detail = api.get(f"/runs/{uuid}").json()
    assert {m["name"] for m in detail["metrics"]} == {"loss", "train/acc"}


def test_downsampled_history_keeps_ends_and_extremes(api: httpx.Client, create_run: Make) -> None:
    uuid = create_run(api)["uuid"]
    values = [float(i % 10) for i in range(1000)]
    values[437] = 99.0  # a spike
    values[777] = -5.0  # a dip
    api.post(f"/runs/{uuid}/metrics", json={"points": _points("loss", values)})
    history = api.get(f"/runs/{uuid}/metrics/loss", params={"max_points": 50}).json()
    assert history["downsampled"] is True
    assert len(history["values"]) <= 50
    assert history["steps"][0] == 0 and history["steps"][-1] == 999
    assert 99.0 in history["values"] and -5.0 in history["values"]
    assert history["steps"] == sorted(history["steps"])
    assert api.get(f"/runs/{uuid}/metrics/loss", params={"max_points": 1}).status_code == 422


def test_history_of_a_metric_never_logged_is_empty(api: httpx.Client, create_run: Make) -> None:
    uuid = create_run(api)["uuid"]
    assert api.get(f"/runs/{uuid}/metrics/nothing").json() == {
        "name": "nothing",
        "steps": [],
        "timestamps": [],
        "values": [],
        "downsampled": False,
    }
    assert api.get("/runs/0123456789abcdef0123456789abcdef/metrics/loss").status_code == 404


def test_a_retried_batch_with_its_key_is_stored_once(api: httpx.Client, create_run: Make) -> None:
    uuid = create_run(api)["uuid"]
    body = {"points": _points("loss", [0.5, 0.4])}
    headers = {"Idempotency-Key": "batch-1"}
    assert api.post(f"/runs/{uuid}/metrics", json=body, headers=headers).json() == {"accepted": 2}
    assert api.post(f"/runs/{uuid}/metrics", json=body, headers=headers).json() == {"accepted": 2}
    assert len(api.get(f"/runs/{uuid}/metrics/loss").json()["values"]) == 2
    assert api.get(f"/runs/{uuid}/metrics").json()[0]["count"] == 2


@pytest.mark.parametrize(
    ("point", "field"),
    [
        ({"name": "loss", "value": float("inf"), "timestamp": 1.0}, "points[0].value"),
        ({"name": "loss", "value": float("nan"), "timestamp": 1.0}, "points[0].value"),
        ({"name": "loss", "value": 1.0, "timestamp": float("nan")}, "points[0].timestamp"),
        ({"name": "", "value": 1.0, "timestamp": 1.0}, "points[0].name"),
        ({"name": "loss", "value": 1.0, "timestamp": 1.0, "step": 2**70}, "points[0].step"),
        ({"name": "loss", "value": 1.0}, "points[0].timestamp"),
    ],
)
def test_points_that_cannot_be_stored_are_refused(
    api: httpx.Client, create_run: Make, point: dict[str, Any], field: str
) -> None:
    import json

    uuid = create_run(api)["uuid"]
    answer = api.post(
        f"/runs/{uuid}/metrics",
        content=json.dumps({"points": [point]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_downsample_indices() -> None:
    assert downsample_indices([1.0, 2.0, 3.0], 10) == [0, 1, 2]
    values = [0.0] * 100
    values[50] = 7.0
    kept = downsample_indices(values, 10)
    assert kept[0] == 0 and kept[-1] == 99 and 50 in kept and len(kept) <= 10
    assert downsample_indices(list(range(100)), 2) == [0, 99]


def test_columnar_series_and_points_ingest_together_in_order(
    api_on_each_db: httpx.Client, create_run: Make
) -> None:
    api = api_on_each_db
    uuid = create_run(api)["uuid"]
    body = {
        "points": _points("loss", [0.9]),
        "series": [
            {"name": "loss", "values": [0.8, 0.7], "timestamps": [1001.0, 1002.0], "steps": [1, 2]},
            {"name": "lr", "values": [0.1, 0.05], "timestamps": [1001.0, 1002.0]},
        ],
    }
    assert api.post(f"/runs/{uuid}/metrics", json=body).json() == {"accepted": 5}
    loss = MetricHistory.model_validate(api.get(f"/runs/{uuid}/metrics/loss").json())
    assert loss.steps == [0, 1, 2] and loss.values == pytest.approx([0.9, 0.8, 0.7])
    lr = MetricHistory.model_validate(api.get(f"/runs/{uuid}/metrics/lr").json())
    assert lr.steps == [None, None] and lr.values == pytest.approx([0.1, 0.05])
    summaries = {s["name"]: s for s in api.get(f"/runs/{uuid}/metrics").json()}
    assert summaries["loss"]["last"] == pytest.approx(0.7) and summaries["loss"]["count"] == 3


def test_a_bad_series_is_refused_naming_its_field_and_stores_nothing(
    api: httpx.Client, create_run: Make
) -> None:
    uuid = create_run(api)["uuid"]
    uneven = {"series": [{"name": "loss", "values": [1.0, 2.0], "timestamps": [1.0]}]}
    answer = api.post(f"/runs/{uuid}/metrics", json=uneven)
    assert answer.status_code == 422
    assert answer.json()["field"].startswith("series[0]")
    assert "2 values but 1 timestamps" in answer.json()["message"]

    import json

    infinite = {"series": [{"name": "loss", "values": [1.0, float("inf")], "timestamps": [1.0, 2.0]}]}
    answer = api.post(
        f"/runs/{uuid}/metrics",
        content=json.dumps(infinite).encode(),  # "Infinity": not JSON, but Python writes it
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "series[0][1].value"
    assert api.get(f"/runs/{uuid}/metrics/loss").json()["values"] == []
