"""The `flask seed-demo` step for the council's work queues (issue 19, QUEUES): something in
the queues the demo has nothing in otherwise, so a demo officer has each kind to clear.

- A care provider and a brokerage that registered and wait for approval (6 and 3 days).
- A listing reported by someone not signed in, who left an email address to be told (2 days
  ago): the first published listing of the demo's first approved provider, by name.
- Winifred Hale, whose support plan was approved thirteen months ago and whose review, due a
  year after, is a month overdue (a person of her own, so no one else's plan changes).
- Ivy Marsh, whose first support plan an officer drafted with her yesterday and which waits
  for an officer's approval (a person of her own too).

Everything is made by the rules (the report by `listing_reports.report_listing`, the plan by
`plans.draft_plan` and `plans.approve_plan` at a moment in the past), then dated back. Adds
rows only: nothing the county already has changes. Idempotent: a county that already has the
pending provider is left as it is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.formatting import LONDON
from marketplace.people import plans
from marketplace.people.models import Person
from marketplace.types import Session
from providers import listing_reports
from providers.models import (
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Service,
    ServiceStatus,
)

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport, Tally

PENDING_PROVIDER = "Meadowbrook Companions Ltd"
PENDING_BROKERAGE = "Herts Carers' Advocacy"
OVERDUE_PERSON = "Winifred Hale"
DRAFT_PERSON = "Ivy Marsh"
REPORTER_EMAIL = "concerned.neighbour@demo.example.org"


def _at(today: date, days_ago: int, hour: int = 10) -> datetime:
    return datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=LONDON).astimezone(
        UTC
    )


def seed_queues(session: Session, today: date | None = None) -> SeedReport:
    """The queue items (see the module's docstring), dated back from `today` (London; the real
    today by default). Flushes, never commits."""
    from marketplace.demo.seed import SeedReport, Tally

    registrations = Tally("organisations awaiting approval")
    reports = Tally("listing reports")
    people = Tally("plans due their review")
    today = today or datetime.now(LONDON).date()
    drafts = _seed_draft_plan(session, today)
    existing = session.scalar(select(Organisation).where(Organisation.name == PENDING_PROVIDER))
    if existing is not None:
        # Added together, once: a second run finds them all and says so, tally by tally.
        registrations.existing = 2
        reports.existing = 1
        people.existing = 1
        return SeedReport(tallies=[registrations, reports, people, drafts])
    for name, kind, days_ago in (
        (PENDING_PROVIDER, OrganisationKind.PROVIDER, 6),
        (PENDING_BROKERAGE, OrganisationKind.BROKERAGE, 3),
    ):
        organisation = Organisation(
            name=name,
            kind=kind,
            status=OrganisationStatus.PENDING,
            email=f"hello@{name.split()[0].lower()}.demo.example.org",
            postcode="SG1 1AA",
            created_at=_at(today, days_ago),
        )
        session.add(organisation)
        registrations.created.append(organisation)
    session.flush()

    service = session.scalar(
        select(Service)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .where(
            Organisation.status == OrganisationStatus.APPROVED,
            Organisation.kind == OrganisationKind.PROVIDER,
            Service.status == ServiceStatus.PUBLISHED,
        )
        .order_by(Organisation.name, Service.name)
        .limit(1)
    )
    if service is not None:
        report = listing_reports.report_listing(
            session,
            service,
            reason="wrong_details",
            details=(
                "The phone number on this page rings a number that is no longer in use, and "
                "their office told me they stopped visiting Royston in the summer."
            ),
            reporter=None,
            reporter_email=REPORTER_EMAIL,
        )
        report.reported_at = _at(today, 2, 16)
        reports.created.append(report)

    officer = _first_officer(session)
    if officer is not None:
        person = Person(full_name=OVERDUE_PERSON, postcode="SG2 8AB")
        session.add(person)
        session.flush()
        draft = plans.draft_plan(
            session,
            person,
            by=officer,
            outcomes="To keep going to the lunch club on Tuesdays and Thursdays.",
            items=[plans.PlanItemSpec("day-centres", 45_00)],
        )
        approved_at = _at(today, 396)
        draft.drafted_at = approved_at - timedelta(days=4)
        plans.approve_plan(session, draft, by=officer, now=approved_at, review_months=12)
        people.created.append(person)
    session.flush()
    return SeedReport(tallies=[registrations, reports, people, drafts])


def _first_officer(session: Session) -> User | None:
    return session.scalar(
        select(User).where(User.role == Role.COUNCIL_OFFICER).order_by(User.created_at).limit(1)
    )


def _seed_draft_plan(session: Session, today: date) -> Tally:
    """Ivy Marsh and her draft plan, drafted yesterday by the county's first officer (the
    demo's only one, who approves it from "Draft support plans"). Checked on its own, so a
    county seeded before this step was added gets it on its next run."""
    from marketplace.demo.seed import Tally

    # Two rows: the person and her draft plan.
    drafts = Tally("people and their draft support plans")
    if session.scalar(select(Person.id).where(Person.full_name == DRAFT_PERSON)) is not None:
        drafts.existing = 2
        return drafts
    officer = _first_officer(session)
    if officer is None:
        return drafts
    person = Person(full_name=DRAFT_PERSON, postcode="SG1 4JH")
    session.add(person)
    session.flush()
    draft = plans.draft_plan(
        session,
        person,
        by=officer,
        outcomes="To get to the shops on my own again, and a hot meal at lunchtime.",
        items=[plans.PlanItemSpec("day-centres", 30_00)],
    )
    draft.drafted_at = _at(today, 1, 15)
    drafts.created.extend([person, draft])
    return drafts
