"""The git init step against real repositories made here: exact revisions, credentials kept secret."""

from __future__ import annotations

import base64
import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from tests.executors.support import MakeExecutor, Recorder, make_plan, run_to_end

from mizzen.compiler.plan import ConnectionPlan, GitInit, InitStep, SecretRef, TerminationPlan
from mizzen.executors.local.git import GitCredentials, split_url_credentials
from mizzen.render.local import SecretCatalog
from mizzen.schemas.statuses import RunStatus

S = RunStatus
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=os.environ | GIT_ENV
    )
    return result.stdout.strip()


@dataclass(frozen=True)
class Repo:
    path: Path
    first: str  # tagged v1, the base of branch "feature"
    second: str  # tip of main
    feature: str  # tip of feature


def commit(repo: Path, text: str) -> str:
    (repo / "version.txt").write_text(text)
    git(repo, "add", "version.txt")
    git(repo, "commit", "-q", "-m", text)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    path = tmp_path / "origin" / "project"
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    first = commit(path, "one")
    git(path, "tag", "-a", "v1", "-m", "release one")
    second = commit(path, "two")
    git(path, "checkout", "-q", "-b", "feature", first)
    feature = commit(path, "feature")
    git(path, "checkout", "-q", "main")
    return Repo(path, first, second, feature)


CHECKOUT = "$MIZZEN_CONTEXT_PATH/artifacts/project"
SHOW = f'git -C "{CHECKOUT}" rev-parse HEAD; echo "$(cat "{CHECKOUT}/version.txt")"'


def git_plan(url: str, revision: str | None, **kwargs: object) -> object:
    step = InitStep(kind="git", name="init-git-0", git=GitInit(url=url, revision=revision))
    return make_plan(["sh", "-c", SHOW], init=[step], **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("revision", "expected", "content"),
    [
        ("main", "second", "two"),
        ("feature", "feature", "feature"),
        ("v1", "first", "one"),
        ("first", "first", "one"),  # a full commit sha
        (None, "second", "two"),  # the default branch
    ],
)
def test_the_checkout_is_exactly_the_requested_revision(
    executor, recorder: Recorder, repo: Repo, *, revision: str | None, expected: str, content: str
) -> None:
    if revision == "first":
        revision = repo.first
    run = run_to_end(executor, git_plan(str(repo.path), revision))  # type: ignore[arg-type]
    assert recorder.last(run.uuid).status == S.SUCCEEDED, recorder.last(run.uuid)
    assert recorder.lines(run.uuid, "main") == [getattr(repo, expected), content]
    assert f"checked out {getattr(repo, expected)}" in " ".join(recorder.lines(run.uuid, "init-git-0"))


def test_a_short_sha_and_a_url_with_file_scheme(executor, recorder: Recorder, repo: Repo) -> None:
    run = run_to_end(executor, git_plan(f"file://{repo.path}", repo.feature[:10]))  # type: ignore[arg-type]
    assert recorder.lines(run.uuid, "main") == [repo.feature, "feature"]


def test_an_unknown_revision_fails_the_init_step_clearly(executor, recorder: Recorder, repo: Repo) -> None:
    run = run_to_end(executor, git_plan(str(repo.path), "no-such-branch"))  # type: ignore[arg-type]
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "init failed: init-git-0")
    assert "revision 'no-such-branch' is not a branch, tag or commit of" in (last.message or "")
    assert S.RUNNING not in recorder.statuses(run.uuid)


def test_a_retry_clones_again_into_a_clean_context(
    executor, recorder: Recorder, repo: Repo, tmp_path: Path
) -> None:
    marker = tmp_path / "failed-once"
    step = InitStep(kind="git", name="init-git-0", git=GitInit(url=str(repo.path), revision="v1"))
    script = f'echo "$(cat "{CHECKOUT}/version.txt")"; test -e {marker} || {{ touch {marker}; exit 1; }}'
    plan = make_plan(["sh", "-c", script], init=[step], termination=TerminationPlan(max_retries=1))
    run = run_to_end(executor, plan)
    assert recorder.last(run.uuid).status == S.SUCCEEDED
    assert recorder.lines(run.uuid, "main") == ["one", "one"]


# -- credentials over HTTP -----------------------------------------------------------------------

TOKEN = "ghp_SuperSecretToken123"


class _AuthHandler(http.server.SimpleHTTPRequestHandler):
    expected = ""

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def private_repo_url(repo: Repo, tmp_path: Path) -> Iterator[str]:
    """The repository served over git's dumb HTTP protocol, behind basic auth (user: token)."""
    served = tmp_path / "served"
    served.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(served / "project.git")], check=True)
    git(served / "project.git", "update-server-info")
    handler = type("Handler", (_AuthHandler,), {})
    handler.expected = "Basic " + base64.b64encode(f"bot:{TOKEN}".encode()).decode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/project.git"
    server.shutdown()
    server.server_close()


def all_text_under(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())


