"""The local secret catalog: ``$MIZZEN_HOME/secrets.yaml``, the values Kubernetes would keep in
Secrets and ConfigMaps::

    secrets:
      git-secret: {MIZZEN_GIT_CREDENTIALS: "user:token"}
      aws: {AWS_ACCESS_KEY_ID: "...", AWS_SECRET_ACCESS_KEY: "..."}
    config_maps:
      settings: {LOG_LEVEL: debug}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mizzen.errors import ExecutorError
from mizzen.render.local import SecretCatalog

SECRETS_FILE = "secrets.yaml"


def load_catalog(path: Path) -> SecretCatalog:
    """The catalog in ``path``; empty when the file does not exist."""
    if not path.is_file():
        return SecretCatalog()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ExecutorError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ExecutorError(f"{path}: expected a mapping with 'secrets' and 'config_maps'")
    unknown = set(data) - {"secrets", "config_maps"}
    if unknown:
        raise ExecutorError(f"{path}: unknown keys {sorted(unknown)}; expected 'secrets' and 'config_maps'")
    return SecretCatalog(
        secrets=_section(path, data, "secrets"),
        config_maps=_section(path, data, "config_maps"),
    )


def _section(path: Path, data: dict[str, Any], key: str) -> dict[str, dict[str, str]]:
    section = data.get(key) or {}
    if not isinstance(section, dict):
        raise ExecutorError(f"{path} {key}: expected a mapping of name -> {{key: value}}")
    result: dict[str, dict[str, str]] = {}
    for name, values in section.items():
        if not isinstance(values, dict):
            raise ExecutorError(f"{path} {key}.{name}: expected a mapping of key -> value")
        result[str(name)] = {str(k): "" if v is None else str(v) for k, v in values.items()}
    return result
