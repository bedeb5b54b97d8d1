"""The citizen's ordering pages over HTTP: a service's schedule and cost, the basket,
checkout with its split, their orders, confirming or querying deliveries, cancelling."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets import spending
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import FunderPot, PersonalBudget, StreamKind
from marketplace.extensions import db
from marketplace.formatting import LONDON, london_today, pounds
from marketplace.notifications.models import Notification
from marketplace.orders import deliveries, life, queries
from marketplace.orders.basket import basket_of
from marketplace.orders.checkout import quote
from marketplace.orders.models import (
    BasketItem,
    CycleState,
    DeliveryStatus,
    Order,
    OrderStatus,
)
from marketplace.orders.schedule import schedule_of
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers.models import CapacityStatus, Organisation, Service, TaxonomyTerm
from tests.citizens.helpers import TODAY, give_budget
from tests.conftest import links_in_outbox, sign_in

HOURLY_PENCE = 26_00


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def next_monday(after: date = TODAY) -> date:
    return after + timedelta(days=7 - after.weekday())


START = next_monday(TODAY + timedelta(days=1))


@dataclass
class Shop:
    citizen: User
    budget: PersonalBudget
    service: Service
    provider: Organisation
    staff: User


@pytest.fixture
def shop(
    citizen: User,
    pots: dict[StreamKind, FunderPot],
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> Shop:
    """A citizen with a budget (council £2,000 and contribution £300, drawn first) and an
    approved plan for help at home, and a published £26 an hour personal care listing."""
    budget = give_budget(citizen.person, pots, council=2_000_00, client_contribution=300_00)
    officer = make_user(Role.COUNCIL_OFFICER)
    plan = draft_plan(
        db.session,
        citizen.person,
        by=citizen,
        outcomes="To stay at home.",
        items=[PlanItemSpec("help-at-home", 300_00)],
    )
    approve_plan(db.session, plan, by=officer)
    provider = make_organisation("Chiltern Home Care")
    staff = make_user(Role.PROVIDER_STAFF, organisation=provider)
    service = make_listing(provider, price_pence=HOURLY_PENCE)
    db.session.commit()
    return Shop(citizen, budget, service, provider, staff)


def schedule_form(
    *,
    kind: str = "recurring",
    start: date = START,
    units: str = "2",
    days: tuple[str, ...] = ("MO", "TH"),
    weeks: str = "4",
    action: str = "add",
) -> dict[str, object]:
    return {
        "schedule_kind": kind,
        "starts_on": [str(start.day), str(start.month), str(start.year)],
        "units_per_occasion": units,
        "days": list(days),
        "weeks": weeks,
        action: "yes",
    }


def add_to_basket(client: FlaskClient, shop: Shop, **fields: object) -> TestResponse:
    return client.post(f"/my/services/{shop.service.id}/order", data=schedule_form(**fields))


def basket_items(shop: Shop) -> list[BasketItem]:
    db.session.expire_all()
    return basket_of(db.session, shop.citizen.person)


def orders_of(shop: Shop) -> list[Order]:
    db.session.expire_all()
    return queries.orders_of_person(db.session, shop.citizen.person.id)


def check_out(client: FlaskClient, shop: Shop, **extra: object) -> TestResponse:
    data: dict[str, object] = {"item": [str(item.id) for item in basket_items(shop)]}
    data.update(extra)
    return client.post("/my/checkout", data=data)


def place_order(client: FlaskClient, shop: Shop, **fields: object) -> Order:
    assert add_to_basket(client, shop, **fields).status_code == 302
    assert check_out(client, shop).status_code == 302
    (order,) = orders_of(shop)
    return order


# Adding to the basket ---------------------------------------------------------------------


def test_a_full_service_offers_no_buy_button_and_says_why(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    shop.service.capacity_status = CapacityStatus.FULL
    db.session.commit()

    page = _text(citizen_client.get(f"/services/{shop.service.id}"))

    assert "Buy with my budget" not in page
    assert "while it is not taking new clients (full)" in page


def test_a_signed_in_citizen_can_buy_from_the_service_page(
    citizen_client: FlaskClient, shop: Shop, client: FlaskClient
) -> None:
    page = _text(citizen_client.get(f"/services/{shop.service.id}"))
    assert "Buy with my budget" in page
    assert f"/my/services/{shop.service.id}/order" in page

    citizen_client.post("/sign-out")
    assert "Buy with my budget" not in _text(client.get(f"/services/{shop.service.id}"))


def test_checking_the_cost_shows_weekly_total_and_what_if(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    response = add_to_basket(citizen_client, shop, action="check")
    page = _text(response)

    assert response.status_code == 200
    # 2 hours on Monday and Thursday for 4 weeks at £26 an hour.
    assert pounds(2 * 2 * HOURLY_PENCE) in page
    assert pounds(2 * 2 * 4 * HOURLY_PENCE) in page
    available = budget_figures(db.session, shop.budget).total.available_pence
    assert pounds(available) in page
    assert pounds(available - 16 * HOURLY_PENCE) in page
    assert "What if I add this" in page
    assert "How many hours each time" in page
    assert basket_items(shop) == []  # checking the cost adds nothing


def test_a_one_off_costs_once_not_each_week(citizen_client: FlaskClient, shop: Shop) -> None:
    response = add_to_basket(citizen_client, shop, kind="one_off", action="check")
    page = _text(response)

    assert response.status_code == 200
    assert pounds(2 * HOURLY_PENCE) in page
    assert "Each week" not in page
    assert "Each week" in _text(add_to_basket(citizen_client, shop, action="check"))


def test_adding_puts_the_schedule_in_the_basket(citizen_client: FlaskClient, shop: Shop) -> None:
    response = add_to_basket(citizen_client, shop)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/my/basket")
    (item,) = basket_items(shop)
    assert (item.units_per_occasion, item.weeks, item.days) == (2, 4, ["MO", "TH"])
    page = _text(citizen_client.get("/my/basket"))
    assert "is in your basket" in page
    assert f"Every Monday and Thursday for 4 weeks, from {START:%-d %B %Y}" in page
    assert pounds(16 * HOURLY_PENCE) in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"units": ""}, "Enter how many hours each time"),
        ({"units": "two"}, "must be a whole number"),
        ({"units": "0"}, "Enter a number of at least 1"),
        ({"units": "2.5"}, "must be a whole number"),
        ({"units": "99"}, "no more than 16"),
        ({"start": TODAY - timedelta(days=1)}, "today or in the future"),
        ({"days": ()}, "Select at least one day of the week"),
        ({"days": ("XX",)}, "choose only from the options given"),
        ({"weeks": ""}, "Enter how many weeks"),
        ({"weeks": "400"}, "between 1 and 52"),
        ({"kind": "sometimes"}, "Not a valid choice"),
        ({"start": date(TODAY.year + 2, 1, 5)}, "must fall within your budget period"),
    ],
)
def test_a_bad_schedule_is_shown_with_400_and_nothing_is_added(
    citizen_client: FlaskClient, shop: Shop, fields: dict[str, object], message: str
) -> None:
    response = add_to_basket(citizen_client, shop, **fields)
    page = _text(response)

    assert response.status_code == 400
    assert "govuk-error-summary" in page
    assert message in page
    assert basket_items(shop) == []


def test_a_missing_date_part_is_a_message_not_a_crash(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    data = schedule_form()
    data["starts_on"] = ["1", "", "2027"]
    response = citizen_client.post(f"/my/services/{shop.service.id}/order", data=data)

    assert response.status_code == 400
    assert "Date must include a day, month and year" in _text(response)


def test_more_than_the_budget_says_how_much_is_short_and_what_to_do(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    # 8 hours every weekday for 10 weeks at £26: £10,400 from £2,300.
    response = add_to_basket(
        citizen_client, shop, units="8", days=("MO", "TU", "WE", "TH", "FR"), weeks="10"
    )
    page = _text(response)

    assert response.status_code == 400
    available = budget_figures(db.session, shop.budget).total.available_pence
    assert f"Your budget is {pounds(8 * 5 * 10 * HOURLY_PENCE - available)} short" in page
    assert "choose fewer hours each time" in page
    assert "card" in page
    assert basket_items(shop) == []


def test_a_service_not_taking_budgets_is_refused(citizen_client: FlaskClient, shop: Shop) -> None:
    shop.service.accepts_personal_budgets = False
    db.session.commit()

    response = add_to_basket(citizen_client, shop)

    assert response.status_code == 400
    assert "does not take payment from personal budgets" in _text(response)
    assert basket_items(shop) == []


def test_the_pages_follow_the_councils_setting_for_purchases_outside_the_plan(
    app: Flask, monkeypatch: pytest.MonkeyPatch, citizen_client: FlaskClient, shop: Shop
) -> None:
    # The rules take OUT_OF_PLAN_PURCHASES from the pages (they read no app config): each
    # page that prices, shows or places the basket passes the app's setting.
    shop.service.taxonomy_terms = list(
        db.session.scalars(select(TaxonomyTerm).where(TaxonomyTerm.code == "day-centres"))
    )
    db.session.commit()
    monkeypatch.setitem(app.config, "OUT_OF_PLAN_PURCHASES", "approval")
    assert add_to_basket(citizen_client, shop).status_code == 302

    monkeypatch.setitem(app.config, "OUT_OF_PLAN_PURCHASES", "refuse")
    refusal = "is not in your support plan, so it cannot be bought from your budget"
    assert refusal in _text(citizen_client.get("/my/basket"))
    assert refusal in _text(citizen_client.get("/my/checkout"))
    response = check_out(citizen_client, shop)
    assert response.status_code == 400
    assert refusal in _text(response)
    assert orders_of(shop) == []
    response = add_to_basket(citizen_client, shop)
    assert response.status_code == 400
    assert refusal in _text(response)
    assert len(basket_items(shop)) == 1


def test_removing_an_item_empties_the_basket(citizen_client: FlaskClient, shop: Shop) -> None:
    add_to_basket(citizen_client, shop)
    (item,) = basket_items(shop)

    response = citizen_client.post(f"/my/basket/{item.id}/remove")

    assert response.status_code == 302
    assert basket_items(shop) == []
    assert "Your basket is empty" in _text(citizen_client.get("/my/basket"))


# Checkout --------------------------------------------------------------------------------


def _row(page: str, heading: str) -> list[str]:
    """The cells of a table row headed `heading`."""
    row = re.search(rf">{heading}</th>(.*?)</tr>", page, re.S)
    assert row is not None, heading
    return re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))


def test_the_basket_shows_weekly_costs_and_the_forecast_checkout_then_gives(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    add_to_basket(citizen_client, shop)  # 2 hours on Mondays and Thursdays for 4 weeks
    add_to_basket(citizen_client, shop, kind="one_off", units="3")

    page = _text(citizen_client.get("/my/basket"))

    weekly = 2 * 2 * HOURLY_PENCE
    cells = re.findall(r'govuk-table__cell--numeric">([^<]*)</td>', page)
    assert cells[:4] == [pounds(weekly), pounds(4 * weekly), "Once only", pounds(3 * HOURLY_PENCE)]
    assert f"{pounds(weekly)}, for the care you would have every week" in page
    assert re.search(
        rf"In total\s*</dt>\s*<dd[^>]*>\s*{pounds(4 * weekly + 3 * HOURLY_PENCE)}", page
    )
    assert "If you buy everything in your basket" in page
    available_now, available_after = _row(page, "Available to spend")
    end_now, end_after = _row(page, "Expected at the end of the period")
    budget_page = _text(citizen_client.get("/my/budget"))
    assert f"{available_now}</span> available to spend now" in budget_page
    assert re.search(
        rf"Expected left on [^<]*</dt>\s*<dd[^>]*>\s*{re.escape(end_now)}", budget_page
    )

    assert check_out(citizen_client, shop).status_code == 302

    # What the basket said checking out would do is what the budget page now says.
    budget_page = _text(citizen_client.get("/my/budget"))
    assert f"{available_after}</span> available to spend now" in budget_page
    assert re.search(
        rf"Expected left on [^<]*</dt>\s*<dd[^>]*>\s*{re.escape(end_after)}", budget_page
    )
    db.session.expire_all()
    assert available_after == pounds(budget_figures(db.session, shop.budget).total.available_pence)


def _summary_value(page: str, key: str) -> str:
    """The value beside `key` in a GOV.UK summary list, as text."""
    found = re.search(
        rf'govuk-summary-list__key">\s*{key}\s*</dt>\s*<dd class="govuk-summary-list__value[^"]*">'
        r"\s*(.*?)\s*</dd>",
        page,
        re.S,
    )
    assert found is not None, key
    return found.group(1)


def test_the_home_page_sums_up_the_budget_and_orders_as_the_budget_page_does(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    order = place_order(citizen_client, shop)

    home = _text(citizen_client.get("/my/"))
    budget_page = _text(citizen_client.get("/my/budget"))

    available = _summary_value(home, "Available to spend now")
    assert f"{available}</span> available to spend now" in budget_page
    to_come = _summary_value(home, "Still to come this period")
    assert f"{to_come}</span> still to come this period" in budget_page
    # The budget page's table: allocated, committed, spent, available, still to come.
    total_row = _row(budget_page, "Total")
    assert _summary_value(home, "Committed to orders").startswith(f"{total_row[1]},")
    assert (available, to_come) == (total_row[3], total_row[4])
    # ... and all of them are the ledger's.
    db.session.expire_all()
    ledger = budget_figures(db.session, shop.budget).total
    assert (available, total_row[1], to_come) == (
        pounds(ledger.available_pence),
        pounds(order.total_pence),
        pounds(ledger.scheduled_pence),
    )
    # The next instalment: the earliest not yet released, every stream's on that day.
    unreleased = [i for s in shop.budget.streams for i in s.instalments if not i.released]
    first = min(i.due_on for i in unreleased)
    due = sum(i.amount_pence for i in unreleased if i.due_on == first)
    assert _summary_value(home, "Next payment into your budget") == (
        f"{pounds(due)} on {first:%-d %B %Y}"
    )
    assert f"/my/orders/{order.id}" in home
    assert order.service_name in home
    assert re.search(r'govuk-tag--blue">Waiting for the provider</strong>', home)
    assert f"/my/budgets/{shop.budget.id}/statement" in home


def test_checkout_shows_which_stream_pays_what(citizen_client: FlaskClient, shop: Shop) -> None:
    add_to_basket(citizen_client, shop)

    page = _text(citizen_client.get("/my/checkout"))

    # The contribution is drawn first (as much as has been paid in so far), then the council.
    (item,) = basket_items(shop)
    quoted = quote(db.session, shop.citizen.person, shop.service, schedule_of(item), today=TODAY)
    assert [share.stream.kind for share in quoted.shares] == [
        StreamKind.CLIENT_CONTRIBUTION,
        StreamKind.COUNCIL,
    ]
    assert "How £416 will be paid" in page
    for share in quoted.shares:
        assert (
            f'{share.stream.kind.label}</th>\n        <td class="govuk-table__cell '
            f'govuk-table__cell--numeric">{pounds(share.pence)}</td>'
        ) in page
    assert "Choose a different split" in page


def test_checkout_shows_each_items_split_as_it_will_be_placed(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    add_to_basket(citizen_client, shop)
    add_to_basket(citizen_client, shop)
    page = _text(citizen_client.get("/my/checkout"))
    shown = [
        [
            (label, pence)
            for label, pence in re.findall(
                r'<th scope="row" class="govuk-table__header">([^<]+)</th>\s*'
                r'<td class="govuk-table__cell govuk-table__cell--numeric">([^<]+)</td>',
                table,
            )
        ]
        for table in page.split("will be paid</caption>")[1:]
    ]

    assert check_out(citizen_client, shop).status_code == 302

    labels = {str(s.id): s.kind.label for s in shop.budget.streams}
    ranks = {str(s.id): s.draw_order for s in shop.budget.streams}
    placed = []
    for order in orders_of(shop):
        by_stream: dict[str, int] = {}
        for cycle in order.cycles:
            for stream_id, pence in cycle.split.items():
                by_stream[stream_id] = by_stream.get(stream_id, 0) + pence
        in_draw_order = sorted(by_stream.items(), key=lambda share: ranks[share[0]])
        placed.append([(labels[sid], pounds(pence)) for sid, pence in in_draw_order])
    # The two identical items are placed in basket order; the orders do not say which was
    # first, so the shown and placed splits are compared as collections.
    assert len(shown) == 2
    assert shown[0] != shown[1]
    assert sorted(shown) == sorted(placed)


def test_placing_the_order_commits_the_money(citizen_client: FlaskClient, shop: Shop) -> None:
    before = budget_figures(db.session, shop.budget).total
    add_to_basket(citizen_client, shop)

    response = check_out(citizen_client, shop)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/my/orders")
    (order,) = orders_of(shop)
    assert order.status is OrderStatus.PLACED
    assert order.total_pence == 16 * HOURLY_PENCE
    db.session.expire_all()
    after = budget_figures(db.session, shop.budget).total
    assert after.committed_pence == before.committed_pence + 16 * HOURLY_PENCE
    assert after.available_pence == before.available_pence - 16 * HOURLY_PENCE
    assert basket_items(shop) == []
    page = _text(citizen_client.get("/my/orders"))
    assert "govuk-notification-banner--success" in page
    assert order.reference in page
    budget_page = _text(citizen_client.get("/my/budget"))
    assert f"{pounds(after.available_pence)}</span> available to spend now" in budget_page


def test_placing_twice_makes_one_order(citizen_client: FlaskClient, shop: Shop) -> None:
    add_to_basket(citizen_client, shop)
    shown = {"item": [str(item.id) for item in basket_items(shop)]}

    first = citizen_client.post("/my/checkout", data=shown)
    second = citizen_client.post("/my/checkout", data=shown)

    assert first.status_code == second.status_code == 302
    assert len(orders_of(shop)) == 1
    db.session.expire_all()
    committed = budget_figures(db.session, shop.budget).total.committed_pence
    assert committed == 16 * HOURLY_PENCE


def _split_field(item: BasketItem, stream_kind: StreamKind, budget: PersonalBudget) -> str:
    stream = next(s for s in budget.streams if s.kind is stream_kind)
    return f"split_{item.id.hex}_{stream.id.hex}"


def test_a_chosen_split_is_how_the_order_is_paid(citizen_client: FlaskClient, shop: Shop) -> None:
    add_to_basket(citizen_client, shop)
    (item,) = basket_items(shop)

    response = check_out(
        citizen_client,
        shop,
        **{
            _split_field(item, StreamKind.COUNCIL, shop.budget): "416.00",
            _split_field(item, StreamKind.CLIENT_CONTRIBUTION, shop.budget): "",
        },
    )

    assert response.status_code == 302
    (order,) = orders_of(shop)
    council = next(s for s in shop.budget.streams if s.kind is StreamKind.COUNCIL)
    assert queries.paid_by_stream(order) == {str(council.id): 416_00}


@pytest.mark.parametrize(
    ("council", "contribution", "message"),
    [
        ("100", "100", ""),  # adds up to £200, not £416
        ("abc", "", "must be an amount in pounds"),
        ("416.001", "", "in pounds and pence"),
        ("-16", "432", "cannot be negative"),
    ],
)
def test_a_bad_split_is_shown_with_400_and_nothing_is_ordered(
    citizen_client: FlaskClient, shop: Shop, council: str, contribution: str, message: str
) -> None:
    add_to_basket(citizen_client, shop)
    (item,) = basket_items(shop)
    before = budget_figures(db.session, shop.budget).total

    response = check_out(
        citizen_client,
        shop,
        **{
            _split_field(item, StreamKind.COUNCIL, shop.budget): council,
            _split_field(item, StreamKind.CLIENT_CONTRIBUTION, shop.budget): contribution,
        },
    )

    assert response.status_code == 400
    assert "govuk-error-summary" in _text(response)
    assert message in _text(response)
    assert orders_of(shop) == []
    assert len(basket_items(shop)) == 1
    assert budget_figures(db.session, shop.budget).total == before


def test_a_split_asking_too_much_of_one_stream_names_it_on_its_own_box(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    add_to_basket(citizen_client, shop)
    (item,) = basket_items(shop)
    contribution = next(s for s in shop.budget.streams if s.kind is StreamKind.CLIENT_CONTRIBUTION)
    has = spending.available_by_stream(db.session, shop.budget)[contribution.id]
    assert 0 < has < 416_00

    response = check_out(
        citizen_client,
        shop,
        **{
            _split_field(item, StreamKind.COUNCIL, shop.budget): "",
            _split_field(item, StreamKind.CLIENT_CONTRIBUTION, shop.budget): "416.00",
        },
    )

    page = _text(response)
    assert response.status_code == 400
    summary = page.split("govuk-error-summary__list")[1].split("</ul>")[0]
    assert f'href="#{_split_field(item, StreamKind.CLIENT_CONTRIBUTION, shop.budget)}"' in summary
    assert f"Your assessed contribution has {pounds(has)}, so it cannot pay £416" in summary
    assert "Your budget is" not in summary
    assert orders_of(shop) == []


# Orders ----------------------------------------------------------------------------------


def test_my_orders_and_the_order_page(citizen_client: FlaskClient, shop: Shop) -> None:
    order = place_order(citizen_client, shop)

    listing = _text(citizen_client.get("/my/orders"))
    assert "Open orders" in listing
    assert "Waiting for the provider" in listing

    response = citizen_client.get(f"/my/orders/{order.id}")
    page = _text(response)
    assert response.status_code == 200
    assert order.reference in page
    assert "Waiting for the provider" in page
    assert "£26 per hour, fixed when the order was placed" in page
    assert "Every Monday and Thursday for 4 weeks" in page
    for stream in shop.budget.streams:
        held = queries.paid_by_stream(order).get(str(stream.id))
        if held:
            assert f"{stream.kind.label}</th>" in page
            assert pounds(held) in page
    assert "Order placed" in page
    assert "by you" in page
    assert "Cancel this order" in page


def test_the_timeline_names_the_provider_by_role_not_by_name(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    order = place_order(citizen_client, shop)
    life.accept(db.session, order, by=shop.staff)
    db.session.commit()

    page = _text(citizen_client.get(f"/my/orders/{order.id}"))

    assert "Accepted by the provider" in page
    assert "by the provider" in page
    assert shop.staff.full_name not in page


def _delivered(shop: Shop, order: Order) -> uuid.UUID:
    life.accept(db.session, order, by=shop.staff)
    delivery = deliveries.record_delivery(
        db.session,
        order,
        by=shop.staff,
        delivered_on=order.starts_on,
        units=2,
        note="Morning visit",
        today=order.starts_on,
    )
    db.session.commit()
    return delivery.id


def test_confirming_a_delivery(citizen_client: FlaskClient, shop: Shop) -> None:
    order = place_order(citizen_client, shop)
    delivery_id = _delivered(shop, order)
    page = _text(citizen_client.get(f"/my/orders/{order.id}"))
    assert "To confirm" in page
    assert "Morning visit" in page

    response = citizen_client.post(f"/my/orders/{order.id}/deliveries/{delivery_id}/confirm")

    assert response.status_code == 302
    db.session.expire_all()
    assert queries.delivery_by_id(db.session, delivery_id).status is DeliveryStatus.CONFIRMED
    again = citizen_client.post(f"/my/orders/{order.id}/deliveries/{delivery_id}/confirm")
    assert again.status_code == 400
    assert "already confirmed" in _text(again)


def test_querying_a_delivery_needs_a_reason(citizen_client: FlaskClient, shop: Shop) -> None:
    order = place_order(citizen_client, shop)
    delivery_id = _delivered(shop, order)
    path = f"/my/orders/{order.id}/deliveries/{delivery_id}/query"
    assert citizen_client.get(path).status_code == 200

    empty = citizen_client.post(path, data={"reason": "  "})
    assert empty.status_code == 400
    assert "Enter what is wrong with this delivery" in _text(empty)
    db.session.expire_all()
    assert queries.delivery_by_id(db.session, delivery_id).status is DeliveryStatus.RECORDED

    response = citizen_client.post(path, data={"reason": "The carer did not come"})
    assert response.status_code == 302
    db.session.expire_all()
    delivery = queries.delivery_by_id(db.session, delivery_id)
    assert delivery.status is DeliveryStatus.QUERIED
    assert delivery.query_reason == "The carer did not come"


def test_cancelling_before_it_starts_returns_the_money(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    before = budget_figures(db.session, shop.budget).total.available_pence
    order = place_order(citizen_client, shop)
    page = _text(citizen_client.get(f"/my/orders/{order.id}/cancel"))
    assert "The whole order will be cancelled" in page

    response = citizen_client.post(
        f"/my/orders/{order.id}/cancel", data={"reason": "Family will help"}
    )

    assert response.status_code == 302
    db.session.expire_all()
    order = queries.order_by_id(db.session, order.id)
    assert order.status is OrderStatus.CANCELLED
    assert all(cycle.state is CycleState.RELEASED for cycle in order.cycles)
    assert budget_figures(db.session, shop.budget).total.available_pence == before
    page = _text(citizen_client.get(f"/my/orders/{order.id}"))
    assert "Cancelled" in page
    assert "Family will help" in page


def test_cancelling_under_notice_says_when_the_money_comes_back_and_only_once(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    order = place_order(citizen_client, shop)  # 2 hours Mondays and Thursdays, 4 weeks
    life.accept(db.session, order, by=shop.staff)
    db.session.commit()
    held = budget_figures(db.session, shop.budget).total.committed_pence
    # In the second week: with 7 days' notice, the Tuesday of week 3 on is cancelled, which
    # leaves three visits of the four-weekly period that is under way.
    with time_machine.travel(datetime.combine(START + timedelta(days=8), time(12), LONDON)):
        sign_in(citizen_client, shop.citizen)  # a week on, the last session has ended
        page = _text(citizen_client.get(f"/my/orders/{order.id}/cancel"))
        later = pounds(3 * 2 * HOURLY_PENCE)
        assert f"£0 at once, and {later} for the cancelled visits up to" in page

        response = citizen_client.post(f"/my/orders/{order.id}/cancel", data={"reason": ""})
        assert response.status_code == 302

        db.session.expire_all()
        # Nothing came back yet, as the page said; it is held until the period is settled.
        assert budget_figures(db.session, shop.budget).total.committed_pence == held
        page = _text(citizen_client.get(f"/my/orders/{order.id}"))
        assert "Cancel this order" not in page
        assert f"{later} held for the cancelled visits" in page
        again = citizen_client.post(f"/my/orders/{order.id}/cancel", data={"reason": ""})
        assert again.status_code == 400
        assert "already cancelled from" in _text(again)


def test_a_too_long_reason_is_shown_with_400_and_nothing_changes(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    order = place_order(citizen_client, shop)

    response = citizen_client.post(f"/my/orders/{order.id}/cancel", data={"reason": "x" * 1001})

    assert response.status_code == 400
    assert "1000 characters or fewer" in _text(response)
    db.session.expire_all()
    assert queries.order_by_id(db.session, order.id).status is OrderStatus.PLACED


def test_an_accepted_order_explains_the_notice_period(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    order = place_order(citizen_client, shop, weeks="12")
    life.accept(db.session, order, by=shop.staff)
    db.session.commit()

    page = _text(citizen_client.get(f"/my/orders/{order.id}/cancel"))
    # The page's today, not the module's TODAY: a run that crosses midnight moves it on.
    earliest = life.earliest_cancellation(order, london_today())

    assert order.notice_days == 7
    if earliest <= order.starts_on:
        assert "The whole order will be cancelled" in page
    else:
        assert f"visits from {earliest:%-d %B %Y} are cancelled" in page


def test_another_citizen_cannot_see_or_touch_the_order(
    citizen_client: FlaskClient,
    shop: Shop,
    make_user: Callable[..., User],
) -> None:
    order = place_order(citizen_client, shop)
    delivery_id = _delivered(shop, order)
    citizen_client.post("/sign-out")
    sign_in(citizen_client, make_user(Role.CITIZEN))

    base = f"/my/orders/{order.id}"
    assert citizen_client.get(base).status_code == 404
    assert citizen_client.get(f"{base}/cancel").status_code == 404
    assert citizen_client.post(f"{base}/cancel", data={"reason": "x"}).status_code == 404
    assert citizen_client.post(f"{base}/deliveries/{delivery_id}/confirm").status_code == 404
    query = citizen_client.post(f"{base}/deliveries/{delivery_id}/query", data={"reason": "x"})
    assert query.status_code == 404
    assert order.reference not in _text(citizen_client.get("/my/orders"))

    db.session.expire_all()
    assert queries.order_by_id(db.session, order.id).status is OrderStatus.IN_PROGRESS
    assert queries.delivery_by_id(db.session, delivery_id).status is DeliveryStatus.RECORDED


def test_a_delivery_of_another_order_is_not_found(citizen_client: FlaskClient, shop: Shop) -> None:
    order = place_order(citizen_client, shop)
    delivery_id = _delivered(shop, order)

    response = citizen_client.post(f"/my/orders/{uuid.uuid4()}/deliveries/{delivery_id}/confirm")

    assert response.status_code == 404
    assert re.search(r"Page not found|not found", _text(response), re.IGNORECASE)


def test_ordering_tells_the_provider_and_not_the_citizen(
    app: Flask, citizen_client: FlaskClient, shop: Shop, client: FlaskClient
) -> None:
    order = place_order(citizen_client, shop)
    # The email, made in the citizen's request, links to the provider's own page for it.
    (link,) = links_in_outbox(app, shop.staff.email)
    assert link.endswith(f"/provider/orders/{order.id}")

    citizen_inbox = _text(citizen_client.get("/notifications"))
    assert f"New order {order.reference}" not in citizen_inbox
    assert "Notifications (0)" in citizen_inbox

    citizen_client.post("/sign-out")
    sign_in(citizen_client, shop.staff)
    staff_inbox = _text(citizen_client.get("/notifications"))
    assert f"New order {order.reference}" in staff_inbox
    assert f'href="/provider/orders/{order.id}"' in staff_inbox
    assert "Notifications (1)" in staff_inbox


def test_the_citizen_hears_when_the_provider_accepts(
    app: Flask, citizen_client: FlaskClient, shop: Shop
) -> None:
    order = place_order(citizen_client, shop)
    life.accept(db.session, order, by=shop.staff)  # outside a request, as a job would
    db.session.commit()

    # The rules stored the order, not a page's path; the edge links each reader's own page.
    (told,) = db.session.scalars(
        select(Notification).where(Notification.user_id == shop.citizen.id)
    )
    assert (told.order_id, told.link) == (order.id, None)
    site = app.config["SITE_URL"].rstrip("/")
    assert f"{site}/my/orders/{order.id}" in links_in_outbox(app, shop.citizen.email)
    page = _text(citizen_client.get("/notifications"))

    assert f"Order {order.reference} was accepted" in page
    assert f'href="/my/orders/{order.id}"' in page
    assert "Notifications (1)" in page
