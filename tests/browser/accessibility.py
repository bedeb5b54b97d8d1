"""What every page a browser test shows must pass, and the keyboard helpers for journeys.

- `assert_accessible(page)`: runs axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) on the page
  now shown and fails on any violation of impact "serious" or "critical"; it also fails on any
  console error, uncaught exception or failed request the page has had. Call it on every page a
  journey reaches: the `page` fixture fails a test that loaded a page it never checked.
- `tab_to(page, name)`: presses Tab (or Shift+Tab) until the named control has focus, checking
  at every stop that the focus can be seen (`assert_focus_visible`).
- `wait_for_frontend(page)`: waits until GOV.UK Frontend's JavaScript has started every component
  (the "Menu" toggle at phone width, password "Show" buttons, error summary focus...).

axe-core is injected by evaluating its source through the DevTools protocol. The service's
Content-Security-Policy (script-src 'self') refuses the inline <script> that
`page.add_script_tag()` writes, as it should; bypassing the policy instead would hide the CSP
violations these tests exist to catch.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from playwright.sync_api import ConsoleMessage, Page, Request, Response

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}

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

# What the focused element looks like, beside an unfocused copy of itself put next to it.
_FOCUS_STYLE = """
() => {
  const element = document.activeElement;
  if (!element || element === document.body || element === document.documentElement) {
    return null;
  }
  const read = (style) => ({
    outlineStyle: style.outlineStyle,
    outlineWidth: style.outlineWidth,
    outlineColor: style.outlineColor,
    boxShadow: style.boxShadow,
    backgroundColor: style.backgroundColor,
  });
  const focused = read(getComputedStyle(element));
  const copy = element.cloneNode(true);
  copy.removeAttribute("id");
  copy.setAttribute("aria-hidden", "true");
  element.insertAdjacentElement("afterend", copy);
  const unfocused = read(getComputedStyle(copy));
  copy.remove();
  const box = element.getBoundingClientRect();
  const label = element.labels && element.labels.length ? element.labels[0].innerText : "";
  const name = element.getAttribute("aria-label") || label || element.innerText || element.value;
  return {
    name: (name || "").replace(/\\s+/g, " ").trim(),
    html: element.outerHTML.slice(0, 200),
    focused,
    unfocused,
    onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
      && box.top < window.innerHeight && box.left < window.innerWidth,
  };
}
"""

# GOV.UK Frontend has started every component on the page (app.mjs, a module script).
_FRONTEND_READY = """
() => document.body.classList.contains("govuk-frontend-supported")
  && [...document.querySelectorAll("[data-module]")].every(
    (element) => element.hasAttribute(`data-${element.dataset.module}-init`))
"""

_TRANSPARENT = re.compile(r"^(transparent|rgba\(.*,\s*0\))$")


@functools.cache
def _axe_source() -> str:
    if not AXE_PATH.is_file():
        raise AssertionError(f"{AXE_PATH} is missing: run `npm ci` (or `make browser-deps`)")
    return AXE_PATH.read_text(encoding="utf-8")


@dataclass
class PageWatch:
    """Everything a page did that a test should hear about, and which pages were checked."""

    loads: list[str] = field(default_factory=list)
    checked: set[int] = field(default_factory=set)
    console_errors: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    error_documents: set[str] = field(default_factory=set)

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
            if text.startswith("Failed to load resource") and url in self.error_documents:
                continue
            found.append(f"console error: {text}" + (f" ({url})" if url else ""))
        return found

    def unchecked(self) -> list[str]:
        return [url for index, url in enumerate(self.loads) if index not in self.checked]


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


def assert_accessible(page: Page) -> None:
    """Fail on axe-core's serious and critical WCAG 2.2 AA violations on the page now shown."""
    wait_for_frontend(page)
    page_watch = watch(page)
    if page_watch.loads:
        page_watch.checked.add(len(page_watch.loads) - 1)
    assert_no_problems(page)
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(_axe_source())
    violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE, WCAG_TAGS)
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    if not failing:
        return
    lines = [f"axe-core found {len(failing)} serious or critical violations on {page.url}:"]
    for violation in failing:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    at {node['target']}")
            lines.extend(f"       {line}" for line in (node["summary"] or "").splitlines())
    raise AssertionError("\n".join(lines))


def _visible(style: dict[str, str], unfocused: dict[str, str]) -> bool:
    outline = (
        style["outlineStyle"] != "none"
        and style["outlineWidth"] not in {"0px", ""}
        and not _TRANSPARENT.match(style["outlineColor"])
        and (style["outlineStyle"], style["outlineWidth"], style["outlineColor"])
        != (unfocused["outlineStyle"], unfocused["outlineWidth"], unfocused["outlineColor"])
    )
    return (
        outline
        or style["boxShadow"] != unfocused["boxShadow"]
        or style["backgroundColor"] != unfocused["backgroundColor"]
    )


def focused_element(page: Page) -> dict[str, Any] | None:
    """The focused element's accessible name, its start tag and focus styles, or None."""
    return page.evaluate(_FOCUS_STYLE)


def assert_focus_visible(page: Page) -> str:
    """Fail unless the focused element is on screen and looks different from unfocused.

    Returns the element's name (its label, aria-label, text or value).
    """
    element = focused_element(page)
    assert element is not None, f"Nothing on {page.url} has focus (it may have left the page)"
    assert element["onScreen"], f"The focused element is off screen: {element['html']}"
    assert _visible(element["focused"], element["unfocused"]), (
        f"The focus on {element['html']} cannot be seen: focused {element['focused']}, "
        f"unfocused {element['unfocused']}"
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
