"""The order's timeline, and telling the parties what concerns them. A notification names the
order it is about; each reader's page for it is linked at the edge (marketplace/links.py)."""

from __future__ import annotations

from typing import Any

from marketplace.accounts.models import User
from marketplace.accounts.principals import acting_token_id
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import (
    council_officers,
    notify,
    recipients_for_organisation,
    recipients_for_person,
)
from marketplace.orders.models import Order, OrderEvent, OrderStatus
from marketplace.types import Session


def record(
    session: Session,
    order: Order,
    kind: str,
    *,
    by: User | None,
    from_status: OrderStatus | None = None,
    to_status: OrderStatus | None = None,
    reason: str = "",
    **details: Any,
) -> OrderEvent:
    event = OrderEvent(
        order_id=order.id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor_id=by.id if by else None,
        # A step taken through an API token names the token too (and so who made it).
        token_id=acting_token_id(session),
        reason=reason,
        details=details,
    )
    session.add(event)
    session.flush()
    return event


def tell_person(session: Session, order: Order, kind: NotificationKind, title: str) -> None:
    notify(
        session,
        recipients_for_person(session, order.person_id),
        kind,
        title=title,
        order_id=order.id,
    )


def tell_provider(session: Session, order: Order, kind: NotificationKind, title: str) -> None:
    notify(
        session,
        recipients_for_organisation(session, order.organisation_id),
        kind,
        title=title,
        order_id=order.id,
    )


def tell_council(session: Session, order: Order, kind: NotificationKind, title: str) -> None:
    notify(session, council_officers(session), kind, title=title, order_id=order.id)
