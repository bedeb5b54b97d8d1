"""Lead providers by area (issue 18, item 7): the provider the council names as lead for a care
category in a district, as Hertfordshire's home care contracts do.

One lead at a time for a district and category: naming a new one ends the one before (its
`ends_on`, the last day it leads, becomes the day before the new one starts), and every naming
is kept as the history. `ends_on` is inclusive: a lead is in force on `day` when `starts_on <=
day` and (`ends_on` is None or `day <= ends_on`). A naming replaced before it began ends the
day before its own start: it was never in force, and the history still shows it.

Search shows a lead's services first to people in its district (the public search view calls
`lead_services_for_area`), labelled with `label_for`. Where a person lives is the district
whose postcode districts include their postcode's first half.

Functions flush and never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.ledger.transactions import begin_immediate, dialect_name
from marketplace.people.models import Person
from marketplace.postcodes import OUTWARD_CODE, POSTCODE
from marketplace.types import Session
from providers.models import (
    LeadProvider,
    Locality,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Service,
    TaxonomyTerm,
    service_is_public,
)

# What the search page says beside a lead's services, after "Lead provider for ... in ...".
WHY = "the council's chosen provider for this area"


class LeadRefused(ValueError):
    """A naming the rules do not allow; `field` names the form field it is about."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = {"fields": {field: message}} if field else {}


@dataclass(frozen=True)
class Named:
    """What naming a lead did: the new lead, and the one it replaced (if any)."""

    lead: LeadProvider
    replaced: list[LeadProvider]


def in_force(on: date) -> ColumnElement[bool]:
    """The SQL condition: a lead in force on `on`."""
    return and_(
        LeadProvider.starts_on <= on,
        or_(LeadProvider.ends_on.is_(None), LeadProvider.ends_on >= on),
    )


def _lock_area(session: Session, locality: Locality) -> None:
    # Two officers naming a lead for one area at once: the second waits and then sees the first
    # (SQLite: the one write lock; PostgreSQL: the district's row), so one lead stays current.
    begin_immediate(session)
    if dialect_name(session) != "sqlite":
        session.execute(
            select(Locality.id).where(Locality.id == locality.id).with_for_update()
        ).one()


def category(session: Session, code: str) -> TaxonomyTerm | None:
    return session.scalar(select(TaxonomyTerm).where(TaxonomyTerm.code == code))


def category_words(session: Session, code: str) -> str:
    """A category's name as it reads mid-sentence ("help at home")."""
    term = category(session, code)
    return _mid_sentence(term.name if term is not None else code)


def _mid_sentence(name: str) -> str:
    return name[:1].lower() + name[1:]


def name_lead(
    session: Session,
    *,
    locality: Locality,
    category_code: str,
    organisation: Organisation,
    starts_on: date,
    reason: str,
    by: User,
    today: date,
) -> Named:
    """Name `organisation` lead provider for `category_code` in the district `locality` from
    `starts_on` (today or later), ending the lead in force or due then. Refuses (LeadRefused)
    anyone but a council officer, a town or unknown category, a provider that is not approved,
    a date in the past, no reason, and naming the lead already in force from that date."""
    if not can(by, "manage_lead_providers"):
        raise LeadRefused("Only a council officer can name a lead provider")
    if locality.kind != "district":
        raise LeadRefused("Select one of the county's districts", field="locality")
    if category(session, category_code) is None:
        raise LeadRefused("Select a kind of care from the list", field="category")
    if (
        organisation.kind is not OrganisationKind.PROVIDER
        or organisation.status is not OrganisationStatus.APPROVED
    ):
        raise LeadRefused(
            f"{organisation.name} is not an approved care provider", field="organisation"
        )
    if starts_on < today:
        raise LeadRefused("The date it starts must be today or later", field="starts_on")
    reason = reason.strip()
    if not reason:
        raise LeadRefused("Enter why the council chose this provider", field="reason")
    _lock_area(session, locality)
    current = lead_for(session, locality.id, category_code, starts_on)
    if current is not None and current.organisation_id == organisation.id:
        raise LeadRefused(
            f"{organisation.name} is already the lead provider for "
            f"{category_words(session, category_code)} in {locality.name} on that date",
            field="organisation",
        )
    replaced = list(
        session.scalars(
            select(LeadProvider).where(
                LeadProvider.locality_id == locality.id,
                LeadProvider.category_code == category_code,
                or_(LeadProvider.ends_on.is_(None), LeadProvider.ends_on >= starts_on),
            )
        )
    )
    for earlier in replaced:
        # Ends the day before the new lead starts; one due to start later never begins.
        earlier.ends_on = max(starts_on, earlier.starts_on) - timedelta(days=1)
    lead = LeadProvider(
        locality=locality,
        category_code=category_code,
        organisation=organisation,
        starts_on=starts_on,
        ends_on=None,
        reason=reason,
        named_by_id=by.id,
    )
    session.add(lead)
    session.flush()
    return Named(lead=lead, replaced=replaced)


