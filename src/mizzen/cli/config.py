"""`mizzen config show | set | unset`: the settings as loaded, and where each value comes from.

Values are read from ``MIZZEN_*`` environment variables first, then ``$MIZZEN_HOME/config.yaml``
(written by ``config set``), then defaults. ``mizzen config set host http://server:8000`` points the
CLI at a server; ``mizzen config unset host`` goes back to embedded mode.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import typer

from mizzen.cli.main import app

if TYPE_CHECKING:
    from pydantic import ValidationError

    from mizzen.settings import Settings

config_app = typer.Typer(
    name="config",
    help="Show and change settings (the server to use, the default project...).",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")

SECRET_KEYS = frozenset({"token"})
HEALTH_TIMEOUT = 3.0


def env_var(key: str) -> str:
    return f"MIZZEN_{key.upper()}"


@config_app.command("show")
def show(
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts instead of a table."),
) -> None:
    """Show every setting, its value and where it comes from (environment, config file, default).

    Example: mizzen config show
    """
    from mizzen.cli.connect import server_url
    from mizzen.cli.output import console, print_json

    settings = _load()
    saved = _saved(settings)
    values = {key: {"value": _shown(settings, key), "source": _source(key, saved)} for key in _keys(settings)}
    server = server_url(settings)  # None: each command serves the API itself (embedded mode)
    if as_json:
        print_json({"config_file": str(settings.config_file), "api": server, "values": values})
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", box=None, pad_edge=False)
    for column in ("key", "value", "source"):
        table.add_column(column, overflow="fold")
    for key, entry in values.items():
        value = entry["value"]
        table.add_row(Text(key), Text("-" if value in (None, "") else str(value)), Text(str(entry["source"])))
    console.print(table)
    if server is None:
        mode = "embedded: each command serves the API over the local store"
    elif settings.host:
        mode = f"the server at {server}"
    else:
        mode = f"the `mizzen server` running on this machine at {server}"
    console.print(f"Commands talk to {mode}.", markup=False, soft_wrap=True)
    console.print(
        f"[dim]config file: {settings.config_file}; settable keys: {', '.join(_settable())}[/dim]",
        soft_wrap=True,
    )


@config_app.command("set")
def set_value(
    key: str = typer.Argument(..., help="One of the settable keys (see `mizzen config show`)."),
    value: str = typer.Argument(..., help="The new value."),
) -> None:
    """Save a setting in the config file (an environment variable still wins over it).

    Example: mizzen config set host http://127.0.0.1:8000
    """
    from pydantic import ValidationError

    from mizzen.cli.output import console, err_console
    from mizzen.errors import MizzenError
    from mizzen.settings import Settings, write_config_value

    _check_key(key)
    if not value.strip():
        raise MizzenError(
            f"an empty value is not a setting: to remove '{key}', run `mizzen config unset {key}`"
        )
    if key == "host":
        value = _server_url(value)
    settings = _load(ignore_file=True)
    try:
        overrides: dict[str, Any] = {key: value}
        checked: Any = getattr(Settings(**overrides), key)
    except ValidationError as error:
        raise MizzenError(f"invalid {key} '{value}': {_first_problem(error)[1]}") from None
    write_config_value(settings, key, checked)
    console.print(f"Saved {key} = {checked} in {settings.config_file}", markup=False, soft_wrap=True)
    if env_var(key) in os.environ:
        err_console.print(
            f"warning: {env_var(key)} is set in the environment and wins over the config file", markup=False
        )
    if key == "host":
        _check_host(checked, settings.token)


@config_app.command("unset")
def unset_value(key: str = typer.Argument(..., help="The key to remove from the config file.")) -> None:
    """Remove a setting from the config file: its default applies again (`unset host`: embedded mode).

    Example: mizzen config unset host
    """
    from mizzen.cli.output import console
    from mizzen.settings import write_config_value

    _check_key(key)
    settings = _load(ignore_file=True)
    if key not in _saved(settings):
        console.print(
            f"{key} is not set in {settings.config_file}: nothing to do.", markup=False, soft_wrap=True
        )
        return
    write_config_value(settings, key, None)
    console.print(f"Removed {key} from {settings.config_file}", markup=False, soft_wrap=True)


def _server_url(value: str) -> str:
    """``host:port`` or a URL -> ``http(s)://host:port``; anything else is refused."""
    from urllib.parse import urlsplit

    from mizzen.client import normalize_host
    from mizzen.errors import MizzenError

    url = normalize_host(value)
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        valid = False
    if not valid:
        raise MizzenError(
            f"'{value}' is not a server URL: expected http(s)://HOST[:PORT], e.g. http://127.0.0.1:8000"
        )
    return url


