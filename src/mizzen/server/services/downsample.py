"""Downsampling a metric history for plotting: at most ``max_points``, keeping the first and last
points and each bucket's lowest and highest values, so spikes and the overall shape survive."""

from __future__ import annotations


def downsample_indices(values: list[float], max_points: int) -> list[int]:
    """Ascending indices of the points to keep (all of them when there are few enough)."""
    count = len(values)
    if count <= max_points:
        return list(range(count))
    if max_points < 4:
        return [0, count - 1][:max_points]
    buckets = (max_points - 2) // 2  # each bucket keeps its minimum and its maximum
    inner = count - 2
    keep = {0, count - 1}
    for bucket in range(buckets):
        start = 1 + bucket * inner // buckets
        end = 1 + (bucket + 1) * inner // buckets
        if start < end:
            keep.add(min(range(start, end), key=values.__getitem__))
            keep.add(max(range(start, end), key=values.__getitem__))
    return sorted(keep)
