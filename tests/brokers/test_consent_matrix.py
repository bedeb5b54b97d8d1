"""The access matrix for someone acting for a person (issue 17): every citizens-page route,
requested by a broker acting under a consent of each single scope, by a broker of another
brokerage, and by brokers whose consent was withdrawn, has ended, or has not yet begun.

What each must get comes from the policy: a broker acting under a consent gets what the
person themself gets (tests/test_access_matrix.py's "citizen") where the policy lets them do
the route's action, and the 403 page saying their consent does not cover it where it does not.
A broker who may not act for the person gets the 403 anyone gets for the citizens' pages; one
whose consent ended while they were acting is sent back to their workspace on the very next
request, whatever the page. A citizens-page route missing from `NEEDS` fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people.models import Person
from marketplace.types import utcnow
from providers.models import Service
from tests.brokers.acting_helpers import ALL_SCOPES, consent, start_acting
from tests.conftest import sign_in
from tests.test_access_matrix import FORBIDDEN, NOT_FOUND, REDIRECT, ROUTES, World, outcome_of


@dataclass(frozen=True)
class Needs:
    """What a citizens-page route asks of the user about the person in hand: any one of
    `actions` (policy actions on the person). `found_first`: the route answers 404 before it
    asks about the person (it finds the thing its URL names, an order, first, or it is there
    only against localstripe), so the unknown id the table requests is not found for anyone
    who may use the citizens' pages."""

    actions: tuple[str, ...]
    found_first: bool = False


def needs(*actions: str, found_first: bool = False) -> Needs:
    return Needs(actions, found_first)


SEE_BUDGET = needs("view_budget")
ORDERING = needs("place_order_for")
AN_ORDER = needs("view_order", found_first=True)

NEEDS: dict[str, Needs] = {
    "citizens.dashboard": needs("view_person"),
    "citizens.person_details": needs("view_person"),
    "citizens.change_details": needs("change_person_details"),
    "citizens.budget": SEE_BUDGET,
    "citizens.budget_period": SEE_BUDGET,
    "citizens.statement": SEE_BUDGET,
    "citizens.statement_csv": SEE_BUDGET,
    "citizens.support_plan": needs("view_support_plan"),
    "citizens.draft_plan": needs("draft_support_plan"),
    "citizens.order_service": ORDERING,
    "citizens.basket": ORDERING,
    "citizens.remove_from_basket": ORDERING,
    "citizens.checkout_page": ORDERING,
    "citizens.orders": SEE_BUDGET,
    "citizens.order_page": AN_ORDER,
    "citizens.cancel_order": AN_ORDER,
    "citizens.confirm_delivery": AN_ORDER,
    "citizens.query_delivery": AN_ORDER,
    "citizens.review_order": AN_ORDER,  # REVIEWS (issue 19): then review_order ("order")
    "citizens.pay_for_order": AN_ORDER,
    "citizens.pay_with_card": AN_ORDER,
    "citizens.payment_return": AN_ORDER,
    "citizens.save_card": AN_ORDER,
    "citizens.card_return": AN_ORDER,
    "citizens.stop_paying_by_card": AN_ORDER,
    "citizens.pay_cycle_now": AN_ORDER,
    "citizens.top_up": SEE_BUDGET,
    "citizens.pay_top_up": needs("pay_by_card_for"),
    # Only against localstripe (STRIPE_API_BASE): not found for anyone here.
    "citizens.pay_top_up_with_card": needs("pay_by_card_for", found_first=True),
    "citizens.top_up_return": needs("pay_by_card_for"),
    # Shortlists: the person's list is seen by whoever may shortlist for them or approve it.
    "citizens.shortlist": needs("shortlist_for", "approve_shortlist"),
    "citizens.approve_shortlist": needs("approve_shortlist"),
    "citizens.share_shortlist": needs("shortlist_for"),
    "citizens.remove_shortlist_item": needs("shortlist_for"),
    "citizens.shortlist_note": needs("shortlist_for"),
    # Questions to providers: asked for the person under a consent to talk to providers.
    "citizens.questions_list": needs("ask_provider_for"),
    "citizens.question": needs("ask_provider_for"),
    "citizens.ask_question": needs("ask_provider_for"),
    # Consents and notes are the person's (or their attorney's) alone.
    "citizens.consents_page": needs("view_consents"),
    "citizens.give_consent": needs("manage_consents"),
    "citizens.withdraw_consent": needs("manage_consents"),
    "citizens.notes": needs("read_client_notes"),
    # The audit log's entries about the person: theirs (and their attorney's) to read.
    "citizens.record_log": needs("view_audit_log_of"),
    # Ongoing care (issue 18). Changes to a package and a week's outcomes are an order's pages:
    # the order is found first. Buying for outcomes is ordering.
    "citizens.propose_variation": AN_ORDER,
    "citizens.variation_page": AN_ORDER,
    "citizens.accept_variation": AN_ORDER,
    "citizens.decline_variation": AN_ORDER,
    "citizens.withdraw_variation": AN_ORDER,
    "citizens.order_for_outcomes": ORDERING,
    "citizens.confirm_outcomes": AN_ORDER,
    "citizens.query_outcome": AN_ORDER,
    # Individual Service Funds: seen with the budget; asking for one is its own action.
    "citizens.isf_list": SEE_BUDGET,
    "citizens.isf_fund": SEE_BUDGET,
    "citizens.isf_request": needs("request_isf_for"),
}


def all_citizens_routes(app: Flask) -> list[str]:
    return sorted(
        {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("citizens.")
        }
    )


