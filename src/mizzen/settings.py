"""Settings, from MIZZEN_* environment variables and ``$MIZZEN_HOME/config.yaml``.

Read once at start-up (``Settings.load()``), never at import time, so that tests and commands can
point ``MIZZEN_HOME`` anywhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ENV_PREFIX = "MIZZEN_"
CONFIG_FILE = "config.yaml"

CONFIG_KEYS = (
    "host",
    "project",
    "database_url",
    "artifacts_store",
    "max_concurrency",
    "init_image",
    "executor",
    "queues",
)


def default_home() -> Path:
    return Path.home() / ".mizzen"


class Settings(BaseModel):
    """Everything configurable. Values given to the constructor win over ``MIZZEN_<NAME>``
    environment variables, which win over the defaults; ``load()`` adds ``config.yaml``.

    (A plain model reading the environment itself: pydantic-settings did the same with ~30 ms
    more import time, which every `mizzen` command pays.)
    """

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, values: Any) -> Any:
        given = dict(values) if isinstance(values, dict) else {}
        for name in cls.model_fields:
            value = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
            if value is not None and name not in given:
                given[name] = value
        return given

    home: Path = Field(default_factory=default_home, description="Where all local state lives.")
    host: str | None = Field(None, description="URL of a Mizzen server; unset means embedded mode.")
    token: str | None = Field(None, description="API token for the server at `host`.")
    project: str = Field("default", description="Project used when a command names none.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in home.")
    artifacts_store: str | None = Field(None, description="fsspec URL; default a folder in home.")
    artifacts_store_options: dict[str, Any] = Field(
        default_factory=dict, description="fsspec storage options of the artifacts store (JSON)."
    )
    allow_host_access: bool = Field(
        False, description="Let Kubernetes runs use hostPath volumes, privileged containers, host namespaces."
    )
    max_upload_bytes: int = Field(
        5 * 1024**3, ge=1, description="The largest artifact (or code file) one upload may store."
    )
    hub_path: str = Field("", description="Colon-separated folders searched for hubRef components.")
    url_mirrors: str = Field("", description="Comma-separated URL_PREFIX=FOLDER pairs for urlRef.")
    max_concurrency: int = Field(4, description="Runs the local executor runs at once.")
    init_image: str = Field("mizzen/mizzen:0.1.0", description="Image of init/sidecar containers.")
    executor: str = Field(
        "local", description="Executor of new runs: local (this machine) or kubernetes (an agent)."
    )

    hooks_wait_seconds: float = Field(
        60.0, ge=0, description="How long `mizzen run` waits, showing them, for its run's hook deliveries."
    )
    queues: dict[str, Any] = Field(
        default_factory=dict,
        description="Queues with limits, JSON or YAML mapping: {name: {concurrency: N, priority: P}}.",
    )

    @field_validator("artifacts_store_options", "queues", mode="before")
    @classmethod
    def _options_from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("home", mode="before")
    @classmethod
    def _expand_home(cls, value: Any) -> Any:
        return Path(value).expanduser() if value else value

    @property
    def config_file(self) -> Path:
        return self.home / CONFIG_FILE

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'mizzen.db'}"

    @property
    def resolved_artifacts_store(self) -> str:
        return self.artifacts_store or str(self.home / "artifacts")

    @property
    def hub_folders(self) -> list[Path]:
        return [Path(p).expanduser() for p in self.hub_path.split(":") if p.strip()]

    @property
    def url_mirror_map(self) -> dict[str, Path]:
        mirrors: dict[str, Path] = {}
        for pair in self.url_mirrors.split(","):
            if "=" in pair:
                prefix, folder = pair.split("=", 1)
                mirrors[prefix.strip()] = Path(folder.strip()).expanduser()
        return mirrors

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Environment first, then values saved by `mizzen config set`, then defaults."""
        saved = read_config_file(_home(overrides) / CONFIG_FILE)
        from_file = {
            k: v
            for k, v in saved.items()
            if k in CONFIG_KEYS and f"{ENV_PREFIX}{k.upper()}" not in os.environ
        }
        return cls(**{**from_file, **overrides})


def _home(overrides: dict[str, Any]) -> Path:
    """The ``home`` a ``Settings(**overrides)`` would get, without building one (``load`` needs it
    to find the config file before it can build the settings once)."""
    value = overrides["home"] if "home" in overrides else os.environ.get(f"{ENV_PREFIX}HOME")
    if value is None:
        return default_home()
    return Path(value).expanduser() if value else Path(value)


def read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return data if isinstance(data, dict) else {}


def write_config_value(settings: Settings, key: str, value: Any) -> None:
    data = read_config_file(settings.config_file)
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value
    settings.config_file.parent.mkdir(parents=True, exist_ok=True)
    settings.config_file.write_text(yaml.safe_dump(data, sort_keys=True))
