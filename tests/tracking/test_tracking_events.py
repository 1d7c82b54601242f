from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics

from mizzen.tracking import events


def test_histogram_matches_numpy() -> None:
    values = np.random.default_rng(0).normal(size=1000)
    counts, edges = np.histogram(values, bins=7)
    mine = events.histogram(values, 7)
    assert mine["counts"] == counts.tolist()
    assert mine["bins"] == pytest.approx(edges.tolist())


def test_histogram_with_explicit_edges_and_plain_lists() -> None:
    mine = events.histogram([0, 1, 1, 2, 5, 9, 10, 11], bins=[0, 5, 10])
    assert mine == {"bins": [0.0, 5.0, 10.0], "counts": [4, 3]}  # 11 is outside, 10 is in the last bin
    assert events.histogram([3, 3, 3], 2)["counts"] == [0, 3]
    with pytest.raises(ValueError, match="increasing"):
        events.histogram([1], bins=[2, 1])
    with pytest.raises(ValueError, match="empty"):
        events.histogram([], 3)


def test_roc_curve_area_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, 200)
    scores = y_true * 0.3 + rng.random(200)
    fpr, tpr, _ = metrics.roc_curve(y_true, scores)
    curve = events.roc_auc_curve(fpr, tpr, None)
    assert curve["auc"] == pytest.approx(metrics.roc_auc_score(y_true, scores))
    assert events.roc_auc_curve([0, 1], [0, 1], 0.75)["auc"] == 0.75
    with pytest.raises(ValueError, match="same length"):
        events.roc_auc_curve([0, 1], [0], None)


def test_average_precision_matches_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 2, 300)
    scores = y_true * 0.2 + rng.random(300)
    precision, recall, _ = metrics.precision_recall_curve(y_true, scores)
    curve = events.pr_curve(precision, recall, None)
    assert curve["average_precision"] == pytest.approx(metrics.average_precision_score(y_true, scores))


def test_confusion_matrix_checks_its_shape() -> None:
    payload = events.confusion_matrix(["cat", "dog"], ["cat", "dog"], np.array([[5, 1], [2, 7]]))
    assert payload == {"x": ["cat", "dog"], "y": ["cat", "dog"], "z": [[5.0, 1.0], [2.0, 7.0]]}
    with pytest.raises(ValueError, match="2 rows of 3 values"):
        events.confusion_matrix([0, 1, 2], [0, 1], [[1, 2, 3]])


def test_event_bytes_are_json_with_step_and_time() -> None:
    data = json.loads(events.event_bytes({"counts": [1]}, 3, 12.5))
    assert data == {"step": 3, "timestamp": 12.5, "counts": [1]}
