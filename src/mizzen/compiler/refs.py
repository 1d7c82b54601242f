"""Where a component reference points: ``pathRef``, ``hubRef``, ``urlRef`` (``dagRef`` is resolved
inside the DAG by the compiler).

- ``pathRef``: relative to the folder of the file that holds the reference.
- ``hubRef``: ``NAME[:TAG]`` or ``OWNER/NAME[:TAG]`` → ``NAME/TAG.yaml`` (``latest`` without a tag),
  searched in the configured hub folders, then in Mizzen's own hub (``compiler/hub/``).
- ``urlRef``: a URL under a mirrored prefix is read from the mirror folder (air-gapped clusters);
  others are fetched over HTTP(S) with the standard library (the compiler stays free of HTTP
  client libraries), with a short timeout and a clear error when unreachable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BUILTIN_HUB = Path(__file__).parent / "hub"
_HUB_REF = re.compile(
    r"^(?:(?P<owner>[A-Za-z0-9_.\-]+)/)?(?P<name>[A-Za-z0-9_.\-]+)(?::(?P<tag>[A-Za-z0-9_.\-]+))?$"
)
_EXTENSIONS = (".yaml", ".yml", ".json")


class RefError(ValueError):
    """A reference that cannot be resolved; the message is for the user."""


@dataclass(frozen=True)
class Source:
    """Where a referenced component comes from: a local file, or text fetched from a URL."""

    label: str  # what to show in messages: a path or a URL
    path: Path | None = None
    text: str | None = None


@dataclass(frozen=True)
class RefResolver:
    hub_folders: Sequence[Path] = ()
    url_mirrors: Mapping[str, Path] = field(default_factory=dict)
    url_timeout: float = 10.0

    @property
    def hub_search_path(self) -> list[Path]:
        return [*self.hub_folders, BUILTIN_HUB]

    def path_ref(self, ref: str, referrer: Path | None) -> Source:
        target = Path(ref).expanduser()
        if not target.is_absolute():
            base = referrer.parent if referrer is not None else Path.cwd()
            target = base / target
        target = Path(_normalise(target))
        if not target.is_file():
            raise RefError(f"pathRef {ref!r}: no such file {target}")
        return Source(label=str(target), path=target)

    def hub_ref(self, ref: str) -> Source:
        match = _HUB_REF.match(ref.strip())
        if not match:
            raise RefError(f"hubRef {ref!r}: expected NAME, NAME:TAG or OWNER/NAME:TAG")
        name, tag = match.group("name"), match.group("tag") or "latest"
        searched = self.hub_search_path
        for folder in searched:
            for extension in _EXTENSIONS:
                candidate = folder / name / f"{tag}{extension}"
                if candidate.is_file():
                    return Source(label=str(candidate), path=candidate)
        where = ", ".join(str(f) for f in searched) or "(no hub folders)"
        available = sorted(
            f"{name}:{p.stem}" for folder in searched for p in (folder / name).glob("*.y*ml") if p.is_file()
        )
        hint = f"; available tags: {', '.join(available)}" if available else ""
        raise RefError(
            f"hubRef {ref!r}: component {name}/{tag}.yaml not found in {where}{hint} "
            "(add folders with MIZZEN_HUB_PATH)"
        )

    def url_ref(self, url: str) -> Source:
        for prefix, folder in sorted(self.url_mirrors.items(), key=lambda item: -len(item[0])):
            if url.startswith(prefix):
                relative = url[len(prefix) :].split("?", 1)[0].lstrip("/")
                target = Path(_normalise(folder / relative))
                if not _is_within(target, folder):
                    raise RefError(f"urlRef {url!r}: the path leaves the mirror folder {folder}")
                if not target.is_file():
                    raise RefError(f"urlRef {url!r}: mirrored as {target}, which does not exist")
                return Source(label=url, path=target)
        return Source(label=url, text=self._fetch(url))

    def _fetch(self, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise RefError(f"urlRef {url!r}: only http:// and https:// URLs can be fetched")
        import socket
        import urllib.parse

        hint = "set MIZZEN_URL_MIRRORS=URL_PREFIX=FOLDER to read it from a local copy"
        parts = urllib.parse.urlsplit(url)
        try:  # an unknown host fails here, before the (slow) TLS set-up of an https fetch
            socket.getaddrinfo(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except (OSError, UnicodeError, ValueError) as exc:
            raise RefError(f"urlRef {url!r}: cannot be reached ({exc}); {hint}") from None
        import urllib.error  # only now: urllib.request (http, email, ssl) is slow to import
        import urllib.request

        request = urllib.request.Request(url, headers={"User-Agent": "mizzen", "Accept": "*/*"})
        try:
            with urllib.request.urlopen(request, timeout=self.url_timeout) as response:
                body: bytes = response.read()
        except urllib.error.HTTPError as exc:
            raise RefError(f"urlRef {url!r}: the server answered {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RefError(f"urlRef {url!r}: cannot be reached ({reason}); {hint}") from None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise RefError(f"urlRef {url!r}: the answer is not UTF-8 text") from None


def _normalise(path: Path) -> str:
    import os

    return os.path.normpath(os.path.abspath(path))


def _is_within(path: Path, folder: Path) -> bool:
    root = _normalise(folder)
    return _normalise(path) == root or _normalise(path).startswith(root.rstrip("/") + "/")
