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

    try:
        compiled = Compiler().compile_loaded(load_dict(spec, source="the original run"), params)
    except SpecError as error:
        raise InvalidInput(f"the params do not fit the run's polyaxonfile: {error}", field="params") from None
    values = {n: p.value for n, p in compiled.params.items() if p.kind == "input" and p.value is not None}
    return json.loads(json.dumps(values, default=str))
