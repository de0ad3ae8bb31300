"""A real server (uvicorn, real commits) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from custodes.database import Database
from custodes.kit.db import transaction
from custodes.ledger import service as ledger
from custodes.settings import Settings
from custodes.web.app import create_app
from tests.conftest import TEST_SECRET

CHROMIUM = os.environ.get("CUSTODES_CHROMIUM", "/usr/bin/chromium")
# As root in a sandbox, with no network: the flags Chromium needs to start quietly.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = (
    Path(os.environ.get("CUSTODES_SCREENSHOTS", "")) if os.environ.get("CUSTODES_SCREENSHOTS") else None
)


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.settings = settings
        self.database = Database.open(settings)
        self.app = create_app(settings, self.database)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.database.close()


@pytest.fixture
def live_server(tmp_path: Path, backend: str, new_database: Callable[[str], str]) -> Iterator[LiveServer]:
    settings = Settings(home=tmp_path / "home", database_url=new_database(backend), secret_key=TEST_SECRET)
    settings.home.mkdir()
    ledger.ensure_signing_key(settings)
    settings.ensure_data_key()
    with LiveServer(settings) as server:
        yield server


def in_transaction(server: LiveServer) -> Iterator[object]:
    return transaction(server.database.factory)  # type: ignore[return-value]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package (scripts/test does)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    opened = context.new_page()
    yield opened
    context.close()


def snapshot(page: Page, name: str) -> None:
    """Keep a screenshot when CUSTODES_SCREENSHOTS names a folder (for people to look at)."""
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def menu_link(page: Page, name: str) -> Locator:
    """The main menu's link `name`, its area's drop-down opened first when the menu is grouped by area (a
    long menu: web/navigation.py), as a person would open it."""
    link = page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=name, exact=True, include_hidden=True
    )
    if not link.is_visible():
        link.locator("xpath=ancestor::details[1]/summary").click()
    return link
