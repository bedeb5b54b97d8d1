"""The steps of `flask seed-demo`: a believable Hertfordshire to try the product with.

Each step is a function of no arguments that brings one part of the demo county into the
database and returns a `SeedReport` of what it created and what was already there. Every step
is idempotent: it looks rows up by their natural key (taxonomy and locality code, organisation
name, service name within its organisation, user email) and creates only what is missing, so a
second run creates nothing. Steps flush and never commit; the command commits once.

Later work adds steps by appending to `STEPS`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.demo.brokers_seed import seed_brokers
from marketplace.demo.budgets_seed import seed_budgets
from marketplace.demo.console_finance_export import seed_finance_export
from marketplace.demo.console_insight import seed_insight
from marketplace.demo.console_payment_runs import seed_payment_runs
from marketplace.demo.console_period_end import seed_period_end
from marketplace.demo.console_queues import seed_queues
from marketplace.demo.console_reconciliation import seed_reconciliation
from marketplace.demo.console_reviews import seed_reviews
from marketplace.demo.cqc_seed import seed_cqc
from marketplace.demo.data.county import (
    DemoUser,
    OrganisationPlan,
    ServicePlan,
    demo_organisations,
    demo_users,
)
from marketplace.demo.front_door_assessments import seed_assessments
from marketplace.demo.front_door_ras import seed_ras
from marketplace.demo.front_door_referrals import seed_referrals_and_their_rows
from marketplace.demo.front_door_visits import seed_visits
from marketplace.demo.orders_seed import seed_orders
from marketplace.demo.packages_seed import seed_packages
from marketplace.extensions import db
from marketplace.people.models import ContactMethod, Person
from marketplace.types import utcnow
from providers.models import (
    STALE_AFTER_DAYS,
    CapacityStatus,
    DeliveryMode,
    Locality,
    Location,
    Organisation,
    PriceUnit,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from providers.reference_data import county_name, ensure_localities, ensure_taxonomy


class SeedOrderError(LookupError):
    """A step needs rows that an earlier step makes (say, services before their categories)."""


@dataclass
class Tally:
    """Rows of one kind: those a step created, and how many it found already there."""

    kind: str
    created: list[Any] = field(default_factory=list)
    existing: int = 0


@dataclass(frozen=True)
class SignIn:
    """A demo account to print: who it is, and the password that signs them in."""

    role: Role
    email: str
    password: str
    who: str


@dataclass
class SeedReport:
    """What seeding did, kind by kind, and the demo sign-ins to print."""

    tallies: list[Tally] = field(default_factory=list)
    sign_ins: list[SignIn] = field(default_factory=list)

    def extend(self, other: SeedReport) -> SeedReport:
        """Add another step's report to this one (a kind seen twice is summed) and return it."""
        by_kind = {tally.kind: tally for tally in self.tallies}
        for tally in other.tallies:
            if tally.kind in by_kind:
                by_kind[tally.kind].created.extend(tally.created)
                by_kind[tally.kind].existing += tally.existing
            else:
                copied = Tally(tally.kind, list(tally.created), tally.existing)
                self.tallies.append(copied)
                by_kind[tally.kind] = copied
        self.sign_ins.extend(other.sign_ins)
        return self

    def created(self, kind: str) -> list[Any]:
        """The rows of `kind` that were created (empty if the kind was not seeded)."""
        return next((t.created for t in self.tallies if t.kind == kind), [])

    @property
    def created_count(self) -> int:
        """How many rows were created in all."""
        return sum(len(tally.created) for tally in self.tallies)

    @property
    def existing_count(self) -> int:
        """How many rows were found already there in all."""
        return sum(tally.existing for tally in self.tallies)

    def summary(self) -> str:
        """One line: how many rows were created and found."""
        return (
            f"Demo county ready: {self.created_count} created, {self.existing_count} already there."
        )

    def lines(self) -> list[str]:
        """The report to print: counts per kind, then a table of the demo sign-ins."""
        lines = [f"Demo county: {county_name()}", ""]
        lines += _table(
            ("What", "Created", "Already there"),
            [(t.kind, str(len(t.created)), str(t.existing)) for t in self.tallies],
            numeric=(1, 2),
        )
        lines += ["", self.summary()]
        if self.sign_ins:
            lines += ["", "Demo sign-ins (demo passwords: never use them anywhere real):", ""]
            lines += _table(
                ("Role", "Email", "Password", "Who"),
                [(s.role.label, s.email, s.password, s.who) for s in self.sign_ins],
            )
        return lines


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()
) -> list[str]:
    """Rows as aligned columns under a header, numbers right-aligned."""
    rows = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def cell(i: int, text: str) -> str:
        return text.rjust(widths[i]) if i in numeric else text.ljust(widths[i])

    return ["  " + "  ".join(cell(i, t) for i, t in enumerate(row)).rstrip() for row in rows]


def seed_taxonomy() -> SeedReport:
    """Bring the care taxonomy in from `providers/data/taxonomy.json` (adds what is missing)."""
    result = ensure_taxonomy()
    return SeedReport([Tally("taxonomy terms", result.created, result.existing)])