def _settable() -> tuple[str, ...]:
    from mizzen.settings import CONFIG_KEYS

    return CONFIG_KEYS


def _check_key(key: str) -> None:
    from mizzen.errors import MizzenError

    if key not in _settable():
        hint = " (set it with the MIZZEN_TOKEN environment variable)" if key in SECRET_KEYS else ""
        raise MizzenError(f"unknown config key '{key}'{hint}; valid keys: {', '.join(_settable())}")


def _load(*, ignore_file: bool = False) -> Settings:
    """The settings; a bad value in the environment or the config file is named, not a traceback."""
    import yaml
    from pydantic import ValidationError

    from mizzen.errors import MizzenError
    from mizzen.settings import Settings

    try:
        return Settings() if ignore_file else Settings.load()
    except yaml.YAMLError as error:
        raise MizzenError(_broken_file(error)) from None
    except ValidationError as error:
        field, message = _first_problem(error)
        if field is None:
            raise MizzenError(f"invalid settings: {message}") from None
        fix = f"MIZZEN_{field.upper()}" + (" or the config file" if field in _settable() else "")
        unset = f" (`mizzen config unset {field}`)" if field in _settable() else ""
        raise MizzenError(f"invalid setting {field}: {message}; fix {fix}{unset}") from None


def _saved(settings: Settings) -> dict[str, Any]:
    """What the config file holds; a file that is not YAML is named, not a traceback."""
    import yaml

    from mizzen.errors import MizzenError
    from mizzen.settings import read_config_file

    try:
        return read_config_file(settings.config_file)
    except yaml.YAMLError as error:
        raise MizzenError(_broken_file(error, settings.config_file)) from None


def _broken_file(error: Exception, path: object = None) -> str:
    where = getattr(error, "problem_mark", None)
    line = f" (line {where.line + 1})" if where is not None else ""
    name = path or "the config file ($MIZZEN_HOME/config.yaml)"
    return f"{name} is not valid YAML{line}: fix it or delete it"


def _first_problem(error: ValidationError) -> tuple[str | None, str]:
    """(the field at fault, pydantic's message) of a validation error's first problem."""
    problems = error.errors()
    if not problems:
        return None, "invalid value"
    field = ".".join(str(p) for p in problems[0]["loc"])
    return field or None, str(problems[0]["msg"])


def _keys(settings: Settings) -> list[str]:
    return list(type(settings).model_fields)


def _shown(settings: Settings, key: str) -> Any:
    value = getattr(settings, key)
    if key in SECRET_KEYS:
        return None if value is None else "(set, hidden)"
    if key == "database_url":
        return settings.resolved_database_url
    if key == "artifacts_store":
        return settings.resolved_artifacts_store
    return str(value) if hasattr(value, "__fspath__") else value


def _source(key: str, saved: dict[str, Any]) -> str:
    if env_var(key) in os.environ:
        return f"env {env_var(key)}"
    if key in saved and key in _settable():
        return "config file"
    return "default"


def _check_host(host: str, token: str | None) -> None:
    """Tell at once when nothing answers there (the setting is saved anyway)."""
    from mizzen.cli.output import console, err_console
    from mizzen.client import MizzenClient
    from mizzen.errors import ApiError

    try:
        with MizzenClient(host, token=token, timeout=HEALTH_TIMEOUT) as client:
            version = client.health().get("version")
    except ApiError as error:
        err_console.print(
            f"warning: {error}; the CLI will use it once it answers", markup=False, soft_wrap=True
        )
        return
    console.print(f"The Mizzen API at {host} answers (version {version}).", markup=False, soft_wrap=True)
