"""Browser tests: the app served over real HTTP (uvicorn in a thread) to Debian's Chromium driven
by Playwright, with the worker, SeaweedFS and the SMTP capture of the other tests.

The browser PUTs attachments straight to the object store, so the app must be reachable over
HTTP, and links in mails must point at it: `settings` is overridden with the served address.
The server is started per test (well under a second, beside journeys of half a minute), so it
serves the test's own database.
Screenshots go to `screenshots/` at the repository root.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import msgspec
import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from competition.app import create_app
from competition.config import Settings
from infra import local

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium in a closed network waits for services it cannot reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # German browser chrome (date pickers, number inputs), as the platform's users see it.
    "--lang=de-DE",
]
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}

NewPage = Callable[..., Awaitable[Page]]


@pytest.fixture
def web_port() -> int:
    return local.free_port()


@pytest.fixture
def settings(settings: Settings, web_port: int) -> Settings:
    """The test's settings with links in mails pointing at the served app."""
    return msgspec.structs.replace(settings, public_url=f"http://127.0.0.1:{web_port}")


@pytest.fixture
def base_url(settings: Settings, web_port: int) -> Iterator[str]:
    """The app under uvicorn in a thread of its own (its own event loop and connection pool),
    one per test: its pool reaches the test's own database."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=web_port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped during start-up"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    yield settings.public_url
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def new_page(browser: Browser, base_url: str, worker: None) -> AsyncIterator[NewPage]:
    """A fresh browser profile per person (own cookies), German and in German time."""
    contexts: list[BrowserContext] = []

    async def make(viewport: dict[str, int] | None = None) -> Page:
        context = await browser.new_context(
            base_url=base_url,
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            locale="de-DE",
            timezone_id="Europe/Berlin",
            accept_downloads=True,
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return await context.new_page()

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = ROOT / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder
