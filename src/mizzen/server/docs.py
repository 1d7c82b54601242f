"""``/docs``: the API's Swagger UI, served from the installed package and never from a CDN, so that
it works offline and in an air-gapped cluster.

The Swagger UI files come from the ``swagger-ui-py`` package (a copy of Swagger UI 5, which reads the
OpenAPI 3.1 that FastAPI writes). FastAPI's own ``/docs`` and ``/redoc`` load their scripts from
the internet, so the app is created without them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"


def swagger_ui_assets() -> Path:
    return Path(str(files("swagger_ui").joinpath("static")))


def install_docs(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=swagger_ui_assets()), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")  # behind an ingress with a path prefix
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon-32x32.png",
            # No badge from validator.swagger.io: nothing on the page reaches the internet.
            swagger_ui_parameters={"validatorUrl": None},
        )
