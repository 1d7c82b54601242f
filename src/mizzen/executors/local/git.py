"""The git init step: a real ``git clone`` checked out at exactly the requested revision.

Credentials come from the connection (``MIZZEN_GIT_CREDENTIALS`` or Polyaxon's
``POLYAXON_GIT_CREDENTIALS``: ``user:token`` or a bare token) or from the URL's user info. They reach
git through a ``GIT_ASKPASS`` helper that reads them from its environment: they are never written
into the URL, the clone's ``.git/config``, a file, or a log line; every git command that may
authenticate runs with ``-c credential.helper=`` so that no helper of the user's git configuration
(``store``, ``cache``) keeps them. A revision is never taken for an option: one that starts with
``-`` is refused, and ``--`` ends the options of ``git fetch``.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from mizzen.executors.local.outcome import CommandRunner, Emit, RunFailure, failed
from mizzen.render.local import InitSpec

CREDENTIAL_KEYS = ("MIZZEN_GIT_CREDENTIALS", "POLYAXON_GIT_CREDENTIALS", "GIT_CREDENTIALS")
_NO_HELPER = ["-c", "credential.helper="]  # no configured helper may store the token anywhere
_USER_VAR = "MIZZEN_GIT_ASKPASS_USERNAME"
_PASSWORD_VAR = "MIZZEN_GIT_ASKPASS_PASSWORD"
_ASKPASS_SCRIPT = f"""#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' "${_USER_VAR}" ;;
  *) printf '%s\\n' "${_PASSWORD_VAR}" ;;
esac
"""


@dataclass(frozen=True)
class GitCredentials:
    username: str
    password: str

    @classmethod
    def parse(cls, value: str) -> GitCredentials:
        if ":" in value:
            username, password = value.split(":", 1)
            return cls(username, password)
        return cls("x-access-token", value)  # a bare token: the password of any user name

    @property
    def secrets(self) -> list[str]:
        return [self.password]  # not the user name: redacting "git" or "oauth2" would maul the logs


def credentials_from_env(env: Mapping[str, str]) -> GitCredentials | None:
    for key in CREDENTIAL_KEYS:
        if env.get(key):
            return GitCredentials.parse(env[key])
    return None


def split_url_credentials(url: str) -> tuple[str, GitCredentials | None]:
    """``https://user:tok@host/repo`` -> (``https://host/repo``, credentials)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or "@" not in parts.netloc:
        return url, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    if not password:
        return clean, GitCredentials.parse(unquote(user))
    return clean, GitCredentials(unquote(user), unquote(password))


class GitCheckout:
    def __init__(
        self,
        run_command: CommandRunner,
        emit: Emit,
        redact: Callable[[Iterable[str]], None],
        scratch: Path,
    ) -> None:
        self._run = run_command
        self._emit = emit
        self._redact = redact
        self._scratch = scratch

    def fetch(self, spec: InitSpec) -> str:
        """Clone and check out; returns the commit checked out."""
        step = spec.step
        schema = spec.connection.schema_ if spec.connection else {}
        url = (step.git.url if step.git else None) or schema.get("url")
        if not url:
            raise RunFailure(
                failed(f"init failed: {step.name}", f"{step.name}: no git url in the step or its connection")
            )
        revision = (step.git.revision if step.git else None) or schema.get("revision")
        if revision is not None and str(revision).startswith("-"):
            raise RunFailure(
                failed(
                    f"init failed: {step.name}",
                    f"{step.name}: revision '{revision}' starts with '-': a revision is a branch, tag or "
                    "commit, never a git option",
                )
            )
        flags = [*(schema.get("flags") or []), *(step.git.flags if step.git else [])]
        url, url_credentials = split_url_credentials(str(url))
        credentials = url_credentials or credentials_from_env(spec.connection_env)
        env = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
        }
        if credentials is not None:
            self._redact(credentials.secrets)
            env |= {
                "GIT_ASKPASS": str(self._askpass()),
                _USER_VAR: credentials.username,
                _PASSWORD_VAR: credentials.password,
            }
        destination = Path(spec.path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        at = f" at {revision}" if revision else ""
        self._emit(f"cloning {url}{at} into {destination}", step.name)
        clone = [
            "git",
            *_NO_HELPER,
            "clone",
            *([] if revision is None else ["--no-checkout"]),
            *map(str, flags),
            "--",
            url,
        ]
        code = self._run([*clone, str(destination)], env, str(destination.parent), step.name)
        if code != 0:
            raise RunFailure(
                failed(
                    f"init failed: {step.name}", f"{step.name}: git clone of {url} failed (exit code {code})"
                )
            )
        if revision is not None:
            self._checkout(destination, str(revision), env, step.name, url)
        commit = _git(destination, "rev-parse", "HEAD").stdout.strip()
        self._emit(f"checked out {commit}{at}", step.name)
        return commit

    def _checkout(self, repo: Path, revision: str, env: dict[str, str], container: str, url: str) -> None:
        if _git(repo, "checkout", "--quiet", revision).returncode == 0:
            return
        # not a branch, tag or commit of the cloned history (a shallow clone, a ref outside heads/tags)
        code = self._run(
            ["git", *_NO_HELPER, "fetch", "--quiet", "--", "origin", revision], env, str(repo), container
        )
        if code == 0 and _git(repo, "checkout", "--quiet", "--detach", "FETCH_HEAD").returncode == 0:
            return
        raise RunFailure(
            failed(
                f"init failed: {container}",
                f"{container}: revision '{revision}' is not a branch, tag or commit of {url}",
            )
        )

    def _askpass(self) -> Path:
        self._scratch.mkdir(parents=True, exist_ok=True)
        path = self._scratch / "git-askpass.sh"
        if not path.exists():
            path.write_text(_ASKPASS_SCRIPT)
            path.chmod(stat.S_IRWXU)
        return path


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A local git command (no network): quick, its output captured."""
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
