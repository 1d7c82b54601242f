"""`mizzen init <kind>`: one init step of a run, inside its pod (the init containers the Kubernetes
renderer writes run these; see ``mizzen.render.k8s.init_containers`` for the contract).

Every step takes ``--path`` (its destination; default a folder under ``$MIZZEN_CONTEXT_PATH``) and
``--connection NAME`` (whose credentials the pod received as env or files). Steps that read a store
take ``--store URL`` (default ``$MIZZEN_ARTIFACTS_STORE``). Nothing heavy is imported until a
command runs.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from mizzen.cli.main import app
from mizzen.errors import MizzenError

if TYPE_CHECKING:
    from mizzen.compiler.plan import InitStep

init_app = typer.Typer(
    name="init",
    help="Prepare a run inside its pod: code, files, artifacts (run by Mizzen's init containers).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(init_app, name="init")

PATH_HELP = "Where the step writes. Default: a folder under $MIZZEN_CONTEXT_PATH."
CONNECTION_HELP = "The connection the step uses (its credentials are in this pod's env or files)."
STORE_HELP = "The store to read from. Default: $MIZZEN_ARTIFACTS_STORE."


def _path() -> Any:
    return typer.Option(None, "--path", help=PATH_HELP)


def _connection() -> Any:
    return typer.Option(None, "--connection", help=CONNECTION_HELP)


def _store() -> Any:
    return typer.Option(None, "--store", help=STORE_HELP)


def _run(
    kind: str, path: str | None, connection: str | None, store: str | None = None, **fields: Any
) -> None:
    from mizzen.cli.init_runner import run_init_step
    from mizzen.compiler.plan import InitStep

    try:
        step = InitStep(kind=kind, name=f"init-{kind}", path=path, connection=connection, **fields)
    except ValueError as error:
        raise MizzenError(f"mizzen init {kind}: {error}") from None
    _check_path(step)
    run_init_step(step, store)


def _check_path(step: InitStep) -> None:
    if step.path is not None and not step.path.startswith("/"):
        raise MizzenError(f"mizzen init {step.kind}: --path must be absolute (got '{step.path}')")


def _json_option(value: str, option: str, kind: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise MizzenError(f"mizzen init {kind}: {option} is not valid JSON: {error}") from None


@init_app.command("auth")
def init_auth(path: str | None = _path(), connection: str | None = _connection()) -> None:
    """Write the run's API token ($MIZZEN_TOKEN) and host for the run's own processes."""
    _run("auth", path, connection)


@init_app.command("git")
def init_git(
    url: str = typer.Option(..., "--url", help="The repository to clone."),
    revision: str | None = typer.Option(None, "--revision", help="A branch, tag or commit."),
    flags: list[str] = typer.Option(
        None, "--flag", metavar="FLAG", help="An extra `git clone` flag (repeatable)."
    ),
    path: str | None = _path(),
    connection: str | None = _connection(),
) -> None:
    """Clone a git repository at exactly the requested revision."""
    from mizzen.compiler.plan import GitInit

    _run("git", path, connection, git=GitInit(url=url, revision=revision, flags=list(flags or [])))


@init_app.command("artifacts")
def init_artifacts(
    store: str | None = _store(),
    files: list[str] = typer.Option(
        None, "--file", metavar="PATH", help="A file of the store to copy (repeatable)."
    ),
    dirs: list[str] = typer.Option(
        None, "--dir", metavar="PATH", help="A folder of the store to copy (repeatable)."
    ),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Parallel copies (a hint)."),
    path: str | None = _path(),
    connection: str | None = _connection(),
) -> None:
    """Copy files and folders of the store into the run."""
    from mizzen.compiler.plan import ArtifactsInit

    artifacts = ArtifactsInit(files=list(files or []), dirs=list(dirs or []), workers=workers)
    _run("artifacts", path, connection, store, artifacts=artifacts)


@init_app.command("paths", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def init_paths(
    ctx: typer.Context,
    store: str | None = _store(),
    items: list[str] = typer.Option(
        None, "--item", metavar="PATH", help="A path of the store to copy (repeatable)."
    ),
    path: str | None = _path(),
    connection: str | None = _connection(),
) -> None:
    """Copy paths of the store into the run; --item-to SRC DST copies SRC to DST (repeatable)."""
    pairs = _item_to_pairs(list(ctx.args))
    _run("paths", path, connection, store, paths=[*(items or []), *pairs])


def _item_to_pairs(args: list[str]) -> list[list[str]]:
    """``--item-to SRC DST`` pairs (an option with two values, which typer cannot declare)."""
    pairs: list[list[str]] = []
    while args:
        flag = args.pop(0)
        if flag != "--item-to":
            raise MizzenError(f"mizzen init paths: unexpected argument '{flag}'")
        if len(args) < 2 or any(value.startswith("--") for value in args[:2]):
            raise MizzenError("mizzen init paths: --item-to needs two values, SRC and DST")
        pairs.append([args.pop(0), args.pop(0)])
    return pairs


@init_app.command("file")
def init_file(
    filename: str = typer.Option(..., "--filename", help="The file's name, under --path."),
    content: str = typer.Option(..., "--content", help="What the file holds."),
    chmod: str | None = typer.Option(None, "--chmod", help="Its mode, e.g. 0755 or +x."),
    path: str | None = _path(),
    connection: str | None = _connection(),
) -> None:
    """Write a file."""
    from mizzen.compiler.plan import FileInit

    _run("file", path, connection, file=FileInit(filename=filename, content=content, chmod=chmod))


@init_app.command("dockerfile")
def init_dockerfile(
    dockerfile: str = typer.Option(..., "--dockerfile", help="The dockerfile init, as JSON."),
    path: str | None = _path(),
    connection: str | None = _connection(),
) -> None:
    """Write a Dockerfile from its description (for a later build step)."""
    from mizzen.compiler.plan import DockerfileInit

    spec = _json_option(dockerfile, "--dockerfile", "dockerfile")
    try:
        parsed = DockerfileInit.model_validate(spec)
    except ValueError as error:
        raise MizzenError(f"mizzen init dockerfile: --dockerfile: {error}") from None
    _run("dockerfile", path, connection, dockerfile=parsed)


@init_app.command("tensorboard")
def init_tensorboard(
    store: str | None = _store(),
    uuids: list[str] = typer.Option(
        None, "--uuid", metavar="UUID", help="A run whose tensorboard logs to copy."
    ),
    use_names: bool = typer.Option(False, "--use-names", help="Name folders by run name."),
    path_prefix: str | None = typer.Option(None, "--path-prefix", help="A prefix for the folders."),
    plugins: list[str] = typer.Option(
        None, "--plugin", metavar="PLUGIN", help="A tensorboard plugin (repeatable)."
    ),
    path: str | None = _path(),
    connection: str | None = _connection(),
) -> None:
    """Copy runs' tensorboard logs from the store."""
    from mizzen.compiler.plan import TensorboardInit

    board = TensorboardInit(
        uuids=list(uuids or []), use_names=use_names, path_prefix=path_prefix, plugins=list(plugins or [])
    )
    _run("tensorboard", path, connection, store, tensorboard=board)


@init_app.command("lineage")
def init_lineage(
    ref: str = typer.Option(..., "--ref", help="The lineage/model/artifact reference, as JSON."),
    store: str | None = _store(),
    path: str | None = _path(),
    connection: str | None = _connection(),
) -> None:
    """Copy an artifact another run recorded."""
    lineage = _json_option(ref, "--ref", "lineage")
    if not isinstance(lineage, dict):
        raise MizzenError("mizzen init lineage: --ref must be a JSON object")
    _run("lineage", path, connection, store, lineage=lineage)
