"""Browser tests: Debian's Chromium, driven by Playwright, against the app on a local port.

One Chromium and one live server (a real WSGI server in a thread, on 127.0.0.1 and a free
port) serve the whole run; each test gets a fresh browser context and page. The app keeps
CSRF on, as in production, with rate limits off and mail written to the instance's outbox.
The database is the suite's own (`database_url`: SQLite, or TEST_DATABASE_URL), emptied after
every test, and the outbox is emptied too.

Fixtures written for pytest-playwright's plugin are not used: `browser` and `page` here
start Playwright directly (`sync_playwright`), so nothing is downloaded and the plugin's
options do not apply, except `--headed` and `--slowmo`, which are honoured.

Headless runs use Debian's chromium-headless-shell (`make browser-deps` installs it): the same
Chromium (Blink and V8 of the same version), without the browser's own user interface, which
the full browser's headless mode still draws in a renderer of its own for every window.
Measured on 4 December 2026, tests/browser/test_broker_pages_accessibility.py and
test_public_pages.py (22 tests) one after the other: 34 s of CPU with the shell, 56 s with the
full browser. `--headed` (and a machine without the shell) uses the full browser.

Every test here is marked `browser`. A test asking for `page` runs at desktop width
(1280x800) and at phone width (320x640: the narrowest phone in common use, and what a 1280px
screen shows at 400% zoom, WCAG's reflow width), unless it parametrizes `viewport` itself, e.g.
`@pytest.mark.parametrize("viewport", ["desktop"])` for a journey made by keyboard alone.

Set BROWSER_SCREENSHOTS to a folder to keep the screenshots tests take with `screenshot()`;
a failing test's last page is saved in its tmp_path whatever the setting.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from marketplace import create_app
from marketplace.extensions import db
from marketplace.mail import OutboxMessage, outbox_messages
from providers import search_index
from tests.browser.accessibility import add_axe, watch
from tests.conftest import empty_database, test_settings
from tests.live_server import serving

CHROMIUM = Path("/usr/bin/chromium")
HEADLESS_SHELL = Path("/usr/bin/chromium-headless-shell")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 320, "height": 640},
}
TIMEOUT_MS = 10_000
HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything under tests/browser `browser` (before `-m` selects)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test at both widths unless it names its own `viewport`."""
    if "viewport" not in metafunc.fixturenames or metafunc.module.__file__ is None:
        return
    if HERE not in Path(metafunc.module.__file__).resolve().parents:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0]
        names = names.split(",") if isinstance(names, str) else names
        if "viewport" in [name.strip() for name in names]:
            return
    metafunc.parametrize("viewport", list(VIEWPORTS))


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember a browser test's failure, so its page can be saved as a screenshot."""
    report = yield
    if report.when == "call" and report.failed and HERE in item.path.parents:
        item.stash[_FAILED] = True
    return report


@dataclass
class LiveServer:
    """The app served on a local port, and what it has emailed."""

    app: Flask
    url: str

    def outbox(self) -> list[OutboxMessage]:
        """Every email sent, newest first."""
        return outbox_messages(self.app.config["MAIL_OUTBOX_PATH"])

    def email_to(self, address: str, subject: str, timeout: float = 5.0) -> OutboxMessage:
        """The newest email to `address` with `subject` (waiting a little for it)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.outbox():
                if message.to == address and message.subject == subject:
                    return message
            if time.monotonic() > deadline:
                sent = [(m.to, m.subject) for m in self.outbox()]
                raise AssertionError(f"No email {subject!r} to {address}; outbox: {sent}")
            time.sleep(0.05)

    def link_in_email(self, address: str, subject: str) -> str:
        """The first link in the newest email to `address` with `subject`."""
        body = self.email_to(address, subject).body
        links = re.findall(r"https?://\S+", body)
        assert links, f"No link in the email {subject!r}:\n{body}"
        return links[0]

    def empty(self) -> None:
        """Empty the database, the search index and the outbox."""
        with self.app.app_context():
            db.session.rollback()
            empty_database()
            search_index.reindex(self.app)
            db.session.remove()
        shutil.rmtree(self.app.config["MAIL_OUTBOX_PATH"], ignore_errors=True)


@pytest.fixture(scope="session")
def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The app, with CSRF on and links built from the request's host, on 127.0.0.1."""
    instance = tmp_path_factory.mktemp("browser-instance")
    app = create_app(
        test_settings(
            database_url,
            instance,
            WTF_CSRF_ENABLED=True,
            RATELIMIT_ENABLED=False,
            MAIL_SERVER="",
            SERVER_NAME=None,
        )
    )
    try:
        with serving(app) as url:
            yield LiveServer(app=app, url=url)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_state(live_server: LiveServer) -> Iterator[None]:
    """Each test starts on an empty database and outbox (set up first, so emptied last)."""
    yield
    live_server.empty()


@pytest.fixture(scope="session")
def browser(pytestconfig: pytest.Config) -> Iterator[Browser]:
    """Debian's Chromium (never a downloaded one), once for the whole run: its headless shell
    unless the run is `--headed`."""
    headless = not pytestconfig.getoption("--headed", default=False)
    executable = HEADLESS_SHELL if headless and os.access(HEADLESS_SHELL, os.X_OK) else CHROMIUM
    if not os.access(executable, os.X_OK):
        pytest.fail(f"{executable} is missing: run `make browser-deps`", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(executable),
            args=CHROMIUM_ARGS,
            headless=headless,
            slow_mo=pytestconfig.getoption("--slowmo", default=0) or 0,
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def viewport(request: pytest.FixtureRequest) -> str:
    """The width to test at: "desktop" or "phone" (see pytest_generate_tests)."""
    return getattr(request, "param", "desktop")


@pytest.fixture
def context(browser: Browser, live_server: LiveServer, viewport: str) -> Iterator[BrowserContext]:
    """A fresh browser context: no cookies, British English, the live server as base URL."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=VIEWPORTS[viewport],
        locale="en-GB",
        timezone_id="Europe/London",
    )
    context.set_default_timeout(TIMEOUT_MS)
    add_axe(context)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A page whose console errors, failed requests and unchecked pages fail the test."""
    page = context.new_page()
    page_watch = watch(page)
    yield page
    if request.node.stash.get(_FAILED, False):
        shot = tmp_path / "failure.png"
        with contextlib.suppress(PlaywrightError):
            page.screenshot(path=shot, full_page=True)
            print(f"The page when the test failed ({page.url}): {shot}")
        return
    problems = page_watch.problems()
    assert not problems, "The browser reported problems:\n  " + "\n  ".join(problems)
    unchecked = page_watch.unchecked()
    assert not unchecked, f"Pages loaded but never checked with assert_accessible: {unchecked}"


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Save a full-page screenshot as NAME.png in $BROWSER_SCREENSHOTS, if it is set."""

    def take(page: Page, name: str) -> None:
        folder = os.environ.get("BROWSER_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=Path(folder) / f"{name}.png", full_page=True)

    return take


@pytest.fixture
def email_address() -> str:
    """An address no other test uses."""
    return f"person-{uuid.uuid4().hex[:10]}@example.org"
