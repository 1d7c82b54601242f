"""How failures reach the caller: clear ``ApiError``s, never httpx exceptions."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from mizzen.client import (
    ApiConflict,
    ApiNotFound,
    ApiRequestError,
    ApiUnreachable,
    MizzenClient,
    normalize_host,
)
from mizzen.client.errors import error_from_response
from mizzen.errors import ApiError, Conflict, NotFound


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def rude_listener() -> Iterator[tuple[int, threading.Event]]:
    """A TCP port that accepts connections and closes them without a word (or after ``hang``)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    hang = threading.Event()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            connection.recv(65536)
            if hang.is_set():
                stop.wait(5)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], hang
    stop.set()
    thread.join(5)
    server.close()


def test_a_closed_port_is_a_clear_connection_refused() -> None:
    port = _closed_port()
    with MizzenClient(f"127.0.0.1:{port}") as client, pytest.raises(ApiUnreachable) as caught:
        client.runs.get("abc")
    assert str(caught.value) == f"cannot reach the Mizzen API at http://127.0.0.1:{port}: connection refused"
    assert caught.value.request_sent is False
    assert isinstance(caught.value, ApiError)


def test_a_dropped_connection_may_have_reached_the_server(rude_listener: tuple[int, threading.Event]) -> None:
    port, _ = rude_listener
    with MizzenClient(f"http://127.0.0.1:{port}") as client, pytest.raises(ApiUnreachable) as caught:
        client.metrics.log("abc", [{"name": "loss", "value": 1.0, "step": 0, "timestamp": 1.0}])
    assert str(caught.value).startswith(f"lost the connection to the Mizzen API at http://127.0.0.1:{port}")
    assert caught.value.request_sent is True


def test_a_server_that_does_not_answer_times_out(rude_listener: tuple[int, threading.Event]) -> None:
    port, hang = rude_listener
    hang.set()
    with (
        MizzenClient(f"http://127.0.0.1:{port}", timeout=0.3) as client,
        pytest.raises(ApiUnreachable) as caught,
    ):
        client.health()
    assert str(caught.value) == f"the Mizzen API at http://127.0.0.1:{port} did not answer in time"
    assert caught.value.request_sent is True


def _response(status: int, body: object) -> httpx.Response:
    request = httpx.Request("GET", "http://h/api/v1/x")
    if isinstance(body, str):
        return httpx.Response(status, text=body, request=request)
    return httpx.Response(status, json=body, request=request)


def test_error_bodies_become_typed_errors_with_the_server_message() -> None:
    missing = error_from_response(_response(404, {"error": "not_found", "message": "run 'x' not found"}))
    assert (
        isinstance(missing, ApiNotFound) and isinstance(missing, NotFound) and isinstance(missing, ApiError)
    )
    assert (str(missing), missing.status_code, missing.code) == ("run 'x' not found", 404, "not_found")

    body = {"error": "invalid_transition", "message": "a run cannot go from 'succeeded' to 'running'"}
    conflict = error_from_response(_response(409, body))
    assert isinstance(conflict, ApiConflict) and isinstance(conflict, Conflict)

    invalid = error_from_response(
        _response(422, {"error": "invalid", "message": "must be lowercase", "field": "name"})
    )
    assert type(invalid) is ApiRequestError
    assert (str(invalid), invalid.field) == ("must be lowercase (field 'name')", "name")


def test_fastapi_validation_details_and_plain_text_are_understood() -> None:
    detail = {"detail": [{"loc": ["body", "points", 0, "value"], "msg": "Input should be a valid number"}]}
    error = error_from_response(_response(422, detail))
    assert error.field == "points.0.value"
    assert str(error) == "Input should be a valid number (field 'points.0.value')"
    assert str(error_from_response(_response(502, "upstream down"))) == (
        "the Mizzen API answered 502 Bad Gateway: upstream down"
    )
    assert str(error_from_response(_response(404, {"detail": "Not Found"}))) == "Not Found"


def test_hosts_are_normalized() -> None:
    assert normalize_host("127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert normalize_host(" https://mizzen.example.com ") == "https://mizzen.example.com"
