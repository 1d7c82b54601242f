"""Fixtures of the agent suites: the real API (SQLite and PostgreSQL) with runs meant for agents."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from tests.agent.support import RestartableApi

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
