"""Payloads of the rich events (histograms, curves, confusion matrices), as plain JSON.

Built on the training thread from what the user passes (lists, numpy arrays, tensors), so that a
buffer the training loop reuses cannot change what was logged. numpy is used only when the values
are numpy arrays already (then numpy is imported anyway).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from typing import Any

from mizzen.tracking.safety import json_default


def to_floats(values: Any, what: str) -> list[float]:
    """A flat list of floats from a list, a tuple, a numpy array or a tensor."""
    if hasattr(values, "tolist"):
        values = values.tolist()
    flat: list[float] = []
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            flat.append(float(item))
    if not flat and what:
        raise ValueError(f"{what} is empty")
    return flat


def histogram(values: Any, bins: int | Sequence[float] = 10) -> dict[str, Any]:
    """``{"bins": edges (n+1), "counts": n}``; the last bin includes its right edge (like numpy)."""
    data = [v for v in to_floats(values, "values") if not math.isnan(v)]
    if isinstance(bins, int):
        if bins < 1:
            raise ValueError("bins must be at least 1")
        low, high = (min(data), max(data)) if data else (0.0, 1.0)
        if low == high:
            low, high = low - 0.5, high + 0.5
        width = (high - low) / bins
        edges = [low + i * width for i in range(bins)] + [high]
    else:
        edges = to_floats(list(bins), "bins")
        if len(edges) < 2 or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError("bins must be at least two increasing edges")
    counts = [0] * (len(edges) - 1)
    import bisect

    for value in data:
        if value < edges[0] or value > edges[-1]:
            continue
        index = min(bisect.bisect_right(edges, value) - 1, len(counts) - 1)
        counts[index] += 1
    return {"bins": edges, "counts": counts}


def roc_auc_curve(fpr: Any, tpr: Any, auc: float | None) -> dict[str, Any]:
    x, y = to_floats(fpr, "fpr"), to_floats(tpr, "tpr")
    _same_length(x, y, "fpr", "tpr")
    return {"fpr": x, "tpr": y, "auc": float(auc) if auc is not None else trapezoid(x, y)}


def pr_curve(precision: Any, recall: Any, average_precision: float | None) -> dict[str, Any]:
    p, r = to_floats(precision, "precision"), to_floats(recall, "recall")
    _same_length(p, r, "precision", "recall")
    if average_precision is None:
        # scikit-learn's average precision: sum over the curve of (R_n - R_n+1) * P_n, recall decreasing
        pairs = list(zip(r, p, strict=True))
        if pairs and pairs[0][0] < pairs[-1][0]:
            pairs.reverse()
        average_precision = sum((r0 - r1) * p0 for (r0, p0), (r1, _) in itertools.pairwise(pairs))
    return {"precision": p, "recall": r, "average_precision": float(average_precision)}


def confusion_matrix(x: Any, y: Any, z: Any) -> dict[str, Any]:
    labels_x = [json_default(v) if not isinstance(v, (str, int, float)) else v for v in _as_list(x)]
    labels_y = [json_default(v) if not isinstance(v, (str, int, float)) else v for v in _as_list(y)]
    rows = [to_floats(row, "") for row in _as_list(z)]
    if len(rows) != len(labels_y) or any(len(row) != len(labels_x) for row in rows):
        raise ValueError(f"z must be {len(labels_y)} rows of {len(labels_x)} values (len(y) x len(x))")
    return {"x": labels_x, "y": labels_y, "z": rows}


def trapezoid(x: list[float], y: list[float]) -> float:
    pairs = sorted(zip(x, y, strict=False))
    return float(sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in itertools.pairwise(pairs)))


def event_bytes(payload: dict[str, Any], step: int | None, timestamp: float) -> bytes:
    return json.dumps({"step": step, "timestamp": timestamp, **payload}, default=json_default).encode()


def _as_list(values: Any) -> list[Any]:
    return list(values.tolist() if hasattr(values, "tolist") else values)


def _same_length(a: list[float], b: list[float], name_a: str, name_b: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} must have the same length ({len(a)} != {len(b)})")