def seed_localities() -> SeedReport:
    """Bring the districts and towns in from the gazetteer (adds what is missing)."""
    result = ensure_localities()
    return SeedReport([Tally("localities", result.created, result.existing)])


def seed_providers(plans: Iterable[OrganisationPlan] | None = None) -> SeedReport:
    """Create the demo provider organisations and their services that are not there yet.

    An organisation is found by name and a service by name within its organisation; existing
    ones are left exactly as they are, even if someone has edited them. Needs the taxonomy and
    the localities first: raises SeedOrderError if a code a service uses is missing.
    """
    terms = {term.code: term for term in db.session.scalars(select(TaxonomyTerm))}
    places = {place.code: place for place in db.session.scalars(select(Locality))}
    organisations: dict[str, Organisation] = {}
    for found in db.session.scalars(select(Organisation).order_by(Organisation.created_at)):
        organisations.setdefault(found.name, found)
    services: set[tuple[uuid.UUID, str]] = {
        (row.organisation_id, row.name)
        for row in db.session.execute(select(Service.organisation_id, Service.name))
    }
    organisation_tally, service_tally = Tally("organisations"), Tally("services")
    for plan in demo_organisations() if plans is None else plans:
        organisation = organisations.get(plan.name)
        if organisation is None:
            organisation = _new_organisation(plan)
            organisations[plan.name] = organisation
            organisation_tally.created.append(organisation)
        else:
            organisation_tally.existing += 1
        for service_plan in plan.services:
            if (organisation.id, service_plan.name) in services:
                service_tally.existing += 1
                continue
            service = _new_service(organisation, service_plan, terms, places)
            services.add((organisation.id, service.name))
            service_tally.created.append(service)
    db.session.flush()
    return SeedReport([organisation_tally, service_tally])


def _new_organisation(plan: OrganisationPlan) -> Organisation:
    organisation = Organisation(
        # Chosen now rather than at flush, so its services can be keyed by it straight away.
        id=uuid.uuid4(),
        name=plan.name,
        kind=plan.kind,
        description=plan.description,
        email=plan.email,
        phone=plan.phone,
        website=plan.website,
        address=plan.address,
        postcode=plan.postcode,
        companies_house_number=plan.companies_house_number,
        charity_number=plan.charity_number,
        cqc_provider_id=plan.cqc_provider_id,
        status=plan.status,
    )
    db.session.add(organisation)
    return organisation


def _new_service(
    organisation: Organisation,
    plan: ServicePlan,
    terms: dict[str, TaxonomyTerm],
    places: dict[str, Locality],
) -> Service:
    try:
        chosen_terms = [terms[code] for code in plan.taxonomy_codes]
        chosen_places = [places[code] for code in plan.locality_codes]
    except KeyError as missing:
        raise SeedOrderError(
            f"{plan.name!r} of {organisation.name!r} needs {missing}: "
            "seed the taxonomy and localities first"
        ) from missing
    service = Service(
        id=uuid.uuid4(),
        organisation=organisation,
        name=plan.name,
        description=plan.description,
        price_pence=plan.price_pence,
        price_unit=plan.price_unit,
        status=plan.status,
        delivery_modes=list(plan.delivery_modes),
        languages=list(plan.languages),
        accessibility=list(plan.accessibility),
        eligibility=dict(plan.eligibility),
        accepts_personal_budgets=plan.accepts_personal_budgets,
        taxonomy_terms=chosen_terms,
        localities=chosen_places,
    )
    _demo_capacity(service, random.Random(f"2026:capacity:{organisation.name}:{plan.name}"))
    if DeliveryMode.AT_VENUE.value in plan.delivery_modes and organisation.address:
        service.locations = [ServiceAtLocation(location=_venue_of(organisation, places))]
    db.session.add(service)
    return service


def _demo_capacity(service: Service, rng: random.Random) -> None:
    """Capacity as providers keep it: mostly fresh, about one listing in seven stale."""
    now = utcnow()
    stale = rng.random() < 0.15
    service.capacity_confirmed_at = now - timedelta(
        days=rng.randint(STALE_AFTER_DAYS + 5, 220) if stale else rng.randint(0, 60),
        hours=rng.randint(0, 23),
    )
    roll = rng.random()
    hourly = service.price_unit is PriceUnit.PER_HOUR
    if roll < 0.7:
        service.capacity_status = CapacityStatus.ACCEPTING
        service.capacity_free = rng.randint(4, 40) if hourly else rng.randint(1, 12)
        service.earliest_start = now.date() + timedelta(days=rng.randint(0, 14))
    elif roll < 0.9:
        service.capacity_status = CapacityStatus.WAITING_LIST
        service.capacity_free = 0
        service.earliest_start = now.date() + timedelta(days=rng.randint(21, 90))
    else:
        service.capacity_status = CapacityStatus.FULL
        service.capacity_free = 0
        service.earliest_start = None


