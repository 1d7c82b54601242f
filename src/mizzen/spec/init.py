"""``init``: what to fetch or write before the main container starts."""

from typing import Any

from pydantic import Field

from mizzen.spec.base import Int, SpecModel, Str, TplBool, TplInt
from mizzen.spec.k8s import ContainerSpec

StrOrPair = Str | list[Str]


class ArtifactsInit(SpecModel):
    files: list[StrOrPair] | Str | None = None
    dirs: list[StrOrPair] | Str | None = None
    workers: TplInt | None = None


class GitInit(SpecModel):
    url: Str | None = None
    revision: Str | None = None
    flags: list[Str] | None = None


class DockerfileInit(SpecModel):
    image: Str
    env: dict[Str, Any] | list[list[Any]] | None = None
    path: list[Str] | None = None
    copy_: list[StrOrPair] | None = Field(default=None, alias="copy")
    post_run_copy: list[StrOrPair] | None = None
    run: list[Str] | None = None
    lang_env: Str | None = None
    uid: Int | None = None
    gid: Int | None = None
    username: Str | None = None
    filename: Str | None = None
    workdir: Str | None = None
    workdir_path: Str | None = None
    shell: Str | None = None


class FileInit(SpecModel):
    content: Str
    filename: Str | None = None
    kind: Str | None = None
    chmod: Str | None = None


class TensorboardInit(SpecModel):
    port: TplInt | None = None
    uuids: list[Str] | Str | None = None
    use_names: TplBool | None = None
    path_prefix: Str | None = None
    plugins: list[Str] | None = None


class InitSpec(SpecModel):
    """One init step; exactly what it fetches is given by which key is set."""

    artifacts: ArtifactsInit | None = None
    paths: list[StrOrPair] | Str | None = None
    git: GitInit | None = None
    dockerfile: DockerfileInit | None = None
    file: FileInit | None = None
    tensorboard: TensorboardInit | None = None
    lineage_ref: Str | None = None
    model_ref: Str | None = None
    artifact_ref: Str | None = None
    connection: Str | None = None
    path: Str | None = None
    container: ContainerSpec | None = None
