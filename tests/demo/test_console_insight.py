"""The demo's searches that found nothing (marketplace/demo/console_insight.py): the market
insight report shows them, and seeding twice adds none."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.console import insight
from marketplace.demo.console_insight import SEARCHES, seed_insight
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.types import utcnow
from providers.search_log import SearchLogEntry
from tests.conftest import sign_in


def test_the_report_shows_the_demo_searches_that_found_nothing(
    app: Flask, reference_data: None, make_user: Callable[..., User]
) -> None:
    report = seed_insight()
    db.session.commit()
    assert len(report.tallies[0].created) == len(SEARCHES)
    # Searched at whole minutes, never in the future, within the last 80 days.
    times = [entry.searched_at for entry in db.session.query(SearchLogEntry)]
    assert all(moment.second == 0 and moment <= utcnow() for moment in times)

    period = insight.period_of("90", utcnow())
    found = insight.unmet_searches(db.session, period, insight.reference(db.session))
    assert found.total.searches == len(SEARCHES)
    assert (found.total.found_nothing, found.total.nothing_available) == (12, 3)
    by_category = {row.label: row.found_nothing for row in found.by_category}
    assert by_category["Health and wellbeing"] == 2  # podiatry
    assert by_category["Transport"] == 1
    by_area = {row.label: row.found_nothing for row in found.by_area}
    assert by_area["Dacorum"] == 3  # Hemel Hempstead and Tring are in Dacorum

    client = app.test_client()
    sign_in(client, make_user(Role.COUNCIL_OFFICER))
    page = client.get("/council/reports/market/searches?period=90").get_data(as_text=True)
    for words in ("welsh speaking carer", "podiatry home visit", "live in care"):
        assert words in page
    assert "home care" not in page.split('id="words"')[1]  # it found what it wanted


def test_seeding_twice_adds_nothing(app: Flask, reference_data: None) -> None:
    seed_insight(london_today())
    again = seed_insight(london_today())
    assert again.tallies[0].created == []
    assert again.tallies[0].existing == len(SEARCHES)
    assert db.session.query(SearchLogEntry).count() == len(SEARCHES)
