"""Suggestions as you type in the search box (issue 21, item 8), in a real browser: they show
as the person types, arrow keys and Enter choose one and search for it, Enter alone searches
for the person's own words, axe finds nothing with the menu open, and without JavaScript the
plain box searches as before."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.accessibility import assert_accessible, wait_for_frontend
from tests.browser.conftest import TIMEOUT_MS, VIEWPORTS, LiveServer
from tests.browser.test_search_journeys import listed as listed  # a fixture

BOX = "What help are you looking for?"


def test_typing_shows_suggestions_and_the_keyboard_picks_one(page: Page, listed: None) -> None:
    page.goto("/search")
    assert_accessible(page)
    box = page.get_by_label(BOX)
    box.click()
    page.keyboard.type("personal c", delay=30)
    menu = page.get_by_role("listbox")
    option = menu.get_by_role("option", name="Personal care")
    expect(option).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    # In the box's own typeface (the library sets none, and the browser's is a serif).
    expect(option).to_have_css("font-family", "arial, sans-serif")
    # axe with the menu open: the listbox, its options and the live status.
    assert_accessible(page)
    box.focus()
    expect(option).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(option).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=Personal\+care(&|$)"))
    expect(page.locator(".app-results")).to_contain_text("Morning calls")
    expect(page.get_by_label(BOX)).to_have_value("Personal care")
    assert_accessible(page)


@pytest.mark.parametrize("viewport", ["desktop"])
def test_enter_searches_for_the_words_typed_while_suggestions_show(
    page: Page, listed: None
) -> None:
    """The library keeps Enter for its menu even with no suggestion chosen: the person's own
    words must still be searched for."""
    page.goto("/search")
    assert_accessible(page)
    box = page.get_by_label(BOX)
    box.click()
    page.keyboard.type("hot meal", delay=30)
    expect(page.get_by_role("option").first).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=hot\+meal(&|$)"))
    expect(page.locator(".app-results")).to_contain_text("Hot lunches delivered")
    assert_accessible(page)


def test_without_javascript_the_plain_box_searches(
    browser: Browser, live_server: LiveServer, listed: None
) -> None:
    context = browser.new_context(
        base_url=live_server.url,
        viewport=VIEWPORTS["desktop"],
        locale="en-GB",
        java_script_enabled=False,
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto("/search")
        box = page.get_by_label(BOX)
        expect(box).to_have_attribute("type", "search")
        expect(box).to_have_attribute("name", "q")
        box.fill("personal care")
        box.press("Enter")
        expect(page).to_have_url(re.compile(r"/search\?q=personal\+care(&|$)"))
        expect(page.locator(".app-results")).to_contain_text("Morning calls")
        expect(page.get_by_role("listbox")).to_have_count(0)
        assert not [url for url in asked if "/search/suggestions" in url]
    finally:
        context.close()


@pytest.mark.parametrize("viewport", ["desktop"])
def test_the_page_starts_with_javascript(page: Page, listed: None) -> None:
    """With JavaScript the box is the library's, in place of the plain one, with the same
    name, label, hint and words."""
    page.goto("/search?q=morning")
    wait_for_frontend(page)
    box = page.get_by_label(BOX)
    expect(box).to_have_class("autocomplete__input autocomplete__input--default app-search__input")
    expect(box).to_have_attribute("name", "q")
    expect(box).to_have_value("morning")
    expect(box).to_have_attribute("aria-describedby", "q-hint q__assistiveHint")
    assert_accessible(page)
