"""What the compiler says about a file beyond its errors: values the reference would refuse at run
time, and forms it reads differently.

- A ``connections`` entry that renders to nothing (``["{{ params.destination.connection }}"]`` with
  no destination): the reference refuses the run. Mizzen warns when checking and refuses the run.
- The v1 resources form ``{cpu: {requests: 1, limits: 2}}``: the spec converts it to
  ``requests``/``limits`` (the reference silently drops it); the warning says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mizzen.compiler.pod import MAIN_ROLE, REPLICA_ROLES

_RESOURCE_SIDES = frozenset({"limits", "requests"})


def _pods(run: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """(path, pod section) of a run: the run itself, each replica, each Ray worker group."""
    yield (), run
    for role in {*MAIN_ROLE.values(), *(r for roles in REPLICA_ROLES.values() for r in roles)}:
        if isinstance(run.get(role), Mapping):
            yield (role,), run[role]
    workers = run.get("workers")
    if isinstance(workers, Mapping):
        for group, pod in workers.items():
            if isinstance(pod, Mapping):
                yield ("workers", str(group)), pod


def empty_connections(
    written: Mapping[str, Any], rendered: Mapping[str, Any]
) -> list[tuple[tuple[str | int, ...], str]]:
    """(path in the run, the entry as written) of each ``connections`` entry that rendered empty."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    written_pods = dict(_pods(written))
    for path, pod in _pods(rendered):
        entries = pod.get("connections")
        if not isinstance(entries, list):
            continue
        as_written = (written_pods.get(path) or {}).get("connections") or []
        for index, entry in enumerate(entries):
            if entry is None or str(entry).strip() == "":
                shown = as_written[index] if index < len(as_written) else entry
                found.append(((*path, "connections", index), str(shown)))
    return found


def legacy_resources(raw: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Paths of ``resources`` mappings written in the v1 per-resource form (``cpu: {requests: 1}``)."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            if key == "resources" and _is_legacy(value):
                found.append((*path, key))
            else:
                found += legacy_resources(value, (*path, str(key)))
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            found += legacy_resources(item, (*path, index))
    return found


def _is_legacy(value: Any) -> bool:
    return isinstance(value, Mapping) and any(
        key not in ("limits", "requests", "claims")
        and isinstance(v, Mapping)
        and v
        and set(v) <= _RESOURCE_SIDES
        for key, v in value.items()
    )
