"""The self-assessment (issue 20, JOURNEY) in a real browser, by keyboard only, axe on every
page at 1280 and 320 px: a daughter fills it in for her father from the home page, meets the
error summary once (the first page sent with nothing chosen), answers every question (Tab to
reach a control, Space to tick a box or choose the first option, the arrow keys to move
between options as a radio group takes them, typing into boxes, Enter on "Continue"), checks
her answers, sends them, and reads the result page: the reference and what happens next."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from marketplace.extensions import db
from marketplace.referrals import questions as q
from marketplace.referrals.models import Referral
from tests.browser.accessibility import (
    assert_accessible_at_both_widths,
    assert_focus_visible,
    focused_element,
    tab_to,
)
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading
from tests.referrals.factories import answers, make_ras_version

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths).
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

FOR_DAD = answers(
    who="family",
    who_name="Sam Jones, daughter",
    full_name="Arthur Jones",
    postcode="SG1 1AA",
    contact={"email": "sam.jones@example.org", "phone": "01632 960 001"},
    conditions=["dementia", "physical"],
)


def _heading(question: q.Question, someone_else: bool = True) -> str:
    """The question's heading as the page shows it (the "they" wording for someone else)."""
    return (question.heading_for_someone if someone_else else "") or question.heading


def _tab_to(page: Page, name: str | list[str], limit: int = 60) -> str:
    """`tab_to` (to the control called `name`, or any one of several), letting the focus pass
    out of the page and back in as Tab does in a browser (the width checks can leave it on the
    page's last link); every stop in the page must show its focus. Returns the name reached."""
    names = [name] if isinstance(name, str) else name
    passed: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_element(page) is None:
            passed.append("(outside the page)")
            continue
        reached = assert_focus_visible(page)
        if reached in names:
            return reached
        passed.append(reached)
    raise AssertionError(f"{names!r} not reached after {limit} presses of Tab; passed {passed}")


def _choose_radio(page: Page, question: q.Question, value: str) -> None:
    """Tab into the group (the browser stops on one of its radios), then move with the arrow
    keys, which choose as they move, or Space where the focus already is."""
    labels = [label for _value, label in question.options]
    focused = focused_element(page)
    at = focused["name"] if focused is not None else None
    if at not in labels:
        at = _tab_to(page, labels)
    wanted = labels.index(dict(question.options)[value])
    steps = wanted - labels.index(at)
    if steps == 0:
        page.keyboard.press("Space")
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    assert assert_focus_visible(page) == labels[wanted]
    expect(page.get_by_label(labels[wanted], exact=True)).to_be_checked()


def _answer(page: Page, question: q.Question, value: Any, someone_else: bool = True) -> None:
    if question.kind == "radios":
        _choose_radio(page, question, value)
    elif question.kind == "checkboxes":
        for option, label in question.options:
            if option in value:
                _tab_to(page, label)
                page.keyboard.press("Space")
                expect(page.get_by_label(label, exact=True)).to_be_checked()
    elif question.kind == "contact":
        _tab_to(page, "Email address")
        page.keyboard.type(value["email"])
        _tab_to(page, "Phone number")
        page.keyboard.type(value["phone"])
    else:
        # The label is the page's heading, with the section as its caption (GOV.UK's pattern).
        _tab_to(page, f"{question.section} {_heading(question, someone_else)}")
        page.keyboard.type(value)
    _tab_to(page, "Continue")
    page.keyboard.press("Enter")


def test_someone_fills_in_a_self_assessment_for_a_relative_by_keyboard(
    page: Page, live_server: LiveServer
) -> None:
    with live_server.app.app_context():
        make_ras_version(db.session)
        db.session.commit()

    page.goto("/")
    assert_accessible_at_both_widths(page)
    tab_to(page, "Get help with care and support")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Get help with care and support")
    assert_accessible_at_both_widths(page)
    tab_to(page, "Start now")
    page.keyboard.press("Enter")
    expect(heading(page)).to_contain_text("Who is filling in this form?")
    assert_accessible_at_both_widths(page)

    # Sent with nothing chosen: the error summary, and its link to the first option.
    tab_to(page, "Continue")
    page.keyboard.press("Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select who is filling in this form")
    expect(page).to_have_title(re.compile(r"^Error: Who is filling in this form\? "))
    # GOV.UK Frontend has put the focus on the summary: its link leads to the first option.
    tab_to(page, "Select who is filling in this form")
    page.keyboard.press("Enter")
    expect(page.get_by_label(q.WHO_OPTIONS[0][1])).to_be_focused()
    assert_accessible_at_both_widths(page)

    asked = q.questions_asked(FOR_DAD)
    for index, question in enumerate(asked):
        if index:
            expect(heading(page)).to_contain_text(_heading(question))
            assert_accessible_at_both_widths(page)
        _answer(page, question, FOR_DAD[question.key])

    expect(heading(page)).to_have_text("Check your answers before sending your self-assessment")
    expect(page.get_by_text("Sam Jones, daughter")).to_be_visible()
    expect(page.get_by_text("Dementia or memory problems")).to_be_visible()
    assert_accessible_at_both_widths(page)
    _tab_to(page, "Accept and send")
    page.keyboard.press("Enter")

    expect(page.locator(".govuk-panel")).to_contain_text("Self-assessment sent")
    with live_server.app.app_context():
        reference = db.session.query(Referral).one().reference
    expect(page.locator(".govuk-panel")).to_contain_text(reference)
    expect(page.get_by_role("heading", name="What happens next", level=2)).to_be_visible()
    assert_accessible_at_both_widths(page)
