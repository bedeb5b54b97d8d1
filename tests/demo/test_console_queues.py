"""The demo's work-queue items (marketplace/demo/console_queues.py): after the county's users,
the queues hold a pending provider and brokerage, a reported listing, a draft support plan and
an overdue plan review, each waiting as long as the story says; the demo officer clears every
one from the queue pages; seeding twice adds nothing."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from marketplace.console import queues
from marketplace.console.models import QueueDecision
from marketplace.demo import seed
from marketplace.demo.budgets_seed import OFFICER_EMAIL
from marketplace.demo.console_queues import (
    DRAFT_PERSON,
    OVERDUE_PERSON,
    PENDING_BROKERAGE,
    PENDING_PROVIDER,
    seed_queues,
)
from marketplace.demo.data.county import demo_organisations
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.people.models import SupportPlan
from tests.demo.test_budgets_seed import PROVIDERS


def _waiting(name: str) -> list[queues.QueueItem]:
    return queues.items(db.session, queues.QUEUES[name], london_today())


def test_the_demo_officer_has_each_queue_to_clear_and_clears_it(app: Flask) -> None:
    seed.seed_taxonomy()
    seed.seed_localities()
    seed.seed_providers([org for org in demo_organisations() if org.name in PROVIDERS])
    users = seed.seed_users()
    first = seed_queues(db.session)
    db.session.commit()
    assert [(t.kind, len(t.created)) for t in first.tallies] == [
        ("organisations awaiting approval", 2),
        ("listing reports", 1),
        ("plans due their review", 1),
        ("people and their draft support plans", 2),
    ]
    today = london_today()
    (provider,) = _waiting("providers")
    assert provider.label == PENDING_PROVIDER
    assert provider.waiting_since.date() in {today - timedelta(days=6), today - timedelta(days=7)}
    assert [item.label for item in _waiting("brokerages")] == [PENDING_BROKERAGE]
    (report,) = _waiting("listing_reports")
    assert report.detail == "Wrong details"
    (draft,) = _waiting("support_plans")
    assert draft.label == DRAFT_PERSON
    assert draft.waiting_since.date() == today - timedelta(days=1)
    (review,) = _waiting("reviews_due")
    assert review.label == OVERDUE_PERSON
    assert date(today.year - 1, 1, 1) < review.waiting_since.date() < today

    officer = next(s for s in users.sign_ins if s.email == OFFICER_EMAIL)
    client = app.test_client()
    client.post("/sign-in", data={"email": officer.email, "password": officer.password})
    assert client.get("/council/queues").status_code == 200
    for item, data in (
        (provider, {"decision": "approved"}),
        (_waiting("brokerages")[0], {"decision": "rejected", "reason": "No insurance"}),
    ):
        path = f"/council/providers/{item.link_id}"
        assert client.post(path, data=data).status_code == 302
    assert (
        client.post(
            f"/council/listing-reports/{report.link_id}",
            data={"decision": "upheld", "reason": "Update the phone number and areas"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/council/plan-reviews/{review.link_id}",
            data={"decision": "reviewed", "note": "Reviewed at the lunch club"},
        ).status_code
        == 302
    )
    plan = db.session.get_one(SupportPlan, draft.subject_id)
    assert (
        client.post(
            f"/council/people/{draft.link_id}/plan/approve",
            data={"plan_id": str(plan.id), "drafted_at": plan.drafted_at.isoformat()},
        ).status_code
        == 302
    )
    for name in ("providers", "brokerages", "listing_reports", "reviews_due", "support_plans"):
        assert _waiting(name) == [], name
    logged = db.session.scalars(select(QueueDecision.queue)).all()
    assert sorted(logged) == [
        "brokerages",
        "listing_reports",
        "providers",
        "reviews_due",
        "support_plans",
    ]

    again = seed_queues(db.session)
    assert [(t.kind, t.created, t.existing) for t in again.tallies] == [
        ("organisations awaiting approval", [], 2),
        ("listing reports", [], 1),
        ("plans due their review", [], 1),
        ("people and their draft support plans", [], 2),
    ]
    assert again.tallies[0].existing == 2
