"""Which run a command means: a full uuid, a unique prefix of one (at least 4 characters), or, when
the argument is left out, the most recent run of the current project.

The current project is the one configured (``MIZZEN_PROJECT`` or ``mizzen config set project``); with
none configured, the most recent run of any project is used. The run picked is named on stderr.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.schemas.api import RunRead
    from mizzen.settings import Settings

MIN_PREFIX = 4
FULL_UUID_LENGTH = 32
MAX_CANDIDATES_SHOWN = 5
_HEX = re.compile(r"^[0-9a-f]+$")
# `pipeline:3f2a` / `pipeline_uuid:~3f2a-9c`: a run-list term naming a pipeline by a uuid prefix
_PIPELINE_TERM = re.compile(r"^(\s*(?:pipeline|pipeline_uuid)\s*:\s*~?\s*)([0-9A-Fa-f-]+)(\s*)$")


def current_project(settings: Settings) -> str | None:
    """The configured project, or None when only the built-in default applies (meaning: all)."""
    return settings.project if "project" in settings.model_fields_set else None


def normalize_ref(ref: str) -> str:
    """Lower case, without the dashes of the canonical ``8-4-4-4-12`` form."""
    return ref.strip().lower().replace("-", "")


def resolve_uuid(client: MizzenClient, ref: str | None, settings: Settings) -> str:
    """The uuid of the run ``ref`` designates (see the module docstring); raises ``NotFound`` or
    ``MizzenError`` with a message saying what to type instead."""
    if ref is None:
        return latest_run(client, settings).uuid
    if _is_full_uuid(ref):
        return normalize_ref(ref)  # no lookup: the command's own request says if it does not exist
    return resolve_ref(client, ref).uuid


def resolve_ref(client: MizzenClient, ref: str) -> RunRead:
    """The one run whose uuid is ``ref`` or starts with it."""
    from mizzen.errors import MizzenError, NotFound

    key = normalize_ref(ref)
    if not _HEX.match(key) or len(key) < MIN_PREFIX:
        raise NotFound(
            f"run '{ref}' not found: give the run's uuid, or at least its first {MIN_PREFIX} characters"
        )
    if len(key) > FULL_UUID_LENGTH:
        raise NotFound(f"run '{ref}' not found")
    if len(key) == FULL_UUID_LENGTH:
        return client.runs.get(key)
    page = client.runs.list(query=f"uuid:{key}%", sort="-created_at", limit=MAX_CANDIDATES_SHOWN)
    if page.count == 0:
        raise NotFound(f"run '{ref}' not found")
    if page.count > 1:
        shown = "\n".join(f"  {describe(run)}" for run in page.items)
        more = f"\n  ... and {page.count - len(page.items)} more" if page.count > len(page.items) else ""
        raise MizzenError(
            f"'{ref}' is ambiguous: {page.count} runs start with it; give more characters:\n{shown}{more}"
        )
    return page.items[0]


def resolve_pipeline_terms(client: MizzenClient, query: str | None) -> str | None:
    """``query`` with each ``pipeline:PREFIX`` (or ``pipeline_uuid:PREFIX``) term given the full uuid
    of the one pipeline run whose uuid starts with PREFIX, as ``ops get`` accepts a short uuid; an
    unknown or ambiguous prefix raises, naming the candidates."""
    from mizzen.errors import MizzenError, NotFound

    if not query:
        return query
    terms = []
    for term in query.split(","):
        found = _PIPELINE_TERM.match(term)
        key = normalize_ref(found.group(2)) if found else ""
        if not found or len(key) >= FULL_UUID_LENGTH or "|" in term:
            terms.append(term)
            continue
        if len(key) < MIN_PREFIX:
            raise MizzenError(
                f"query term '{term.strip()}': give the pipeline's uuid or at least its first "
                f"{MIN_PREFIX} characters"
            )
        page = client.runs.list(
            query=f"uuid:{key}%,kind:matrix|dag|schedule", sort="-created_at", limit=MAX_CANDIDATES_SHOWN
        )
        if page.count == 0:
            raise NotFound(
                f"query term '{term.strip()}': no pipeline (sweep, DAG, schedule) uuid starts with '{key}'"
            )
        if page.count > 1:
            shown = "\n".join(f"  {describe(run)}" for run in page.items)
            raise MizzenError(
                f"query term '{term.strip()}' is ambiguous: {page.count} pipelines start with '{key}'; "
                f"give more characters:\n{shown}"
            )
        terms.append(f"{found.group(1)}{page.items[0].uuid}{found.group(3)}")
    return ",".join(terms)


def latest_run(client: MizzenClient, settings: Settings) -> RunRead:
    """The most recent run of the current project (of any project when none is configured)."""
    from mizzen.cli.output import err_console
    from mizzen.errors import NotFound

    project = current_project(settings)
    page = client.runs.list(project=project, sort="-created_at", limit=1)
    if not page.items:
        where = f"project '{project}'" if project else "this Mizzen"
        raise NotFound(f"{where} has no runs yet: give a run uuid, or start one with `mizzen run -f FILE`")
    run = page.items[0]
    scope = f" of project '{project}'" if project else ""
    err_console.print(f"Using the latest run{scope}: {describe(run)}", markup=False, soft_wrap=True)
    return run


def describe(run: RunRead) -> str:
    """``3f2a9c1d0b7e… (name, project/kind, status)``: one line naming a run."""
    name = f"{run.name}, " if run.name else ""
    return f"{run.uuid} ({name}{run.project}, {run.kind}, {run.status.value})"


def _is_full_uuid(ref: str) -> bool:
    key = normalize_ref(ref)
    return len(key) == FULL_UUID_LENGTH and bool(_HEX.match(key))
