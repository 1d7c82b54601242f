"""Tracking from training code: ``from mizzen import tracking``.

    tracking.init()                       # inside `mizzen run`: attaches to the run; else creates one
    for epoch in range(10):
        tracking.log_metrics(step=epoch, loss=loss, accuracy=acc)
    tracking.log_model("model.pkl", framework="sklearn")
    tracking.log_outputs(accuracy=acc)

Nothing here blocks or raises into training code: calls append to a memory buffer; a background
thread journals them to ``<run folder>/.tracking/`` and another uploads them, retrying while the API
is away. ``sync_journal()`` (``mizzen ops sync``) uploads whatever a journal still holds.

Importing this module loads neither the HTTP client nor pydantic: they come with ``init()``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from mizzen.tracking.attach import STATE, init, is_managed_environment
from mizzen.tracking.run import Run
from mizzen.tracking.safety import warn_once
from mizzen.tracking.sync import SyncReport, sync_journal

__all__ = [
    "Run",
    "SyncReport",
    "end",
    "get_artifacts_path",
    "get_outputs_path",
    "get_run",
    "init",
    "log_artifact",
    "log_confusion_matrix",
    "log_dataframe",
    "log_env",
    "log_histogram",
    "log_html",
    "log_image",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_outputs",
    "log_pr_curve",
    "log_roc_auc_curve",
    "log_tags",
    "log_text",
    "sync_journal",
]


def get_run() -> Run | None:
    """The default run: the last ``init()``'s, or the managed run (attached on first use)."""
    run = STATE.run
    if run is not None:
        return run
    if is_managed_environment():
        return init()
    warn_once("no-run", "call tracking.init() first: nothing is recorded until then")
    return None


def log_metric(
    name: str, value: float, step: int | None = None, timestamp: float | datetime | None = None
) -> None:
    run = STATE.run or get_run()
    if run is not None:
        run.log_metric(name, value, step, timestamp)


def log_metrics(step: int | None = None, timestamp: float | datetime | None = None, **values: float) -> None:
    run = STATE.run or get_run()
    if run is not None:
        run.log_metrics(step, timestamp, **values)


def log_inputs(**inputs: Any) -> None:
    if run := get_run():
        run.log_inputs(**inputs)


def log_outputs(**outputs: Any) -> None:
    if run := get_run():
        run.log_outputs(**outputs)


def log_tags(*tags: str) -> None:
    if run := get_run():
        run.log_tags(*tags)


def log_artifact(
    path: str | os.PathLike[str], name: str | None = None, kind: str | None = None, is_input: bool = False
) -> None:
    if run := get_run():
        run.log_artifact(path, name, kind, is_input)


def log_model(
    path: str | os.PathLike[str],
    name: str | None = None,
    framework: str | None = None,
    summary: dict[str, Any] | None = None,
) -> None:
    if run := get_run():
        run.log_model(path, name, framework, summary)


def log_dataframe(df: Any, name: str, content_type: str = "csv") -> None:
    if run := get_run():
        run.log_dataframe(df, name, content_type)


def log_text(
    name: str, text: str, step: int | None = None, timestamp: float | datetime | None = None
) -> None:
    if run := get_run():
        run.log_text(name, text, step, timestamp)


def log_html(
    name: str, html: str, step: int | None = None, timestamp: float | datetime | None = None
) -> None:
    if run := get_run():
        run.log_html(name, html, step, timestamp)


def log_image(
    data: Any,
    name: str | None = None,
    step: int | None = None,
    timestamp: float | datetime | None = None,
    dataformats: str | None = None,
) -> None:
    if run := get_run():
        run.log_image(data, name, step, timestamp, dataformats)


def log_histogram(
    name: str, values: Any, bins: int | list[float] = 10, step: int | None = None, **kwargs: Any
) -> None:
    if run := get_run():
        run.log_histogram(name, values, bins, step, **kwargs)


def log_roc_auc_curve(
    name: str, fpr: Any, tpr: Any, auc: float | None = None, step: int | None = None, **kwargs: Any
) -> None:
    if run := get_run():
        run.log_roc_auc_curve(name, fpr, tpr, auc, step, **kwargs)


def log_pr_curve(
    name: str,
    precision: Any,
    recall: Any,
    average_precision: float | None = None,
    step: int | None = None,
    **kwargs: Any,
) -> None:
    if run := get_run():
        run.log_pr_curve(name, precision, recall, average_precision, step, **kwargs)


def log_confusion_matrix(name: str, x: Any, y: Any, z: Any, step: int | None = None, **kwargs: Any) -> None:
    if run := get_run():
        run.log_confusion_matrix(name, x, y, z, step, **kwargs)


def log_env() -> None:
    if run := get_run():
        run.log_env()


def get_outputs_path() -> str | None:
    run = get_run()
    return run.get_outputs_path() if run else None


def get_artifacts_path() -> str | None:
    run = get_run()
    return run.get_artifacts_path() if run else None


def end(status: str = "succeeded", message: str | None = None, timeout: float | None = None) -> bool:
    """Ends the default run: flushes the journal and waits (bounded) for the uploads."""
    run = STATE.run
    if run is None:
        return True
    return bool(run.end(status, message, timeout))
