"""`flask seed-demo`: the demo county it plans, what it writes, and that it writes it once.

The plan tests need no database. Only three tests run a full seed, because each one hashes
the demo users' passwords with argon2.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.passwords import password_problem
from marketplace.accounts.roles import Role
from marketplace.budgets.models import (
    Funder,
    FunderPot,
    FunderPotLine,
    IndividualServiceFund,
    PersonalBudget,
)
from marketplace.cqc.models import CqcLocation
from marketplace.demo import seed
from marketplace.demo.data import county
from marketplace.demo.data.county import demo_organisations, demo_users
from marketplace.extensions import db
from marketplace.finance.models import FinanceExport, PaymentRun
from marketplace.orders.models import Order
from marketplace.people.models import ClientNote, Consent, Person, SupportPlan
from marketplace.referrals.models import (
    Assessor,
    DiarySlot,
    RasVersion,
    Referral,
    SelfAssessment,
    Visit,
)
from marketplace.types import utcnow
from providers import directory
from providers.models import (
    CapacityStatus,
    DeliveryMode,
    LeadProvider,
    Locality,
    Organisation,
    OrganisationStatus,
    PriceUnit,
    Service,
    ServiceReview,
    ServiceStatus,
    TaxonomyTerm,
)
from providers.reference_data import gazetteer_entries, taxonomy_entries
from providers.search_log import SearchLogEntry
from tests.conftest import DemoCounty

APPROVED = OrganisationStatus.APPROVED
TABLES = (
    TaxonomyTerm,
    Locality,
    Organisation,
    Service,
    Person,
    User,
    Funder,
    FunderPot,
    SupportPlan,
    PersonalBudget,
    Order,
    CqcLocation,
    Consent,
    ClientNote,
    IndividualServiceFund,
    LeadProvider,
    # The council's console (issue 19).
    FunderPotLine,
    ServiceReview,
    SearchLogEntry,
    PaymentRun,
    FinanceExport,
    # The council's front door (issue 20).
    RasVersion,
    SelfAssessment,
    Referral,
    Assessor,
    DiarySlot,
    Visit,
)


def _public_plans() -> list[county.ServicePlan]:
    return [
        service
        for org in demo_organisations()
        if org.status is APPROVED
        for service in org.services
        if service.status is ServiceStatus.PUBLISHED
    ]


# The plan: no database needed.


def test_the_county_has_enough_approved_providers_and_public_services() -> None:
    approved = [org for org in demo_organisations() if org.status is APPROVED]
    assert len(approved) >= 40
    assert len(_public_plans()) >= 250
    statuses = Counter(s.status for org in approved for s in org.services)
    assert statuses[ServiceStatus.DRAFT] >= 2
    assert statuses[ServiceStatus.ARCHIVED] >= 2


def test_there_are_providers_waiting_suspended_and_turned_down_each_with_services() -> None:
    by_status = Counter(org.status for org in demo_organisations() if org.services)
    assert by_status[OrganisationStatus.PENDING] >= 3
    assert by_status[OrganisationStatus.SUSPENDED] >= 2
    assert by_status[OrganisationStatus.REJECTED] >= 1


def test_every_category_and_kind_has_public_services() -> None:
    used = Counter(code for service in _public_plans() for code in service.taxonomy_codes)
    parents = {e.code: e.parent_code for e in taxonomy_entries()}
    tops = Counter(parents[code] or code for code in used.elements())
    for entry in taxonomy_entries():
        counts = tops if entry.parent_code is None else used
        assert counts[entry.code] >= 2, entry.code


def test_every_district_is_served() -> None:
    districts_of = {e.code: e.parent_code or e.code for e in gazetteer_entries()}
    served = {districts_of[code] for s in _public_plans() for code in s.locality_codes}
    assert served == {e.code for e in gazetteer_entries() if e.kind == "district"}


def test_free_means_a_zero_price_and_paid_means_a_sensible_one() -> None:
    services = [s for org in demo_organisations() for s in org.services]
    for service in services:
        assert isinstance(service.price_pence, int)
        assert (service.price_unit is PriceUnit.FREE) == (service.price_pence == 0), service.name
    by_term: dict[tuple[str, PriceUnit], list[int]] = {}
    for s in services:
        by_term.setdefault((s.taxonomy_codes[0], s.price_unit), []).append(s.price_pence)
    assert min(by_term["personal-care", PriceUnit.PER_HOUR]) >= 2400
    assert max(by_term["personal-care", PriceUnit.PER_HOUR]) <= 3200
    assert all(4500 <= p <= 7000 for p in by_term["day-centres", PriceUnit.PER_DAY])
    assert all(450 <= p <= 700 for p in by_term["hot-meal-delivery", PriceUnit.PER_ITEM])
    assert by_term["information-and-advice", PriceUnit.FREE]


def test_listings_are_complete_and_use_the_models_words() -> None:
    places = {e.code for e in gazetteer_entries()}
    terms = {e.code for e in taxonomy_entries()}
    for org in demo_organisations():
        for s in org.services:
            assert s.taxonomy_codes
            assert set(s.taxonomy_codes) <= terms
            assert s.locality_codes
            assert set(s.locality_codes) <= places
            assert s.delivery_modes
            assert set(s.delivery_modes) <= {"at_home", "at_venue", "online"}
            assert s.languages[0] == "English"
            assert set(s.eligibility) <= {"min_age", "max_age", "conditions", "carers"}
    services = [s for org in demo_organisations() for s in org.services]
    languages = Counter(lang for s in services for lang in s.languages)
    assert {"Polish", "Punjabi", "Urdu", "British Sign Language"} <= set(languages)
    assert sum(s.accepts_personal_budgets for s in services) > len(services) / 2
    assert any("Hearing loop" in s.accessibility for s in services)


def test_descriptions_vary_rather_than_swap_a_name_into_one_template() -> None:
    services = [s for org in demo_organisations() for s in org.services]
    descriptions = [s.description for s in services]
    assert len(set(descriptions)) == len(descriptions)
    openings = Counter(d.split(". ")[0] for d in descriptions)
    assert openings.most_common(1)[0][1] < len(descriptions) / 10
    assert all(len(d) > 80 and d.endswith((".", "!")) for d in descriptions)


def test_organisations_have_believable_safe_contact_details() -> None:
    orgs = demo_organisations()
    names = [org.name for org in orgs]
    assert len(set(names)) == len(names)
    assert len({org.phone for org in orgs}) == len(orgs)
    for org in orgs:
        assert len({s.name for s in org.services}) == len(org.services), org.name
        assert re.fullmatch(r"https://[a-z0-9-]+\.example\.org", org.website)
        assert org.email.endswith(".example.org")
        assert re.fullmatch(r"01\d{3} \d{6}", org.phone)
        assert re.fullmatch(r"[A-Z]{1,2}\d{1,2} \d[A-Z]{2}", org.postcode)
        if org.cqc_provider_id is not None:
            assert re.fullmatch(r"1-\d{9,10}", org.cqc_provider_id)
    regulated = [org for org in orgs if org.cqc_provider_id]
    assert len(regulated) >= 10
    assert any(org.charity_number for org in orgs)


def test_the_plan_is_the_same_every_time() -> None:
    assert demo_organisations.__wrapped__() == demo_organisations()


def test_every_role_has_a_demo_user_with_a_password_the_app_accepts() -> None:
    users = demo_users()
    assert {user.role for user in users} == set(Role)
    emails = {user.email for user in users}
    assert {
        "citizen@demo.example.org",
        "provider@demo.example.org",
        "provider2@demo.example.org",
        "broker@demo.example.org",
        "council@demo.example.org",
        "admin@demo.example.org",
    } <= emails
    for user in users:
        assert password_problem(user.password, [user.email, user.full_name]) is None
    providers = [user.organisation for user in users if user.role is Role.PROVIDER_STAFF]
    assert len(set(providers)) >= 2
    approved = {org.name for org in demo_organisations() if org.status is APPROVED}
    assert set(providers) <= approved


# The database: the demo county seeded (once per worker: `demo_county` in tests/conftest.py,
# whose first restore seeds and reports), and the command and later runs seeding again.


def _counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in TABLES
    }


def test_seeding_builds_the_county_and_every_printed_password_signs_in(
    app: Flask, demo_county: DemoCounty
) -> None:
    report = demo_county.restore()

    assert directory.public_service_count() >= 250
    assert directory.organisation_counts_by_status()[APPROVED] >= 40
    assert all(category.services > 0 for category in directory.top_category_counts())
    assert len(directory.top_category_counts()) == 12
    assert {d.name for d in directory.districts()} >= {
        "Dacorum",
        "Watford and Three Rivers",
        "East Herts",
    }
    assert len(directory.districts()) == 9
    assert db.session.scalar(select(func.count()).where(Locality.kind == "town")) >= 30
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Service)
            .where((Service.price_unit == PriceUnit.FREE) != (Service.price_pence == 0))
        )
        == 0
    )
    assert report.created["services"] == _counts()["services"]

    roles = {sign_in.role for sign_in in report.sign_ins}
    assert roles == set(Role)
    for sign_in in report.sign_ins:
        user = accounts.authenticate(sign_in.email, sign_in.password)
        assert user is not None, sign_in.email
        assert user.role is sign_in.role

    citizen = accounts.user_by_email("citizen@demo.example.org")
    assert citizen is not None
    assert citizen.person is not None
    assert citizen.person.date_of_birth is not None
    assert citizen.person.postcode.startswith(("SG1", "SG2"))
    staff = [u for u in db.session.scalars(select(User)) if u.role is Role.PROVIDER_STAFF]
    assert len({u.organisation_id for u in staff}) == len(staff) >= 2
    assert all(u.organisation.status is APPROVED for u in staff)


def test_a_second_run_creates_nothing_and_a_later_one_only_what_is_missing(
    app: Flask, monkeypatch: pytest.MonkeyPatch, demo_county: DemoCounty
) -> None:
    first = demo_county.restore()  # the first run's report, and what it committed
    counts = _counts()
    assert first.created_count == sum(counts.values())
    assert first.existing_count == 0

    def no_hashing(password: str) -> str:
        raise AssertionError("an existing demo user was hashed again")

    monkeypatch.setattr(accounts, "hash_password", no_hashing)
    second = seed.run_all()
    assert second.created_count == 0
    assert second.existing_count == first.created_count
    assert _counts() == counts
    assert "0 created" in second.summary()

    # Someone edits one listing and deletes another; seeding again restores only the deleted.
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name == "Chiltern Home Care")
    )
    assert organisation is not None
    organisation.description = "Edited by the provider."
    ordered = set(db.session.scalars(select(Order.service_id)))
    db.session.delete(next(s for s in organisation.services if s.id not in ordered))
    db.session.flush()

    third = seed.run_all()

    assert third.created_count == 1
    assert [s.organisation.name for s in third.created("services")] == ["Chiltern Home Care"]
    assert organisation.description == "Edited by the provider."
    assert _counts() == counts


def test_the_command_commits_and_prints_the_sign_ins(app: Flask) -> None:
    runner = app.test_cli_runner()

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "Hertfordshire" in result.output
    for user in demo_users():
        line = next(line for line in result.output.splitlines() if user.email in line)
        assert user.password in line
        assert user.role.label in line
    db.session.rollback()
    assert _counts()["services"] >= 250, "the command committed"

    quiet = runner.invoke(args=["seed-demo", "--quiet"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.output.strip().splitlines() == [quiet.output.strip()]
    assert "0 created" in quiet.output


# Cheap checks: no full seed.


def test_steps_run_out_of_order_say_what_they_need(app: Flask) -> None:
    with pytest.raises(seed.SeedOrderError, match="taxonomy"):
        seed.seed_providers()
    db.session.rollback()
    provider = next(user for user in demo_users() if user.organisation)
    with pytest.raises(seed.SeedOrderError, match="seed providers first"):
        seed.seed_users([provider])


def test_reports_combine_and_print_aligned_counts(app: Flask) -> None:
    report = seed.run_all([seed.seed_taxonomy, seed.seed_localities, seed.seed_taxonomy])

    assert [t.kind for t in report.tallies] == ["taxonomy terms", "localities"]
    terms = report.tallies[0]
    assert len(terms.created) == terms.existing == len(taxonomy_entries())
    lines = report.lines()
    assert any(re.fullmatch(r"\s+taxonomy terms\s+\d+\s+\d+", line) for line in lines)
    assert not report.sign_ins
    assert not any("sign-ins" in line for line in lines)


def test_the_command_refuses_to_seed_production(make_app: Callable[..., Flask]) -> None:
    production = make_app(ENVIRONMENT="production", MAIL_SERVER="smtp.example.org")
    with production.app_context():
        result = production.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code != 0
        assert "production" in result.output
        assert _counts()["organisations"] == 0


def test_every_demo_listing_has_capacity_some_stale_and_venues_where_delivered(
    app: Flask, demo_county: DemoCounty
) -> None:
    demo_county.restore()
    now = utcnow()
    services = list(db.session.scalars(select(Service)))
    stale = [s for s in services if s.is_stale(now)]
    assert 0.05 < len(stale) / len(services) < 0.3
    assert {s.capacity_status for s in services} == set(CapacityStatus)
    for service in services:
        assert service.capacity_confirmed_at <= now
        if service.capacity_status is CapacityStatus.ACCEPTING:
            assert service.capacity_free > 0
            assert service.earliest_start >= now.date()
        if DeliveryMode.AT_VENUE.value in service.delivery_modes:
            assert service.locations, service.name
            assert service.locations[0].location.postcode
