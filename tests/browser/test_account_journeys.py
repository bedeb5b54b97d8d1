"""Accounts in a real browser: sign up, sign out, sign in and a forgotten password.

Each journey runs at desktop and phone widths, and once more by keyboard alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from tests.browser.accessibility import (
    assert_accessible,
    assert_focus_visible,
    tab_to,
    wait_for_frontend,
)
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD

FULL_NAME = "Ada Lovelace"
NEW_PASSWORD = "marmalade lighthouse quietly juggles"
WRONG_PASSWORD = "not the password at all"
SIGN_IN_FAILED = "Enter a correct email address and password"


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def navigation(page: Page) -> Locator:
    """The service navigation, opened first if it is folded behind "Menu" (phone width)."""
    wait_for_frontend(page)  # the script decides whether "Menu" shows
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    return page.get_by_role("navigation", name="Menu")


def banner(page: Page) -> Locator:
    return page.locator(".govuk-notification-banner")


@pytest.fixture
def citizen_email(live_server: LiveServer, email_address: str) -> str:
    """A citizen's account, made directly; returns its email address."""
    with live_server.app.app_context():
        accounts.create_user(
            email=email_address, full_name=FULL_NAME, password=PASSWORD, role=Role.CITIZEN
        )
        db.session.commit()
        db.session.remove()
    return email_address


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page: Page) -> None:
    navigation(page).get_by_role("button", name="Sign out").click()
    expect(heading(page)).to_have_text("Sign in")
    expect(banner(page)).to_contain_text("You have signed out")
    assert_accessible(page)


def expect_sign_in_refused(page: Page) -> None:
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.get_by_role("link", name=SIGN_IN_FAILED)).to_be_visible()
    expect(summary).to_be_focused()
    expect(page.locator("#email-error")).to_contain_text(SIGN_IN_FAILED)
    expect(page).to_have_title(re.compile(r"^Error: Sign in "))
    assert_accessible(page)


