"""One `mizzen server`, one set of real runs and one Chromium for the whole session (fast)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from ui_harness import BROKEN, HELD, SLEEPER, TOKEN, TRAIN, UiServer, chromium_or_fail

SCREENSHOTS = Path(os.environ.get("MIZZEN_UI_SCREENSHOTS", Path(__file__).parent / "screenshots"))


SET_THEME = """t => {
    document.documentElement.dataset.theme = t;
    document.dispatchEvent(new Event('mizzen:theme'));
}"""


@dataclass
class Runs:
    train: str  # succeeded, with metrics, outputs and logs made through mizzen.tracking
    broken: str  # failed: its exit code is the recorded reason
    held: str  # created, waiting for approval: the recorded reason says so
    sleeper: str  # running, printing a line every 0.2 s until a test stops it


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    server = UiServer(tmp_path_factory.mktemp("ui") / "home")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def runs(ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    folder = tmp_path_factory.mktemp("polyaxonfiles")
    made = Runs(
        train=ui_server.submit(folder, "train", TRAIN),
        broken=ui_server.submit(folder, "broken", BROKEN),
        held=ui_server.submit(folder, "held", HELD),
        sleeper=ui_server.submit(folder, "sleeper", SLEEPER),
    )
    ui_server.wait_status(made.train, {"succeeded"})
    ui_server.wait_status(made.broken, {"failed"})
    ui_server.wait_status(made.sleeper, {"running"})
    return made


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_or_fail()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def logged_in(browser: Browser, ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cookie of a login through the login page, for every test's context."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(ui_server.url + "/")
    assert "/login" in page.url
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(ui_server.url + "/")
    state = tmp_path_factory.mktemp("browser") / "state.json"
    context.storage_state(path=str(state))
    context.close()
    return state


@pytest.fixture
def context(browser: Browser, logged_in: Path) -> Iterator[BrowserContext]:
    context = browser.new_context(storage_state=str(logged_in), viewport={"width": 1366, "height": 900})
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def screenshot(page: Page, name: str) -> None:
    """The page in both themes, for people to look at (tests/ui/screenshots, gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        page.evaluate(SET_THEME, theme)
        page.wait_for_timeout(150)  # charts redraw in the theme's colours (a picture, not an assertion)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{theme}.png"), full_page=True)
