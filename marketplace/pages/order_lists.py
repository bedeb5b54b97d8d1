"""What the pages listing a person's orders share: each row names the order's provider."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.orders.models import Order
from marketplace.types import Session
from providers.models import Organisation


def with_providers(session: Session, orders: Sequence[Order]) -> None:
    """Give each order its `organisation`, all read in one statement (none for no orders),
    instead of one lazy load a provider when a page names them."""
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
