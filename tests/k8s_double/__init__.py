"""An in-process Kubernetes API server for tests: the official client and kubectl talk to it.

    from k8s_double import K8sDouble
    with K8sDouble() as double:
        double.write_kubeconfig(tmp_path / "kubeconfig")

Pytest fixtures live in `k8s_double.fixtures` (tests/ is on pytest's pythonpath); README.md
describes the control API.
"""

from .double import K8sDouble
from .errors import ApiError

__all__ = ["ApiError", "K8sDouble"]
