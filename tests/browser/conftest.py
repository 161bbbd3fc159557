"""Browser tests: the real app served by uvicorn on 127.0.0.1, driven through Debian's chromium by Playwright.

Never `playwright install`: the browser is the system's chromium (`.ci/run` installs it), started headless
without sandbox, GPU or background networking. Every page fails the test on a console error, and any text
that reached a screen without a translation fails it too. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from tapzone.api.app import create_app
from tapzone.demo import DemoVenue, demo_password, load_demo
from tapzone.store.db import make_engine
from tapzone.store.migrate import upgrade
from tapzone.store.uow import UnitOfWork
from tapzone.web.render import UNTRANSLATED

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveVenue:
    base_url: str
    demo: DemoVenue
    database_url: str

    def till_token(self, index: int = 0) -> str:
        return self.demo.tills[index][2]

    def password(self, login: str) -> str:
        return demo_password(login)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveVenue]:
    database = tmp_path_factory.mktemp("browser") / "venue.db"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    upgrade(engine)
    demo = load_demo(UnitOfWork(engine))
    engine.dispose()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveVenue(f"http://127.0.0.1:{port}", demo, url)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing; .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser context; console errors and untranslated texts fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    UNTRANSLATED.clear()
    yield opened
    context.close()
    assert errors == [], f"console errors: {errors}"
    assert sorted(UNTRANSLATED) == [], f"untranslated texts: {sorted(UNTRANSLATED)}"


def screenshot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in_at_till(page: object, live: LiveVenue, login: str = "anna", till: int = 0) -> None:
    page.goto(f"{live.base_url}/pair")  # type: ignore[attr-defined]
    page.fill("input[name=token]", live.till_token(till))  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.fill("input[name=login]", login)  # type: ignore[attr-defined]
    page.fill("input[name=password]", live.password(login))  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{live.base_url}/till")  # type: ignore[attr-defined]
