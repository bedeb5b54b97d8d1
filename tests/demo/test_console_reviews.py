"""The demo's reviews (marketplace/demo/console_reviews.py): after the county's orders, the
services Dorothy finished buying from show published ratings (Chiltern's with its reply), one
review waits for moderation, and once the demo officer publishes it through the council's page
its service shows its rating in search; seeding twice adds nothing; no email is sent."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.demo import seed
from marketplace.demo.budgets_seed import OFFICER_EMAIL, seed_budgets
from marketplace.demo.console_reviews import PENDING_WORDS, REPLY, seed_reviews
from marketplace.demo.data.county import demo_organisations
from marketplace.demo.orders_seed import WASHING, seed_orders
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.mail import outbox_messages
from providers import reviews, search_index
from providers.models import ReviewStatus, Service, ServiceReview
from tests.conftest import sign_in
from tests.demo.test_budgets_seed import PROVIDERS
from tests.test_statements_per_page import DEMO_PASSWORDS


def test_the_demo_has_ratings_and_a_review_for_the_officer_to_publish(app: Flask) -> None:
    today = london_today()
    seed.seed_taxonomy()
    seed.seed_localities()
    seed.seed_providers([org for org in demo_organisations() if org.name in PROVIDERS])
    seed.seed_users()
    seed_budgets(today)
    seed_orders(today)
    db.session.commit()
    sent_before = len(outbox_messages(app.config["MAIL_OUTBOX_PATH"]))

    first = seed_reviews(db.session)
    db.session.commit()
    assert [(t.kind, len(t.created)) for t in first.tallies] == [("reviews", 3)]
    assert len(outbox_messages(app.config["MAIL_OUTBOX_PATH"])) == sent_before
    rows = db.session.scalars(select(ServiceReview)).all()
    published = [row for row in rows if row.status is ReviewStatus.PUBLISHED]
    assert {row.service.organisation.name for row in published} == {
        "Chiltern Home Care",
        "Lea Valley Day Centre",
    }
    assert [row.reply for row in published if row.reply] == [REPLY]
    (waiting,) = reviews.reviews_to_moderate(db.session)
    assert (waiting.service_name, waiting.rating, waiting.text) == (WASHING, *PENDING_WORDS)

    again = seed_reviews(db.session)
    assert [(t.kind, len(t.created), t.existing) for t in again.tallies] == [("reviews", 0, 3)]

    # The demo officer publishes it from the moderation page; search shows the rating.
    search_index.sync(app)
    client = app.test_client()
    washing = db.session.get_one(Service, waiting.service_id)
    search = f"/search?q={washing.name.replace(' ', '+')}"
    assert "out of 5, from 1 review" not in _result_of(
        client.get(search).get_data(as_text=True), washing
    )
    officer = db.session.scalars(select(User).where(User.email == OFFICER_EMAIL)).one()
    sign_in(client, officer, DEMO_PASSWORDS[OFFICER_EMAIL])
    assert waiting.service_name in client.get("/council/reviews").get_data(as_text=True)
    decided = client.post(f"/council/reviews/{waiting.review_id}", data={"decision": "publish"})
    assert decided.status_code == 302
    page = client.get(search).get_data(as_text=True)
    assert "5 out of 5, from 1 review" in _result_of(page, washing)


def _result_of(page: str, service: Service) -> str:
    """The search result's markup for `service` (from its link to the end of its item)."""
    start = page.index(f"/services/{service.id}")
    return page[start : page.index("</li>", start)]
