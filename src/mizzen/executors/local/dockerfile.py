"""The dockerfile init step: writes the Dockerfile a ``dockerfile`` init describes (not built locally)."""

from __future__ import annotations

import json

from mizzen.compiler.plan import DockerfileInit


def _copy_line(item: str | list[str], workdir: str) -> str:
    if isinstance(item, list):
        target = item[1] if len(item) > 1 else workdir
        return f"COPY {item[0]} {target}"
    return f"COPY {item} {workdir}"


def render_dockerfile(spec: DockerfileInit) -> str:
    workdir = spec.workdir or "/code"
    lines = [f"FROM {spec.image}", ""]
    if spec.shell:
        shell = spec.shell if "/" in spec.shell else f"/bin/{spec.shell}"
        lines.append(f"SHELL {json.dumps([shell, '-c'])}")
    if spec.lang_env:
        lines += [f"ENV LC_ALL {spec.lang_env}", f"ENV LANG {spec.lang_env}", f"ENV LANGUAGE {spec.lang_env}"]
    lines += [f"ENV {key} {json.dumps(value)}" for key, value in spec.env.items()]
    if spec.path:
        lines.append(f'ENV PATH "${{PATH}}:{":".join(spec.path)}"')
    lines.append(f"WORKDIR {workdir}")
    if spec.uid is not None and spec.gid is not None:
        user = spec.user or "mizzen"
        lines += [
            f"RUN groupadd -g {spec.gid} {user} && useradd -m -u {spec.uid} -g {spec.gid} {user}",
        ]
    lines += [_copy_line(item, workdir) for item in spec.copy_]
    lines += [f"RUN {command}" for command in spec.run]
    lines += [_copy_line(item, workdir) for item in spec.post_run_copy]
    if spec.uid is not None and spec.gid is not None:
        lines.append(f"USER {spec.user or 'mizzen'}")
    elif spec.user:
        lines.append(f"USER {spec.user}")
    return "\n".join(lines).rstrip() + "\n"
