"""What every page a browser test shows must pass, and the keyboard helpers for journeys.

- `assert_accessible(page)`: runs axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) on the page
  now shown and fails on any violation of impact "serious" or "critical"; it also fails on any
  console error, uncaught exception or failed request the page has had, and on what axe cannot
  see (`page_checks.js`, one call per page):
  - a fieldset without a legend that can be seen, or a group of radios or checkboxes outside
    a fieldset with a legend (a single checkbox needs none);
  - a page wider than the window (`scrollWidth > innerWidth`), or a control (button, input
    other than a radio or checkbox, select, textarea, link drawn as a button) less than 44px
    wide where it can be seen, a region that scrolls sideways counting as cutting it off;
  - an error summary link which, followed, does not put the focus on a form control (or, for
    a problem with the whole form, on the part of the page it is about: a tabindex=-1 region
    with controls in it);
  - a focusable element whose focus indicator does not reach 3:1 against what it sits on
    (each element is given focus in turn, in the page, and its look compared with its look
    unfocused);
  - a title that another page of the same test, at another address and with other content,
    already had.
  Call it on every page a journey reaches: the `page` fixture fails a test that loaded a page
  it never checked.
- `tab_to(page, name)`: presses Tab (or Shift+Tab) until the named control has focus, checking
  at every stop that the focus can be seen at 3:1 (`assert_focus_visible`).
- `wait_for_frontend(page)`: waits until GOV.UK Frontend's JavaScript has started every component
  (the "Menu" toggle at phone width, password "Show" buttons, error summary focus...).

axe-core is given to each page through the DevTools protocol: `add_axe(context)` (the `context`
fixture calls it) has Chromium run its source in every top-level document the context opens,
before the page's own scripts (sending and evaluating the 550 kB source from each
`assert_accessible` instead took about 0.13 s a page, a third of the checking);
`assert_accessible` still evaluates it in a page that lacks it. The service's
Content-Security-Policy (script-src 'self') refuses the inline <script> that
`page.add_script_tag()` writes, as it should; bypassing the policy instead would hide the CSP
violations these tests exist to catch. A `<script src>` from the live server, added only when a
check needs axe, was measured too (tests/browser/bench_axe.py) and cost more than the init
script on every page checked: every loaded page is checked, so axe is needed on nearly all.

axe runs once per document per worker: a document axe has passed (the same serialised DOM,
CSRF token values aside, with the same typed values, focus, hover, scroll offsets and window
size: page_checks.js, "identity") is not run through axe again when a later check, in the
same test or another one on the same worker, meets it again (the sign-in page, a list page
returned to). Across the browser tests 13% of checks are such repeats. A document that failed
is never recorded, and the page checks (and the title check) still run on every page.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
PAGE_CHECKS_PATH = Path(__file__).resolve().parent / "page_checks.js"
MIN_FOCUS_CONTRAST = 3

_RUN_AXE = """
async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    helpUrl: violation.helpUrl,
    nodes: violation.nodes.map((node) => ({
      target: node.target.join(" "),
      summary: node.failureSummary,
    })),
  }));
}
"""

# GOV.UK Frontend has started every component on the page (app.mjs, a module script).
_FRONTEND_READY = """
() => document.body.classList.contains("govuk-frontend-supported")
  && [...document.querySelectorAll("[data-module]")].every(
    (element) => element.hasAttribute(`data-${element.dataset.module}-init`))
