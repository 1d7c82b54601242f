"""The connections catalog: ``$MIZZEN_HOME/connections.yaml`` (Polyaxon's agent connections format).

    connections:
    - name: repo                       # `connection: repo` in an init step, `connections: [repo]`
      kind: git
      schema: {url: https://github.com/org/repo}
      secret: {name: git-secret}       # values in $MIZZEN_HOME/secrets.yaml (locally) or a Secret
    - name: data
      kind: s3
      schema: {bucket: s3://my-bucket}
      secret: {name: aws}
      env: [{name: AWS_ENDPOINT_URL, value: http://127.0.0.1:9000}]

Runs refer to connections by name; the compiler resolves them into ``ConnectionPlan``s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mizzen.compiler.plan import ConnectionPlan
from mizzen.errors import MizzenError

CONNECTIONS_FILE = "connections.yaml"
_KEYS = {
    "name",
    "kind",
    "schema",
    "schemaV1",
    "secret",
    "configMap",
    "config_map",
    "env",
    "annotations",
    "description",
    "tags",
}


def load_home_connections(home: Path) -> dict[str, ConnectionPlan]:
    """The catalog of the Mizzen home ``home`` (``$MIZZEN_HOME/connections.yaml``)."""
    return load_connections(home / CONNECTIONS_FILE)


def load_connections(path: Path) -> dict[str, ConnectionPlan]:
    """The catalog in ``path`` by name; empty when the file does not exist."""
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise MizzenError(f"{path}: not valid YAML: {error}") from None
    items = data.get("connections") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise MizzenError(f"{path}: expected a mapping with a 'connections' list")
    catalog: dict[str, ConnectionPlan] = {}
    for index, item in enumerate(items):
        where = f"{path} connections[{index}]"
        if not isinstance(item, dict):
            raise MizzenError(f"{where}: expected a mapping with name, kind and schema")
        unknown = sorted(set(item) - _KEYS)
        if unknown:
            raise MizzenError(f"{where}: unknown keys {unknown}")
        connection = _connection(item, where)
        if connection.name in catalog:
            raise MizzenError(f"{where}.name: '{connection.name}' is defined twice")
        catalog[connection.name] = connection
    return catalog


def _connection(item: dict[str, Any], where: str) -> ConnectionPlan:
    secret = item.get("secret")
    config_map = item.get("configMap", item.get("config_map"))
    try:
        return ConnectionPlan.model_validate(
            {
                "name": item.get("name"),
                "kind": item.get("kind"),
                "schema": item.get("schema") or item.get("schemaV1") or {},
                "secret": _ref(secret),
                "config_map": _ref(config_map),
                "env": item.get("env") or [],
                "annotations": item.get("annotations") or {},
            }
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise MizzenError(f"{where}.{field}: {first['msg']}") from None


def _ref(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    renamed = {"mountPath": "mount_path", "defaultMode": "default_mode"}
    return {renamed.get(k, k): v for k, v in value.items()}
