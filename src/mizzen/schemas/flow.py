"""DTOs of approvals and the run cache (``/runs/{uuid}/approve``, ``/runs/{uuid}/invalidate``, and
an agent's cache check before it starts a run)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Dto(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CacheInvalidation(_Dto):
    uuid: str
    dropped: list[str] = Field(default_factory=list)  # runs that no longer serve as cache hits


class CacheCheck(_Dto):
    """What an agent asks before starting a run with ``cache:``: its key and ttl (seconds)."""

    key: str = Field(min_length=1, max_length=128)
    ttl: int | None = Field(None, ge=0)


class CacheAnswer(_Dto):
    hit: str | None = None  # the run reused: the asking run is now ``skipped``; None: start it
