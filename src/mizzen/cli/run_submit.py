"""What `mizzen run` sends: the compiled polyaxonfile as a new run (`-u` code: cli.code_upload)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mizzen.errors import MizzenError

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.compiler.compile import Compiled
    from mizzen.schemas.api import RunRead
    from mizzen.settings import Settings


@dataclass
class Submission:
    files: list[Path]
    params: dict[str, str]
    project: str
    name: str | None
    description: str | None
    tags: list[str]
    queue: str | None
    upload: Path | None  # the folder `-u` uploads as the run's code


def compile_submission(submission: Submission, settings: Settings) -> Compiled:
    from mizzen.compiler.compile import compile_files
    from mizzen.connections_catalog import load_home_connections

    for file in submission.files:
        if not file.is_file():
            raise MizzenError(f"{file}: no such file")
    connections = load_home_connections(settings.home)
    return compile_files(submission.files, submission.params, settings, connections=connections)


def create_run(client: MizzenClient, submission: Submission, compiled: Compiled) -> RunRead:
    """Create the run; with ``-u`` it waits (meta upload=pending) until its code is uploaded."""
    from mizzen.cli.code_upload import pending_upload_meta
    from mizzen.cli.run_support import why_run_refuses
    from mizzen.compiler.dag_nested import inline_refs
    from mizzen.schemas.api import RunCreate
    from mizzen.schemas.run_meta import APPROVED_KEY

    refusal = why_run_refuses(compiled)
    if refusal is not None:
        raise MizzenError(refusal)
    data = compiled.resolved.data
    plan = compiled.plan
    inputs = {n: p.value for n, p in compiled.params.items() if p.kind == "input" and p.value is not None}
    meta: dict[str, Any] = dict(pending_upload_meta()) if submission.upload else {}
    if data.get("isApproved") is False:
        meta[APPROVED_KEY] = False
    kind = compiled.pipeline_kind or compiled.kind.value
    body = RunCreate(
        project=submission.project,
        name=submission.name or (plan.name if plan is not None else compiled.name),
        description=submission.description
        or (plan.description if plan is not None else data.get("description")),
        tags=sorted(
            {*(plan.tags if plan is not None else [str(t) for t in data.get("tags") or []]), *submission.tags}
        ),
        kind=kind,
        content=_content(submission.files),
        spec=inline_refs(compiled.resolved.data, compiled.dag),  # its ops' pathRefs stand alone
        params=dict(submission.params),
        inputs=_jsonable(inputs),
        meta=meta,
        queue=submission.queue or (plan.queue if plan is not None else data.get("queue")),
    )
    run = client.runs.create(body)
    if meta.get(APPROVED_KEY) is False:
        from mizzen.cli.output import err_console

        err_console.print(
            f"[yellow]isApproved: false[/yellow]: waiting for `mizzen ops approve {run.uuid[:12]}`"
        )
    return run


def _content(files: list[Path]) -> str:
    if len(files) == 1:
        return files[0].read_text()
    return "\n".join(f"# --- {file}\n{file.read_text()}" for file in files)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(values, default=str))
