"""Pytest fixtures for suites that test against the double.

In a conftest.py:  from k8s_double.fixtures import k8s_api, k8s_double, k8s_kubeconfig, kubectl  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .double import K8sDouble
from .kubectl import Kubectl


@pytest.fixture
def k8s_double() -> Iterator[K8sDouble]:
    """A started double (fresh per test); fails the test if a controller crashed or an object went bad."""
    double = K8sDouble().start()
    try:
        yield double
    finally:
        double.stop(wait=False)
    assert not double.controllers.errors, f"k8s double controllers failed: {double.controllers.errors!r}"
    assert not double.check_all_objects(), double.check_all_objects()


@pytest.fixture
def k8s_kubeconfig(k8s_double: K8sDouble, tmp_path: Path) -> Path:
    return k8s_double.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def k8s_api(k8s_double: K8sDouble) -> Iterator[Any]:
    """An official-client ApiClient for the double."""
    api_client = k8s_double.api_client()
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture
def kubectl(k8s_kubeconfig: Path, tmp_path: Path) -> Kubectl:
    cache = tmp_path / "kubectl-cache"
    cache.mkdir()
    return Kubectl(k8s_kubeconfig, cache)
