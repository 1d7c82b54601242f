"""Serve a double by hand: `PYTHONPATH=tests python -m k8s_double --kubeconfig /tmp/kubeconfig`,
then `kubectl --kubeconfig /tmp/kubeconfig get pods`. Ctrl-C stops it."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from .double import K8sDouble


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m k8s_double", description=__doc__)
    parser.add_argument("--kubeconfig", type=Path, required=True, help="where to write the kubeconfig")
    parser.add_argument("--nodes", type=int, default=5, help="how many (CPU) nodes the cluster has")
    args = parser.parse_args()
    with K8sDouble(nodes=args.nodes) as double:
        double.write_kubeconfig(args.kubeconfig)
        print(f"k8s double at {double.url}; kubeconfig: {args.kubeconfig}", flush=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()


if __name__ == "__main__":
    main()
