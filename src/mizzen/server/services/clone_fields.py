"""What a restarted or copied run takes from its original: the uploaded code and the inputs.

A run started with ``mizzen run -u`` has its code in ``<uuid>/uploads`` of the artifacts store. A
restart or copy points at that same stored upload (meta ``code_run``) instead of copying it, so the
new run starts with the original's code. Its inputs are those of the original's params with the
``-P`` overrides laid on top, checked and typed by compiling the stored polyaxonfile again.
"""

from __future__ import annotations

import json
from typing import Any

from mizzen.errors import InvalidInput, SpecError
from mizzen.schemas.run_meta import CODE_RUN_KEY, UPLOAD_DONE, UPLOAD_KEY


def code_meta(original_uuid: str, original_meta: dict[str, Any] | None) -> dict[str, Any]:
    """The meta that makes a clone run the original's uploaded code (empty when it had none)."""
    meta = original_meta or {}
    if meta.get(UPLOAD_KEY) != UPLOAD_DONE:
        return {}
    return {UPLOAD_KEY: UPLOAD_DONE, CODE_RUN_KEY: meta.get(CODE_RUN_KEY) or original_uuid}


def clone_inputs(
    spec: dict[str, Any] | None, params: dict[str, Any], fallback: dict[str, Any]
) -> dict[str, Any]:
    """The typed input values of ``spec`` compiled with ``params``; ``InvalidInput`` (field
    ``params``) when a param is unknown or does not fit its input. A run without a polyaxonfile
    (made by ``tracking.init()``) keeps ``fallback`` with the params laid on it."""
    if not spec:
        return {**fallback, **params}
    from mizzen.compiler.compile import Compiler
    from mizzen.spec import load_dict

    # A trial's params hold the values its sweep's matrix gave it: not -P, which the matrix refuses.
    by_matrix = {k: v for k, v in params.items() if k in _matrix_names(spec)}
    given = {k: v for k, v in params.items() if k not in by_matrix}
    try:
        compiled = Compiler().compile_loaded(load_dict(spec, source="the original run"), given)
    except SpecError as error:
        raise InvalidInput(f"the params do not fit the run's polyaxonfile: {error}", field="params") from None
    values = {n: p.value for n, p in compiled.params.items() if p.kind == "input" and p.value is not None}
    inputs = {io.name for io in compiled.operation.inputs or []}
    values |= {k: v for k, v in by_matrix.items() if k in inputs}
    return json.loads(json.dumps(values, default=str))


def _matrix_names(spec: dict[str, Any]) -> set[str]:
    """The params a spec's ``matrix`` sets for each trial (its params, mapping rows, resource)."""
    if not isinstance(spec.get("matrix"), dict):
        return set()
    from mizzen.compiler.matrix import matrix_names
    from mizzen.spec import OperationSpec

    return matrix_names(OperationSpec.model_validate({"matrix": spec["matrix"]}).matrix)
