"""What the provider of an order may see of the person it is for: enough to deliver it.

Plain rules: no Flask request code; nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.orders.models import Order, OrderStatus
from marketplace.people.models import ContactMethod

# The statuses in which the provider is delivering the order, and so may need to get in.
DELIVERING = frozenset({OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS})


@dataclass(frozen=True)
class DeliveryDetails:
    """What the provider of an order sees of the person it is for: enough to deliver it.

    No date of birth, budget or plan: a provider needs none of them to turn up. The key safe
    code and access notes are there only while the order is being delivered (`can_get_in`).
    """

    name: str
    address_lines: tuple[str, ...]
    postcode: str | None
    phone: str | None
    email: str | None
    preferred_contact: ContactMethod | None
    communication_needs: str | None
    can_get_in: bool
    key_safe_code: str | None
    access_notes: str | None


def delivery_details(order: Order, *, show_access: bool) -> DeliveryDetails:
    """What the order's provider sees of its person. `show_access` is the policy's answer
    (`can(user, "see_how_to_get_in", order)`); even then the key safe code and access notes
    are given only while the order is accepted or in progress. The email address is given
    only when the person prefers email: otherwise the phone is the way to reach them."""
    person = order.person
    getting_in = show_access and order.status in DELIVERING
    lines = (person.address_line_1, person.address_line_2, person.town, person.county)
    return DeliveryDetails(
        name=person.full_name,
        address_lines=tuple(line for line in lines if line),
        postcode=person.postcode,
        phone=person.phone,
        email=person.email if person.preferred_contact is ContactMethod.EMAIL else None,
        preferred_contact=person.preferred_contact,
        communication_needs=person.communication_needs,
        can_get_in=getting_in,
        key_safe_code=person.key_safe_code if getting_in else None,
        access_notes=person.access_notes if getting_in else None,
    )