"""


@functools.cache
def _page_checks_source() -> str:
    return PAGE_CHECKS_PATH.read_text(encoding="utf-8")


@functools.cache
def _axe_source() -> str:
    if not AXE_PATH.is_file():
        raise AssertionError(f"{AXE_PATH} is missing: run `npm ci` (or `make browser-deps`)")
    return AXE_PATH.read_text(encoding="utf-8")


def add_axe(context: BrowserContext) -> None:
    """Have axe-core defined in every top-level page `context` opens from now on.

    Not in frames: axe would then test a frame's content too (a payment provider's card
    fields), which `assert_accessible` has never asked it to. Not in the about:blank document
    every new page starts with, which no test checks (`assert_accessible` evaluates axe in a
    page that lacks it): evaluating the 550 kB source there made each new page cost about
    0.15 s more (270 ms instead of 120 ms, docs/testing.md).
    """
    context.add_init_script(
        script=(
            f'if (window === window.top && location.protocol !== "about:") {{\n{_axe_source()}\n}}'
        )
    )


@dataclass
class PageWatch:
    """Everything a page did that a test should hear about, and which pages were checked."""

    loads: list[str] = field(default_factory=list)
    checked: set[int] = field(default_factory=set)
    console_errors: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    error_documents: set[str] = field(default_factory=set)
    # Each title seen by each audience (the pages of one role), with the address and content
    # of the first page that had it.
    titles: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url", "")))

    def on_page_error(self, error: Exception) -> None:
        self.failures.append(f"uncaught exception: {error}")

    def on_response(self, response: Response) -> None:
        if response.status < 400:
            return
        if response.request.resource_type == "document" and response.status < 500:
            # A page answered with an error (404, or 400 for a form with errors): the test
            # checks the status and the page, so only the browser's echo of it is ignored.
            self.error_documents.add(response.url)
        else:
            self.failures.append(f"{response.status} for {response.request.method} {response.url}")

    def on_request_failed(self, request: Request) -> None:
        # ERR_ABORTED: a load cut short because the journey moved on to the next page.
        if request.failure != "net::ERR_ABORTED":
            self.failures.append(f"{request.failure} for {request.method} {request.url}")

    def on_load(self, page: Page) -> None:
        self.loads.append(page.url)

    def problems(self) -> list[str]:
        found = list(self.failures)
        for text, url in self.console_errors:
            # The console names the address with its fragment; the response, without.
            if (
                text.startswith("Failed to load resource")
                and url.split("#")[0] in self.error_documents
            ):
                continue
            found.append(f"console error: {text}" + (f" ({url})" if url else ""))
        return found

    def unchecked(self) -> list[str]:
        return [url for index, url in enumerate(self.loads) if index not in self.checked]

    def title_taken(self, title: str, url: str, content: str, audience: str) -> str | None:
        """The address of an earlier page with this title but other content, shown to the same
        audience, if any. The same address may change its content, two addresses may show the
        same page, and a provider's and a citizen's page of one order are never seen by the
        same person."""
        address = url.split("#")[0]
        first = self.titles.setdefault((audience, title), (address, content))
        if first[0] != address and first[1] != content:
            return first[0]
        return None


_WATCHES: WeakKeyDictionary[Page, PageWatch] = WeakKeyDictionary()


def watch(page: Page) -> PageWatch:
    """Start recording what `page` does (the `page` fixture does this for every test)."""
    if page in _WATCHES:
        return _WATCHES[page]
    page_watch = _WATCHES[page] = PageWatch()
    page.on("console", page_watch.on_console)
    page.on("pageerror", page_watch.on_page_error)
    page.on("response", page_watch.on_response)
    page.on("requestfailed", page_watch.on_request_failed)
    page.on("load", page_watch.on_load)
    return page_watch


def assert_no_problems(page: Page) -> None:
    """Fail on any console error, uncaught exception or failed request so far."""
    problems = watch(page).problems()
    assert not problems, "The browser reported problems:\n  " + "\n  ".join(problems)


def wait_for_frontend(page: Page) -> None:
    """Wait until the page has loaded and GOV.UK Frontend has started all its components."""
    page.wait_for_load_state("load")
    page.wait_for_function(_FRONTEND_READY)


# The documents this process has seen axe-core pass, each as its identity (page_checks.js,
# "identity": a hash of the serialised document, the values, focus, hover and scroll the
# serialisation leaves out, and the window's size). axe's result is a function of what it
# identifies, so a document seen again (a list page returned to, a page at the same width in
# the next test of the same worker) is not run through axe again; the page checks still run.
_AXE_PASSED: set[str] = set()


def assert_accessible(page: Page) -> None:
    """Fail on axe-core's serious and critical WCAG 2.2 AA violations on the page now shown."""
    wait_for_frontend(page)
    page_watch = watch(page)
    if page_watch.loads:
        page_watch.checked.add(len(page_watch.loads) - 1)
    assert_no_problems(page)
    identity: str = page.evaluate(_page_checks_source(), "identity")
    if identity not in _AXE_PASSED:
        if page.evaluate("typeof window.axe") == "undefined":
            page.evaluate(_axe_source())
        violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE, WCAG_TAGS)
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        if failing:
            raise AssertionError(_axe_report(page, failing))
        # Only if the document did not change while axe ran (a script still at work).
        if page.evaluate(_page_checks_source(), "identity") == identity:
            _AXE_PASSED.add(identity)
    _assert_page_checks(page, page_watch)


