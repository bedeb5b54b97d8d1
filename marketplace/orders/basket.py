"""The basket: what a person means to buy, kept until checkout (`orders.checkout.check_out`)
orders it all or none. Adding an item checks what does not depend on money (the schedule,
whether the service can be ordered at all); the money is checked at checkout, under the
budget's locks.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import joinedload

from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.orders.errors import InvalidOrder, NotYours, ServiceUnavailable
from marketplace.orders.models import BasketItem, ScheduleKind
from marketplace.orders.schedule import Schedule, validation_problems
from marketplace.people.models import Person
from marketplace.types import Session
from providers.models import CapacityStatus, PriceUnit, Service


def basket_of(session: Session, person: Person) -> list[BasketItem]:
    """The person's basket, oldest first, with what pricing each item reads (its service,
    the service's provider and categories) loaded with it."""
    return list(
        session.scalars(
            select(BasketItem)
            .where(BasketItem.person_id == person.id)
            .order_by(BasketItem.created_at, BasketItem.id)
            .options(
                joinedload(BasketItem.service).joinedload(Service.organisation),
                joinedload(BasketItem.service).selectinload(Service.taxonomy_terms),
            )
        )
    )


def add_to_basket(
    session: Session,
    person: Person,
    service: Service,
    schedule: Schedule,
    *,
    by: User,
    today: date,
) -> BasketItem:
    """Put a service in the person's basket, after the checks that do not depend on money:
    a bad schedule or an unorderable service is refused here, not at checkout."""
    if not can(by, "place_order_for", person):
        raise NotYours("You cannot order for this person")
    problems = validation_problems(schedule, today=today)
    if problems:
        raise InvalidOrder("Check the details of the order", fields=problems)
    check_orderable(service, schedule)
    item = BasketItem(
        person_id=person.id,
        service_id=service.id,
        schedule_kind=schedule.kind,
        units_per_occasion=schedule.units_per_occasion,
        starts_on=schedule.starts_on,
        weeks=schedule.weeks if schedule.kind is ScheduleKind.RECURRING else None,
        days=list(schedule.days),
        added_by_id=by.id,
    )
    session.add(item)
    session.flush()
    return item


def remove_from_basket(session: Session, person: Person, item_id: uuid.UUID) -> bool:
    """Take the item out of the person's basket; False if it was not there (another
    person's item is not theirs to remove)."""
    # A DELETE answers with a cursor result, which counts the rows it removed.
    result = cast(
        CursorResult[Any],
        session.execute(
            delete(BasketItem).where(BasketItem.id == item_id, BasketItem.person_id == person.id)
        ),
    )
    return bool(result.rowcount)


def basket_item_key(item_id: uuid.UUID) -> str:
    """The placement key of the item's order: a second checkout of it finds that order."""
    return f"basket-item:{item_id}"


def check_orderable(service: Service, schedule: Schedule) -> None:
    """Refuse a service that cannot be bought from a budget now, or not on this schedule."""
    if not service.is_public:
        raise ServiceUnavailable(
            "This service is not available to order", service_id=str(service.id)
        )
    if service.capacity_status is not CapacityStatus.ACCEPTING:
        raise ServiceUnavailable(
            f"{service.name} is not taking new clients ({service.capacity_status.label.lower()})",
            service_id=str(service.id),
            capacity_status=service.capacity_status.value,
        )
    if not service.accepts_personal_budgets:
        raise ServiceUnavailable(
            f"{service.name} does not take payment from personal budgets",
            service_id=str(service.id),
        )
    if service.price_unit is PriceUnit.FREE:
        raise ServiceUnavailable(
            f"{service.name} is free: contact the provider to arrange it",
            service_id=str(service.id),
        )
    problems: dict[str, str] = {}
    if schedule.units_per_occasion < service.minimum_order:
        problems["units_per_occasion"] = (
            f"{service.name} takes orders of at least {service.minimum_order} at a time"
        )
    if service.earliest_start and schedule.starts_on < service.earliest_start:
        problems["starts_on"] = (
            f"{service.name} can start from {service.earliest_start:%-d %B %Y} at the earliest"
        )
    if service.capacity_free is not None and schedule.units_per_week > service.capacity_free:
        problems["units_per_occasion"] = (
            f"{service.name} has room for {service.capacity_free} a week at the moment"
        )
    if problems:
        raise InvalidOrder("Check the details of the order", fields=problems)