def lead_for(
    session: Session, locality_id: uuid.UUID, category_code: str, on: date
) -> LeadProvider | None:
    """The lead provider for `category_code` in the district `locality_id` on `on`, if any."""
    return session.scalar(
        select(LeadProvider)
        .where(
            LeadProvider.locality_id == locality_id,
            LeadProvider.category_code == category_code,
            in_force(on),
        )
        .order_by(LeadProvider.starts_on.desc())
        .limit(1)
    )


def leads_in(session: Session, district: Locality, on: date) -> list[LeadProvider]:
    """Every lead in force in `district` on `on`, one per category."""
    return list(
        session.scalars(
            select(LeadProvider)
            .where(LeadProvider.locality_id == district.id, in_force(on))
            .options(selectinload(LeadProvider.organisation))
            .order_by(LeadProvider.category_code)
        )
    )


def all_leads(session: Session) -> list[LeadProvider]:
    """Every naming, current and past, by district, category and then newest first."""
    return list(
        session.scalars(
            select(LeadProvider)
            .join(Locality, LeadProvider.locality_id == Locality.id)
            .options(selectinload(LeadProvider.organisation), selectinload(LeadProvider.locality))
            .order_by(Locality.name, LeadProvider.category_code, LeadProvider.starts_on.desc())
        )
    )


def outward_code(postcode: str | None) -> str:
    """A postcode's first half, its district ("SG1" of "SG1 2AB", of "sg12ab" or of "SG1")."""
    text = " ".join((postcode or "").upper().split())
    if " " in text:
        return text.split(" ")[0]
    # A full postcode typed without its space ends in its three-character second half.
    return text[:-3] if len(text) > 4 else text


def district_for_postcode(session: Session, postcode: str | None) -> Locality | None:
    """The district whose postcode districts include the postcode's first half ("SG1 2AB" or
    just "SG1"), or None."""
    outward = outward_code(postcode)
    if not outward:
        return None
    for district in session.scalars(select(Locality).where(Locality.kind == "district")):
        if outward in (district.postcode_districts or []):
            return district
    return None


def area_and_leads(
    session: Session, place: str, on: date
) -> tuple[Locality | None, list[LeadProvider]]:
    """The district `place` names (a locality's code or name, a town meaning its district, or a
    postcode or postcode district), and its leads in force on `on`: (None, []) when it names
    none. A locality is one statement, found or not, so a search pays one for its leads."""
    text = place.strip()
    if not text:
        return None, []
    named = select(func.coalesce(Locality.parent_id, Locality.id)).where(
        or_(Locality.code == text.lower(), Locality.name == text)
    )
    rows = session.execute(
        select(Locality, LeadProvider)
        .outerjoin(LeadProvider, and_(LeadProvider.locality_id == Locality.id, in_force(on)))
        .where(Locality.id.in_(named), Locality.kind == "district")
        .order_by(Locality.name, LeadProvider.category_code)
    ).all()
    if rows:
        district = rows[0][0]
        return district, [lead for place_, lead in rows if lead is not None and place_ is district]
    if not (OUTWARD_CODE.match(text.upper()) or POSTCODE.match(text.upper())):
        return None, []
    found = district_for_postcode(session, text)
    return found, leads_in(session, found, on) if found is not None else []