PHONE = {"width": 320, "height": 640}


def assert_accessible_at_both_widths(page: Page) -> None:
    """`assert_accessible` on the page now shown as it is, then again at 320 px in the same
    page, then back: a walk made once checks every page at both widths, for about half the
    cost of walking it again in a phone-sized browser (docs/testing.md)."""
    assert_accessible(page)
    size = page.viewport_size
    if size is None or size["width"] == PHONE["width"]:
        return
    page.set_viewport_size(PHONE)
    try:
        _settle(page)
        assert_accessible(page)
    finally:
        page.set_viewport_size(size)
        _settle(page)


def _settle(page: Page) -> None:
    """Wait until the page has reacted to its new size: media query listeners (GOV.UK
    Frontend's header folds its navigation behind "Menu" on a phone) run in the frame's
    rendering steps, before the animation frames awaited here."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


CHECK_TITLES = {
    "fieldset": "Questions without a question (fieldset and legend)",
    "sideways": "Sideways scrolling",
    "narrow": "Controls too narrow to use",
    "error-link": "Error summary links that do not reach their field",
    "focus": "Focus that cannot be seen well enough",
}


def _assert_page_checks(page: Page, page_watch: PageWatch) -> None:
    found: dict[str, Any] = page.evaluate(_page_checks_source(), "page")
    lines = []
    for kind, messages in found["problems"].items():
        lines.append(f"{CHECK_TITLES[kind]}:")
        lines.extend(f"  - {message}" for message in messages)
    earlier = page_watch.title_taken(found["title"], page.url, found["content"], found["audience"])
    if earlier:
        lines.append(f"The title {found['title']!r} is also the title of {earlier}, another page")
    if lines:
        raise AssertionError(f"{page.url} fails checks axe-core cannot make:\n" + "\n".join(lines))


def _axe_report(page: Page, failing: list[dict[str, Any]]) -> str:
    lines = [f"axe-core found {len(failing)} serious or critical violations on {page.url}:"]
    for violation in failing:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    at {node['target']}")
            lines.extend(f"       {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


def focused_element(page: Page) -> dict[str, Any] | None:
    """The focused element's name and start tag, and how it shows its focus, or None.

    `visible`: some part of its look changed with focus; `best`: the highest contrast of a
    changed part against the colour it sits on; `parts`: each part, explained.
    """
    return page.evaluate(_page_checks_source(), "focused")


def assert_focus_visible(page: Page) -> str:
    """Fail unless the focused element is on screen and shows its focus at 3:1 or more.

    Returns the element's name (its label, aria-label, text or value).
    """
    element = focused_element(page)
    assert element is not None, f"Nothing on {page.url} has focus (it may have left the page)"
    assert element["onScreen"], f"The focused element is off screen: {element['html']}"
    assert element["visible"], f"The focus on {element['html']} cannot be seen"
    assert element["best"] >= MIN_FOCUS_CONTRAST, (
        f"The focus on {element['html']} shows at {element['best']:.2f}:1 at best "
        f"({element['parts']}); it needs {MIN_FOCUS_CONTRAST}:1"
    )
    return element["name"]


def tab_to(page: Page, name: str, *, backwards: bool = False, limit: int = 40) -> None:
    """Press Tab (Shift+Tab if `backwards`) until the control called `name` has focus.

    Every element the focus stops on must show it (`assert_focus_visible`).
    """
    key = "Shift+Tab" if backwards else "Tab"
    passed: list[str] = []
    for _ in range(limit):
        page.keyboard.press(key)
        reached = assert_focus_visible(page)
        if reached == name:
            return
        passed.append(reached)
    raise AssertionError(f"{name!r} not reached after {limit} presses of {key}; passed {passed}")
