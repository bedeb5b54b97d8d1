"""The council is told what waits for its decision: one place on the overview with every
count, each linking to where the decision is made, and a notification to each officer (and
no one else) when a provider registers, a support plan is drafted or an order needs approval.

The clock is set to Monday 6 July 2026 (London), after the orders' first four weeks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.council.decisions import DecisionsWaiting, decisions_waiting, drafts_to_approve
from marketplace.mail import outbox_messages
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import checkout, deliveries, invoicing, life, queries
from marketplace.orders.models import Order, OrderStatus
from marketplace.people import plans
from marketplace.people.models import Person
from marketplace.people.plans import PlanItemSpec
from providers import directory
from providers.models import Organisation, OrganisationStatus, TaxonomyTerm
from tests.conftest import links_in_outbox, sign_in
from tests.orders.fixtures import AFTER_THE_SCHEDULE, OCCASIONS, TODAY, World
from tests.providers.test_portal import REGISTRATION

NOW = AFTER_THE_SCHEDULE


def _place(session: Session, world: World, key: str, **options: object) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(starts_on=TODAY + timedelta(days=7), weeks=4),
        by=world.citizen,
        today=TODAY,
        placement_key=key,
        **options,  # type: ignore[arg-type]
    )
    session.commit()
    return order


def _invoiced(session: Session, world: World, key: str, *, queried: bool) -> Order:
    order = _place(session, world, key)
    life.accept(session, order, by=world.staff)
    recorded = [
        deliveries.record_delivery(
            session, order, by=world.staff, delivered_on=day, units=2, today=NOW.date()
        )
        for day in OCCASIONS[:2]
    ]
    if queried:
        deliveries.query_delivery(session, recorded[0], by=world.citizen, reason="Nobody came")
    invoicing.raise_invoice(session, order, order.cycles[0], by=world.staff, today=NOW.date())
    session.commit()
    return order


def _outside_plan(session: Session, world: World) -> Order:
    day_centres = session.scalar(select(TaxonomyTerm).where(TaxonomyTerm.code == "day-centres"))
    world.service.taxonomy_terms = [day_centres]
    session.commit()
    order = _place(session, world, "outside", plan_rule="approval")
    assert order.status is OrderStatus.AWAITING_APPROVAL
    return order


def _draft(session: Session, person: Person, by: User, outcomes: str = "Get out more.") -> None:
    plans.draft_plan(
        session, person, by=by, outcomes=outcomes, items=[PlanItemSpec("day-centres", 40_00)]
    )
    session.commit()


def _what_the_lists_hold(session: Session) -> DecisionsWaiting:
    """Counted from the lists the overview links to, not from its own queries."""
    awaiting, _ = queries.all_orders(
        session, queries.OrderFilters(status=OrderStatus.AWAITING_APPROVAL), page=1
    )
    return DecisionsWaiting(
        providers=len(directory.organisations_with_status(OrganisationStatus.PENDING)),
        support_plans=len(drafts_to_approve(session)),
        orders=len(awaiting),
        invoices=len(
            [i for i in queries.invoices_to_settle(session) if not invoicing.held_by_query(i)]
        ),
    )


def _overview_counts(client: FlaskClient) -> dict[str, tuple[int, str]]:
    page = client.get("/council/").get_data(as_text=True)
    section = page.split('id="waiting"', 1)[1].split("</ul>", 1)[0]
    return {
        words: (int(count), href.replace("&amp;", "&"))
        for href, count, words in re.findall(
            r'<a class="govuk-link" href="([^"]+)"><span class="app-stat">(\d+)</span> ([^<]+)</a>',
            section,
        )
    }


@pytest.mark.usefixtures("after_the_schedule")
def test_the_overview_counts_every_decision_waiting_and_links_to_it(
    app: Flask,
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
) -> None:
    for name in ("Pending One", "Pending Two"):
        make_organisation(name, OrganisationStatus.PENDING)
    make_organisation("Turned Away", OrganisationStatus.REJECTED)
    # Two drafts: a change to the world's approved plan, and a new person's first plan.
    _draft(session, world.person, world.citizen)
    newcomer = make_user(Role.CITIZEN)
    _draft(session, newcomer.person, newcomer)
    _invoiced(session, world, "ready", queried=False)
    _invoiced(session, world, "held", queried=True)
    outside = _outside_plan(session, world)
    council = app.test_client()
    sign_in(council, world.officer)

    expected = DecisionsWaiting(providers=2, support_plans=2, orders=1, invoices=1)
    assert decisions_waiting(session) == expected == _what_the_lists_hold(session)
    assert _overview_counts(council) == {
        "providers waiting for approval": (2, "/council/providers?status=pending"),
        "support plans waiting for approval": (2, "/council/plans"),
        "order waiting for approval": (1, "/council/orders?status=awaiting_approval"),
        "invoice ready to pay": (1, "/council/invoices"),
        # No CQC directory imported: nothing to check (tests/cqc counts the listings to check).
        "listings whose CQC claim the CQC does not bear out": (0, "/council/cqc"),
    }
    # Each link leads to the things counted.
    plans_page = council.get("/council/plans").get_data(as_text=True)
    assert plans_page.count("read and approve the draft plan") == 2
    assert f"/council/people/{newcomer.person_id}/plan" in plans_page
    orders_page = council.get("/council/orders?status=awaiting_approval").get_data(as_text=True)
    assert outside.reference in orders_page

    # Deciding takes things off the overview.
    life.approve(session, outside, by=world.officer)
    plans.approve_plan(session, plans.draft_of(session, newcomer.person), by=world.officer)
    session.commit()
    assert decisions_waiting(session) == DecisionsWaiting(
        providers=2, support_plans=1, orders=0, invoices=1
    )
    counts = _overview_counts(council)
    assert counts["orders waiting for approval"][0] == 0
    assert counts["support plan waiting for approval"][0] == 1


def test_nothing_waiting_is_said_plainly(app: Flask, make_user: Callable[..., User]) -> None:
    council = app.test_client()
    sign_in(council, make_user(Role.COUNCIL_OFFICER))
    page = council.get("/council/").get_data(as_text=True)
    assert "Nothing is waiting for a decision." in page
    assert "No support plans are waiting" in council.get("/council/plans").get_data(as_text=True)


def test_only_officers_reach_the_plans_to_approve(
    app: Flask, make_user: Callable[..., User], reference_data: None
) -> None:
    for role in (Role.CITIZEN, Role.PROVIDER_STAFF, Role.BROKER, Role.ADMIN):
        client = app.test_client()
        sign_in(client, make_user(role))
        assert client.get("/council/plans").status_code == 403


def _told(session: Session, kind: NotificationKind) -> dict[User, list[Notification]]:
    found: dict[User, list[Notification]] = {}
    for notification in session.scalars(select(Notification).where(Notification.kind == kind)):
        user = session.get(User, notification.user_id)
        assert user is not None
        found.setdefault(user, []).append(notification)
    return found


@pytest.fixture
def everyone(make_user: Callable[..., User], reference_data: None) -> dict[str, User]:
    """Two officers, and one user of each other role."""
    return {
        "officer": make_user(Role.COUNCIL_OFFICER),
        "other officer": make_user(Role.COUNCIL_OFFICER),
        "citizen": make_user(Role.CITIZEN),
        "staff": make_user(Role.PROVIDER_STAFF),
        "broker": make_user(Role.BROKER),
        "admin": make_user(Role.ADMIN),
    }


def _emails_to(app: Flask, user: User, subject: str) -> int:
    messages = outbox_messages(app.config["MAIL_OUTBOX_PATH"])
    return sum(1 for m in messages if m.to == user.email and m.subject == subject)


def test_a_confirmed_registration_tells_each_officer_once(
    app: Flask, client: FlaskClient, session: Session, everyone: dict[str, User]
) -> None:
    assert client.post("/provider/register", data=REGISTRATION).status_code == 302
    assert _told(session, NotificationKind.PROVIDER_REGISTERED) == {}, "nothing to decide yet"
    (link,) = links_in_outbox(app, REGISTRATION["owner_email"])
    path = link.split("marketplace.test", 1)[1]
    assert client.post(path).status_code == 302
    assert client.post(path).status_code == 400, "a link works once, and tells no one again"

    organisation = session.scalar(
        select(Organisation).where(Organisation.name == REGISTRATION["name"])
    )
    assert organisation is not None
    told = _told(session, NotificationKind.PROVIDER_REGISTERED)
    assert set(told) == {everyone["officer"], everyone["other officer"]}
    for user, notifications in told.items():
        (notification,) = notifications
        assert notification.link == f"/council/providers/{organisation.id}"
        title = "A new provider has registered and is waiting for approval"
        assert notification.title == title
        assert _emails_to(app, user, title) == 1
    # The officer's inbox links to the decision; no one else's mentions it.
    for name, user in everyone.items():
        reader = app.test_client()
        sign_in(reader, user)
        inbox = reader.get("/notifications").get_data(as_text=True)
        assert ("waiting for approval" in inbox) is (name in ("officer", "other officer")), name
    decision = client.get(f"/council/providers/{organisation.id}")
    assert decision.status_code in (302, 403), "the provider cannot open the council's page"


def test_a_new_draft_plan_tells_the_officers_once_not_at_each_edit(
    app: Flask, session: Session, everyone: dict[str, User]
) -> None:
    citizen = everyone["citizen"]
    _draft(session, citizen.person, citizen)
    _draft(session, citizen.person, citizen, outcomes="Get out more, and see my sister.")

    told = _told(session, NotificationKind.SUPPORT_PLAN_DRAFTED)
    assert set(told) == {everyone["officer"], everyone["other officer"]}
    title = "A support plan has been drafted and is waiting for approval"
    for user, notifications in told.items():
        (notification,) = notifications
        assert notification.link == f"/council/people/{citizen.person_id}/plan"
        assert notification.title == title
        assert _emails_to(app, user, title) == 1
    assert _emails_to(app, citizen, title) == 0

    # Approved, then drafted again: a new draft to decide on, so a new notification.
    plans.approve_plan(session, plans.draft_of(session, citizen.person), by=everyone["officer"])
    session.commit()
    _draft(session, citizen.person, citizen, outcomes="Now a lunch club too.")
    told = _told(session, NotificationKind.SUPPORT_PLAN_DRAFTED)
    assert {user: len(n) for user, n in told.items()} == {
        everyone["officer"]: 2,
        everyone["other officer"]: 2,
    }


def test_an_officer_drafting_with_a_person_tells_the_other_officers(
    session: Session, everyone: dict[str, User]
) -> None:
    _draft(session, everyone["citizen"].person, everyone["officer"])
    told = _told(session, NotificationKind.SUPPORT_PLAN_DRAFTED)
    assert set(told) == {everyone["other officer"]}


@pytest.mark.usefixtures("after_the_schedule")
def test_an_order_waiting_for_approval_tells_only_the_officers_once(
    app: Flask, session: Session, world: World, make_user: Callable[..., User]
) -> None:
    other_officer = make_user(Role.COUNCIL_OFFICER)
    order = _outside_plan(session, world)
    # Placing it again with the same key changes nothing and tells no one again.
    _outside_plan(session, world)

    told = _told(session, NotificationKind.ORDER_NEEDS_APPROVAL)
    assert set(told) == {world.officer, other_officer}
    for notifications in told.values():
        (notification,) = notifications
        assert (notification.order_id, notification.link) == (order.id, None)
    officer = app.test_client()
    sign_in(officer, other_officer)
    assert f'href="/council/orders/{order.id}"' in officer.get("/notifications").get_data(
        as_text=True
    )
    for user in (world.citizen, world.staff, world.other_staff):
        reader = app.test_client()
        sign_in(reader, user)
        assert order.reference not in reader.get("/notifications").get_data(as_text=True)
