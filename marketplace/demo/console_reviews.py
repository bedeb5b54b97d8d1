"""The demo's ratings and reviews (issue 19, REVIEWS): what Dorothy Pearce wrote of the care
she has finished buying, so that search and the service pages show ratings, a provider has
replied to one, and one review waits for the demo officer to moderate (the issue's "moderates
a review that then appears in search").

- Of her completed orders, the latest of each service she bought (Chiltern Home Care's home
  care visits, Lea Valley Day Centre's sessions) has a review the council published, and
  Chiltern replied to its own.
- Her completed order of Bluebell Homecare's help with washing and dressing (the orders
  seed's "completed" story) has a review waiting for moderation, written two days ago: once the
  officer publishes it, that service shows its rating in search.

Every review is written, published and replied to through `providers.reviews`' rules, as the
pages would, by the demo's own users; the emails those rules queue are dropped (history is not
news). Adds rows only, changes nothing the county already has. Idempotent: an order that
already has a review is left as it is. Needs the users and orders seeded first (orders with
nothing completed yet add nothing).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from marketplace import mail
from marketplace.demo.budgets_seed import CITIZEN_EMAIL, OFFICER_EMAIL, _user
from marketplace.orders.models import Order, OrderStatus
from marketplace.types import Session, utcnow
from providers import reviews

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

# The orders seed's story whose review waits for the officer.
PENDING_STORY = "completed"
PUBLISHED_WORDS = {
    "Chiltern Home Care": (
        4,
        "Friendly carers who helped me wash and dress without rushing. Once or twice they "
        "came later than planned, but they always rang to say.",
    ),
    "Lea Valley Day Centre": (
        5,
        "I look forward to my Tuesdays. Good lunches, kind staff and the quiz is the best "
        "part of the week.",
    ),
}
PENDING_WORDS = (
    5,
    "The morning help got me back on my feet after my fall. Always on time and very kind.",
)
REPLY = (
    "Thank you for your kind words. We have changed our rota so that morning visits start on time."
)


def seed_reviews(session: Session) -> SeedReport:
    """Dorothy's reviews (see the module's docstring). Flushes, never commits."""
    from marketplace.demo.seed import SeedReport, Tally

    tally = Tally("reviews")
    citizen, officer = _user(CITIZEN_EMAIL), _user(OFFICER_EMAIL)
    completed = list(
        session.scalars(
            select(Order)
            .where(Order.person_id == citizen.person_id, Order.status == OrderStatus.COMPLETED)
            .order_by(Order.placed_at.desc())
        )
    )
    queued = len(session.info.get(mail._PENDING, []))
    now = utcnow()
    latest_of_each: dict[str, Order] = {}
    pending: Order | None = None
    for order in completed:
        if order.placement_key.endswith(PENDING_STORY) and pending is None:
            pending = order
        elif order.organisation.name in PUBLISHED_WORDS:
            latest_of_each.setdefault(order.organisation.name, order)
    for days_ago, (provider, order) in enumerate(sorted(latest_of_each.items()), start=5):
        if reviews.review_of_order(session, order.id) is not None:
            tally.existing += 1
            continue
        rating, text = PUBLISHED_WORDS[provider]
        review = reviews.write_review(session, order, by=citizen, rating=rating, text=text)
        reviews.publish_review(session, review, by=officer)
        review.written_at = now - timedelta(days=days_ago + 2)
        review.moderated_at = now - timedelta(days=days_ago)
        if provider == "Chiltern Home Care":
            staff = next(user for user in order.organisation.staff if user.active)
            reviews.reply_to_review(session, review, by=staff, text=REPLY)
            review.replied_at = now - timedelta(days=days_ago - 1)
        tally.created.append(review)
    if pending is not None:
        if reviews.review_of_order(session, pending.id) is not None:
            tally.existing += 1
        else:
            rating, text = PENDING_WORDS
            review = reviews.write_review(session, pending, by=citizen, rating=rating, text=text)
            review.written_at = now - timedelta(days=2)
            tally.created.append(review)
    del session.info.get(mail._PENDING, [])[queued:]
    session.flush()
    return SeedReport([tally])