def _venue_of(organisation: Organisation, places: dict[str, Locality]) -> Location:
    """The organisation's own premises as a venue, made once."""
    for venue in organisation.locations:
        if venue.name == organisation.name:
            return venue
    postcode = organisation.postcode or ""
    district = postcode.split(" ")[0]
    town = next(
        (p for p in places.values() if p.kind == "town" and district in p.postcode_districts),
        None,
    )
    address, _, town_name = (organisation.address or "").rpartition(", ")
    venue = Location(
        id=uuid.uuid4(),
        organisation=organisation,
        name=organisation.name,
        address=address or organisation.address or "",
        town=town.name if town else town_name,
        postcode=postcode,
        latitude=town.latitude if town else None,
        longitude=town.longitude if town else None,
        accessibility=["Step-free access", "Accessible toilet"],
    )
    db.session.add(venue)
    return venue


def seed_users(users: Iterable[DemoUser] | None = None) -> SeedReport:
    """Create the demo sign-ins that do not exist yet (citizens with their person record).

    Users are found by email and an existing one is left alone (its password is not reset), so
    only new accounts pay for hashing. Every demo user is listed in the report's sign-ins.
    Raises SeedOrderError if a provider's organisation has not been seeded.
    """
    user_tally, people_tally = Tally("users"), Tally("people")
    sign_ins: list[SignIn] = []
    for demo in demo_users() if users is None else users:
        organisation = _organisation_of(demo)
        if accounts.user_by_email(demo.email) is not None:
            user_tally.existing += 1
            if demo.role is Role.CITIZEN:
                people_tally.existing += 1
        else:
            person = _new_person(demo) if demo.role is Role.CITIZEN else None
            user = accounts.create_user(
                email=demo.email,
                full_name=demo.full_name,
                password=demo.password,
                role=demo.role,
                organisation_id=organisation.id if organisation else None,
                person=person,
            )
            user_tally.created.append(user)
            if person is not None:
                people_tally.created.append(person)
        who = f"{demo.full_name}, {organisation.name}" if organisation else demo.full_name
        sign_ins.append(SignIn(demo.role, demo.email, demo.password, who))
    return SeedReport([people_tally, user_tally], sign_ins)


def _organisation_of(demo: DemoUser) -> Organisation | None:
    if demo.organisation is None:
        return None
    organisation = db.session.scalar(
        select(Organisation)
        .where(Organisation.name == demo.organisation)
        .order_by(Organisation.created_at)
        .limit(1)
    )
    if organisation is None:
        raise SeedOrderError(f"{demo.email} works for {demo.organisation!r}: seed providers first")
    return organisation


def _new_person(demo: DemoUser) -> Person:
    details = demo.person or {}
    return Person(
        full_name=demo.full_name,
        preferred_name=details.get("preferred_name"),
        date_of_birth=demo.date_of_birth,
        postcode=details.get("postcode"),
        phone=details.get("phone"),
        email=demo.email,
        address_line_1=details.get("address_line_1"),
        town=details.get("town"),
        county=details.get("county"),
        preferred_contact=ContactMethod(details["preferred_contact"])
        if details.get("preferred_contact")
        else None,
        communication_needs=details.get("communication_needs"),
        # Demo values, published with the demo: never a real key safe's code.
        key_safe_code=details.get("key_safe_code"),
        access_notes=details.get("access_notes"),
    )


Step = Callable[[], SeedReport]


def seed_console() -> SeedReport:
    """The council's console (issue 19): the funders' pot lines, an item in each work queue,
    reviews (one waiting for moderation), searches that found nothing, periods ended and still
    open, a payment run made, and an export to the finance system, which comes last: an export
    never goes back for ledger rows dated before its end."""
    report = SeedReport()
    for step in (
        lambda: seed_reconciliation(db.session),
        lambda: seed_queues(db.session),
        lambda: seed_reviews(db.session),
        seed_insight,
        lambda: seed_period_end(db.session),
        seed_payment_runs,
        seed_finance_export,
    ):
        report.extend(step())
    return report


def seed_front_door() -> SeedReport:
    """The council's front door (issue 20): the resource allocation system's two versions, a
    few self-assessments still being answered (one given up at a question), referrals in every
    state (one turned into a person, a plan and a budget), and the assessors' diaries with
    visits booked, moved, done and wasted. Before the console's steps, so that the finance
    export, which comes last, holds the converted referral's budget."""
    report = SeedReport()
    for step in (seed_ras, seed_assessments, seed_referrals_and_their_rows, seed_visits):
        report.extend(step(db.session))
    return report


STEPS: tuple[Step, ...] = (
    seed_taxonomy,
    seed_localities,
    seed_providers,
    seed_cqc,
    seed_users,
    seed_budgets,
    seed_orders,
    seed_brokers,
    seed_packages,
    seed_front_door,
    seed_console,
)


def run_all(steps: Sequence[Step] = STEPS) -> SeedReport:
    """Run every step in order and return their reports combined. Flushes, never commits."""
    report = SeedReport()
    for step in steps:
        report.extend(step())
    return report
