"""labelSelector and fieldSelector parsing and matching (the query-string forms)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import bad_request

Matcher = Callable[[dict[str, Any]], bool]

_SET_TERM = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_TERM = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)\s*$")
_EXISTS_TERM = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*$")

# Field selectors each kind supports besides metadata.name and metadata.namespace.
FIELD_SELECTORS: dict[str, tuple[str, ...]] = {
    "Pod": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "Event": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "Secret": ("type",),
    "Namespace": ("status.phase",),
    "Node": ("spec.unschedulable",),
    "Job": ("status.successful",),
    "ReplicaSet": ("status.replicas",),
}


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside a parenthesised value set."""
    terms, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        terms.append(current)
    return [t for t in terms if t.strip()]


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # in, notin, =, !=, exists, !exists
    values: frozenset[str] = frozenset()

    def matches(self, labels: dict[str, Any]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("in", "="):
            return value in self.values
        if self.op in ("notin", "!="):
            return value not in self.values
        return present if self.op == "exists" else not present


def _requirement(term: str) -> Requirement:
    if m := _SET_TERM.match(term):
        values = frozenset(v.strip() for v in m.group(3).split(",") if v.strip())
        return Requirement(m.group(1), m.group(2), values)
    if m := _EQ_TERM.match(term):
        return Requirement(m.group(1), "!=" if m.group(2) == "!=" else "=", frozenset({m.group(3)}))
    if m := _EXISTS_TERM.match(term):
        return Requirement(m.group(2), "!exists" if m.group(1) == "!" else "exists")
    raise bad_request(f"unable to parse requirement: found '{term.strip()}', expected: in, notin, =, ==, !=")


def parse_label_selector(text: str | None) -> Matcher:
    requirements = [_requirement(term) for term in _split_terms(text or "")]

    def matches(labels: dict[str, Any]) -> bool:
        return all(r.matches(labels) for r in requirements)

    return matches


def _field_value(obj: dict[str, Any], path: str) -> str:
    if path == "source" and obj.get("kind") == "Event":
        return str((obj.get("source") or {}).get("component", ""))
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def parse_field_selector(text: str | None, kind: str) -> Matcher:
    allowed = ("metadata.name", "metadata.namespace", *FIELD_SELECTORS.get(kind, ()))
    checks: list[tuple[str, bool, str]] = []  # (path, negated, value)
    for term in _split_terms(text or ""):
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*$", term)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        path, op, value = m.groups()
        if path not in allowed:
            raise bad_request(
                f'"{path}" is not a known field selector: only "metadata.name", "metadata.namespace"'
            )
        checks.append((path, op == "!=", value))

    def matches(obj: dict[str, Any]) -> bool:
        return all((_field_value(obj, path) == value) != negated for path, negated, value in checks)

    return matches
