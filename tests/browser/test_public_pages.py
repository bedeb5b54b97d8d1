"""Pages anyone can read: the home page, the footer's pages and the page for a wrong address."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from marketplace.extensions import db
from providers.models import Locality, TaxonomyTerm
from tests.browser.accessibility import (
    assert_accessible,
    assert_focus_visible,
    assert_no_problems,
    tab_to,
    watch,
)
from tests.browser.conftest import LiveServer

TITLE_END = " \N{EN DASH} Care and support marketplace \N{EN DASH} Hertfordshire County Council"
FOOTER_PAGES = [
    ("Accessibility statement", "Accessibility statement"),
    ("Privacy notice", "Privacy notice"),
    ("Cookies", "Cookies"),
    ("Feedback", "Feedback and contact"),
]


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


@pytest.fixture(autouse=True)
def directory(live_server: LiveServer) -> None:
    """Two categories and two districts, so the home page has its lists to show."""
    with live_server.app.app_context():
        db.session.add_all(
            [
                TaxonomyTerm(
                    code="help-at-home",
                    name="Help at home",
                    position=1,
                    description="Care and support in your own home",
                ),
                TaxonomyTerm(
                    code="day-services",
                    name="Day services",
                    position=2,
                    description="Places to go in the day",
                ),
                Locality(code="e07000240", name="St Albans", kind="district"),
                Locality(code="e07000241", name="Welwyn Hatfield", kind="district"),
            ]
        )
        db.session.commit()
        db.session.remove()


def test_home_and_footer_pages(
    page: Page, viewport: str, screenshot: Callable[[Page, str], None]
) -> None:
    page.goto("/")
    expect(heading(page)).to_have_text("Find care and support in Hertfordshire")
    expect(page.get_by_role("heading", name="Help at home")).to_be_visible()
    expect(page.get_by_text("Welwyn Hatfield")).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"home-{viewport}")

    for link, title in FOOTER_PAGES:
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(heading(page)).to_have_text(title)
        expect(page).to_have_title(f"{title}{TITLE_END}")
        assert_accessible(page)


def test_page_not_found(page: Page) -> None:
    response = page.goto("/no-such-page")
    assert response is not None
    assert response.status == 404
    expect(heading(page)).to_have_text("Page not found")
    assert_accessible(page)
    page.get_by_role("link", name="Go to the start page").click()
    expect(heading(page)).to_contain_text("Find care and support")
    assert_accessible(page)


@pytest.mark.parametrize("viewport", ["desktop"])
def test_public_pages_by_keyboard_alone(page: Page) -> None:
    page.goto("/")
    assert_accessible(page)
    page.keyboard.press("Tab")
    assert assert_focus_visible(page) == "Skip to main content"
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()

    tab_to(page, "Accessibility statement")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Accessibility statement")
    assert_accessible(page)

    tab_to(page, "Cookies")
    tab_to(page, "Privacy notice", backwards=True)
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Privacy notice")
    assert_accessible(page)

    page.goto("/no-such-page")
    expect(heading(page)).to_have_text("Page not found")
    assert_accessible(page)
    tab_to(page, "Go to the start page")
    page.keyboard.press("Enter")
    expect(heading(page)).to_contain_text("Find care and support")
    assert_accessible(page)


@pytest.mark.parametrize("viewport", ["desktop"])
def test_the_checks_catch_what_they_are_for(context: BrowserContext) -> None:
    """The checks every journey relies on fail when they should (a page of their own)."""
    page = context.new_page()
    page_watch = watch(page)
    page.goto("/")
    expect(heading(page)).to_contain_text("Find care and support")
    assert page_watch.unchecked() == [page.url]

    page.evaluate(
        """document.querySelector("h1").insertAdjacentHTML(
            "afterend", '<img src="/static/images/icon.svg"><input type="text">')"""
    )
    with pytest.raises(AssertionError, match=r"(?s)image-alt \(critical\).*label \(critical\)"):
        assert_accessible(page)
    assert page_watch.unchecked() == []

    # An asset that is not there, and an inline script, which the CSP refuses.
    page.evaluate(
        """() => {
            document.body.insertAdjacentHTML("beforeend", '<img alt="" src="/static/none.png">');
            const script = document.createElement("script");
            script.textContent = "document.title = 'changed'";
            document.body.append(script);
        }"""
    )
    expect(page).not_to_have_title("changed")
    for _ in range(100):
        if len(page_watch.problems()) >= 2:
            break
        page.wait_for_timeout(50)
    with pytest.raises(AssertionError) as problems:
        assert_no_problems(page)
    assert "404 for GET" in str(problems.value)
    assert "Content Security Policy" in str(problems.value)


@pytest.mark.parametrize("viewport", ["phone"])
def test_the_page_checks_catch_what_axe_cannot(page: Page) -> None:
    """Each check beyond axe fails on the fault it is for (issue 14), on a page made faulty."""
    page.goto("/")
    assert_accessible(page)
    # Styles set from script: the Content-Security-Policy refuses style attributes in HTML.
    page.evaluate(
        """() => {
          document.querySelector("h1").insertAdjacentHTML("afterend", `
            <fieldset class="govuk-fieldset"><legend class="govuk-fieldset__legend"></legend>
              <input type="radio" name="often" id="often-1"><label for="often-1">Once</label>
            </fieldset>
            <div id="wide">A wide thing</div>
            <button type="button" id="narrow">Go</button>
            <div tabindex="0" id="unfocusable">Focus me</div>
            <div class="govuk-error-summary"><a href="#when">Enter the date</a></div>
            <div id="when"><label for="when-day">Day</label><input id="when-day"></div>`);
          document.getElementById("wide").style.width = "600px";
          Object.assign(document.getElementById("narrow").style, {width: "20px", padding: "0"});
          document.getElementById("unfocusable").style.outline = "none";
        }"""
    )
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page)
    message = str(failed.value)
    assert "a fieldset has no legend text" in message
    assert 'the radio group "often" is not in a fieldset with a legend' in message
    assert re.search(r"the page is \d+px wide in a 320px window", message)
    assert 'button#narrow "Go" is 20px wide' in message
    assert 'div#unfocusable "Focus me" shows no focus at all' in message
    assert 'the error link "Enter the date" (#when) puts the focus on' in message

    # A title seen again at another address with other content is a title two pages share.
    page_watch = watch(page)
    assert page_watch.title_taken("Orders", "http://x/a", "New: 2", "citizen") is None
    assert page_watch.title_taken("Orders", "http://x/a", "New: 3", "citizen") is None
    assert page_watch.title_taken("Orders", "http://x/b", "New: 2", "citizen") is None
    assert page_watch.title_taken("Orders", "http://x/c", "Paid: 1", "provider") is None
    assert page_watch.title_taken("Orders", "http://x/b", "Paid: 1", "citizen") == "http://x/a"


@pytest.mark.parametrize("viewport", ["desktop"])
def test_tabbing_through_radios_leaves_the_choice_alone(page: Page) -> None:
    """The focus check measures the focused radio where it is: it used to put a copy of it
    beside it, which, being checked and of the same name, unticked the original."""
    page.goto("/")
    assert_accessible(page)
    page.evaluate(
        """document.querySelector("h1").insertAdjacentHTML("afterend", `
        <div class="govuk-radios" data-module="govuk-radios">
          <div class="govuk-radios__item">
            <input class="govuk-radios__input" id="often-1" name="often" type="radio" checked>
            <label class="govuk-label govuk-radios__label" for="often-1">Once</label>
          </div>
          <div class="govuk-radios__item">
            <input class="govuk-radios__input" id="often-2" name="often" type="radio">
            <label class="govuk-label govuk-radios__label" for="often-2">Every week</label>
          </div>
        </div>
        <button type="button" class="govuk-button">Next</button>`)"""
    )
    once = page.get_by_label("Once")
    page.locator("h1").evaluate("heading => heading.setAttribute('tabindex', '-1')")
    page.locator("h1").focus()
    tab_to(page, "Once", limit=2)
    tab_to(page, "Next", limit=2)
    expect(once).to_be_checked()
