"""Fixtures of the agent suites: the real API (SQLite and PostgreSQL) with runs meant for agents."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.agent.cluster import Installation, agent_environment
from tests.agent.support import RestartableApi, moto_s3  # noqa: F401  (moto_s3: a fixture)
from tests.executors.support import S3Server

from k8s_double import K8sDouble
from k8s_double.fixtures import k8s_double, k8s_kubeconfig  # noqa: F401  (fixtures)
from mizzen.client import MizzenClient
from mizzen.settings import Settings


@pytest.fixture
def k8s_settings(settings: Settings) -> Settings:
    """The settings of `mizzen server` in a cluster: new runs go to agents, no local executor."""
    return settings.model_copy(update={"executor": "kubernetes"})


@pytest.fixture
def agent_api(
    db_url: str, k8s_settings: Settings, serve_app: Callable[[Any], AbstractContextManager[str]]
) -> Iterator[MizzenClient]:
    """A client of the real API over HTTP, once on SQLite and once on PostgreSQL."""
    from mizzen.server.app import create_app

    app = create_app(k8s_settings.model_copy(update={"database_url": db_url}))
    try:
        with serve_app(app) as base, MizzenClient(base) as client:
            yield client
    finally:
        app.state.services.close()


@pytest.fixture
def restartable_api(k8s_settings: Settings) -> Iterator[RestartableApi]:
    api = RestartableApi(k8s_settings).start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def installation(
    k8s_double: K8sDouble,  # noqa: F811
    k8s_kubeconfig: Path,  # noqa: F811
    moto_s3: S3Server,  # noqa: F811
    k8s_settings: Settings,
    tmp_path: Path,
) -> Iterator[Installation]:
    """The API (runs go to agents), the agent's and the user's homes with an S3 connection ``data``,
    and the cluster's credentials Secrets. Start the agent with ``installation.start_agent()``."""
    data_bucket, store_bucket = moto_s3.make_bucket(), moto_s3.make_bucket()
    catalog = {
        "connections": [
            {
                "name": "data",
                "kind": "s3",
                "schema": {"bucket": f"s3://{data_bucket}"},
                "secret": {"name": "aws-credentials"},
            }
        ]
    }
    homes = {}
    for who in ("agent", "user"):
        home = tmp_path / f"{who}-home"
        home.mkdir()
        (home / "connections.yaml").write_text(yaml.safe_dump(catalog))
        homes[who] = home
    for secret in ("aws-credentials", "mizzen-store-credentials"):
        k8s_double.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": secret, "namespace": "default"},
                "stringData": {k: v for k, v in moto_s3.env.items()},
            }
        )
    api = RestartableApi(k8s_settings).start()
    setup = Installation(k8s_double, k8s_kubeconfig, api, tmp_path)
    setup.s3, setup.data_bucket = moto_s3, data_bucket
    setup.agent_env = agent_environment(
        homes["agent"],
        {
            "MIZZEN_ARTIFACTS_STORE": f"s3://{store_bucket}",
            "MIZZEN_AGENT_ARTIFACTS_SECRET": "mizzen-store-credentials",
            "MIZZEN_INIT_IMAGE": "mizzen/mizzen:e2e",
        },
    )
    setup.user_env = agent_environment(homes["user"], {"MIZZEN_HOST": api.url, "COLUMNS": "200"})
    try:
        yield setup
    finally:
        setup.stop_agents()
        api.stop()
        for index, agent in enumerate(setup.agents):  # shown when the test failed
            print(f"--- agent {index} ---\n{agent.output()}")
