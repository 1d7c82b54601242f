"""JSON responses serialised by pydantic in one pass (FastAPI would validate the model again first,
which costs more than the query for a list of thousands of runs or a 100,000-point history)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from fastapi import Request, Response
from pydantic import BaseModel

if TYPE_CHECKING:
    from mizzen.server.services import Services

JSON = "application/json"


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type=JSON)


def models_response(models: Sequence[BaseModel], status_code: int = 200) -> Response:
    body = "[" + ",".join(m.model_dump_json() for m in models) + "]"
    return Response(body, status_code=status_code, media_type=JSON)


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
