"""The orders API's answers: an order with what was bought (as priced when it was placed), its
schedule, the money held per invoicing cycle and per funding stream, its timeline, deliveries
and invoices. Money in integer pence, dates `YYYY-MM-DD`, times ISO 8601 UTC, ids UUIDs.

Who did each step is given by role only (`actor_role`): the timeline is shown to the person,
the provider and the council alike, and names are not needed to follow it.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from marketplace.orders import life
from marketplace.orders.models import (
    Delivery,
    Invoice,
    Order,
    OrderCycle,
    OrderEvent,
    OrderStatus,
)
from marketplace.orders.queries import paid_by_stream
from marketplace.orders.schedule import schedule_of

Json = dict[str, Any]


def _shares(order: Order, split: dict[str, int]) -> list[Json]:
    """A {stream id: pence} split as a list in the budget's draw order, with each stream's
    kind. A package's cycles may each be paid by a different budget (it carries over from
    one period into the next): the streams of every budget that paid a cycle, the earliest
    budget first, count."""
    budgets = {cycle.budget.id: cycle.budget for cycle in order.cycles if cycle.budget}
    if order.budget is not None:
        budgets.setdefault(order.budget.id, order.budget)
    if not budgets:  # a reablement order: paid from a funder's pot, no streams
        return []
    streams = sorted(
        (stream for budget in budgets.values() for stream in budget.streams),
        key=lambda stream: (stream.budget.starts_on, stream.draw_order),
    )
    return [
        {"stream_id": str(stream.id), "kind": stream.kind.value, "pence": split[str(stream.id)]}
        for stream in streams
        if split.get(str(stream.id))
    ]


def _cycle(order: Order, cycle: OrderCycle) -> Json:
    return {
        "id": str(cycle.id),
        "number": cycle.number,
        "starts_on": cycle.starts_on.isoformat(),
        "ends_on": cycle.ends_on.isoformat(),
        "units": cycle.units,
        "amount_pence": cycle.amount_pence,
        "state": cycle.state.value,
        "split": _shares(order, cycle.split or {}),
    }


def event(found: OrderEvent) -> Json:
    return {
        "kind": found.kind,
        "from_status": found.from_status.value if found.from_status else None,
        "to_status": found.to_status.value if found.to_status else None,
        "actor_role": found.actor.role.value if found.actor else None,
        "through_api_token": found.token_id is not None,
        "reason": found.reason,
        "details": found.details or {},
        "happened_at": found.happened_at.isoformat(),
    }


def delivery(found: Delivery) -> Json:
    return {
        "id": str(found.id),
        "order_id": str(found.order_id),
        "cycle_id": str(found.cycle_id),
        "delivered_on": found.delivered_on.isoformat(),
        "units": found.units,
        "note": found.note,
        "status": found.status.value,
        "query_reason": found.query_reason,
        "invoice_id": str(found.invoice_id) if found.invoice_id else None,
        "recorded_at": found.recorded_at.isoformat(),
    }


def invoice(found: Invoice) -> Json:
    return {
        "id": str(found.id),
        "reference": found.reference,
        "order_id": str(found.order_id),
        "cycle_id": str(found.cycle_id),
        "amount_pence": found.amount_pence,
        "status": found.status.value,
        "raised_at": found.raised_at.isoformat(),
        "settled_at": found.settled_at.isoformat() if found.settled_at else None,
    }


def _links(order: Order) -> Json:
    """The order itself, and the moves its state allows now (whoever may make them)."""
    links = {"self": url_for("api.get_order", order_id=order.id)}
    if life.allowed(order, life.Move.CANCEL) or life.allowed(order, life.Move.CANCEL_REST):
        links["cancel"] = url_for("api.cancel_order", order_id=order.id)
    if life.allowed(order, life.Move.APPROVE):
        links["approve"] = url_for("api.approve_order", order_id=order.id)
    if life.allowed(order, life.Move.REFUSE):
        links["refuse"] = url_for("api.refuse_order", order_id=order.id)
    if life.allowed(order, life.Move.ACCEPT):
        links["accept"] = url_for("api.accept_order", order_id=order.id)
    if life.allowed(order, life.Move.DECLINE):
        links["decline"] = url_for("api.decline_order", order_id=order.id)
    if order.status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
        links["deliveries"] = url_for("api.record_order_delivery", order_id=order.id)
    return links


def order(found: Order) -> Json:
    schedule = schedule_of(found)
    return {
        "id": str(found.id),
        "reference": found.reference,
        "status": found.status.value,
        "person_id": str(found.person_id),
        "budget_id": str(found.budget_id),
        "placed_at": found.placed_at.isoformat(),
        "service": {
            "id": str(found.service_id),
            "name": found.service_name,
            "organisation_id": str(found.organisation_id),
            "organisation_name": found.organisation.name,
            "unit_price_pence": found.unit_price_pence,
            "price_unit": found.price_unit.value,
            "category_codes": list(found.category_codes or []),
        },
        "schedule": {
            "kind": found.schedule_kind.value,
            "starts_on": found.starts_on.isoformat(),
            # None for an open-ended package ("until further notice").
            "ends_on": found.ends_on.isoformat() if found.ends_on else None,
            "units_per_occasion": found.units_per_occasion,
            "weeks": found.weeks,
            # PACKAGES (issue 18): an open-ended package, its cycles held as budgets release.
            "until_further_notice": found.open_ended,
            "days": list(found.days or []),
            "units_per_week": schedule.units_per_week,
            "description": schedule.describe(),
        },
        "total_units": found.total_units,
        "total_pence": found.total_pence,
        "invoice_cycle": found.invoice_cycle.value,
        "notice_days": found.notice_days,
        "cancelled_from": found.cancelled_from.isoformat() if found.cancelled_from else None,
        "paid_by_stream": _shares(found, paid_by_stream(found)),
        "cycles": [_cycle(found, cycle) for cycle in found.cycles],
        "events": [event(item) for item in found.events],
        "deliveries": [delivery(item) for item in found.deliveries],
        "invoices": [invoice(item) for item in found.invoices],
        "links": _links(found),
    }