def district_of_person(session: Session, person: Person) -> Locality | None:
    return district_for_postcode(session, person.postcode)


def leads_for_person(session: Session, person: Person, on: date) -> list[LeadProvider]:
    """The leads in force on `on` in the district the person lives in (from their postcode)."""
    district = district_of_person(session, person)
    return leads_in(session, district, on) if district is not None else []


def label_for(session: Session, lead: LeadProvider) -> str:
    """What search says beside a lead's service, why it comes first."""
    return labels_for(session, [lead])[lead.id]


def lead_services_for_area(
    session: Session, district: Locality, leads: list[LeadProvider]
) -> dict[str, LeadProvider]:
    """The public services of each of `leads` (the district's, from `leads_in` or
    `area_and_leads`), by service id (as search's documents name them): those in the lead's
    category (or a kind of it) that cover the district (the district or a town in it, or, for
    a listing naming no areas, an area its organisation serves)."""
    if not leads:
        return {}
    covering = {district.id} | set(
        session.scalars(select(Locality.id).where(Locality.parent_id == district.id))
    )
    # One statement for every lead's services (plus their categories and areas), however many
    # leads the district has: the search page pays for this on every search in the area.
    by_organisation: dict[uuid.UUID, list[LeadProvider]] = {}
    for lead in leads:
        by_organisation.setdefault(lead.organisation_id, []).append(lead)
    services = session.scalars(
        select(Service)
        .join(Organisation, Service.organisation_id == Organisation.id)
        .where(Service.organisation_id.in_(by_organisation), service_is_public())
        .options(
            selectinload(Service.taxonomy_terms).selectinload(TaxonomyTerm.parent),
            selectinload(Service.localities),
        )
        .order_by(Service.name)
    )
    found: dict[str, LeadProvider] = {}
    for service in services:
        codes = {term.code for term in service.taxonomy_terms} | {
            term.parent.code for term in service.taxonomy_terms if term.parent is not None
        }
        areas = service.localities or service.organisation.areas
        if not covering & {area.id for area in areas}:
            continue
        for lead in by_organisation[service.organisation_id]:
            if lead.category_code in codes:
                found.setdefault(str(service.id), lead)
    return found


def labels_for(session: Session, leads: Iterable[LeadProvider]) -> dict[uuid.UUID, str]:
    """`label_for` of each lead, by lead id, reading their categories' names at once."""
    leads = list(leads)
    codes = {lead.category_code for lead in leads}
    names = {
        term.code: term.name
        for term in session.scalars(select(TaxonomyTerm).where(TaxonomyTerm.code.in_(codes)))
    }
    return {
        lead.id: f"Lead provider for {_mid_sentence(names.get(code, code))} in "
        f"{lead.locality.name}: {WHY}"
        for lead in leads
        for code in (lead.category_code,)
    }


def districts(session: Session) -> list[Locality]:
    """The county's districts, by name: the areas a lead is named for."""
    return list(
        session.scalars(select(Locality).where(Locality.kind == "district").order_by(Locality.name))
    )


def categories(session: Session) -> list[TaxonomyTerm]:
    """Every care category, each top category followed by its kinds."""
    tops = session.scalars(
        select(TaxonomyTerm)
        .where(TaxonomyTerm.parent_id.is_(None))
        .options(selectinload(TaxonomyTerm.children))
        .order_by(TaxonomyTerm.position)
    )
    return [term for top in tops for term in (top, *top.children)]


def approved_providers(session: Session) -> list[Organisation]:
    """The providers a lead may be: approved care providers, by name."""
    return list(
        session.scalars(
            select(Organisation)
            .where(
                Organisation.kind == OrganisationKind.PROVIDER,
                Organisation.status == OrganisationStatus.APPROVED,
            )
            .order_by(Organisation.name)
        )
    )
