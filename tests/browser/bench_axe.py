"""How much Chromium CPU a navigation and a check cost, for each way of giving a page axe-core.

Not collected by `pytest` (its name does not start with test_); run it by name:

    .venv/bin/pytest -p no:randomly -s tests/browser/bench_axe.py

Each variant loads the same pages again and again in one context, and the CPU of every
Chromium process (read from /proc before and after) is divided by the loads. Variants run
alternately, so a change in the machine's load touches them alike.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from flask import send_file
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser import accessibility
from tests.browser.accessibility import AXE_PATH, add_axe
from tests.browser.conftest import VIEWPORTS, LiveServer
from tests.browser.test_search_journeys import listed  # noqa: F401 (a fixture)

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
LOADS = int(os.environ.get("BENCH_LOADS", "10"))
PAGES = ["/", "/search?q=care"]
HZ = os.sysconf("SC_CLK_TCK")


def _chromium_ticks() -> int:
    """utime + stime of every process below this one (Chromium and Playwright's driver)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    me = os.getpid()
    total = 0
    for pid, tick in ticks.items():
        node = pid
        while node in parents and node not in (0, 1, me):
            node = parents[node]
        if node == me and pid != me:
            total += tick
    return total


def _measure(
    browser: Browser,
    live_server: LiveServer,
    prepare: Callable[[BrowserContext], None],
    check: Callable[[Page], None],
) -> tuple[float, float]:
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS["desktop"])
    prepare(context)
    page = context.new_page()
    page.goto(PAGES[0])
    check(page)  # warm: the renderer, the caches
    ticks = _chromium_ticks()
    started = time.perf_counter()
    for index in range(LOADS):
        page.goto(PAGES[index % len(PAGES)])
        page.wait_for_load_state("load")
        check(page)
    wall = (time.perf_counter() - started) / LOADS * 1000
    cpu = (_chromium_ticks() - ticks) / HZ / LOADS * 1000
    context.close()
    return cpu, wall


def _no_check(page: Page) -> None:
    pass


def _run_axe(page: Page) -> None:
    page.evaluate(accessibility._RUN_AXE, accessibility.WCAG_TAGS)


_RUN_AXE_NO_SELECTORS = accessibility._RUN_AXE.replace(
    'resultTypes: ["violations"],', 'resultTypes: ["violations"], selectors: false,'
)


def _run_axe_no_selectors(page: Page) -> None:
    page.evaluate(_RUN_AXE_NO_SELECTORS, accessibility.WCAG_TAGS)


def _script_tag(page: Page) -> None:
    page.add_script_tag(url="/bench-axe.min.js")
    _run_axe(page)


def test_bench(browser: Browser, live_server: LiveServer, listed: None) -> None:  # noqa: F811
    if "bench_axe" not in live_server.app.view_functions:
        live_server.app.add_url_rule(
            "/bench-axe.min.js", "bench_axe", lambda: send_file(AXE_PATH, max_age=3600)
        )
    variants: dict[str, tuple[Callable[[BrowserContext], None], Callable[[Page], None]]] = {
        "load, no axe": (lambda context: None, _no_check),
        "load, init script axe": (add_axe, _no_check),
        "load+run, init script axe": (add_axe, _run_axe),
        "load+run, <script src> axe": (lambda context: None, _script_tag),
        "load+run, axe without selectors": (add_axe, _run_axe_no_selectors),
    }
    chosen = os.environ.get("BENCH_VARIANTS")
    if chosen:
        variants = {name: variants[name] for name in chosen.split(";")}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(ROUNDS):
        for name, (prepare, check) in variants.items():
            results[name].append(_measure(browser, live_server, prepare, check))
    print()
    for name, runs in results.items():
        cpus = " ".join(f"{cpu:5.0f}" for cpu, _ in runs)
        walls = " ".join(f"{wall:5.0f}" for _, wall in runs)
        print(f"{name:30s} Chromium CPU ms a load: {cpus}   wall ms: {walls}")
