"""Optional extras: when a module that only an extra installs is missing, say which command adds it.

``pip install mizzen`` leaves out what only some setups need; a feature reaching for a missing one
fails with ``MissingExtra`` ("... pip install 'mizzen[kubernetes]'") instead of a bare
``ModuleNotFoundError``.
"""

from __future__ import annotations

from mizzen.errors import MizzenError

# top-level module -> (extra, what needs it)
MODULE_EXTRAS = {
    "kubernetes": ("kubernetes", "the Kubernetes executor (`mizzen agent`)"),
    "s3fs": ("s3", "an s3:// artifacts store"),
    "aiobotocore": ("s3", "an s3:// artifacts store"),
    "botocore": ("s3", "an s3:// artifacts store"),
    "gcsfs": ("gcs", "a gs:// artifacts store"),
    "psycopg": ("postgres", "a PostgreSQL database"),
}


class MissingExtra(MizzenError):
    """A feature needs an optional extra that is not installed."""

    def __init__(self, extra: str, module: str, needed_by: str) -> None:
        super().__init__(
            f"{needed_by} needs the '{extra}' extra, which is not installed (no module named "
            f"'{module}'). Install it with: pip install 'mizzen[{extra}]'"
        )
        self.extra = extra


def missing_extra(error: BaseException) -> MissingExtra | None:
    """The extra whose absence caused ``error`` (an import error, or one raised while handling it,
    as fsspec's "Install s3fs to access S3"), or None when it is not about an extra."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ImportError) and cause.name:
            module = cause.name.split(".")[0]
            if module in MODULE_EXTRAS:
                extra, needed_by = MODULE_EXTRAS[module]
                return MissingExtra(extra, cause.name, needed_by)
        cause = cause.__cause__ or cause.__context__
    return None