def citizens_routes(app: Flask) -> list[str]:
    """The citizens routes the tables say how to request (and what they need): one missing
    from either fails `test_every_citizens_route_is_in_the_table`, not every test here."""
    return [r for r in all_citizens_routes(app) if r in NEEDS and r in ROUTES]


def test_every_citizens_route_is_in_the_table(app: Flask) -> None:
    routes = all_citizens_routes(app)
    assert [r for r in routes if r not in NEEDS] == [], "add these routes to NEEDS"
    assert [r for r in routes if r not in ROUTES] == [], "add these to the access matrix"


@pytest.fixture
def world(
    app: Flask, make_user: Callable[..., User], make_listing: Callable[..., Service]
) -> World:
    provider = make_user(Role.PROVIDER_STAFF)
    users = {
        "citizen": make_user(Role.CITIZEN),
        "broker": make_user(Role.BROKER),
        "other_broker": make_user(Role.BROKER),
        "provider": provider,
    }
    return World(users=users, service_a=make_listing(provider.organisation))


def person_of(world: World) -> Person:
    person = world.users["citizen"].person
    assert person is not None
    return person


def acting_broker(world: World) -> User:
    """The broker as the policy sees them while acting for the person."""
    broker = world.users["broker"]
    db.session.expire(person_of(world), ["consents"])
    broker.act_for(person_of(world))
    return broker


def expected_while_acting(app: Flask, world: World) -> dict[str, str]:
    """Each citizens route's outcome for the broker acting for the person, from the policy."""
    broker = acting_broker(world)
    person = person_of(world)
    expected = {}
    for endpoint in citizens_routes(app):
        route_needs = NEEDS[endpoint]
        citizens_outcome = ROUTES[endpoint].expect["citizen"]
        # An action on an order is judged on the order, and there is none by an unknown id.
        allowed = route_needs.found_first or any(
            can(broker, action, person) for action in route_needs.actions
        )
        expected[endpoint] = citizens_outcome if allowed else FORBIDDEN
    broker.act_for(None)
    return expected


def mismatches(
    client: FlaskClient,
    app: Flask,
    world: World,
    expected: dict[str, str],
    *,
    acting_named: bool = False,
) -> list[str]:
    """Request every citizens route; those whose outcome is not `expected`'s. With
    `acting_named`, the session names the person as acting for before each request (as it
    would after starting to act while the consent was live)."""
    found = []
    for endpoint in citizens_routes(app):
        if acting_named:
            with client.session_transaction() as browser_session:
                browser_session["acting_for"] = str(person_of(world).id)
        got = outcome_of(client, ROUTES[endpoint], world)
        if got != expected[endpoint]:
            found.append(f"{endpoint}: expected {expected[endpoint]}, got {got}")
    return found


@pytest.mark.parametrize("scope", ALL_SCOPES)
def test_a_broker_acting_under_one_scope_gets_what_the_policy_says(
    app: Flask, world: World, scope: str
) -> None:
    consent(person_of(world), broker=world.users["broker"], scopes=[scope])
    client = app.test_client()
    sign_in(client, world.users["broker"])
    start_acting(client, person_of(world))

    expected = expected_while_acting(app, world)

    assert mismatches(client, app, world, expected) == []
    # The policy lets them do some of it (seeing, or the one thing their consent covers) and
    # refuses some: the table is not all one outcome.
    assert FORBIDDEN in expected.values()
    assert set(expected.values()) != {FORBIDDEN}


def test_a_broker_of_another_brokerage_reaches_none_of_it(app: Flask, world: World) -> None:
    consent(person_of(world), broker=world.users["broker"])
    client = app.test_client()
    sign_in(client, world.users["other_broker"])
    assert client.post(f"/acting-for/{person_of(world).id}").status_code == 404

    expected = dict.fromkeys(citizens_routes(app), FORBIDDEN)
    assert mismatches(client, app, world, expected) == []


@pytest.mark.parametrize("state", ["withdrawn", "ended"])
def test_a_consent_that_stopped_while_acting_sends_the_broker_back_on_every_route(
    app: Flask, world: World, state: str
) -> None:
    given = consent(person_of(world), broker=world.users["broker"])
    client = app.test_client()
    sign_in(client, world.users["broker"])
    start_acting(client, person_of(world))
    if state == "withdrawn":
        given.revoked_at = utcnow()
        given.revoked_by_name = "Test Citizen"
    else:
        given.ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    assert client.post(f"/acting-for/{person_of(world).id}").status_code == 404
    expected = dict.fromkeys(citizens_routes(app), REDIRECT)
    assert mismatches(client, app, world, expected, acting_named=True) == []
    # Once forgotten, the person's pages are closed to them like anyone else's.
    assert client.get("/my/").status_code == 403


def test_a_consent_not_yet_begun_lets_nobody_act(app: Flask, world: World) -> None:
    consent(person_of(world), broker=world.users["broker"], starts_at=utcnow() + timedelta(days=1))
    client = app.test_client()
    sign_in(client, world.users["broker"])
    assert client.post(f"/acting-for/{person_of(world).id}").status_code == 404

    expected = dict.fromkeys(citizens_routes(app), FORBIDDEN)
    assert mismatches(client, app, world, expected) == []


def test_an_order_named_by_an_unknown_id_is_not_found_for_anyone_allowed(
    app: Flask, world: World
) -> None:
    """The routes marked `found_first` answer 404 to the person too: the table's outcome for
    them is the person's, whatever the consent."""
    for endpoint, route_needs in NEEDS.items():
        if route_needs.found_first and endpoint in ROUTES:
            assert ROUTES[endpoint].expect["citizen"] == NOT_FOUND, endpoint
