"""A weekly cost wherever the order's schedule makes one knowable (issue 13, item 10): the
order's summary, on the citizen's and the provider's order pages."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from marketplace.formatting import pounds
from tests.citizens import test_orders_pages as orders_pages
from tests.citizens.test_orders_pages import HOURLY_PENCE, Shop, place_order
from tests.conftest import sign_in

# The order pages' citizen with a budget and a plan, and their £26 an hour listing.
shop = orders_pages.shop


def _summary_value(page: str, key: str) -> str | None:
    found = re.search(
        rf'<dt class="govuk-summary-list__key">\s*{key}\s*</dt>\s*'
        r'<dd class="govuk-summary-list__value">\s*([^<]*?)\s*</dd>',
        page,
    )
    return found.group(1) if found else None


def test_a_recurring_orders_page_says_what_each_week_costs(
    app: Flask, citizen_client: FlaskClient, shop: Shop
) -> None:
    # 2 hours on Mondays and Thursdays for 4 weeks at £26 an hour.
    order = place_order(citizen_client, shop)
    page = citizen_client.get(f"/my/orders/{order.id}").get_data(as_text=True)
    assert _summary_value(page, "Each week") == pounds(2 * 2 * HOURLY_PENCE)
    assert _summary_value(page, "Total") == pounds(order.total_pence)

    provider = app.test_client()
    sign_in(provider, shop.staff)
    seen = provider.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert _summary_value(seen, "Each week") == pounds(2 * 2 * HOURLY_PENCE)


def test_a_one_off_has_no_weekly_cost(citizen_client: FlaskClient, shop: Shop) -> None:
    order = place_order(citizen_client, shop, kind="one_off", units="3")
    page = citizen_client.get(f"/my/orders/{order.id}").get_data(as_text=True)
    assert _summary_value(page, "Each week") is None
    assert _summary_value(page, "Total") == pounds(3 * HOURLY_PENCE)
