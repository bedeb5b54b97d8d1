"""Where a notification points, for the person reading it. The rules record what happened (an
order's id, on the notification); the address of the page about it is made here, at the edge,
from the app's own URL map, for the reader's kind of user (a citizen, a provider's staff and
the council each have their own page for one order)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from marketplace.accounts.roles import Role
    from marketplace.notifications.models import Notification

# Each kind of user's page for one order; others have none. Keyed by the role's value (a Role
# is a str enum, so Role.CITIZEN finds "citizen"): importing accounts/ here would be a cycle,
# since the notifications' rules import this module and accounts/ imports its pages.
ORDER_PAGES: dict[str, str] = {
    "citizen": "citizens.order_page",
    "provider_staff": "provider_portal.order",
    "council_officer": "council.order",
}


def order_page(role: Role, order_id: uuid.UUID) -> str | None:
    """The path of the order's page for this kind of user (None if they have no such page).
    Built from the URL map rather than a request, so a scheduled job makes the same paths."""
    endpoint = ORDER_PAGES.get(role)
    if endpoint is None:
        return None
    return current_app.url_map.bind("localhost").build(endpoint, {"order_id": order_id})


def notification_link(notification: Notification, role: Role) -> str | None:
    """The path a notification links to for a reader of this kind: its stored link (rows
    written before orders stored their id, and the other rules' links), else the page of the
    order it is about."""
    if notification.link is not None:
        return notification.link
    if notification.order_id is not None:
        return order_page(role, notification.order_id)
    return None
