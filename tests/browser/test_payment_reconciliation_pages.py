"""Council finance's reconciliation pages in a real browser, at desktop and phone widths, with
axe on each: the unresolved mismatches by kind (one for a top-up, one for a charge that is
none of ours), a mismatch's summary, resolving it without a reason (refused) and with one,
and the list of all, with the repair and the resolution shown.

The mismatches are stored directly, as `flask payments reconcile` would store them: the pages
only show what it stored (tests/payments/test_reconcile.py runs it against localstripe)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.payments.mismatches import MismatchKind, PaymentMismatch
from marketplace.payments.models import CardPayment, CardPaymentStatus, CardPurpose
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import banner, heading, sign_in
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

OFFICER_EMAIL = "finance@council.example.org"
FOUND = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _mismatches(live_server: LiveServer) -> None:
    with live_server.app.app_context():
        accounts.create_user(
            email=OFFICER_EMAIL,
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        citizen = accounts.create_user(
            email="dorothy@example.org",
            full_name="Dorothy Pearce",
            password=PASSWORD,
            role=Role.CITIZEN,
        )
        payment = CardPayment(
            person_id=citizen.person_id,
            purpose=CardPurpose.TOP_UP,
            amount_pence=50_00,
            status=CardPaymentStatus.SUCCEEDED,
            stripe_payment_intent_id="pi_browser",
            idempotency_key="card-payment-browser",
            transfer_key="card-payment:browser",
        )
        db.session.add(payment)
        db.session.flush()
        db.session.add_all(
            [
                PaymentMismatch(
                    key="refunded_not_here:browser",
                    kind=MismatchKind.REFUNDED_NOT_HERE,
                    card_payment_id=payment.id,
                    stripe_object_id="ch_browser",
                    stripe_amount_pence=20_00,
                    our_amount_pence=0,
                    detail="Stripe refunded £20 of charge ch_browser; we recorded £0",
                    found_at=FOUND,
                ),
                PaymentMismatch(
                    key="paid_not_in_ledger:ch_loose",
                    kind=MismatchKind.PAID_NOT_IN_LEDGER,
                    stripe_object_id="ch_loose",
                    stripe_amount_pence=12_34,
                    detail="Stripe charged £12.34 (charge ch_loose) outside any PaymentIntent",
                    found_at=FOUND,
                ),
                PaymentMismatch(
                    key="paid_not_in_ledger:repaired",
                    kind=MismatchKind.PAID_NOT_IN_LEDGER,
                    stripe_object_id="pi_repaired",
                    stripe_amount_pence=30_00,
                    our_amount_pence=30_00,
                    detail="Stripe took £30 (PaymentIntent pi_repaired); our payment was still "
                    "awaiting payment",
                    found_at=FOUND,
                    resolved_at=FOUND,
                    repaired=True,
                    resolution="Repaired by reconciliation: credited from Stripe's record",
                ),
            ]
        )
        db.session.commit()


def test_finance_sees_and_resolves_a_mismatch(page: Page, live_server: LiveServer) -> None:
    _mismatches(live_server)
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Card payments: reconciliation with Stripe").click()
    expect(heading(page)).to_have_text("Card payments: reconciliation with Stripe")
    expect(
        page.get_by_role("heading", name="Paid at Stripe but not in the ledger (1)")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Refunded at Stripe but not here (1)")).to_be_visible()
    expect(page.get_by_role("heading", name="Amounts differ (0)")).to_be_visible()
    expect(page.get_by_text("Top-up by Dorothy Pearce")).to_be_visible()
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="refunded at stripe but not here").click()
    expect(heading(page)).to_have_text("Refunded at Stripe but not here")
    expect(page.locator(".govuk-summary-list")).to_contain_text("ch_browser")
    assert_accessible_at_both_widths(page)

    page.get_by_role("button", name="Mark as resolved").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Enter how the mismatch was resolved")
    assert_accessible_at_both_widths(page)

    page.get_by_label("How was it resolved?").fill("Refund recorded by hand after checking Stripe")
    page.get_by_role("button", name="Mark as resolved").click()
    expect(banner(page)).to_contain_text("Mismatch marked as resolved")
    expect(page.get_by_role("heading", name="Refunded at Stripe but not here (0)")).to_be_visible()
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Show all, with resolved ones and repairs").click()
    expect(
        page.get_by_role("heading", name="Paid at Stripe but not in the ledger (2)")
    ).to_be_visible()
    expect(page.locator(".govuk-tag--green")).to_have_text("Repaired")
    expect(page.locator(".govuk-tag--grey")).to_have_text("Resolved")
    expect(page.locator(".govuk-tag--red")).to_have_text("Unresolved")
    assert_accessible_at_both_widths(page)
