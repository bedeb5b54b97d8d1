"""Finding orders, deliveries and invoices for the pages and the API. Reads only; who may see
what is decided by the policy (`view_order` and friends), not here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.budgets.models import FunderPot, PersonalBudget
from marketplace.orders.models import (
    CycleState,
    Delivery,
    DeliveryStatus,
    Invoice,
    InvoiceStatus,
    Order,
    OrderCycle,
    OrderEvent,
    OrderStatus,
)
from marketplace.types import Session
from providers.models import Organisation, Service

PAGE_SIZE = 25


def order_by_id(session: Session, order_id: uuid.UUID) -> Order | None:
    return session.get(Order, order_id)


def order_for_page(session: Session, order_id: uuid.UUID, *, streams: bool = False) -> Order | None:
    """The order as its pages read it, with what they show of it loaded alongside in one
    statement per kind of thing, however many cycles, budgets or steps it has: its provider and
    person, its cycles with the budget (and, with `streams`, that budget's streams) or
    reablement pot (and its funder) that paid each, and its timeline with who took each step.
    Loaded one at a time on first use instead, a package carried across periods, or an order
    whose steps were taken by several people, issued a statement per budget, stream list and
    actor."""
    budget = joinedload(OrderCycle.budget)
    return session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .options(
            joinedload(Order.organisation),
            joinedload(Order.person),
            selectinload(Order.cycles).options(
                budget.selectinload(PersonalBudget.streams) if streams else budget,
                joinedload(OrderCycle.pot).joinedload(FunderPot.funder),
            ),
            selectinload(Order.events).options(
                joinedload(OrderEvent.actor), joinedload(OrderEvent.token)
            ),
        )
    )


def order_by_reference(session: Session, reference: str) -> Order | None:
    return session.scalar(select(Order).where(Order.reference == reference.strip().upper()))


def delivery_by_id(session: Session, delivery_id: uuid.UUID) -> Delivery | None:
    return session.get(Delivery, delivery_id)


def invoice_by_id(session: Session, invoice_id: uuid.UUID) -> Invoice | None:
    return session.get(Invoice, invoice_id)


def cycle_by_id(session: Session, cycle_id: uuid.UUID) -> OrderCycle | None:
    return session.get(OrderCycle, cycle_id)


def _newest_first(query: Select[tuple[Order]]) -> Select[tuple[Order]]:
    return query.order_by(Order.placed_at.desc(), Order.id)


def orders_of_person(
    session: Session, person_id: uuid.UUID, *, open_only: bool = False
) -> list[Order]:
    query = select(Order).where(Order.person_id == person_id)
    if open_only:
        query = query.where(Order.status.in_([s for s in OrderStatus if s.is_open]))
    return list(session.scalars(_newest_first(query)))


# The provider's inbox: each tab is a set of statuses (or, for "to invoice", held cycles).
PROVIDER_TABS: dict[str, tuple[OrderStatus, ...]] = {
    "new": (OrderStatus.PLACED,),
    "accepted": (OrderStatus.ACCEPTED,),
    "in_progress": (OrderStatus.IN_PROGRESS,),
    "closed": (OrderStatus.COMPLETED, OrderStatus.DECLINED, OrderStatus.CANCELLED),
}


def _reached_provider() -> ColumnElement[bool]:
    """Orders the council refused before they reached the provider are not the provider's,
    nor orders cancelled (or expired) before they were paid."""
    return ~Order.id.in_(
        select(OrderEvent.order_id).where(
            or_(
                OrderEvent.kind == "refuse",
                and_(
                    OrderEvent.from_status == OrderStatus.AWAITING_PAYMENT,
                    OrderEvent.to_status == OrderStatus.CANCELLED,
                ),
            )
        )
    )


def orders_of_organisation(
    session: Session, organisation_id: uuid.UUID, *, tab: str = "new"
) -> list[Order]:
    """An organisation's orders in one inbox tab; "to_invoice" lists accepted or started
    orders with a held cycle that has ended by today's date (see `orders_to_invoice`)."""
    statuses = PROVIDER_TABS[tab]
    query = select(Order).where(
        Order.organisation_id == organisation_id, Order.status.in_(statuses), _reached_provider()
    )
    return list(session.scalars(_newest_first(query)))


def orders_to_invoice(session: Session, organisation_id: uuid.UUID, today: date) -> list[Order]:
    """Accepted or started orders with a cycle still held whose period has ended."""
    ended = select(OrderCycle.order_id).where(
        OrderCycle.state == CycleState.HELD, OrderCycle.ends_on <= today
    )
    query = select(Order).where(
        Order.organisation_id == organisation_id,
        Order.status.in_([OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS]),
        Order.id.in_(ended),
    )
    return list(session.scalars(_newest_first(query)))


def inbox_counts(session: Session, organisation_id: uuid.UUID, today: date) -> dict[str, int]:
    counts = dict.fromkeys(PROVIDER_TABS, 0)
    rows = session.execute(
        select(Order.status, func.count())
        .where(Order.organisation_id == organisation_id, _reached_provider())
        .group_by(Order.status)
    ).all()
    for status, count in rows:
        for tab, statuses in PROVIDER_TABS.items():
            if status in statuses:
                counts[tab] += count
    counts["to_invoice"] = len(orders_to_invoice(session, organisation_id, today))
    return counts


@dataclass(frozen=True)
class OrderFilters:
    """The council's filters on all orders; None means any."""

    status: OrderStatus | None = None
    organisation_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    placed_from: date | None = None
    placed_to: date | None = None
    reference: str | None = None


def all_orders(
    session: Session, filters: OrderFilters, *, page: int = 1, per_page: int = PAGE_SIZE
) -> tuple[list[Order], int]:
    """One page of every order matching the filters, newest first, and how many match (a page
    past the end is empty). The count reads only the orders' own columns; the page's (placed,
    id) pairs are sorted, skipped and cut in a subquery and only its rows read whole, never
    every matching order's whole row (issue 22)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.status is not None:
        conditions.append(Order.status == filters.status)
    if filters.organisation_id is not None:
        conditions.append(Order.organisation_id == filters.organisation_id)
    if filters.person_id is not None:
        conditions.append(Order.person_id == filters.person_id)
    if filters.reference:
        conditions.append(Order.reference == filters.reference.strip().upper())
    if filters.placed_from is not None:
        conditions.append(func.date(Order.placed_at) >= filters.placed_from)
    if filters.placed_to is not None:
        conditions.append(func.date(Order.placed_at) <= filters.placed_to)
    total = session.scalar(select(func.count(Order.id)).where(*conditions)) or 0
    offset = (max(page, 1) - 1) * per_page
    if offset >= total:
        return [], total
    chosen = (
        select(Order.placed_at, Order.id)
        .where(*conditions)
        .order_by(Order.placed_at.desc(), Order.id)
        .limit(per_page)
        .offset(offset)
        .subquery("chosen")
    )
    rows = session.scalars(
        select(Order)
        .join(chosen, Order.id == chosen.c.id)
        .order_by(chosen.c.placed_at.desc(), chosen.c.id)
        .options(selectinload(Order.person), selectinload(Order.organisation))
    )
    return list(rows), total


def organisations_with_orders(session: Session) -> list[Organisation]:
    """The organisations that have ever had an order, by name: the providers the council's
    orders can be filtered by (not the whole directory, which may hold thousands that never
    had one)."""
    return list(
        session.scalars(
            select(Organisation)
            .where(exists().where(Order.organisation_id == Organisation.id))
            .order_by(Organisation.name, Organisation.id)
        )
    )


def invoices_of_organisation(
    session: Session, organisation_id: uuid.UUID, *, status: InvoiceStatus | None = None
) -> list[Invoice]:
    """The organisation's invoices, newest first, with the order, cycle and deliveries each
    line of the invoices page shows loaded in three queries (not three for each invoice)."""
    query = (
        select(Invoice)
        .where(Invoice.organisation_id == organisation_id)
        .options(
            selectinload(Invoice.order),
            selectinload(Invoice.cycle),
            selectinload(Invoice.deliveries),
        )
    )
    if status is not None:
        query = query.where(Invoice.status == status)
    return list(session.scalars(query.order_by(Invoice.raised_at.desc())))


def invoices_to_settle(session: Session) -> list[Invoice]:
    """Raised invoices, oldest first, for the council to settle (held ones included, marked by
    their queried deliveries)."""
    return list(
        session.scalars(
            select(Invoice)
            .where(Invoice.status == InvoiceStatus.RAISED)
            .order_by(Invoice.raised_at)
            .options(selectinload(Invoice.deliveries))
        )
    )


def deliveries_to_confirm(session: Session, person_id: uuid.UUID) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .join(Order)
            .where(Order.person_id == person_id, Delivery.status == DeliveryStatus.RECORDED)
            .order_by(Delivery.delivered_on)
        )
    )


def paid_by_stream(order: Order) -> dict[str, int]:
    """Pence held for the order on each stream (by stream id string), summed over its cycles
    as placed, and on each reablement pot ("pot:<id>"); what was finally spent is on the
    budget's statement."""
    totals: dict[str, int] = {}
    for cycle in order.cycles:
        if cycle.pot_id is not None:
            # Reablement (issue 18): the whole cycle from a funder's pot, keyed "pot:<id>".
            key = f"pot:{cycle.pot_id}"
            totals[key] = totals.get(key, 0) + cycle.amount_pence
            continue
        for stream_id, pence in (cycle.split or {}).items():
            totals[stream_id] = totals.get(stream_id, 0) + pence
    return totals


def ids(values: Sequence[str]) -> list[uuid.UUID]:
    """Parse ids from a form, skipping anything that is not one."""
    parsed = []
    for value in values:
        try:
            parsed.append(uuid.UUID(value))
        except (TypeError, ValueError):
            continue
    return parsed


def service_by_id(session: Session, service_id: uuid.UUID) -> Service | None:
    """A listing by id, whatever its state: whether it can be ordered is `checkout`'s say."""
    return session.get(Service, service_id)


def with_providers(session: Session, orders: Sequence[Order]) -> None:
    """Give each order its `organisation`, all read in one statement (none for no orders),
    instead of one lazy load a provider when a page lists them and names each provider."""
    if not orders:
        return
    providers = {
        organisation.id: organisation
        for organisation in session.scalars(
            select(Organisation).where(Organisation.id.in_({o.organisation_id for o in orders}))
        )
    }
    for order in orders:
        set_committed_value(order, "organisation", providers[order.organisation_id])
