"""``create_app(settings)``: the Mizzen API as a FastAPI application.

The same app runs embedded (``mizzen run`` serves it on 127.0.0.1 inside its own process) and as
``mizzen server``. Creating it opens the database and brings its schema up to date. The process
around it reaches the services through ``app.state.services`` and subscribes to run events through
``app.state.run_events``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from mizzen import __version__
from mizzen.schemas.api import API_PREFIX
from mizzen.server.auth import require_token
from mizzen.server.docs import install_docs
from mizzen.server.errors import install_error_handlers
from mizzen.server.routers import agents, artifacts, flow, health, logs, metrics, pipelines, projects, runs
from mizzen.server.services import Services
from mizzen.server.ui import install_ui
from mizzen.settings import Settings
from mizzen.store import Database


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    services = Services.build(settings, database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if database is None:  # a database given by the caller stays the caller's to close
            services.close()

    app = FastAPI(
        title="Mizzen",
        version=__version__,
        description="Run, track and compare machine-learning workloads.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load Swagger UI / ReDoc from a CDN: ours is served locally
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.run_events = services.events
    install_error_handlers(app)
    install_docs(app)

    app.include_router(health.router, prefix=API_PREFIX)
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(require_token)])
    for module in (projects, runs, pipelines, metrics, logs, artifacts, agents):
        api.include_router(module.router)
    api.include_router(flow.router)  # approvals and the run cache
    api.include_router(flow.agent_router)
    app.include_router(api)
    install_ui(app)  # the web UI at /: docs/ui.md
    return app
