"""Every route, requested as every kind of user: the outcome each must get.

The table below must name every endpoint in the app's URL map, so a new route cannot be added
without saying who may reach it. Where ownership matters, there are two users of the role.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from providers.models import Service
from providers.openreferral.identifiers import CARE_TAXONOMY_ID, term_id
from tests.citizens.helpers import budget_of, officers_budget_path
from tests.conftest import sign_in

PAGE, SIGN_IN, FORBIDDEN, NOT_FOUND, BAD_LINK = "page", "sign-in", "403", "404", "bad-link"
BAD_REQUEST, REDIRECT = "400", "redirect"
UNAUTHORIZED, INVALID = "401", "422"
ACTORS = (
    "anonymous",
    "citizen",
    "citizen_b",
    "provider",
    "provider_b",
    "broker",
    "council",
    "admin",
)


@dataclass(frozen=True)
class Route:
    """How to request one endpoint, and what each actor gets back."""

    path: Callable[[World], str] | str
    expect: dict[str, str]
    method: str = "GET"
    follow_up: dict[str, str] = field(default_factory=dict)


def everyone(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ACTORS, outcome)


def only(outcome_for_others: str, **allowed: str) -> dict[str, str]:
    outcomes = dict.fromkeys(ACTORS, outcome_for_others)
    outcomes["anonymous"] = SIGN_IN
    outcomes.update(allowed)
    return outcomes


def api_only(outcome_for_others: str, **allowed: str) -> dict[str, str]:
    """Like `only`, for the integration API: anonymous callers get 401, not a sign-in page."""
    return {**only(outcome_for_others, **allowed), "anonymous": UNAUTHORIZED}


SIGNED_IN = {**everyone(PAGE), "anonymous": SIGN_IN}
# A brokerage keeps its own listing and fulfils orders for it like any provider, so its
# brokers use the provider portal for their own organisation.
PROVIDERS = only(FORBIDDEN, provider=PAGE, provider_b=PAGE, broker=PAGE)


def own_only(outcome: str) -> dict[str, str]:
    """Provider A owns the thing: A gets `outcome`, provider B (and a broker, whose brokerage
    is another organisation) a 404, everyone else a 403."""
    return only(FORBIDDEN, provider=outcome, provider_b=NOT_FOUND, broker=NOT_FOUND)


ROUTES: dict[str, Route] = {
    "public.home": Route("/", everyone(PAGE)),
    "public.accessibility": Route("/accessibility", everyone(PAGE)),
    "public.privacy": Route("/privacy", everyone(PAGE)),
    "public.cookies": Route("/cookies", everyone(PAGE)),
    "public.feedback": Route("/feedback", everyone(PAGE)),
    "public.health": Route("/healthz", everyone(PAGE)),
    "static": Route("/static/css/marketplace.css", everyone(PAGE)),
    "accounts.sign_up": Route("/sign-up", everyone(PAGE)),
    "accounts.check_email_sign_up": Route("/sign-up/check-your-email", everyone(PAGE)),
    "accounts.confirm_sign_up": Route("/sign-up/confirm/not-a-real-token", everyone(PAGE)),
    "accounts.sign_in": Route("/sign-in", everyone(PAGE)),
    "accounts.sign_out": Route("/sign-out", everyone(REDIRECT), method="POST"),
    "accounts.account": Route("/account", SIGNED_IN),
    "accounts.change_password": Route("/account/change-password", SIGNED_IN),
    # Only the user a token acts for finds it: anyone else's token, like an unknown one, is 404.
    "accounts.api_tokens": Route("/account/api-tokens", SIGNED_IN),
    "accounts.confirm_api_token": Route(
        f"/account/api-tokens/{uuid.uuid4()}/confirm", only(NOT_FOUND), method="POST"
    ),
    "accounts.revoke_api_token": Route(
        f"/account/api-tokens/{uuid.uuid4()}/revoke", only(NOT_FOUND), method="POST"
    ),
    # Acting for someone needs a live consent of theirs: without one, nobody learns whether the
    # person exists (tests/brokers/test_acting.py, test_consent_matrix.py).
    "accounts.start_acting_for": Route(
        f"/acting-for/{uuid.uuid4()}", only(NOT_FOUND), method="POST"
    ),
    "accounts.stop_acting_for": Route("/acting-for/stop", only(REDIRECT), method="POST"),
    "accounts.forgotten_password": Route("/forgotten-password", everyone(PAGE)),
    "accounts.check_email_reset": Route("/forgotten-password/check-your-email", everyone(PAGE)),
    "accounts.reset_password": Route(
        lambda world: f"/reset-password/{world.users['citizen'].id}/not-a-real-token",
        everyone(BAD_LINK),
    ),
    "public.search": Route("/search?q=home+care&category=help-at-home", everyone(PAGE)),
    "public.search_suggestions": Route("/search/suggestions?q=home+c", everyone(PAGE)),
    "public.service": Route(lambda world: f"/services/{world.service_a.id}", everyone(PAGE)),
    "public.provider": Route(
        lambda world: f"/providers/{world.service_a.organisation_id}", everyone(PAGE)
    ),
    "provider_portal.register": Route("/provider/register", everyone(PAGE)),
    "provider_portal.check_email_registration": Route(
        "/provider/register/check-your-email", everyone(PAGE)
    ),
    "provider_portal.confirm_registration": Route(
        "/provider/register/confirm/not-a-real-token", everyone(PAGE)
    ),
    "provider_portal.join": Route("/provider/join/not-a-real-token", everyone(BAD_LINK)),
    "provider_portal.edit_organisation": Route("/provider/organisation", PROVIDERS),
    "provider_portal.new_listing": Route("/provider/services/new", PROVIDERS),
    "provider_portal.edit_listing": Route(
        lambda world: f"/provider/services/{world.service_a.id}", own_only(PAGE)
    ),
    "provider_portal.move_listing": Route(
        lambda world: f"/provider/services/{world.service_a.id}/status",
        own_only(BAD_REQUEST),
        method="POST",
    ),
    "provider_portal.capacity": Route(
        lambda world: f"/provider/services/{world.service_a.id}/capacity", own_only(PAGE)
    ),
    "provider_portal.confirm_capacity": Route(
        lambda world: f"/provider/services/{world.service_a.id}/confirm",
        own_only(REDIRECT),
        method="POST",
    ),
    "provider_portal.staff_list": Route("/provider/staff", PROVIDERS),
    "provider_portal.remove_staff": Route(
        lambda world: f"/provider/staff/{world.users['provider_b'].id}/remove",
        only(FORBIDDEN, provider=NOT_FOUND),
        method="POST",
    ),
    "provider_portal.revoke_invitation": Route(
        f"/provider/invitations/{uuid.uuid4()}/revoke",
        only(FORBIDDEN, provider=NOT_FOUND),
        method="POST",
    ),
    "provider_portal.venues": Route("/provider/venues", PROVIDERS),
    "council.providers": Route("/council/providers", only(FORBIDDEN, council=PAGE)),
    "council.cqc_flags": Route("/council/cqc", only(FORBIDDEN, council=PAGE)),
    # INSIGHT (issue 19): the reports index and the market insight reports.
    "council.reports": Route("/council/reports", only(FORBIDDEN, council=PAGE)),
    "council.market_searches": Route(
        "/council/reports/market/searches?period=90", only(FORBIDDEN, council=PAGE)
    ),
    "council.market_demand": Route("/council/reports/market/demand", only(FORBIDDEN, council=PAGE)),
    "council.market_prices": Route("/council/reports/market/prices", only(FORBIDDEN, council=PAGE)),
    "council.market_lapsed": Route("/council/reports/market/lapsed", only(FORBIDDEN, council=PAGE)),
    "council.market_position": Route(
        "/council/reports/market/position", only(FORBIDDEN, council=PAGE)
    ),
    "council.market_csv": Route(
        "/council/reports/market/searches-words.csv?period=30", only(FORBIDDEN, council=PAGE)
    ),
    "council.provider": Route(
        lambda world: f"/council/providers/{world.service_a.organisation_id}",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.add_brokerage": Route("/council/brokerages/new", only(FORBIDDEN, council=PAGE)),
    # A provider (service_a's) never has a first broker invited by the council.
    "council.invite_first_broker": Route(
        lambda world: f"/council/providers/{world.service_a.organisation_id}/invite-broker",
        only(FORBIDDEN, council=NOT_FOUND),
    ),
    "citizens.dashboard": Route("/my/", only(FORBIDDEN, citizen=PAGE, citizen_b=PAGE)),
    # Budgets and support plans: citizen A owns the budget; B gets a 404 for it.
    "citizens.budget": Route("/my/budget", only(FORBIDDEN, citizen=PAGE, citizen_b=PAGE)),
    "citizens.budget_period": Route(
        lambda world: f"/my/budgets/{budget_of(world.users['citizen'].person).id}",
        only(FORBIDDEN, citizen=PAGE, citizen_b=NOT_FOUND),
    ),
    "citizens.statement": Route(
        lambda world: f"/my/budgets/{budget_of(world.users['citizen'].person).id}/statement",
        only(FORBIDDEN, citizen=PAGE, citizen_b=NOT_FOUND),
    ),
    "citizens.statement_csv": Route(
        lambda world: f"/my/budgets/{budget_of(world.users['citizen'].person).id}/statement.csv",
        only(FORBIDDEN, citizen=PAGE, citizen_b=NOT_FOUND),
    ),
    "citizens.support_plan": Route("/my/plan", only(FORBIDDEN, citizen=PAGE, citizen_b=PAGE)),
    "citizens.draft_plan": Route("/my/plan/draft", only(FORBIDDEN, citizen=PAGE, citizen_b=PAGE)),
    # A person's details: each citizen has only their own (no id in the address); officers
    # reach anyone's through the council's pages.
    "citizens.person_details": Route("/my/details", only(FORBIDDEN, citizen=PAGE, citizen_b=PAGE)),
    "citizens.change_details": Route(
        "/my/details/change", only(FORBIDDEN, citizen=PAGE, citizen_b=PAGE)
    ),
    "council.person_details": Route(
        lambda world: f"/council/people/{world.users['citizen'].person_id}/details",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.change_details": Route(
        lambda world: f"/council/people/{world.users['citizen'].person_id}/details/change",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.people": Route("/council/people", only(FORBIDDEN, council=PAGE)),
    "council.audit_search": Route("/council/audit", only(FORBIDDEN, council=PAGE)),
    "council.subject_access_csv": Route(
        lambda world: f"/council/people/{world.users['citizen'].person_id}/subject-access.csv",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.subject_access_json": Route(
        lambda world: f"/council/people/{world.users['citizen'].person_id}/subject-access.json",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.person": Route(
        lambda world: f"/council/people/{world.users['citizen'].person_id}",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.new_budget": Route(
        lambda world: f"/council/people/{world.users['citizen'].person_id}/budgets/new",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.revise_stream": Route(
        lambda world: (
            f"{officers_budget_path(world.users['citizen'].person)}/streams/{budget_of(world.users['citizen'].person).streams[0].id}/revise"
        ),
        only(FORBIDDEN, council=PAGE),
    ),
    "council.close_budget": Route(
        lambda world: f"{officers_budget_path(world.users['citizen'].person)}/close",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.close_preview": Route(
        lambda world: f"{officers_budget_path(world.users['citizen'].person)}/close/preview",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.confirm_close": Route(
        lambda world: f"{officers_budget_path(world.users['citizen'].person)}/close",
        only(FORBIDDEN, council=BAD_REQUEST),
        method="POST",
    ),
    "council.statement": Route(
        lambda world: f"{officers_budget_path(world.users['citizen'].person)}/statement",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.statement_csv": Route(
        lambda world: f"{officers_budget_path(world.users['citizen'].person)}/statement.csv",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.funders": Route("/council/funders", only(FORBIDDEN, council=PAGE)),
    "council.new_funder": Route("/council/funders/new", only(FORBIDDEN, council=PAGE)),
    "council.fund_pot": Route("/council/funders/fund", only(FORBIDDEN, council=PAGE)),
    # LEAD (issue 18): lead providers by area and category.
    "council.lead_providers": Route("/council/lead-providers", only(FORBIDDEN, council=PAGE)),
    "council.name_lead_provider": Route(
        "/council/lead-providers/new", only(FORBIDDEN, council=PAGE)
    ),
    "council.lead_report": Route("/council/lead-providers/report", only(FORBIDDEN, council=PAGE)),
    "council.payment_mismatches": Route("/council/payments", only(FORBIDDEN, council=PAGE)),
    "council.payment_mismatches_csv": Route(
        "/council/payments/mismatches.csv", only(FORBIDDEN, council=PAGE)
    ),
    "council.payment_mismatch": Route(
        f"/council/payments/mismatches/{uuid.uuid4()}", only(FORBIDDEN, council=NOT_FOUND)
    ),
    "council.support_plan": Route(
        lambda world: f"/council/people/{world.users['citizen'].person_id}/plan",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.draft_plan": Route(
        lambda world: f"/council/people/{world.users['citizen'].person_id}/plan/draft",
        only(FORBIDDEN, council=PAGE),
    ),
    "council.approve_plan": Route(
        lambda world: f"/council/people/{world.users['citizen'].person_id}/plan/approve",
        only(FORBIDDEN, council=NOT_FOUND),
        method="POST",
    ),
    "provider_portal.dashboard": Route("/provider/", PROVIDERS),
    "brokers.dashboard": Route("/broker/", only(FORBIDDEN, broker=PAGE)),
    # The caseload (issue 17): a client's pages need a live consent of theirs held by the
    # broker's brokerage; without one the person's existence is not revealed (404).
    "brokers.add_client": Route("/broker/clients/new", only(FORBIDDEN, broker=PAGE)),
    "brokers.ask_for_consent": Route(
        "/broker/clients/ask-for-consent", only(FORBIDDEN, broker=PAGE)
    ),
    "brokers.client_page": Route(
        lambda world: f"/broker/clients/{world.users['citizen'].person_id}",
        only(FORBIDDEN, broker=NOT_FOUND),
    ),
    "brokers.add_note": Route(
        lambda world: f"/broker/clients/{world.users['citizen'].person_id}/notes",
        only(FORBIDDEN, broker=NOT_FOUND),
        method="POST",
    ),
    "brokers.invite_to_claim": Route(
        lambda world: f"/broker/clients/{world.users['citizen'].person_id}/invite",
        only(FORBIDDEN, broker=NOT_FOUND),
    ),
    "accounts.claim_record": Route("/claim-your-record/not-a-real-token", everyone(BAD_LINK)),
    "citizens.notes": Route("/my/notes", only(FORBIDDEN, citizen=PAGE, citizen_b=PAGE)),
    "citizens.record_log": Route("/my/record-log", only(FORBIDDEN, citizen=PAGE, citizen_b=PAGE)),
    "council.dashboard": Route("/council/", only(FORBIDDEN, council=PAGE)),
    "council.plans_to_approve": Route("/council/plans", only(FORBIDDEN, council=PAGE)),
    "admin.users": Route("/admin/users", only(FORBIDDEN, admin=PAGE)),
    "admin.outbox": Route("/admin/outbox", only(FORBIDDEN, admin=PAGE)),
    "admin.api_tokens": Route("/admin/api-tokens", only(FORBIDDEN, admin=PAGE)),
    "admin.new_api_token": Route("/admin/api-tokens/new", only(FORBIDDEN, admin=PAGE)),
    "admin.revoke_api_token": Route(
        f"/admin/api-tokens/{uuid.uuid4()}/revoke",
        only(FORBIDDEN, admin=NOT_FOUND),
        method="POST",
    ),
    "admin.outbox_message": Route(
        f"/admin/outbox/{uuid.uuid4().hex}", only(FORBIDDEN, admin=NOT_FOUND)
    ),
    # The Open Referral UK feed is public: everyone gets the same answer, signed in or not.
    "api.api_details": Route("/api/v1/", everyone(PAGE)),
    "api.openapi_document": Route("/api/v1/openapi.json", everyone(PAGE)),
    "api.services": Route("/api/v1/services", everyone(PAGE)),
    "api.service": Route(lambda world: f"/api/v1/services/{world.service_a.id}", everyone(PAGE)),
    "api.organizations": Route("/api/v1/organizations", everyone(PAGE)),
    "api.organization": Route(
        lambda world: f"/api/v1/organizations/{world.users['provider'].organisation_id}",
        everyone(PAGE),
    ),
    "api.service_at_locations": Route("/api/v1/service_at_locations", everyone(PAGE)),
    "api.service_at_location": Route(
        f"/api/v1/service_at_locations/{uuid.uuid4()}", everyone(NOT_FOUND)
    ),
    "api.taxonomies": Route("/api/v1/taxonomies", everyone(PAGE)),
    "api.taxonomy": Route(f"/api/v1/taxonomies/{CARE_TAXONOMY_ID}", everyone(PAGE)),
    "api.taxonomy_terms": Route("/api/v1/taxonomy_terms", everyone(PAGE)),
    "api.taxonomy_term": Route(
        f"/api/v1/taxonomy_terms/{term_id('personal-care')}", everyone(PAGE)
    ),
    # The integration API: a browser session works as a token of the user's role would
    # (no body: the officer's writes answer 422); no session and no token answers 401.
    "api.create_person": Route(
        "/api/v1/people", api_only(FORBIDDEN, council=INVALID), method="POST"
    ),
    "api.get_person": Route(
        lambda world: f"/api/v1/people/{world.users['citizen'].person_id}",
        api_only(FORBIDDEN, citizen=PAGE, council=PAGE),
    ),
    "api.update_person": Route(
        lambda world: f"/api/v1/people/{world.users['citizen'].person_id}",
        api_only(FORBIDDEN, council=INVALID),
        method="PATCH",
    ),
    "api.create_budget": Route(
        lambda world: f"/api/v1/people/{world.users['citizen'].person_id}/budgets",
        api_only(FORBIDDEN, council=INVALID),
        method="POST",
    ),
    "api.get_budget": Route(
        lambda world: f"/api/v1/people/{budget_of(world.users['citizen'].person).person_id}/budget",
        api_only(FORBIDDEN, citizen=PAGE, council=PAGE),
    ),
    "api.get_statement": Route(
        lambda world: (
            f"/api/v1/people/{budget_of(world.users['citizen'].person).person_id}/statement"
        ),
        api_only(FORBIDDEN, citizen=PAGE, council=PAGE),
    ),
    # Orders: the body names the person, so without one every signed-in user gets 422; an
    # unknown order is 404 for all. Who may see and change a real order (the person, an
    # officer, the order's own provider; 403 for the rest) is in tests/api/test_orders_api.py.
    # Consents (issue 17): anyone signed in lists the consents they hold (none here); the
    # person's own are theirs and officers' to see, and only theirs (or an attorney's) to give.
    "api.held_consents": Route("/api/v1/consents", api_only(PAGE)),
    "api.person_consents": Route(
        lambda world: f"/api/v1/people/{world.users['citizen'].person_id}/consents",
        api_only(FORBIDDEN, citizen=PAGE, council=PAGE),
    ),
    "api.give_consent": Route(
        lambda world: f"/api/v1/people/{world.users['citizen'].person_id}/consents",
        api_only(FORBIDDEN, citizen=INVALID),
        method="POST",
    ),
    "api.get_consent": Route(f"/api/v1/consents/{uuid.uuid4()}", api_only(NOT_FOUND)),
    "api.revoke_consent": Route(
        f"/api/v1/consents/{uuid.uuid4()}/revoke", api_only(NOT_FOUND), method="POST"
    ),
    "api.create_order": Route("/api/v1/orders", api_only(INVALID), method="POST"),
    "api.get_order": Route(f"/api/v1/orders/{uuid.uuid4()}", api_only(NOT_FOUND)),
    **{
        f"api.{endpoint}": Route(
            f"/api/v1/orders/{uuid.uuid4()}/{action}", api_only(NOT_FOUND), method="POST"
        )
        for endpoint, action in (
            ("cancel_order", "cancel"),
            ("accept_order", "accept"),
            ("decline_order", "decline"),
            ("record_order_delivery", "deliveries"),
            ("approve_order", "approve"),
            ("refuse_order", "refuse"),
            ("confirm_order_delivery", f"deliveries/{uuid.uuid4()}/confirm"),
            ("query_order_delivery", f"deliveries/{uuid.uuid4()}/query"),
            ("correct_order_delivery", f"deliveries/{uuid.uuid4()}/correct"),
            ("raise_order_invoice", "cycles/1/invoice"),
        )
    },
    # Settling is the council's: others get 403 before the invoice is looked for.
    "api.settle_order_invoice": Route(
        f"/api/v1/invoices/{uuid.uuid4()}/settle",
        api_only(FORBIDDEN, council=NOT_FOUND),
        method="POST",
    ),
    # Stripe's webhook: no one signs in; without Stripe's signature, everyone gets 400.
    "webhooks.stripe_event": Route("/webhooks/stripe", everyone(BAD_REQUEST), method="POST"),
}


# The provider's and the council's order pages. An unknown order, delivery, period or invoice
# is 404 to those who may use the pages and 403 to everyone else; who may see a real order
# (its own provider only, 404 for another) is in tests/providers/test_orders_pages.py.
ROUTES.update(
    {
        "provider_portal.orders": Route("/provider/orders?tab=to_invoice", PROVIDERS),
        "provider_portal.invoices": Route("/provider/invoices", PROVIDERS),
        # Questions about a provider's services (issue 17): its staff answer their own; any
        # other thread, like an unknown one, is 404 (tests/brokers/test_questions_pages.py).
        "provider_portal.questions_list": Route("/provider/questions", PROVIDERS),
        "provider_portal.question": Route(
            f"/provider/questions/{uuid.uuid4()}",
            only(FORBIDDEN, provider=NOT_FOUND, provider_b=NOT_FOUND, broker=NOT_FOUND),
        ),
        "provider_portal.order": Route(
            f"/provider/orders/{uuid.uuid4()}",
            only(FORBIDDEN, provider=NOT_FOUND, provider_b=NOT_FOUND, broker=NOT_FOUND),
        ),
        **{
            f"provider_portal.{endpoint}": Route(
                f"/provider/orders/{uuid.uuid4()}/{action}",
                only(FORBIDDEN, provider=NOT_FOUND, provider_b=NOT_FOUND, broker=NOT_FOUND),
                method="POST",
            )
            for endpoint, action in (
                ("accept", "accept"),
                ("decline", "decline"),
                ("record_delivery", "deliveries"),
                ("correct_delivery", f"deliveries/{uuid.uuid4()}/correct"),
                ("raise_invoice", f"cycles/{uuid.uuid4()}/invoice"),
            )
        },
        "council.orders": Route(
            "/council/orders?status=placed&placed_from=1&placed_from=6&placed_from=2026",
            only(FORBIDDEN, council=PAGE),
        ),
        "council.order": Route(
            f"/council/orders/{uuid.uuid4()}", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.approve_order": Route(
            f"/council/orders/{uuid.uuid4()}/approve",
            only(FORBIDDEN, council=NOT_FOUND),
            method="POST",
        ),
        "council.refuse_order": Route(
            f"/council/orders/{uuid.uuid4()}/refuse",
            only(FORBIDDEN, council=NOT_FOUND),
            method="POST",
        ),
        "council.invoices": Route("/council/invoices", only(FORBIDDEN, council=PAGE)),
        "council.settle_invoice": Route(
            f"/council/invoices/{uuid.uuid4()}/settle",
            only(FORBIDDEN, council=NOT_FOUND),
            method="POST",
        ),
    }
)


# The citizen's ordering pages and everyone's notifications. An unknown order or delivery is
# 404 to citizens and 403 to everyone else; another citizen's real order is 404 too (in
# tests/citizens/test_orders_pages.py).
CITIZENS = only(FORBIDDEN, citizen=PAGE, citizen_b=PAGE)
ROUTES.update(
    {
        "citizens.order_service": Route(
            lambda world: f"/my/services/{world.service_a.id}/order", CITIZENS
        ),
        "citizens.basket": Route("/my/basket", CITIZENS),
        "citizens.remove_from_basket": Route(
            f"/my/basket/{uuid.uuid4()}/remove",
            only(FORBIDDEN, citizen=REDIRECT, citizen_b=REDIRECT),
            method="POST",
        ),
        "citizens.checkout_page": Route("/my/checkout", CITIZENS),
        "citizens.orders": Route("/my/orders", CITIZENS),
        "citizens.order_page": Route(
            f"/my/orders/{uuid.uuid4()}", only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND)
        ),
        "citizens.cancel_order": Route(
            f"/my/orders/{uuid.uuid4()}/cancel",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "citizens.confirm_delivery": Route(
            f"/my/orders/{uuid.uuid4()}/deliveries/{uuid.uuid4()}/confirm",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
            method="POST",
        ),
        "citizens.query_delivery": Route(
            f"/my/orders/{uuid.uuid4()}/deliveries/{uuid.uuid4()}/query",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "citizens.pay_for_order": Route(
            f"/my/orders/{uuid.uuid4()}/pay",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "citizens.pay_with_card": Route(
            f"/my/orders/{uuid.uuid4()}/pay/card",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
            method="POST",
        ),
        "citizens.payment_return": Route(
            f"/my/orders/{uuid.uuid4()}/payments/{uuid.uuid4()}",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "citizens.save_card": Route(
            f"/my/orders/{uuid.uuid4()}/card",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "citizens.card_return": Route(
            f"/my/orders/{uuid.uuid4()}/card/{uuid.uuid4()}",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "citizens.stop_paying_by_card": Route(
            f"/my/orders/{uuid.uuid4()}/card/stop",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
            method="POST",
        ),
        "citizens.pay_cycle_now": Route(
            f"/my/orders/{uuid.uuid4()}/cycles/{uuid.uuid4()}/pay",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
            method="POST",
        ),
        # The citizen's budget is the council's, which takes no card here (CARD_TOP_UPS_ALLOWED
        # off): refused plainly; citizen_b has no budget, so pays their own way and may.
        "citizens.top_up": Route("/my/top-up", only(FORBIDDEN, citizen=FORBIDDEN, citizen_b=PAGE)),
        "citizens.pay_top_up": Route(
            f"/my/top-up/{uuid.uuid4()}/pay",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "citizens.pay_top_up_with_card": Route(
            f"/my/top-up/{uuid.uuid4()}/pay/card",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
            method="POST",
        ),
        "citizens.top_up_return": Route(
            f"/my/top-up/{uuid.uuid4()}",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        # Shortlists (issue 17): a visitor's in the session, a citizen's in their account (a
        # broker or a family member reaches the citizen's pages only while acting: see
        # tests/brokers). A POST without a service is a bad request to whoever may shortlist.
        "public.shortlist": Route(
            "/shortlist",
            {
                **everyone(FORBIDDEN),
                "anonymous": PAGE,
                **dict.fromkeys(("citizen", "citizen_b"), REDIRECT),
            },
        ),
        "public.add_to_shortlist": Route(
            "/shortlist/add",
            {
                **everyone(FORBIDDEN),
                **dict.fromkeys(("anonymous", "citizen", "citizen_b"), BAD_REQUEST),
            },
            method="POST",
        ),
        "public.remove_from_shortlist": Route(
            "/shortlist/remove", {**everyone(FORBIDDEN), "anonymous": BAD_REQUEST}, method="POST"
        ),
        "citizens.shortlist": Route("/my/shortlist", CITIZENS),
        "citizens.approve_shortlist": Route(
            "/my/shortlist/approve",
            only(FORBIDDEN, citizen=BAD_REQUEST, citizen_b=BAD_REQUEST),
            method="POST",
        ),
        "citizens.share_shortlist": Route(
            "/my/shortlist/share",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
            method="POST",
        ),
        "citizens.remove_shortlist_item": Route(
            f"/my/shortlist/{uuid.uuid4()}/remove",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
            method="POST",
        ),
        "citizens.shortlist_note": Route(
            f"/my/shortlist/{uuid.uuid4()}/note",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        # Questions to a provider (issue 17): the person's own threads only; asking about a
        # listed service (a broker or family member only while acting: tests/brokers).
        "citizens.questions_list": Route("/my/questions", CITIZENS),
        "citizens.question": Route(
            f"/my/questions/{uuid.uuid4()}",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "citizens.ask_question": Route(
            lambda world: f"/my/questions/ask/{world.service_a.id}", CITIZENS
        ),
        "notifications.inbox": Route("/notifications", SIGNED_IN),
        "notifications.mark_all_read": Route(
            "/notifications/read", {**everyone(REDIRECT), "anonymous": SIGN_IN}, method="POST"
        ),
    }
)


# Consents (issue 17): the person's (a broker or family member reaches them only while acting:
# tests/brokers/test_consent_matrix.py), and the council's person pages.
ROUTES.update(
    {
        "citizens.consents_page": Route("/my/consents", CITIZENS),
        "citizens.give_consent": Route("/my/consents/new", CITIZENS),
        "citizens.withdraw_consent": Route(
            f"/my/consents/{uuid.uuid4()}/withdraw",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "council.person_consents": Route(
            lambda world: f"/council/people/{world.users['citizen'].person_id}/consents",
            only(FORBIDDEN, council=PAGE),
        ),
        "council.record_attorney": Route(
            lambda world: f"/council/people/{world.users['citizen'].person_id}/consents/attorney",
            only(FORBIDDEN, council=PAGE),
        ),
    }
)


def test_every_route_is_in_the_table(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - ROUTES.keys() == set(), "add these routes to the access matrix"
    assert ROUTES.keys() - endpoints == set(), "these routes no longer exist"


# OUTCOMES (issue 18): outcome-based orders. Buying for outcomes needs a service sold by the
# week (world's listing is by the hour: 404 to citizens); an unknown order is 404 to those who
# may use the pages and 403 to everyone else (tests/packages/test_outcomes_pages.py has the
# real ones).
ROUTES.update(
    {
        "citizens.order_for_outcomes": Route(
            lambda world: f"/my/services/{world.service_a.id}/outcomes",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "citizens.confirm_outcomes": Route(
            f"/my/orders/{uuid.uuid4()}/outcomes/2026-06-08/confirm",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
            method="POST",
        ),
        "citizens.query_outcome": Route(
            f"/my/orders/{uuid.uuid4()}/outcomes/{uuid.uuid4()}/query",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "provider_portal.record_outcomes": Route(
            f"/provider/orders/{uuid.uuid4()}/outcomes/2026-06-08",
            only(FORBIDDEN, provider=NOT_FOUND, provider_b=NOT_FOUND, broker=NOT_FOUND),
        ),
        "council.outcome_safety": Route(
            f"/council/orders/{uuid.uuid4()}/safety", only(FORBIDDEN, council=NOT_FOUND)
        ),
    }
)


# VARIATIONS (issue 18): changes to a package, under its order's pages; an unknown order is
# 404 to those who may use the pages and 403 to everyone else (the real ones:
# tests/packages/test_variations_pages.py). The council's queue is for officers.
_CHANGE = f"changes/{uuid.uuid4()}"
_CITIZENS_404 = only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND)
_PROVIDERS_404 = only(FORBIDDEN, provider=NOT_FOUND, provider_b=NOT_FOUND, broker=NOT_FOUND)
ROUTES.update(
    {
        **{
            f"{audience}.{endpoint}": Route(
                f"{prefix}/orders/{uuid.uuid4()}/{action}", expect, method=method
            )
            for audience, prefix, expect in (
                ("citizens", "/my", _CITIZENS_404),
                ("provider_portal", "/provider", _PROVIDERS_404),
            )
            for endpoint, action, method in (
                ("propose_variation", "changes/new/hours", "GET"),
                ("variation_page", _CHANGE, "GET"),
                ("accept_variation", f"{_CHANGE}/accept", "POST"),
                ("decline_variation", f"{_CHANGE}/decline", "GET"),
                ("withdraw_variation", f"{_CHANGE}/withdraw", "POST"),
            )
        },
        "council.variations_queue": Route("/council/variations", only(FORBIDDEN, council=PAGE)),
        "council.variation": Route(
            f"/council/variations/{uuid.uuid4()}", only(FORBIDDEN, council=NOT_FOUND)
        ),
    }
)


# QUEUES (issue 19): the council's work queues (officers only; a queue name not in the
# registry is 404, an unknown item 404); reporting a listing is for anyone.
ROUTES.update(
    {
        "council.queues_overview": Route("/council/queues", only(FORBIDDEN, council=PAGE)),
        "council.work_queue": Route("/council/queues/providers", only(FORBIDDEN, council=PAGE)),
        "council.work_queue_csv": Route(
            "/council/queues/listing_reports/waiting.csv", only(FORBIDDEN, council=PAGE)
        ),
        "council.work_queue_decided_csv": Route(
            "/council/queues/reviews_due/decided.csv", only(FORBIDDEN, council=PAGE)
        ),
        "council.listing_report": Route(
            f"/council/listing-reports/{uuid.uuid4()}", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.plan_review_due": Route(
            f"/council/plan-reviews/{uuid.uuid4()}", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "public.report_listing": Route(
            lambda world: f"/services/{world.service_a.id}/report", everyone(PAGE)
        ),
        "public.listing_reported": Route(
            lambda world: f"/services/{world.service_a.id}/report/sent", everyone(PAGE)
        ),
    }
)


@dataclass(frozen=True)
class World:
    """Two users of each role where ownership matters, and a listing provider A owns."""

    users: dict[str, User]
    service_a: Service


@pytest.fixture
def world(
    app: Flask, make_user: Callable[..., User], make_listing: Callable[..., Service]
) -> World:
    users = {
        "citizen": make_user(Role.CITIZEN),
        "citizen_b": make_user(Role.CITIZEN),
        "provider": make_user(Role.PROVIDER_STAFF),
        "provider_b": make_user(Role.PROVIDER_STAFF),
        "broker": make_user(Role.BROKER),
        "council": make_user(Role.COUNCIL_OFFICER),
        "admin": make_user(Role.ADMIN),
    }
    users["provider"].is_organisation_owner = True
    db.session.commit()
    return World(users=users, service_a=make_listing(users["provider"].organisation))


def outcome_of(client: FlaskClient, route: Route, world: World) -> str:
    path = route.path(world) if callable(route.path) else route.path
    response = client.open(path, method=route.method)
    response.close()
    status = response.status_code
    if status == 302 and response.location.startswith("/sign-in?next="):
        return SIGN_IN
    if status == 302:
        return REDIRECT
    if status == 400 and "This link cannot be used" in response.get_data(as_text=True):
        return BAD_LINK
    return {
        200: PAGE,
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        422: INVALID,
    }.get(status, f"HTTP {status}")


# REABLEMENT (issue 18): officers start reablement for a person, see an episode, record its
# outcome and read the report; an unknown episode is 404 to them (tests/packages/
# test_reablement_pages.py has real ones).
ROUTES.update(
    {
        "council.start_reablement": Route(
            lambda world: f"/council/people/{world.users['citizen'].person_id}/reablement/new",
            only(FORBIDDEN, council=PAGE),
        ),
        "council.person_reablement": Route(
            lambda world: f"/council/people/{world.users['citizen'].person_id}/reablement",
            only(FORBIDDEN, council=PAGE),
        ),
        "council.reablement_report": Route("/council/reablement", only(FORBIDDEN, council=PAGE)),
        "council.reablement_episode": Route(
            "/council/reablement/REA-NONE", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.record_reablement_outcome": Route(
            "/council/reablement/REA-NONE/outcome", only(FORBIDDEN, council=NOT_FOUND)
        ),
    }
)


# CLOSE (issue 19): officers close many budgets' periods; the preview without its choices is
# the error summary (400), a confirmation without its preview a bad request, an unknown run 404
# (tests/console/test_period_end.py has real ones).
ROUTES.update(
    {
        "council.period_end_start": Route("/council/period-end", only(FORBIDDEN, council=PAGE)),
        "council.period_end_preview": Route(
            "/council/period-end/preview", only(FORBIDDEN, council=BAD_REQUEST)
        ),
        "council.period_end_preview_csv": Route(
            "/council/period-end/preview.csv", only(FORBIDDEN, council=BAD_REQUEST)
        ),
        "council.period_end_confirm": Route(
            "/council/period-end", only(FORBIDDEN, council=BAD_REQUEST), method="POST"
        ),
        "council.period_end_run": Route(
            "/council/period-end/runs/PE-NONE", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.period_end_run_csv": Route(
            "/council/period-end/runs/PE-NONE.csv", only(FORBIDDEN, council=NOT_FOUND)
        ),
        # FIGURES: the council's figures; their CSV names its table (none: a bad request).
        "council.council_figures": Route("/council/figures", only(FORBIDDEN, council=PAGE)),
        "council.council_figures_csv": Route(
            "/council/figures.csv", only(FORBIDDEN, council=BAD_REQUEST)
        ),
    }
)


# FINEXPORT (issue 19): exports to the finance system are for officers: the list, the preview,
# making one (without the previewed range: a bad request), an unknown export and its file 404
# (tests/finance/test_export_pages.py has real ones).
ROUTES.update(
    {
        "council.finance_exports": Route("/council/finance-exports", only(FORBIDDEN, council=PAGE)),
        # A funder's default cost centre (an unknown funder 404 to officers).
        "council.funder_cost_centre": Route(
            f"/council/funders/{uuid.UUID(int=0)}/cost-centre", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.finance_export_preview": Route(
            "/council/finance-exports/new", only(FORBIDDEN, council=PAGE)
        ),
        "council.make_finance_export": Route(
            "/council/finance-exports", only(FORBIDDEN, council=BAD_REQUEST), method="POST"
        ),
        "council.finance_export": Route(
            "/council/finance-exports/FX-NONE", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.download_finance_export": Route(
            "/council/finance-exports/FX-NONE.csv", only(FORBIDDEN, council=NOT_FOUND)
        ),
    }
)


@pytest.mark.parametrize("actor", ACTORS)
def test_each_actor_gets_the_expected_outcome_on_every_route(
    app: Flask, world: World, actor: str
) -> None:
    mismatches = []
    client = app.test_client()
    if actor != "anonymous":
        sign_in(client, world.users[actor])
    # Signing out ends the session the other requests use, so it goes last.
    in_order = sorted(ROUTES.items(), key=lambda item: item[0] == "accounts.sign_out")
    for endpoint, route in in_order:
        got = outcome_of(client, route, world)
        if got != route.expect[actor]:
            mismatches.append(f"{endpoint}: expected {route.expect[actor]}, got {got}")
    assert mismatches == []


# ISF (issue 18): Individual Service Funds. A person's own funds (an unknown one, like anyone
# else's, is 404); a provider's staff answer and record spending on funds asked of their own
# organisation (an unknown one 404); officers see every fund (tests/packages/test_isf_pages.py
# has the real ones). Asking needs an open budget: the citizen here has one, citizen_b none.
_FUND = uuid.uuid4()
_OWN_FUND_404 = only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND)
_ORGANISATION_FUND_404 = only(FORBIDDEN, provider=NOT_FOUND, provider_b=NOT_FOUND, broker=NOT_FOUND)
ROUTES.update(
    {
        "citizens.isf_list": Route("/my/isf", CITIZENS),
        "citizens.isf_request": Route(
            "/my/isf/new", only(FORBIDDEN, citizen=PAGE, citizen_b=FORBIDDEN)
        ),
        "citizens.isf_fund": Route(f"/my/isf/{_FUND}", _OWN_FUND_404),
        "provider_portal.isf_list": Route("/provider/isf", PROVIDERS),
        "provider_portal.isf_fund": Route(f"/provider/isf/{_FUND}", _ORGANISATION_FUND_404),
        "provider_portal.isf_decide": Route(
            f"/provider/isf/{_FUND}/decide", _ORGANISATION_FUND_404, method="POST"
        ),
        "provider_portal.isf_spend": Route(
            f"/provider/isf/{_FUND}/spend", _ORGANISATION_FUND_404, method="POST"
        ),
        "council.isf_list": Route("/council/isf", only(FORBIDDEN, council=PAGE)),
        "council.isf_fund": Route(f"/council/isf/{_FUND}", only(FORBIDDEN, council=NOT_FOUND)),
    }
)


# REVIEWS (issue 19): rating a completed order's service (an unknown order is 404 to those who
# may use the citizens' pages); the council's moderation queue and a review in it; the
# provider's published reviews and its reply to one (only its own services' published ones:
# an unknown one is 404). tests/console/test_reviews.py has the real ones.
ROUTES.update(
    {
        "citizens.review_order": Route(
            f"/my/orders/{uuid.uuid4()}/review",
            only(FORBIDDEN, citizen=NOT_FOUND, citizen_b=NOT_FOUND),
        ),
        "council.reviews_queue": Route("/council/reviews", only(FORBIDDEN, council=PAGE)),
        "council.moderate_review": Route(
            f"/council/reviews/{uuid.uuid4()}", only(FORBIDDEN, council=NOT_FOUND)
        ),
        # PERF (issue 19): providers' performance and its CSVs, for officers only.
        "council.provider_performance": Route(
            "/council/reports/performance", only(FORBIDDEN, council=PAGE)
        ),
        "council.provider_performance_csv": Route(
            "/council/reports/performance/area.csv", only(FORBIDDEN, council=PAGE)
        ),
        "provider_portal.reviews_list": Route("/provider/reviews", PROVIDERS),
        "provider_portal.review": Route(
            f"/provider/reviews/{uuid.uuid4()}",
            only(FORBIDDEN, provider=NOT_FOUND, provider_b=NOT_FOUND, broker=NOT_FOUND),
        ),
    }
)


# PAYRUNS (issue 19): paying providers is for officers: the runs, the start and its preview
# (without a date: the error summary), making a run (without its preview: a bad request), an
# unknown run and its files 404. A provider's remittances are its own: the list for its staff,
# an unknown (or another's) remittance 404. tests/finance/test_payment_run_pages.py has real ones.
ROUTES.update(
    {
        "council.payment_runs_list": Route("/council/payment-runs", only(FORBIDDEN, council=PAGE)),
        "council.payment_run_new": Route(
            "/council/payment-runs/new", only(FORBIDDEN, council=PAGE)
        ),
        "council.payment_run_preview": Route(
            "/council/payment-runs/preview", only(FORBIDDEN, council=BAD_REQUEST)
        ),
        "council.payment_run_preview_csv": Route(
            "/council/payment-runs/preview.csv", only(FORBIDDEN, council=BAD_REQUEST)
        ),
        "council.payment_run_make": Route(
            "/council/payment-runs", only(FORBIDDEN, council=BAD_REQUEST), method="POST"
        ),
        "council.payment_run": Route(
            "/council/payment-runs/PR-NONE", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.payment_run_file": Route(
            "/council/payment-runs/PR-NONE/payment-file.csv", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.payment_run_advice": Route(
            "/council/payment-runs/PR-NONE/remittance-advice.csv",
            only(FORBIDDEN, council=NOT_FOUND),
        ),
        "council.payment_run_remittance": Route(
            "/council/payment-runs/PR-NONE/remittances/PR-NONE-001",
            only(FORBIDDEN, council=NOT_FOUND),
        ),
        "council.payment_run_sent": Route(
            "/council/payment-runs/PR-NONE/sent", only(FORBIDDEN, council=NOT_FOUND), method="POST"
        ),
        "council.payment_run_cancel": Route(
            "/council/payment-runs/PR-NONE/cancel",
            only(FORBIDDEN, council=NOT_FOUND),
            method="POST",
        ),
        "provider_portal.remittances": Route("/provider/remittances", PROVIDERS),
        "provider_portal.remittance": Route("/provider/remittances/PR-NONE-001", _PROVIDERS_404),
        "provider_portal.remittance_csv": Route(
            "/provider/remittances/PR-NONE-001.csv", _PROVIDERS_404
        ),
    }
)


# RECON (issue 19): the reconciliation, officers only (its CSVs too). A CSV without its table, or
# a drill-down naming nothing, is a bad request or 404; an unknown person 404
# (tests/console/test_reconciliation_pages.py has real ones).
_NOBODY = uuid.uuid4()
ROUTES.update(
    {
        "council.reconciliation": Route("/council/reconciliation", only(FORBIDDEN, council=PAGE)),
        "council.reconciliation_csv": Route(
            "/council/reconciliation.csv", only(FORBIDDEN, council=BAD_REQUEST)
        ),
        "council.reconciliation_funder": Route(
            "/council/reconciliation/funders/own", only(FORBIDDEN, council=PAGE)
        ),
        "council.reconciliation_funder_csv": Route(
            "/council/reconciliation/funders/own.csv", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.reconciliation_people": Route(
            "/council/reconciliation/people", only(FORBIDDEN, council=PAGE)
        ),
        "council.reconciliation_people_csv": Route(
            "/council/reconciliation/people.csv", only(FORBIDDEN, council=PAGE)
        ),
        "council.reconciliation_person": Route(
            f"/council/reconciliation/people/{_NOBODY}", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.reconciliation_person_csv": Route(
            f"/council/reconciliation/people/{_NOBODY}.csv", only(FORBIDDEN, council=NOT_FOUND)
        ),
        "council.reconciliation_localities": Route(
            "/council/reconciliation/areas", only(FORBIDDEN, council=PAGE)
        ),
        "council.reconciliation_localities_csv": Route(
            "/council/reconciliation/areas.csv", only(FORBIDDEN, council=PAGE)
        ),
        "council.reconciliation_providers": Route(
            "/council/reconciliation/providers", only(FORBIDDEN, council=PAGE)
        ),
        "council.reconciliation_providers_csv": Route(
            "/council/reconciliation/providers.csv", only(FORBIDDEN, council=PAGE)
        ),
        "council.reconciliation_transfers": Route(
            "/council/reconciliation/transfers?figure=spent_pence", only(FORBIDDEN, council=PAGE)
        ),
        "council.reconciliation_transfers_csv": Route(
            "/council/reconciliation/transfers.csv?figure=spent_pence",
            only(FORBIDDEN, council=PAGE),
        ),
        "council.reconciliation_pot_transfers": Route(
            "/council/reconciliation/pot-transfers?figure=given_pence",
            only(FORBIDDEN, council=NOT_FOUND),
        ),
        "council.reconciliation_pot_transfers_csv": Route(
            "/council/reconciliation/pot-transfers.csv?figure=given_pence",
            only(FORBIDDEN, council=NOT_FOUND),
        ),
        "council.reconciliation_checks": Route(
            "/council/reconciliation/checks", only(FORBIDDEN, council=PAGE)
        ),
        "council.reconciliation_checks_csv": Route(
            "/council/reconciliation/checks.csv", only(FORBIDDEN, council=BAD_REQUEST)
        ),
        # A pot's named lines (an unknown pot is 404; tests/council/test_pot_lines.py).
        "council.pot_lines_page": Route(
            f"/council/funders/pots/{_NOBODY}/lines", only(FORBIDDEN, council=NOT_FOUND)
        ),
    }
)


# The front door (issue 20). The public pages are everyone's; a self-assessment's pages are
# the browser's that holds it (or the account it is about), so an unknown one is 404 to
# everyone, signed in or not, never 403: an id proves nothing. The council's pages are
# officers' (an unknown referral, version, assessor or visit is 404 to them).
# tests/front_door and tests/council/test_referral_pages.py, test_ras_pages.py and
# test_diary_pages.py have real ones.
_SOME_ASSESSMENT = f"/self-assessment/{uuid.uuid4()}"
_SOME_REFERRAL = f"/council/referrals/{uuid.uuid4()}"
_SOME_ASSESSOR = f"/council/assessors/{uuid.uuid4()}"
_SOME_VISIT = f"/council/visits/{uuid.uuid4()}"
ROUTES.update(
    {
        "front_door.start_page": Route("/self-assessment", everyone(PAGE)),
        "front_door.paying_for_care": Route("/self-assessment/paying-for-care", everyone(PAGE)),
        # The world has no resource allocation system configured: starting is unavailable to
        # everyone alike, said on a page (tests/front_door has the start that works).
        "front_door.begin": Route("/self-assessment/start", everyone("HTTP 503"), method="POST"),
        "front_door.resume": Route("/self-assessment/resume/not-a-link", everyone(NOT_FOUND)),
        **{
            endpoint: Route(f"{_SOME_ASSESSMENT}{path}", everyone(NOT_FOUND), method=method)
            for endpoint, path, method in (
                ("front_door.question", "/question/urgency", "GET"),
                ("front_door.check_answers", "/check", "GET"),
                ("front_door.save_for_later", "/save", "GET"),
                ("front_door.saved", "/saved", "GET"),
                ("front_door.result", "/result", "GET"),
                ("front_door.status", "/status", "GET"),
                ("front_door.visit", "/visit", "GET"),
                ("front_door.book_own_visit", "/visit/book", "POST"),
                ("front_door.answer_offer", "/visit/offer", "POST"),
                ("front_door.move_own_visit", "/visit/move", "GET"),
                ("front_door.cancel_own_visit", "/visit/cancel", "GET"),
            )
        },
        "council.referrals": Route("/council/referrals", only(FORBIDDEN, council=PAGE)),
        "council.ras_versions": Route("/council/ras", only(FORBIDDEN, council=PAGE)),
        "council.ras_version": Route("/council/ras/999", only(FORBIDDEN, council=NOT_FOUND)),
        "council.new_ras_version": Route("/council/ras/new", only(FORBIDDEN, council=PAGE)),
        "council.assessors": Route("/council/assessors", only(FORBIDDEN, council=PAGE)),
        "council.add_assessor": Route("/council/assessors/new", only(FORBIDDEN, council=PAGE)),
        **{
            endpoint: Route(path, only(FORBIDDEN, council=NOT_FOUND), method=method)
            for endpoint, path, method in (
                ("council.referral", _SOME_REFERRAL, "GET"),
                ("council.referral_action", f"{_SOME_REFERRAL}/contact", "GET"),
                ("council.convert_referral", f"{_SOME_REFERRAL}/convert", "GET"),
                ("council.invite_to_claim_referral", f"{_SOME_REFERRAL}/invite", "POST"),
                ("council.book_visit", f"{_SOME_REFERRAL}/visit", "GET"),
                ("council.assessor_diary", _SOME_ASSESSOR, "GET"),
                ("council.edit_assessor", f"{_SOME_ASSESSOR}/edit", "GET"),
                ("council.add_slots", f"{_SOME_ASSESSOR}/slots", "GET"),
                ("council.record_absence", f"{_SOME_ASSESSOR}/absence", "GET"),
                ("council.visit", _SOME_VISIT, "GET"),
                ("council.move_visit", f"{_SOME_VISIT}/move", "GET"),
                ("council.cancel_visit", f"{_SOME_VISIT}/cancel", "GET"),
                ("council.record_visit_outcome", f"{_SOME_VISIT}/outcome", "GET"),
            )
        },
    }
)