def test_credentials_from_a_connection_secret_never_leak(
    make_executor: MakeExecutor, recorder: Recorder, repo: Repo, private_repo_url: str, tmp_path: Path
) -> None:
    catalog = SecretCatalog(secrets={"git-secret": {"MIZZEN_GIT_CREDENTIALS": f"bot:{TOKEN}"}})
    executor = make_executor(catalog=catalog)
    connection = ConnectionPlan(
        name="project", kind="git", schema={"url": private_repo_url}, secret=SecretRef(name="git-secret")
    )
    step = InitStep(kind="git", name="init-git-0", connection="project", git=GitInit(revision="feature"))
    script = f"{SHOW}; echo url=$(git -C $MIZZEN_CONTEXT_PATH/artifacts/project remote get-url origin)"
    plan = make_plan(["sh", "-c", script], init=[step], connections=[connection])
    run = run_to_end(executor, plan)
    assert recorder.last(run.uuid).status == S.SUCCEEDED, recorder.last(run.uuid)
    assert recorder.lines(run.uuid, "main") == [repo.feature, "feature", f"url={private_repo_url}"]
    assert not any(TOKEN in line.line for line in recorder.log_lines(run.uuid))
    assert TOKEN not in all_text_under(tmp_path / "home" / "runs" / run.uuid)
    assert TOKEN not in all_text_under(tmp_path / "store" / run.uuid)


def test_credentials_in_the_url_are_moved_out_of_it(
    executor, recorder: Recorder, repo: Repo, private_repo_url: str, tmp_path: Path
) -> None:
    with_token = private_repo_url.replace("http://", f"http://bot:{TOKEN}@")
    run = run_to_end(executor, git_plan(with_token, "v1"))  # type: ignore[arg-type]
    assert recorder.last(run.uuid).status == S.SUCCEEDED, recorder.last(run.uuid)
    assert recorder.lines(run.uuid, "main") == [repo.first, "one"]
    assert TOKEN not in all_text_under(tmp_path / "home" / "runs" / run.uuid)
    assert not any(TOKEN in line for line in recorder.lines(run.uuid))


def test_wrong_credentials_fail_without_prompting_or_leaking(
    make_executor: MakeExecutor, recorder: Recorder, private_repo_url: str
) -> None:
    wrong = "ghp_WrongToken999"
    catalog = SecretCatalog(secrets={"git-secret": {"POLYAXON_GIT_CREDENTIALS": f"bot:{wrong}"}})
    executor = make_executor(catalog=catalog)
    connection = ConnectionPlan(
        name="project", kind="git", schema={"url": private_repo_url}, secret=SecretRef(name="git-secret")
    )
    step = InitStep(kind="git", name="init-git-0", connection="project")
    run = run_to_end(executor, make_plan(["true"], init=[step], connections=[connection]), timeout=60)
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "init failed: init-git-0")
    assert "git clone" in (last.message or "")
    assert recorder.lines(run.uuid, "init-git-0")  # git said why
    assert not any(wrong in line for line in recorder.lines(run.uuid))


def test_credential_parsing() -> None:
    assert GitCredentials.parse("user:tok:en") == GitCredentials("user", "tok:en")
    assert GitCredentials.parse("token") == GitCredentials("x-access-token", "token")
    assert split_url_credentials("https://u:p%40ss@host/r.git") == (
        "https://host/r.git",
        GitCredentials("u", "p@ss"),
    )
    assert split_url_credentials("git@github.com:org/r.git") == ("git@github.com:org/r.git", None)


def test_a_credential_helper_of_the_user_never_stores_the_token(
    make_executor: MakeExecutor,
    recorder: Recorder,
    repo: Repo,
    private_repo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A user whose git config says ``credential.helper = store`` (common): the clone authenticates,
    and still no token lands in ~/.git-credentials, the clone's .git/config, or anywhere else."""
    user_home = tmp_path / "user-home"
    user_home.mkdir()
    (user_home / ".gitconfig").write_text("[credential]\n\thelper = store\n")
    monkeypatch.setenv("HOME", str(user_home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(user_home / ".gitconfig"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    catalog = SecretCatalog(secrets={"git-secret": {"MIZZEN_GIT_CREDENTIALS": f"bot:{TOKEN}"}})
    connection = ConnectionPlan(
        name="project", kind="git", schema={"url": private_repo_url}, secret=SecretRef(name="git-secret")
    )
    step = InitStep(kind="git", name="init-git-0", connection="project", git=GitInit(revision="no-such-ref"))
    plan = make_plan(["sh", "-c", SHOW], init=[step], connections=[connection])
    run = run_to_end(make_executor(catalog=catalog), plan)  # clone, then a fetch of the unknown ref
    assert recorder.last(run.uuid).status == S.FAILED, recorder.last(run.uuid)
    step = InitStep(kind="git", name="init-git-0", connection="project", git=GitInit(revision="v1"))
    plan = make_plan(["sh", "-c", SHOW], init=[step], connections=[connection])
    run = run_to_end(make_executor(catalog=catalog), plan)
    assert recorder.last(run.uuid).status == S.SUCCEEDED, recorder.last(run.uuid)
    assert recorder.lines(run.uuid, "main") == [repo.first, "one"]
    assert TOKEN not in all_text_under(tmp_path)


@pytest.mark.parametrize("revision", ["--upload-pack=touch {marker};git-upload-pack", "-q"])
def test_a_revision_is_never_a_git_option(
    executor, recorder: Recorder, repo: Repo, tmp_path: Path, revision: str
) -> None:
    marker = tmp_path / "injected"
    run = run_to_end(executor, git_plan(str(repo.path), revision.format(marker=marker)))  # type: ignore[arg-type]
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "init failed: init-git-0")
    assert "starts with '-'" in (last.message or "")
    assert not marker.exists()
