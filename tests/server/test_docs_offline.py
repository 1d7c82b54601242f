"""``/docs`` works with no internet: the page and everything it loads come from the server itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx


class _References(HTMLParser):
    """Every URL the page makes the browser load: src and href attributes, and SwaggerUI's ``url``."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        self._script = tag == "script"

    def handle_data(self, data: str) -> None:
        if self._script:
            self.urls += re.findall(r"url: '([^']+)'", data)


def test_the_api_docs_load_nothing_from_the_internet(api_server: str) -> None:
    page = httpx.get(f"{api_server}/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    assert not re.search(r"https?://", page.text), "the docs page names a remote address"
    references = _References()
    references.feed(page.text)
    assert len(references.urls) == 4, references.urls  # stylesheet, icon, script, the OpenAPI document
    fetched = {}
    for url in references.urls:
        assert url.startswith("/"), url  # served by this server, whatever its address
        answer = httpx.get(f"{api_server}{url}")
        assert answer.status_code == 200 and answer.content, url
        fetched[url.rsplit("/", 1)[-1]] = answer
    # The bundled Swagger UI reads the OpenAPI version the API writes (3.1 needs Swagger UI 5).
    assert fetched["openapi.json"].json()["openapi"].startswith("3.1")
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', fetched["swagger-ui-bundle.js"].text)
    assert version is not None and int(version.group(1)) >= 5
    assert httpx.get(f"{api_server}/redoc").status_code == 404  # FastAPI's ReDoc page needs a CDN
