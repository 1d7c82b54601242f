"""What a built-in notifier run executes: ``python -m mizzen.scheduler.hooks.send webhook|slack``.

It reads the notification (JSON) from ``MIZZEN_NOTIFICATION``, POSTs it once to ``--url`` (or
``MIZZEN_NOTIFIER_URL``, which the hook's connection provides) and exits 0 on a 2xx answer, 1
otherwise, saying why. One attempt per run: the hook loop (``mizzen.scheduler.hooks.loop``) retries
a failed delivery with a new notifier run after a backoff, and records every attempt on the run.
Standard library only: it starts fast, in a pod or a local process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

URL_ENV = "MIZZEN_NOTIFIER_URL"
TERMINATION_LOG = "/dev/termination-log"  # Kubernetes' default terminationMessagePath
NOTIFICATION_ENV = "MIZZEN_NOTIFICATION"
_COLORS = {"succeeded": "good", "failed": "danger", "upstream_failed": "danger", "stopped": "warning"}


def slack_payload(notification: dict[str, Any]) -> dict[str, Any]:
    """Slack's incoming-webhook shape: a ``text`` line, and an attachment with the details."""
    run = notification.get("run") or {}
    condition = notification.get("condition") or {}
    status = str(run.get("status") or "")
    title = f"{run.get('project')}/{run.get('name') or run.get('uuid')}"
    fields = [
        {"title": "Status", "value": status, "short": True},
        {"title": "Kind", "value": str(run.get("kind") or ""), "short": True},
        {"title": "Run", "value": str(run.get("uuid") or ""), "short": False},
    ]
    if condition.get("reason") or condition.get("message"):
        why = ": ".join(str(v) for v in (condition.get("reason"), condition.get("message")) if v)
        fields.append({"title": "Reason", "value": why, "short": False})
    for name, value in sorted((run.get("outputs") or {}).items()):
        fields.append({"title": str(name), "value": json.dumps(value), "short": True})
    return {
        "text": f"Mizzen run {title} {status}",
        "attachments": [
            {"fallback": f"{title} {status}", "color": _COLORS.get(status, "#439FE0"), "fields": fields}
        ],
    }


def post(url: str, body: dict[str, Any], timeout: float) -> tuple[bool, str]:
    """POST ``body`` as JSON once: (delivered, what happened)."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "mizzen-notifier"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return True, f"{url} answered {response.status}"
    except urllib.error.HTTPError as error:
        return False, f"{url} answered {error.code}: {error.read(500).decode(errors='replace')}"
    except (urllib.error.URLError, OSError) as error:
        return False, f"cannot reach {url}: {getattr(error, 'reason', error)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mizzen-notify", description=__doc__)
    parser.add_argument("kind", choices=["webhook", "slack"])
    parser.add_argument("--url", default="")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    url = args.url or os.environ.get(URL_ENV, "")
    if not url.startswith(("http://", "https://")):
        where = f"--url {url!r}" if url else f"no url param, and no {URL_ENV} from the hook's connection"
        print(f"notifier: need an http(s) URL to post to ({where})", file=sys.stderr)
        return 1
    try:
        notification = json.loads(os.environ.get(NOTIFICATION_ENV) or "{}")
    except json.JSONDecodeError as error:
        print(f"notifier: {NOTIFICATION_ENV} is not JSON: {error}", file=sys.stderr)
        return 1
    body = slack_payload(notification) if args.kind == "slack" else notification
    delivered, what = post(url, body, args.timeout)
    print(f"notifier ({args.kind}): {what}", file=sys.stdout if delivered else sys.stderr)
    if not delivered and os.path.isfile(TERMINATION_LOG):  # in a pod: the failure's message
        with open(TERMINATION_LOG, "w", encoding="utf-8") as handle:
            handle.write(what)
    return 0 if delivered else 1


if __name__ == "__main__":
    sys.exit(main())