def expect_citizen_page(page: Page, message: str | None = None) -> None:
    expect(heading(page)).to_have_text("Your care and support")
    if message:
        expect(banner(page)).to_contain_text(message)
    expect(navigation(page).get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(page)


def test_sign_up_sign_out_and_sign_in(
    page: Page,
    live_server: LiveServer,
    email_address: str,
    viewport: str,
    screenshot: Callable[[Page, str], None],
) -> None:
    page.goto("/")
    expect(heading(page)).to_contain_text("Find care and support")
    assert_accessible(page)

    navigation(page).get_by_role("link", name="Create an account").click()
    expect(heading(page)).to_have_text("Create an account")
    assert_accessible(page)
    page.get_by_label("Full name").fill(FULL_NAME)
    page.get_by_label("Email address").fill(email_address)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(heading(page)).to_have_text("Check your email")
    expect(page.get_by_role("main")).to_contain_text(email_address)
    assert_accessible(page)

    link = live_server.link_in_email(email_address, "Confirm your email address")
    assert link.startswith(f"{live_server.url}/sign-up/confirm/")
    page.goto(link)
    expect(heading(page)).to_have_text("Finish creating your account")
    assert_accessible(page)
    page.get_by_role("button", name="Create my account").click()
    expect_citizen_page(page, "Your account has been created")

    sign_out(page)

    sign_in(page, email_address, WRONG_PASSWORD)
    expect_sign_in_refused(page)
    screenshot(page, f"sign-in-errors-{viewport}")

    sign_in(page, email_address, PASSWORD)
    expect_citizen_page(page)


def test_forgotten_password(page: Page, live_server: LiveServer, citizen_email: str) -> None:
    page.goto("/sign-in")
    expect(heading(page)).to_have_text("Sign in")
    assert_accessible(page)
    page.get_by_role("link", name="I have forgotten my password").click()

    expect(heading(page)).to_have_text("Reset your password")
    assert_accessible(page)
    page.get_by_label("Email address").fill(citizen_email)
    page.get_by_role("button", name="Send reset link").click()

    expect(heading(page)).to_have_text("Check your email")
    assert_accessible(page)
    link = live_server.link_in_email(citizen_email, "Reset your password")
    assert link.startswith(f"{live_server.url}/reset-password/")
    page.goto(link)

    expect(heading(page)).to_have_text("Choose a new password")
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save new password").click()
    expect_citizen_page(page, "Your password has been reset")

    sign_out(page)
    sign_in(page, citizen_email, PASSWORD)
    expect_sign_in_refused(page)
    sign_in(page, citizen_email, NEW_PASSWORD)
    expect_citizen_page(page)

    response = page.goto(link)
    assert response is not None
    assert response.status == 400
    expect(heading(page)).to_have_text("This link cannot be used")
    assert_accessible(page)


@pytest.mark.parametrize("viewport", ["desktop"])
def test_sign_up_sign_out_and_sign_in_by_keyboard_alone(
    page: Page, live_server: LiveServer, email_address: str
) -> None:
    page.goto("/")
    assert_accessible(page)
    page.keyboard.press("Tab")
    assert assert_focus_visible(page) == "Skip to main content"
    tab_to(page, "Create an account")
    page.keyboard.press("Enter")

    expect(heading(page)).to_have_text("Create an account")
    assert_accessible(page)
    tab_to(page, "Full name")
    page.keyboard.type(FULL_NAME)
    tab_to(page, "Email address")
    page.keyboard.type(email_address)
    tab_to(page, "Create a password")
    page.keyboard.type(PASSWORD)
    tab_to(page, "Create account")
    page.keyboard.press("Enter")

    expect(heading(page)).to_have_text("Check your email")
    assert_accessible(page)
    page.goto(live_server.link_in_email(email_address, "Confirm your email address"))
    expect(heading(page)).to_have_text("Finish creating your account")
    assert_accessible(page)
    tab_to(page, "Create my account")
    page.keyboard.press("Space")
    expect_citizen_page(page, "Your account has been created")

    # The success banner has taken the focus (GOV.UK Frontend does that): go back up.
    expect(banner(page)).to_be_focused()
    tab_to(page, "Sign out", backwards=True)
    page.keyboard.press("Space")
    expect(heading(page)).to_have_text("Sign in")
    expect(banner(page)).to_contain_text("You have signed out")
    assert_accessible(page)

    tab_to(page, "Email address")
    page.keyboard.type(email_address)
    tab_to(page, "Password")
    page.keyboard.type(WRONG_PASSWORD)
    tab_to(page, "Sign in")
    page.keyboard.press("Enter")
    expect_sign_in_refused(page)
    assert_focus_visible(page)

    # The error links to its field; the address typed before is still there.
    tab_to(page, SIGN_IN_FAILED)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Email address", exact=True)).to_be_focused()
    expect(page.get_by_label("Email address", exact=True)).to_have_value(email_address)
    tab_to(page, "Password")
    page.keyboard.type(PASSWORD)
    tab_to(page, "Sign in")
    tab_to(page, "Password", backwards=True)
    tab_to(page, "Sign in")
    page.keyboard.press("Enter")
    expect_citizen_page(page)


@pytest.mark.parametrize("viewport", ["desktop"])
def test_forgotten_password_by_keyboard_alone(
    page: Page, live_server: LiveServer, citizen_email: str
) -> None:
    page.goto("/sign-in")
    assert_accessible(page)
    tab_to(page, "I have forgotten my password")
    page.keyboard.press("Enter")

    expect(heading(page)).to_have_text("Reset your password")
    assert_accessible(page)
    tab_to(page, "Email address")
    page.keyboard.type(citizen_email)
    tab_to(page, "Send reset link")
    page.keyboard.press("Enter")

    expect(heading(page)).to_have_text("Check your email")
    assert_accessible(page)
    page.goto(live_server.link_in_email(citizen_email, "Reset your password"))
    expect(heading(page)).to_have_text("Choose a new password")
    assert_accessible(page)
    tab_to(page, "New password")
    page.keyboard.type(NEW_PASSWORD)
    tab_to(page, "Confirm new password")
    page.keyboard.type(NEW_PASSWORD)
    tab_to(page, "Save new password")
    page.keyboard.press("Enter")
    expect_citizen_page(page, "Your password has been reset")
