"""Pipeline runs: sweeps, DAGs and schedules, and what their children carry.

A pipeline is a run of kind ``matrix`` / ``dag`` / ``schedule`` (Polyaxon's names). No executor
runs it: the scheduler's pipeline driver (``mizzen.scheduler.pipelines``) creates its children,
each with ``pipeline_uuid`` set to it and a ``pipeline_key`` unique within it (``trial-0007``,
``op-train``, ``tick-2026-12-07T10:00:00Z``). The store refuses a second child with the same key,
so a driver that crashes and starts again, or two drivers at once, never create a child twice.
"""

from __future__ import annotations

MATRIX = "matrix"
DAG = "dag"
SCHEDULE = "schedule"
PIPELINE_KINDS = frozenset({MATRIX, DAG, SCHEDULE})

# Keys of a child's meta (the scheduler compiles a child from its pipeline's spec with them).
TRIAL_KEY = "trial"  # {"index": 7, "values": {"lr": 0.01}, ...}: the params a tuner gave a trial
DAG_OP_KEY = "dag_op"  # the name of the DAG op this child runs
UPSTREAM_KEY = "upstream"  # {op: {"inputs": {...}, "outputs": {...}, ...}}: what the op read upstream
TICK_KEY = "tick"  # {"due": ISO time, "index": 1.., "missed": n}: the due time a schedule's tick runs for
PIPELINE_STATE_KEY = "pipeline"  # on a pipeline: what its driver shows (progress, best, reasons)


def trial_key(index: int) -> str:
    return f"trial-{index:05d}"


def op_key(name: str) -> str:
    return f"op-{name}"
