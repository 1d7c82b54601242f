"""`make demo`: run the quickstart through `mizzen run` on this machine, then say where to look.

Uses the embedded default (local processes, SQLite and a local artifacts folder in MIZZEN_HOME,
~/.mizzen unless set), so the run stays visible to `mizzen ops ...` afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIZZEN = Path(sys.executable).with_name("mizzen")


def main() -> int:
    home = os.environ.get("MIZZEN_HOME", str(Path.home() / ".mizzen"))
    print(f"== mizzen run -f polyaxonfile.yaml -u   (in {HERE}; state in {home})", flush=True)
    command = [str(MIZZEN), "run", "-f", "polyaxonfile.yaml", "-u"]
    code = subprocess.call(command, cwd=HERE)
    if code != 0:
        print(f"\nthe quickstart run did not succeed (exit {code}); see the logs above", file=sys.stderr)
        return code
    activate = os.path.relpath(MIZZEN.parent / "activate", Path.cwd())
    page = subprocess.run(  # the page of the run just made (the latest one)
        [str(MIZZEN), "ops", "dashboard", "--url"], cwd=HERE, capture_output=True, text=True, check=False
    ).stdout.strip()
    print(
        "\n== next\n"
        f"  source {activate}          put `mizzen` on your PATH\n"
        "  mizzen ops ls                        the run, succeeded\n"
        "  mizzen ops logs                      its output (the most recent run)\n"
        "  mizzen ops get --json                its params, outputs, statuses and metrics\n"
        "  mizzen ui                            the web UI (and the API, docs at /docs)\n"
        f"\nThe run's page (once `mizzen ui` runs): {page}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
