"""What Mizzen's built-in tuner component (hub ``mizzen-random-tuner``) executes, once per iteration
of an ``iterative`` sweep: ``python -m mizzen.cli.random_tuner --iteration=K --num-runs=N``.

It reads the sweep's ``matrix`` (params and seed) and the finished ``trials`` from the environment
(JSON, as the component passes them), draws ``N`` random trials over the params — trial ``j`` of
iteration ``K`` from a generator seeded by (seed, K * 1,000,000 + j), so a rerun suggests the same —
and logs them as its ``suggestions`` output. A user's own tuner follows the same contract (docs/sweeps.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from pydantic import TypeAdapter

from mizzen import tracking
from mizzen.compiler.search_space import random_trial
from mizzen.spec import HpParam

MATRIX_ENV = "MIZZEN_TUNER_MATRIX"
TRIALS_ENV = "MIZZEN_TUNER_TRIALS"
PER_ITERATION = 1_000_000  # trial seeds of one iteration never meet another's


def suggestions(matrix: dict[str, Any], iteration: int, num_runs: int) -> list[dict[str, Any]]:
    params = TypeAdapter(dict[str, HpParam]).validate_python(matrix.get("params") or {})
    seed = matrix.get("seed")
    seed = 0 if seed is None else seed
    first = iteration * PER_ITERATION
    return [random_trial(params, seed, first + j) for j in range(num_runs)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mizzen.cli.random_tuner")
    parser.add_argument("--iteration", type=int, required=True)
    parser.add_argument("--num-runs", type=int, default=2)
    args = parser.parse_args(argv)
    matrix = json.loads(os.environ.get(MATRIX_ENV) or "{}")
    finished = json.loads(os.environ.get(TRIALS_ENV) or "[]")
    suggested = suggestions(matrix, args.iteration, args.num_runs)
    print(f"iteration {args.iteration}: {len(finished)} finished trials; suggesting {suggested}")
    tracking.log_outputs(suggestions=suggested)
    return 0


if __name__ == "__main__":
    sys.exit(main())
