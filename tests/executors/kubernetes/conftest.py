"""Fixtures: the Kubernetes API double, and Kubernetes executors talking to it over HTTP."""

from __future__ import annotations

from tests.executors.kubernetes.fixtures import kube, make_kube  # noqa: F401

from k8s_double.fixtures import k8s_double, k8s_kubeconfig  # noqa: F401
