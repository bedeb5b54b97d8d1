"""Ratings and reviews (issue 19, REVIEWS): only a completed order's service is rated, by the
person or whoever holds a consent of theirs covering orders; one review an order, even two at
once; nothing is shown until the council publishes it, a rejected one never; the provider
replies once, only to its own services' reviews; ratings in search and on the service page
come from published reviews only, read in one statement."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.console.models import QueueDecision
from marketplace.extensions import db
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.people.models import Person
from providers import reviews
from providers.models import ReviewStatus, ServiceReview
from providers.reviews import ReviewRefused
from tests.brokers.shortlist_fixtures import give_consent
from tests.conftest import sign_in
from tests.console.review_helpers import completed_order, placed_order
from tests.ledger.threads import engine_options
from tests.orders.fixtures import World


def _kinds(session: Session, user: User) -> list[NotificationKind]:
    return list(session.scalars(select(Notification.kind).where(Notification.user_id == user.id)))


def test_only_a_completed_order_is_reviewed(session: Session, world: World) -> None:
    accepted = placed_order(session, world, "accepted")
    assert not reviews.may_review(world.citizen, accepted)
    with pytest.raises(ReviewRefused, match="once its order has completed"):
        reviews.write_review(session, accepted, by=world.citizen, rating=5, text="")
    done = completed_order(session, world, "done")
    assert reviews.may_review(world.citizen, done)
    review = reviews.write_review(session, done, by=world.citizen, rating=4, text=" Kind staff ")
    session.commit()
    assert (review.status, review.text, review.service_id) == (
        ReviewStatus.PENDING,
        "Kind staff",
        world.service.id,
    )
    assert NotificationKind.REVIEW_TO_MODERATE in _kinds(session, world.officer)


def test_who_may_review_a_completed_order(
    session: Session, world: World, make_user: Callable[..., User]
) -> None:
    order = completed_order(session, world, "who")
    broker, other_broker, seeing_only = (
        make_user(Role.BROKER),
        make_user(Role.BROKER),
        make_user(Role.BROKER),
    )
    give_consent(world.person, broker=broker, scopes=["order"])
    give_consent(world.person, broker=seeing_only, scopes=["see"])
    refused = [other_broker, seeing_only, world.officer, world.staff, make_user(Role.CITIZEN)]
    for user in refused:
        assert not reviews.may_review(user, order), user.role
        with pytest.raises(ReviewRefused, match="cannot review"):
            reviews.write_review(session, order, by=user, rating=3, text="")
    review = reviews.write_review(session, order, by=broker, rating=3, text="On time")
    session.commit()
    assert review.written_by_id == broker.id
    assert review.person_id == world.person.id


@pytest.mark.parametrize(
    ("rating", "text", "message"),
    [
        (None, "", "Select a rating"),
        (6, "", "Select a rating"),
        (0, "", "Select a rating"),
        (3, "x" * (reviews.TEXT_MAX_LENGTH + 1), "too long"),
    ],
)
def test_a_bad_rating_or_text_is_refused(
    session: Session, world: World, rating: int | None, text: str, message: str
) -> None:
    order = completed_order(session, world, "bad")
    with pytest.raises(ReviewRefused, match=message):
        reviews.write_review(session, order, by=world.citizen, rating=rating, text=text)


def test_one_review_an_order(session: Session, world: World) -> None:
    order = completed_order(session, world, "once")
    reviews.write_review(session, order, by=world.citizen, rating=5, text="")
    session.commit()
    with pytest.raises(ReviewRefused, match="already been reviewed"):
        reviews.write_review(session, order, by=world.citizen, rating=1, text="")


def test_two_reviews_of_one_order_at_once_keep_one(
    session: Session, world: World, make_app: Callable[..., Flask]
) -> None:
    """Two requests at once, each its own thread, session and connection: the order's lock
    queues them, the second reads the first's review and is refused in words (not a 500 from
    the unique constraint)."""
    import threading

    order = completed_order(session, world, "race")
    order_id, citizen_id = order.id, world.citizen.id
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(rating: int) -> None:
        from marketplace.orders.models import Order

        with app.app_context():
            found = db.session.get_one(Order, order_id)
            user = db.session.get_one(User, citizen_id)
            barrier.wait(timeout=30)
            try:
                reviews.write_review(db.session, found, by=user, rating=rating, text="")
                db.session.commit()
                outcomes.append("written")
            except ReviewRefused:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=write, args=(n,)) for n in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "written"]
    session.expire_all()
    count = session.scalar(
        select(func.count()).select_from(ServiceReview).where(ServiceReview.order_id == order_id)
    )
    assert count == 1


def _review(session: Session, world: World, key: str, rating: int, text: str = "") -> ServiceReview:
    order = completed_order(session, world, key)
    review = reviews.write_review(session, order, by=world.citizen, rating=rating, text=text)
    session.commit()
    return review


def test_moderation_records_the_decision_and_tells_the_writer(
    session: Session, world: World
) -> None:
    kept = _review(session, world, "kept", 5, "Lovely carers")
    dropped = _review(session, world, "dropped", 1, "Named someone")
    assert [item.review_id for item in reviews.reviews_to_moderate(session)] == [
        kept.id,
        dropped.id,
    ]
    reviews.publish_review(session, kept, by=world.officer)
    with pytest.raises(ReviewRefused, match="Enter why"):
        reviews.reject_review(session, dropped, by=world.officer, reason="  ")
    reviews.reject_review(session, dropped, by=world.officer, reason="It names a carer")
    session.commit()
    assert reviews.reviews_to_moderate(session) == []
    decisions = session.scalars(
        select(QueueDecision)
        .where(QueueDecision.queue == "reviews")
        .order_by(QueueDecision.decision)
    ).all()
    assert [(d.subject_id, d.decision, d.reason, d.decided_by_id) for d in decisions] == [
        (kept.id, "published", "", world.officer.id),
        (dropped.id, "rejected", "It names a carer", world.officer.id),
    ]
    assert decisions[0].waiting_since == kept.written_at
    assert _kinds(session, world.citizen).count(NotificationKind.REVIEW_DECIDED) == 2
    assert NotificationKind.REVIEW_DECIDED in _kinds(session, world.staff)
    with pytest.raises(ReviewRefused, match="already been published"):
        reviews.reject_review(session, kept, by=world.officer, reason="Changed my mind")
    with pytest.raises(ReviewRefused, match="Only a council officer"):
        reviews.publish_review(session, dropped, by=world.staff)


def test_ratings_count_published_reviews_only(session: Session, world: World) -> None:
    published = [_review(session, world, f"p{n}", rating) for n, rating in enumerate((5, 4))]
    for review in published:
        reviews.publish_review(session, review, by=world.officer)
    _review(session, world, "pending", 1)
    rejected = _review(session, world, "rejected", 1)
    reviews.reject_review(session, rejected, by=world.officer, reason="Not about the service")
    session.commit()
    rating = reviews.ratings_for(session, [world.service.id])[world.service.id]
    assert (rating.average, rating.count, rating.words) == (4.5, 2, "4.5 out of 5, from 2 reviews")
    shown, more = reviews.published_reviews(session, world.service.id)
    assert sorted(r.rating for r in shown) == [4, 5]
    assert not more
    assert {r.author for r in shown} == {"A person using this service"}
    assert reviews.Rating(4.0, 1).words == "4 out of 5, from 1 review"


def test_the_provider_replies_once_to_its_own_services_reviews(
    session: Session, world: World
) -> None:
    review = _review(session, world, "reply", 3, "Late twice")
    with pytest.raises(ReviewRefused, match="only to a published review"):
        reviews.reply_to_review(session, review, by=world.staff, text="Sorry")
    session.rollback()
    reviews.publish_review(session, review, by=world.officer)
    session.commit()
    with pytest.raises(ReviewRefused, match="your own services"):
        reviews.reply_to_review(session, review, by=world.other_staff, text="Not ours")
    with pytest.raises(ReviewRefused, match="Enter your reply"):
        reviews.reply_to_review(session, review, by=world.staff, text=" ")
    reviews.reply_to_review(session, review, by=world.staff, text="We have changed the rota")
    session.commit()
    with pytest.raises(ReviewRefused, match="already replied"):
        reviews.reply_to_review(session, review, by=world.staff, text="Again")
    assert NotificationKind.REVIEW_REPLIED in _kinds(session, world.citizen)
    shown, _ = reviews.published_reviews(session, world.service.id)
    assert shown[0].reply == "We have changed the rota"


def test_reviews_on_the_service_page_are_paged(session: Session, world: World) -> None:
    for n in range(12):
        reviews.publish_review(session, _review(session, world, f"page{n}", 4), by=world.officer)
    session.commit()
    first, more = reviews.published_reviews(session, world.service.id, per_page=10)
    second, after = reviews.published_reviews(session, world.service.id, page=2, per_page=10)
    assert (len(first), more, len(second), after) == (10, True, 2, False)


# Pages ------------------------------------------------------------------------------------


def _public_pages(client: FlaskClient, world: World) -> tuple[str, str]:
    service = client.get(f"/services/{world.service.id}").get_data(as_text=True)
    search = client.get("/search?q=home+care").get_data(as_text=True)
    return service, search


def test_a_review_shows_in_search_and_on_the_service_page_only_once_published(
    app: Flask, session: Session, world: World
) -> None:
    from providers import search_index

    search_index.sync(app)
    client = app.test_client()
    sign_in(client, world.citizen)
    order = completed_order(session, world, "pages")
    page = client.get(f"/my/orders/{order.id}").get_data(as_text=True)
    assert "Rate this service" in page
    empty = client.post(f"/my/orders/{order.id}/review", data={"text": "x"})
    assert empty.status_code == 400
    assert "There is a problem" in empty.get_data(as_text=True)
    assert "Select a rating from 1 to 5" in empty.get_data(as_text=True)
    sent = client.post(
        f"/my/orders/{order.id}/review", data={"rating": "4", "text": "Helpful and kind"}
    )
    assert sent.status_code == 302
    again = client.get(f"/my/orders/{order.id}/review").get_data(as_text=True)
    assert "already been reviewed" in again

    anonymous = app.test_client()
    service, search = _public_pages(anonymous, world)
    assert "Helpful and kind" not in service
    assert "out of 5" not in search
    assert "No reviews yet" in service

    officer = app.test_client()
    sign_in(officer, world.officer)
    queue = officer.get("/council/reviews").get_data(as_text=True)
    review = reviews.review_of_order(session, order.id)
    assert review is not None
    assert f"/council/reviews/{review.id}" in queue
    missing = officer.post(f"/council/reviews/{review.id}", data={"decision": "reject"})
    assert missing.status_code == 400
    assert "Enter why" in missing.get_data(as_text=True)
    assert (
        officer.post(f"/council/reviews/{review.id}", data={"decision": "publish"}).status_code
        == 302
    )

    service, search = _public_pages(anonymous, world)
    assert "Helpful and kind" in service
    assert "4 out of 5, from 1 review" in service
    assert "4 out of 5, from 1 review" in search
    assert "A person using this service" in service
    assert world.person.full_name not in service

    provider = app.test_client()
    sign_in(provider, world.staff)
    assert f"/provider/reviews/{review.id}" in provider.get("/provider/reviews").get_data(
        as_text=True
    )
    replied = provider.post(f"/provider/reviews/{review.id}", data={"reply": "Thank you"})
    assert replied.status_code == 302
    other = app.test_client()
    sign_in(other, world.other_staff)
    assert other.get(f"/provider/reviews/{review.id}").status_code == 404
    service, _ = _public_pages(anonymous, world)
    assert "Thank you" in service
    assert "replied" in service


def test_a_rejected_review_is_never_shown(app: Flask, session: Session, world: World) -> None:
    review = _review(session, world, "never", 1, "Shown to no one")
    reviews.reject_review(session, review, by=world.officer, reason="Abusive")
    session.commit()
    service, _ = _public_pages(app.test_client(), world)
    assert "Shown to no one" not in service
    assert "No reviews yet" in service


def test_a_broker_without_consent_cannot_open_the_review_page(
    app: Flask, session: Session, world: World, make_user: Callable[..., User]
) -> None:
    from tests.brokers.acting_helpers import start_acting

    order = completed_order(session, world, "broker")
    broker = make_user(Role.BROKER)
    give_consent(world.person, broker=broker, scopes=["see"])
    client = app.test_client()
    sign_in(client, broker)
    start_acting(client, db.session.get_one(Person, world.person.id))
    response = client.get(f"/my/orders/{order.id}/review")
    assert response.status_code == 403
    assert "place and cancel orders for them" in response.get_data(as_text=True)


def _statements(app: Flask, client: FlaskClient, path: str) -> int:
    from tests.test_statements_per_page import counting

    client.get(path)  # warm what is kept between requests (the search index)
    with counting(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_ratings_cost_the_search_and_service_pages_one_statement_however_many(
    app: Flask,
    session: Session,
    world: World,
    make_listing: Callable[..., object],
) -> None:
    """The page's services' ratings are read in one grouped statement: a second rated service
    in the results and more reviews of the first add none. Seen failing first with a rating
    read per result (search grew by one with the second rated service)."""
    from providers import search_index

    # The page catches up with the outbox itself at most every SEARCH_SYNC_SECONDS (0.5 s): a
    # warm-up request that built a new generation could take longer than that on a slow
    # machine, and the measured request then caught up (one statement more: failed in CI on
    # PostgreSQL, and once on SQLite). The index is caught up by hand here, so the page never
    # needs to.
    app.config["SEARCH_SYNC_SECONDS"] = 3600
    reviews.publish_review(session, _review(session, world, "one", 5), by=world.officer)
    session.commit()
    search_index.sync(app)
    client = app.test_client()
    search, service = "/search?q=home+care", f"/services/{world.service.id}"
    # Both measures are of pages already served once since the index last changed, so that
    # what a page builds once per index generation (and keeps) is outside both.
    assert "out of 5" in client.get(search).get_data(as_text=True)
    before = (_statements(app, client, search), _statements(app, client, service))

    second = make_listing(world.provider, name="Home care at night")
    for n in range(3):
        reviews.publish_review(session, _review(session, world, f"more{n}", 3), by=world.officer)
    # A review of the second service (its order made through the first service's world).
    of_second = _review(session, world, "second", 2)
    of_second.service_id = second.id  # type: ignore[attr-defined]
    reviews.publish_review(session, of_second, by=world.officer)
    session.commit()
    search_index.sync(app)
    assert "out of 5" in client.get(search).get_data(as_text=True)
    after = (_statements(app, client, search), _statements(app, client, service))
    assert after == before


def test_the_moderation_queue_and_the_providers_list_are_paged(
    app: Flask, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from marketplace.council import review_views as council_views
    from providers.portal import review_views as portal_views

    monkeypatch.setattr(council_views, "REVIEWS_PER_PAGE", 2)
    monkeypatch.setattr(portal_views, "REVIEWS_PER_PAGE", 2)
    written = [_review(session, world, f"paged{n}", 3, f"Review number {n}") for n in range(3)]
    officer = app.test_client()
    sign_in(officer, world.officer)
    first = officer.get("/council/reviews").get_data(as_text=True)
    second = officer.get("/council/reviews?page=2").get_data(as_text=True)
    assert "3 reviews waiting, oldest first: page 1 of 2" in first
    assert first.count("moderate this review") == 2
    assert f"/council/reviews/{written[2].id}" in second
    assert f"/council/reviews/{written[2].id}" not in first
    assert "past the end" in officer.get("/council/reviews?page=9").get_data(as_text=True)

    for review in written:
        reviews.publish_review(session, review, by=world.officer)
    session.commit()
    provider = app.test_client()
    sign_in(provider, world.staff)
    pages = [provider.get(f"/provider/reviews?page={n}").get_data(as_text=True) for n in (1, 2)]
    assert "3 published reviews" in pages[0]
    assert sum(page.count("/provider/reviews/") for page in pages) == 3


def test_two_officers_deciding_one_review_at_once_record_one_decision(
    session: Session, world: World, make_app: Callable[..., Flask]
) -> None:
    """One publishes while the other rejects, each in its own thread, session and connection:
    the review's row lock queues them, the second finds it decided and is refused; one
    decision is logged."""
    import threading

    review = _review(session, world, "two-officers", 2, "Late")
    review_id, officer_id = review.id, world.officer.id
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(publish: bool) -> None:
        with app.app_context():
            found = db.session.get_one(ServiceReview, review_id)
            officer = db.session.get_one(User, officer_id)
            barrier.wait(timeout=30)
            try:
                if publish:
                    reviews.publish_review(db.session, found, by=officer)
                else:
                    reviews.reject_review(db.session, found, by=officer, reason="Off topic")
                db.session.commit()
                outcomes.append("decided")
            except ReviewRefused:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=decide, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["decided", "refused"]
    session.expire_all()
    logged = session.scalars(
        select(QueueDecision).where(QueueDecision.subject_id == review_id)
    ).all()
    assert len(logged) == 1
