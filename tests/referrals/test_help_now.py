"""Help at once (issue 20 item 3, HELP): which groups the answers call for, in prevention's
order; only public services serving the person's area (the nearest beyond it when none does);
guidance for self-funders; a fixed number of statements however large the directory."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.referrals import help_now
from marketplace.referrals.questions import OUTCOME_KEYS
from providers import listings
from providers.models import (
    LeadProvider,
    Locality,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    PriceUnit,
    Service,
    ServiceStatus,
)
from tests.referrals.factories import answers

TODAY = date(2026, 12, 1)
# Someone who needs help with nothing, has no condition and no struggling carer.
NO_NEEDS: dict[str, Any] = {
    **{key: "none" for key in OUTCOME_KEYS},
    "conditions": [],
    "carer_support": "none",
    "carer_coping": None,
    "urgency": "routine",
}


def listing(
    organisation: Organisation,
    name: str,
    category: str,
    *,
    price_pence: int = 0,
    unit: PriceUnit = PriceUnit.FREE,
    areas: tuple[str, ...] = ("stevenage",),
    status: ServiceStatus = ServiceStatus.PUBLISHED,
) -> Service:
    """A listing in one category, free unless priced, serving `areas` (Stevenage)."""
    service = listings.create_listing(
        organisation,
        listings.ListingDetails(
            name=name,
            description=f"{name}.",
            category_codes=[category],
            price_pence=price_pence,
            price_unit=unit,
            area_codes=list(areas),
        ),
    )
    service.status = status
    db.session.flush()
    return service


def paid(organisation: Organisation, name: str, category: str, **kwargs: Any) -> Service:
    return listing(
        organisation, name, category, price_pence=2600, unit=PriceUnit.PER_HOUR, **kwargs
    )


def names(found: help_now.HelpNow, kind: help_now.GroupKind) -> list[str]:
    group = found.group(kind)
    assert group is not None, f"no {kind} group"
    return [suggestion.name for suggestion in group.suggestions]


def kinds(found: help_now.HelpNow) -> list[str]:
    return [group.kind for group in found.groups]


def help_for(**changes: Any) -> help_now.HelpNow:
    return help_now.help_for(db.session, answers(**changes), today=TODAY)


@pytest.fixture
def org(reference_data: None, make_organisation: Callable[..., Organisation]) -> Organisation:
    return make_organisation("Stevenage Helpers")


def test_the_complete_answers_call_for_every_group_prevention_first(org: Organisation) -> None:
    paid(org, "Morning care", "personal-care")
    listing(org, "Friendly calls", "social-activities-and-befriending")
    listing(org, "Grab rails fitted", "bathing-aids", price_pence=4000, unit=PriceUnit.PER_ITEM)

    found = help_for()

    assert kinds(found) == ["community", "equipment", "reablement", "paid"]
    assert names(found, "community") == ["Friendly calls"]
    assert names(found, "equipment") == ["Grab rails fitted"]
    assert names(found, "paid") == ["Morning care"]
    assert found.area_name == "Stevenage"
    assert not found.found_nothing


def test_no_needs_call_for_nothing(org: Organisation) -> None:
    paid(org, "Morning care", "personal-care")
    listing(org, "Friendly calls", "social-activities-and-befriending")

    found = help_for(**NO_NEEDS)

    assert found.groups == ()
    assert found.found_nothing


@pytest.mark.parametrize(
    ("changes", "equipment"),
    [
        ({"moving_home": "lot"}, ["Walking frames", "Stairlift fitting"]),
        ({"hygiene": "some"}, ["Bath seat"]),
        ({"home_safe": "unable"}, ["Pendant alarm"]),
        ({"conditions": ["dementia"]}, ["Pendant alarm"]),
    ],
)
def test_equipment_fits_the_needs(
    org: Organisation, changes: dict[str, Any], equipment: list[str]
) -> None:
    for name, code in [
        ("Walking frames", "mobility-aids"),
        ("Stairlift fitting", "stairlifts"),
        ("Bath seat", "bathing-aids"),
        ("Pendant alarm", "telecare-and-alarms"),
    ]:
        listing(org, name, code, price_pence=5000, unit=PriceUnit.PER_ITEM)

    found = help_for(**{**NO_NEEDS, **changes})

    assert names(found, "equipment") == equipment


def test_free_community_services_follow_conditions_and_a_struggling_carer(
    org: Organisation,
) -> None:
    listing(org, "Memory café", "dementia-cafes")
    listing(org, "Carers' group", "carer-support")
    listing(org, "Advice line", "information-and-advice")

    assert help_for(**{**NO_NEEDS, "relationships": "some"}).group("community") is not None
    dementia = help_for(**{**NO_NEEDS, "conditions": ["dementia"]})
    assert names(dementia, "community") == ["Memory café", "Advice line"]
    struggling = help_for(**{**NO_NEEDS, "carer_support": "daily", "carer_coping": "struggling"})
    assert names(struggling, "community") == ["Carers' group", "Advice line"]
    coping = help_for(**{**NO_NEEDS, "carer_support": "daily", "carer_coping": "yes"})
    assert coping.groups == ()


def test_a_free_service_is_a_community_service_and_a_priced_one_is_paid(
    org: Organisation,
) -> None:
    listing(org, "Church lunch", "lunch-clubs")
    listing(org, "Lunch at the centre", "lunch-clubs", price_pence=450, unit=PriceUnit.PER_DAY)
    listing(org, "Hot dinners", "hot-meal-delivery", price_pence=600, unit=PriceUnit.PER_DAY)

    found = help_for(**{**NO_NEEDS, "nutrition": "lot"})

    assert names(found, "community") == ["Church lunch"]
    # In the order the answers' table calls for their categories: lunch clubs, then meals.
    assert names(found, "paid") == ["Lunch at the centre", "Hot dinners"]
    assert all(s.is_free for s in found.group("community").suggestions)  # type: ignore[union-attr]
    assert not any(s.is_free for s in found.group("paid").suggestions)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "present", "prominent"),
    [
        ({"urgency": "leaving_hospital"}, True, True),
        ({"urgency": "urgent"}, True, True),
        ({"hygiene": "lot"}, True, False),
        ({"relationships": "lot"}, False, False),
        ({}, False, False),
    ],
)
def test_reablement_is_explained_when_it_could_help_and_prominent_when_urgent(
    org: Organisation, changes: dict[str, Any], present: bool, prominent: bool
) -> None:
    found = help_for(**{**NO_NEEDS, **changes})

    group = found.group("reablement")
    assert (group is not None) is present
    assert found.reablement_first is prominent
    if group is not None:
        assert group.prominent is prominent


def test_only_services_serving_the_persons_area(org: Organisation) -> None:
    paid(org, "Stevenage care", "personal-care", areas=("stevenage-town",))
    paid(org, "Hitchin care", "personal-care", areas=("hitchin",))
    paid(org, "Watford care", "personal-care", areas=("watford-and-three-rivers",))

    in_stevenage = help_for(postcode="SG2 7AB")
    in_hitchin = help_for(postcode="SG4 0AA")
    in_letchworth = help_for(postcode="SG6 1AA")

    assert names(in_stevenage, "paid") == ["Stevenage care"]
    assert names(in_hitchin, "paid") == ["Hitchin care"]
    assert in_hitchin.area_name == "Hitchin"
    # Letchworth is in North Hertfordshire, but the Hitchin service does not name it: nothing
    # in the area, so the nearest beyond it, saying so.
    group = in_letchworth.group("paid")
    assert group is not None
    assert group.beyond_area
    assert [s.name for s in group.suggestions][:1] == ["Hitchin care"]
    assert not any(s.in_area for s in group.suggestions)


def test_when_nothing_is_in_the_area_the_nearest_come_first(org: Organisation) -> None:
    paid(org, "Watford care", "personal-care", areas=("watford-and-three-rivers",))
    paid(org, "Hitchin care", "personal-care", areas=("north-herts",))
    paid(org, "Broxbourne care", "personal-care", areas=("broxbourne",))

    group = help_for().group("paid")

    assert group is not None
    assert group.beyond_area
    assert [s.name for s in group.suggestions] == [
        "Hitchin care",
        "Broxbourne care",
        "Watford care",
    ]


def test_a_listing_naming_no_area_serves_where_its_organisation_does(
    org: Organisation,
) -> None:
    org.areas = [db.session.query(Locality).filter_by(code="stevenage").one()]
    paid(org, "Care anywhere we work", "personal-care", areas=())

    assert names(help_for(), "paid") == ["Care anywhere we work"]
    assert help_for(postcode="WD17 1AA").group("paid").beyond_area  # type: ignore[union-attr]


@pytest.mark.parametrize("where", ["in the area", "beyond it"])
def test_services_the_public_may_not_see_are_never_suggested(
    org: Organisation, make_organisation: Callable[..., Organisation], where: str
) -> None:
    areas = ("stevenage",) if where == "in the area" else ("watford-and-three-rivers",)
    paid(org, "Draft care", "personal-care", status=ServiceStatus.DRAFT, areas=areas)
    paid(org, "Old care", "personal-care", status=ServiceStatus.ARCHIVED, areas=areas)
    for status in (
        OrganisationStatus.SUSPENDED,
        OrganisationStatus.PENDING,
        OrganisationStatus.REJECTED,
    ):
        other = make_organisation(f"{status.value} care", status)
        paid(other, f"Care by a {status.value} provider", "personal-care", areas=areas)
        listing(
            other, f"Free calls by a {status.value} provider", "information-and-advice", areas=areas
        )
    paid(org, "Public care", "personal-care", areas=("dacorum",))

    found = help_for()

    assert names(found, "paid") == ["Public care"]
    assert names(found, "community") == []


def test_the_areas_lead_provider_comes_first(
    org: Organisation,
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
) -> None:
    lead = make_organisation("Zenith Home Care")
    paid(org, "Anchor care", "personal-care")
    paid(lead, "Zenith personal care", "personal-care")
    officer = make_user(Role.COUNCIL_OFFICER)
    stevenage = db.session.query(Locality).filter_by(code="stevenage").one()
    db.session.add(
        LeadProvider(
            locality=stevenage,
            category_code="help-at-home",
            organisation=lead,
            starts_on=date(2026, 1, 1),
            ends_on=None,
            reason="Won the tender",
            named_by_id=officer.id,
        )
    )
    db.session.flush()

    found = help_for()
    ended_before = help_now.help_for(db.session, answers(), today=date(2025, 12, 31))

    assert names(found, "paid") == ["Zenith personal care", "Anchor care"]
    assert [s.lead for s in found.group("paid").suggestions] == [True, False]  # type: ignore[union-attr]
    assert names(ended_before, "paid") == ["Anchor care", "Zenith personal care"]


def test_a_group_offers_a_few_taking_each_category_in_turn(org: Organisation) -> None:
    for code in ("mobility-aids", "stairlifts"):
        for number in range(4):
            listing(org, f"{code} {number}", code, price_pence=100, unit=PriceUnit.PER_ITEM)

    found = help_for(**{**NO_NEEDS, "moving_home": "lot"})

    assert names(found, "equipment") == [
        "mobility-aids 0",
        "stairlifts 0",
        "mobility-aids 1",
        "stairlifts 1",
        "mobility-aids 2",
    ]
    assert help_now.PER_GROUP == 5


@pytest.mark.parametrize(
    ("savings", "guided"),
    [("over_upper", True), ("prefer_not", True), ("between", False), ("under_lower", False)],
)
def test_self_funders_are_shown_the_areas_approved_brokerages(
    org: Organisation,
    make_organisation: Callable[..., Organisation],
    savings: str,
    guided: bool,
) -> None:
    def brokerage(name: str, status: OrganisationStatus, *areas: str) -> None:
        made = make_organisation(name, status)
        made.kind = OrganisationKind.BROKERAGE
        made.areas = list(db.session.query(Locality).filter(Locality.code.in_(areas)))

    brokerage("County Care Finders", OrganisationStatus.APPROVED)
    brokerage("Stevenage Brokers", OrganisationStatus.APPROVED, "stevenage")
    brokerage("Watford Brokers", OrganisationStatus.APPROVED, "watford-and-three-rivers")
    brokerage("Suspended Brokers", OrganisationStatus.SUSPENDED, "stevenage")
    db.session.flush()

    found = help_for(savings=savings)

    if not guided:
        assert found.self_funder is None
        return
    assert found.self_funder is not None
    assert found.self_funder.savings == savings
    assert [b.name for b in found.self_funder.brokerages] == [
        "County Care Finders",
        "Stevenage Brokers",
    ]


def test_a_postcode_in_no_known_area_still_gets_help(org: Organisation) -> None:
    paid(org, "Morning care", "personal-care")

    found = help_for(postcode="ZZ99 9ZZ")

    assert found.area_name is None
    group = found.group("paid")
    assert group is not None
    assert group.beyond_area
    assert names(found, "paid") == ["Morning care"]


def test_missing_answers_call_for_nothing_and_raise_nothing(org: Organisation) -> None:
    found = help_now.help_for(db.session, {"hygiene": "lot", "conditions": None}, today=TODAY)

    assert kinds(found) == ["community", "equipment", "reablement", "paid"]
    assert found.area_name is None
    assert found.self_funder is None


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_statements_are_the_same_however_large_the_directory(
    app: Flask, org: Organisation, make_organisation: Callable[..., Organisation]
) -> None:
    def add_directory(size: int) -> None:
        codes = [
            "personal-care",
            "bathing-aids",
            "social-activities-and-befriending",
            "carer-support",
        ]
        areas = ["stevenage", "stevenage-town", "north-herts", "dacorum", "hitchin"]
        for number in range(size):
            owner = make_organisation(f"Provider {uuid.uuid4().hex[:6]}")
            code = codes[number % len(codes)]
            listing(
                owner,
                f"Service {number}",
                code,
                price_pence=0 if number % 2 else 1500,
                unit=PriceUnit.FREE if number % 2 else PriceUnit.PER_HOUR,
                areas=(areas[number % len(areas)],),
            )
        brokerage = make_organisation(f"Brokerage {uuid.uuid4().hex[:6]}")
        brokerage.kind = OrganisationKind.BROKERAGE
        db.session.commit()

    add_directory(4)
    with counting(app) as small:
        first = help_for(savings="over_upper")
    add_directory(40)
    with counting(app) as large:
        second = help_for(savings="over_upper")

    assert len(small) == len(large)
    assert len(large) <= 4
    assert sum(len(g.suggestions) for g in second.groups) > sum(
        len(g.suggestions) for g in first.groups
    )
