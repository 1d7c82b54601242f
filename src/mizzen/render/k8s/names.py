"""Kubernetes names and label values that the API server accepts, derived from Mizzen identities.

Object names are DNS-1123 labels (also valid DNS-1035 labels, so they can name a Service): lowercase
alphanumerics and '-', starting with a letter, at most 63 characters. Anything shortened gets a hash
suffix so that two long inputs never collapse to the same name.
"""

from __future__ import annotations

import hashlib
import re

DNS1123_LABEL_MAX = 63
LABEL_VALUE_MAX = 63
PORT_NAME_MAX = 15

_NOT_DNS = re.compile(r"[^a-z0-9-]+")
# Every object of a run, and every pod and event about them, is named mzn-<kind>-<uuid[:12]>...
_RUN_OBJECT_NAME = re.compile(r"^mzn-[a-z0-9]+-([0-9a-f]{12})")
_NOT_LABEL_VALUE = re.compile(r"[^A-Za-z0-9_.-]+")


def _digest(value: str, length: int = 8) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:length]


def _shorten(cleaned: str, original: str, max_len: int, strip: str) -> str:
    """Cut ``cleaned`` to ``max_len`` keeping a hash of ``original`` when anything was lost."""
    if len(cleaned) <= max_len and cleaned == original:
        return cleaned
    suffix = _digest(original)
    head = cleaned[: max_len - len(suffix) - 1].rstrip(strip)
    return f"{head}-{suffix}" if head else suffix


def dns_label(value: str, max_len: int = DNS1123_LABEL_MAX) -> str:
    """A DNS-1123 label (RFC 1123; starts with a letter so that it is also DNS-1035) from any text."""
    cleaned = _NOT_DNS.sub("-", value.lower()).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"x-{cleaned}".rstrip("-")
    return _shorten(cleaned, value, max_len, "-")


def label_value(value: str) -> str:
    """A valid label value: up to 63 of [A-Za-z0-9_.-], alphanumeric at both ends (may be empty)."""
    cleaned = _NOT_LABEL_VALUE.sub("-", value).strip("-_.")
    if len(cleaned) <= LABEL_VALUE_MAX and cleaned == value:
        return cleaned
    if not cleaned:
        return _digest(value)
    return _shorten(cleaned, value, LABEL_VALUE_MAX, "-_.")


def port_name(value: str) -> str:
    """An IANA service name (container/service port names): <= 15 chars, [a-z0-9-], one letter."""
    cleaned = re.sub(r"-+", "-", _NOT_DNS.sub("-", value.lower())).strip("-")
    if not any(c.isalpha() for c in cleaned):
        cleaned = f"p-{cleaned}".rstrip("-")
    if len(cleaned) <= PORT_NAME_MAX:
        return cleaned
    head = cleaned[: PORT_NAME_MAX - 5].rstrip("-")
    if not any(c.isalpha() for c in head):
        head = f"p{head[1:]}".rstrip("-")
    return f"{head}-{_digest(value, 4)}"


def short_uuid(uuid: str, length: int = 12) -> str:
    """The first ``length`` hex digits of a run uuid (dashes removed, lowercase)."""
    return uuid.replace("-", "").lower()[:length]


def run_object_name(kind: str, uuid: str) -> str:
    """The name of the top-level object of a run: ``mzn-<kind>-<uuid[:12]>``, unique per run."""
    return dns_label(f"mzn-{kind}-{short_uuid(uuid)}")


def short_uuid_of(name: str) -> str | None:
    """The uuid prefix in the name of a run's object, pod or event (``None``: not Mizzen's)."""
    found = _RUN_OBJECT_NAME.match(name)
    return found.group(1) if found else None
