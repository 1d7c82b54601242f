"""What `mizzen run` costs on top of the job itself: a job whose command is `true`.

Side by side in one run: `true` run directly, `mizzen run` in embedded mode (the API, store and
executor started inside the command, cold, every time), and `mizzen run` with a `mizzen server`
already running on this machine (the command finds it through $MIZZEN_HOME/server.json).
Target: overhead under 0.5 s.

    python benchmarks/overhead.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIZZEN = str(Path(sys.executable).with_name("mizzen"))
SPEC = """version: 1.1
kind: component
name: noop
run: {kind: job, container: {image: busybox, command: ["true"]}}
"""


def timed(command: list[str], env: dict[str, str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return times


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(home: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not (home / "server.json").exists():
        if time.monotonic() > deadline:
            raise SystemExit("mizzen server did not start")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mizzen-overhead-") as tmp:
        spec = Path(tmp) / "noop.yaml"
        spec.write_text(SPEC)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
        env["MIZZEN_HOME"] = str(Path(tmp) / "embedded")

        direct = timed(["true"], env, args.repeat)
        run = [MIZZEN, "run", "-f", str(spec)]
        timed(run, env, 1)  # first use creates the store: not what a user pays every time
        embedded = timed(run, env, args.repeat)

        server_home = Path(tmp) / "server"
        server_env = {**env, "MIZZEN_HOME": str(server_home)}
        server = subprocess.Popen(
            [MIZZEN, "server", "--port", str(free_port()), "--log-level", "warning"],
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_server(server_home)
            timed(run, server_env, 1)
            warm = timed(run, server_env, args.repeat)
        finally:
            server.terminate()
            server.wait(timeout=60)

    base = statistics.median(direct)
    print(f"job: `true` · {args.repeat} runs each · medians")
    print(f"{'':44} {'wall':>8} {'overhead':>9}")
    print(f"{'true, run directly':44} {base:8.3f}s {'':>9}")
    for label, times in (
        ("mizzen run, embedded (API started each time)", embedded),
        ("mizzen run, with `mizzen server` running", warm),
    ):
        median = statistics.median(times)
        overhead = median - base
        verdict = "ok" if overhead < 0.5 else "over"
        print(f"{label:44} {median:8.3f}s {overhead:8.3f}s  target < 0.5 s: {verdict}")


if __name__ == "__main__":
    main()
