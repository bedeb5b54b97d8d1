"""Lead providers by area (issue 18, LEAD): naming one, which one is in force, where a person
lives, which services search puts first, and the report of care through each lead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.orders import checkout, life
from marketplace.orders.lead_report import lead_share_report
from marketplace.orders.models import Order
from providers import lead_providers as leads
from providers.models import LeadProvider, Locality, Organisation, OrganisationStatus, Service
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import TODAY, World

APRIL = date(2026, 4, 1)


def _place(name: str) -> Callable[[Session], Locality]:
    def find(session: Session) -> Locality:
        return session.scalars(select(Locality).where(Locality.code == name)).one()

    return find


stevenage = _place("stevenage")
hitchin = _place("hitchin")
north_herts = _place("north-herts")


def _name(
    session: Session,
    world: World,
    organisation: Organisation,
    *,
    starts_on: date = APRIL,
    locality: Locality | None = None,
    category_code: str = "help-at-home",
    by: User | None = None,
) -> leads.Named:
    named = leads.name_lead(
        session,
        locality=locality or stevenage(session),
        category_code=category_code,
        organisation=organisation,
        starts_on=starts_on,
        reason="Won the Stevenage home care contract",
        by=by or world.officer,
        today=APRIL,
    )
    session.commit()
    return named


def test_naming_a_lead_ends_the_one_before_and_keeps_both(
    session: Session, world: World, make_organisation: Callable[..., Organisation]
) -> None:
    other = make_organisation("Bluebell Home Care")
    first = _name(session, world, world.provider).lead
    assert leads.lead_for(session, stevenage(session).id, "help-at-home", APRIL) == first
    assert leads.lead_for(session, stevenage(session).id, "help-at-home", date(2026, 3, 31)) is None
    assert leads.lead_for(session, stevenage(session).id, "meals", APRIL) is None

    named = _name(session, world, other, starts_on=date(2026, 10, 1))
    assert named.replaced == [first]
    assert first.ends_on == date(2026, 9, 30)
    area = stevenage(session).id
    assert leads.lead_for(session, area, "help-at-home", date(2026, 9, 30)) == first
    assert leads.lead_for(session, area, "help-at-home", date(2026, 10, 1)) == named.lead
    assert len(leads.all_leads(session)) == 2


def test_a_lead_replaced_before_it_began_is_never_in_force(
    session: Session, world: World, make_organisation: Callable[..., Organisation]
) -> None:
    other = make_organisation("Bluebell Home Care")
    planned = _name(session, world, world.provider, starts_on=date(2026, 10, 1)).lead
    _name(session, world, other, starts_on=date(2026, 5, 1))
    assert planned.ends_on is not None
    assert planned.ends_on < planned.starts_on
    area = stevenage(session).id
    for day in (date(2026, 5, 1), date(2026, 10, 1), date(2027, 1, 1)):
        lead = leads.lead_for(session, area, "help-at-home", day)
        assert lead is not None
        assert lead.organisation == other


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"by": "citizen"}, "Only a council officer"),
        ({"locality": "hitchin"}, "Select one of the county's districts"),
        ({"category_code": "knitting"}, "Select a kind of care"),
        ({"organisation": "pending"}, "is not an approved care provider"),
        ({"starts_on": date(2026, 3, 31)}, "today or later"),
        ({"reason": "   "}, "Enter why"),
    ],
)
def test_a_naming_the_rules_do_not_allow_is_refused_and_changes_nothing(
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
    change: dict[str, object],
    message: str,
) -> None:
    values: dict[str, object] = {
        "locality": stevenage(session),
        "category_code": "help-at-home",
        "organisation": world.provider,
        "starts_on": APRIL,
        "reason": "Won the contract",
        "by": world.officer,
    }
    values.update(change)
    if values["by"] == "citizen":
        values["by"] = world.citizen
    if values["locality"] == "hitchin":
        values["locality"] = hitchin(session)
    if values["organisation"] == "pending":
        values["organisation"] = make_organisation("New Care", OrganisationStatus.PENDING)
    with pytest.raises(leads.LeadRefused, match=message):
        leads.name_lead(session, today=APRIL, **values)  # type: ignore[arg-type]
    assert leads.all_leads(session) == []


def test_naming_the_lead_already_in_force_again_is_refused(session: Session, world: World) -> None:
    _name(session, world, world.provider)
    with pytest.raises(leads.LeadRefused, match="already the lead provider for help at home"):
        _name(session, world, world.provider, starts_on=date(2026, 6, 1))
    assert len(leads.all_leads(session)) == 1


@pytest.mark.parametrize(
    ("postcode", "district"),
    [("SG1 2AB", "stevenage"), ("sg12ab", "stevenage"), ("SG4 9AA", "north-herts"), ("", None)],
)
def test_where_a_person_lives_is_the_district_of_their_postcode(
    session: Session, world: World, postcode: str, district: str | None
) -> None:
    world.person.postcode = postcode or None
    found = leads.district_of_person(session, world.person)
    assert (found.code if found else None) == district


def test_a_person_in_the_area_has_its_leads(session: Session, world: World) -> None:
    lead = _name(session, world, world.provider).lead
    world.person.postcode = "SG2 7QT"
    assert leads.leads_for_person(session, world.person, TODAY) == [lead]
    world.person.postcode = "AL1 3JE"
    assert leads.leads_for_person(session, world.person, TODAY) == []


def test_the_lead_services_are_its_public_ones_in_its_category_covering_the_area(
    session: Session,
    world: World,
    make_listing: Callable[..., Service],
) -> None:
    lead = _name(session, world, world.provider).lead
    elsewhere = make_listing(world.provider, name="Home care in Hitchin")
    elsewhere.localities = [hitchin(session)]
    in_a_town = make_listing(world.provider, name="Home care in Stevenage town")
    in_a_town.localities = [_place("stevenage-town")(session)]
    draft = make_listing(world.provider, name="Not yet published")
    draft.status = draft.status.DRAFT
    session.commit()
    here = stevenage(session)
    found = leads.lead_services_for_area(session, here, leads.leads_in(session, here, TODAY))
    assert found == {str(world.service.id): lead, str(in_a_town.id): lead}
    assert leads.leads_in(session, north_herts(session), TODAY) == []
    assert leads.label_for(session, lead) == (
        "Lead provider for help at home in Stevenage: the council's chosen provider for this area"
    )


def _order(session: Session, world: World, service: Service, key: str) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key=key,
    )
    session.commit()
    return order


def test_the_report_shares_each_areas_care_between_its_lead_and_the_rest(
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    world.person.postcode = "SG1 1AA"
    other = make_organisation("Bluebell Home Care")
    others_service = make_listing(other, name="Bluebell visits", price_pence=30_00)
    _name(session, world, world.provider)
    _name(session, world, world.provider, locality=north_herts(session))
    through_lead = _order(session, world, world.service, "lead")
    elsewhere = _order(session, world, others_service, "other")
    cancelled = _order(session, world, world.service, "cancelled")
    life.cancel(session, cancelled, by=world.citizen, today=TODAY)
    session.commit()

    rows = lead_share_report(session, APRIL, date(2027, 3, 31))
    assert [(row.district.name, row.category) for row in rows] == [
        ("North Herts", "help at home"),
        ("Stevenage", "help at home"),
    ]
    north, here = rows
    assert north.ordered_pence == 0
    assert north.share_percent is None
    assert through_lead.total_pence == 8 * 2 * 26_00
    assert elsewhere.total_pence == 8 * 2 * 30_00
    assert here.ordered_pence == through_lead.total_pence + elsewhere.total_pence
    assert here.through_lead_pence == through_lead.total_pence
    assert here.share_percent == 46  # 832 of 1,792
    assert here.orders == {through_lead.id, elsewhere.id}

    # Another period holds none of this care.
    assert lead_share_report(session, date(2026, 7, 6), date(2027, 3, 31))[1].ordered_pence == 0
    # Someone living elsewhere is not in Stevenage's figures.
    world.person.postcode = "AL1 1AA"
    assert lead_share_report(session, APRIL, date(2027, 3, 31))[1].ordered_pence == 0


def test_care_counts_for_the_lead_in_force_on_the_day_it_began(
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
) -> None:
    world.person.postcode = "SG1 1AA"
    _name(session, world, world.provider)
    _order(session, world, world.service, "before")
    # From the order's first day (8 June) on, someone else is the lead.
    _name(session, world, make_organisation("Bluebell Home Care"), starts_on=date(2026, 6, 8))
    (row,) = lead_share_report(session, APRIL, date(2027, 3, 31))
    assert row.ordered_pence == 8 * 2 * 26_00
    assert row.through_lead_pence == 0
    assert [lead.organisation.name for lead in row.leads] == [
        "Chiltern Home Care",
        "Bluebell Home Care",
    ]


def test_officers_naming_leads_for_one_area_at_once_leave_one_in_force(
    make_app: Callable[..., Flask],
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
) -> None:
    """Each naming in its own thread, session and connection: the area's lock makes each see
    the one before, so one lead is in force on any day (SQLite and PostgreSQL)."""
    names = 4
    providers = [make_organisation(f"Provider {number}").id for number in range(names)]
    session.commit()
    area_id, officer_id = stevenage(session).id, world.officer.id
    officers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(names))

    def name(number: int) -> None:
        leads.name_lead(
            db.session,
            locality=db.session.get_one(Locality, area_id),
            category_code="help-at-home",
            organisation=db.session.get_one(Organisation, providers[number]),
            starts_on=APRIL,
            reason="Won the contract",
            by=db.session.get_one(User, officer_id),
            today=APRIL,
        )

    assert run_together(officers, names, name) == ["ok"] * names
    session.expire_all()
    everything = leads.all_leads(session)
    assert len(everything) == names
    assert [lead.ends_on for lead in everything].count(None) == 1
    for day in (APRIL, date(2026, 9, 1)):
        in_force = session.scalars(select(LeadProvider).where(leads.in_force(day))).all()
        assert len(in_force) == 1


@pytest.mark.parametrize(
    ("place", "district", "has_lead"),
    [
        ("stevenage", "stevenage", True),
        ("stevenage-town", "stevenage", True),
        ("Stevenage", "stevenage", True),
        ("SG2", "stevenage", True),
        ("sg1 2ab", "stevenage", True),
        ("hitchin", "north-herts", False),
        ("Narnia", None, False),
        ("", None, False),
    ],
)
def test_an_area_named_on_the_search_page_is_its_district_with_its_leads(
    session: Session, world: World, place: str, district: str | None, has_lead: bool
) -> None:
    lead = _name(session, world, world.provider).lead
    found, its_leads = leads.area_and_leads(session, place, TODAY)
    assert (found.code if found else None) == district
    assert its_leads == ([lead] if has_lead else [])
