from __future__ import annotations

from collections.abc import Iterator

import pytest

from mizzen.client import MizzenClient


@pytest.fixture
def client(api_server: str) -> Iterator[MizzenClient]:
    """A client of the real API served for this test (see ``api_server`` in tests/conftest.py)."""
    with MizzenClient(api_server) as api:
        yield api
