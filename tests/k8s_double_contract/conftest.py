"""The double's contract suite: every behaviour through the official client and through kubectl."""

from k8s_double.fixtures import k8s_api, k8s_double, k8s_kubeconfig, kubectl  # noqa: F401
