"""`mizzen config show | set | unset`: values, where they come from, and pointing the CLI at a server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cli_harness import CliResult

from mizzen.client import MizzenClient
from mizzen.schemas.api import RunRead
from mizzen.settings import CONFIG_KEYS, Settings

Cli = Callable[..., CliResult]
MakeRun = Callable[..., RunRead]


def test_show_names_each_value_and_its_source(
    cli: Cli, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIZZEN_MAX_CONCURRENCY", "2")
    assert cli("config", "set", "project", "mnist").exit_code == 0
    shown = cli("config", "show", "--json").json()
    assert shown["config_file"] == str(settings.home / "config.yaml")
    values = shown["values"]
    assert values["home"] == {"value": str(settings.home), "source": "env MIZZEN_HOME"}
    assert values["max_concurrency"] == {"value": 2, "source": "env MIZZEN_MAX_CONCURRENCY"}
    assert values["project"] == {"value": "mnist", "source": "config file"}
    assert values["host"] == {"value": None, "source": "default"}
    assert values["database_url"] == {
        "value": f"sqlite:///{settings.home / 'mizzen.db'}",
        "source": "default",
    }
    table = cli("config", "show").stdout.splitlines()
    assert table[0].split() == ["key", "value", "source"]
    rows = {row.split()[0]: row.split()[1:] for row in table[1:] if row.strip()}
    assert rows["project"] == ["mnist", "config", "file"]
    assert rows["host"] == ["-", "default"]
    assert shown["api"] is None
    assert "Commands talk to embedded: each command serves the API over the local store." in table


def test_set_and_unset_write_the_config_file(cli: Cli, settings: Settings) -> None:
    result = cli("config", "set", "max_concurrency", "8")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"Saved max_concurrency = 8 in {settings.config_file}"
    assert yaml.safe_load(settings.config_file.read_text()) == {"max_concurrency": 8}
    assert Settings.load().max_concurrency == 8
    removed = cli("config", "unset", "max_concurrency")
    assert removed.stdout.strip() == f"Removed max_concurrency from {settings.config_file}"
    assert Settings.load().max_concurrency == 4
    again = cli("config", "unset", "max_concurrency")
    assert (again.exit_code, again.stdout.strip()) == (
        0,
        f"max_concurrency is not set in {settings.config_file}: nothing to do.",
    )


def test_unknown_keys_and_bad_values_are_refused(cli: Cli, settings: Settings) -> None:
    valid = ", ".join(CONFIG_KEYS)
    unknown = cli("config", "set", "colour", "blue")
    assert (unknown.exit_code, unknown.stderr) == (
        1,
        f"error: unknown config key 'colour'; valid keys: {valid}\n",
    )
    assert (
        cli("config", "unset", "colour").stderr
        == f"error: unknown config key 'colour'; valid keys: {valid}\n"
    )
    token = cli("config", "set", "token", "secret")
    assert token.exit_code == 1 and "MIZZEN_TOKEN environment variable" in token.stderr
    not_int = cli("config", "set", "max_concurrency", "many")
    assert not_int.exit_code == 1
    assert not_int.stderr.startswith("error: invalid max_concurrency 'many': Input should be a valid integer")
    bad_host = cli("config", "set", "host", "ftp://server")
    assert bad_host.stderr == (
        "error: 'ftp://server' is not a server URL: expected http(s)://HOST[:PORT], e.g. http://127.0.0.1:8000\n"
    )
    empty = cli("config", "set", "project", " ")
    assert empty.exit_code == 1 and "mizzen config unset project" in empty.stderr
    assert not settings.config_file.exists()  # nothing refused was written


def test_a_broken_config_file_is_named_and_can_be_repaired(cli: Cli, settings: Settings) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.config_file.write_text("max_concurrency: lots\n")
    shown = cli("config", "show")
    assert shown.exit_code == 1
    assert shown.stderr == (
        "error: invalid setting max_concurrency: Input should be a valid integer, unable to parse "
        "string as an integer; fix MIZZEN_MAX_CONCURRENCY or the config file "
        "(`mizzen config unset max_concurrency`)\n"
    )
    assert cli("config", "unset", "max_concurrency").exit_code == 0
    assert cli("config", "show").exit_code == 0
    settings.config_file.write_text("host: [unclosed\n")
    broken = cli("config", "show")
    assert broken.exit_code == 1 and "is not valid YAML" in broken.stderr and "Traceback" not in broken.stderr


def test_set_host_points_the_cli_at_that_server(
    cli: Cli,
    api_server: str,
    api_client: MizzenClient,
    make_run: MakeRun,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = make_run(api_client, name="on-the-server")
    # The CLI gets a home of its own: its embedded store is empty, so finding the run proves that
    # the server answered.
    monkeypatch.setenv("MIZZEN_HOME", str(tmp_path / "client-home"))
    settings = Settings.load()
    assert cli("ops", "ls", "--json").json() == []
    address = api_server.removeprefix("http://")
    result = cli("config", "set", "host", address)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Saved host = {api_server} in {settings.config_file}"
    assert lines[1].startswith(f"The Mizzen API at {api_server} answers (version ")
    assert [r["uuid"] for r in cli("ops", "ls", "--json").json()] == [run.uuid]
    assert cli("config", "show", "--json").json()["api"] == api_server
    assert f"Commands talk to the server at {api_server}." in cli("config", "show").stdout
    assert cli("config", "unset", "host").exit_code == 0
    assert cli("ops", "ls", "--json").json() == []


def test_set_host_to_a_server_that_is_down_warns_and_commands_say_why(cli: Cli) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("config", "set", "host", f"127.0.0.1:{port}")
    assert result.exit_code == 0
    assert result.stderr == (
        f"warning: cannot reach the Mizzen API at http://127.0.0.1:{port}: connection refused; "
        "the CLI will use it once it answers\n"
    )
    listed = cli("ops", "ls")
    assert (listed.exit_code, listed.stderr) == (
        1,
        f"error: cannot reach the Mizzen API at http://127.0.0.1:{port}: connection refused\n",
    )


def test_an_environment_variable_wins_and_set_says_so(
    cli: Cli, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIZZEN_PROJECT", "from-env")
    result = cli("config", "set", "project", "from-file")
    assert result.exit_code == 0
    assert (
        result.stderr == "warning: MIZZEN_PROJECT is set in the environment and wins over the config file\n"
    )
    assert Settings.load().project == "from-env"
