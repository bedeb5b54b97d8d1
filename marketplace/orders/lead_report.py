"""How much of each area's care goes through its lead provider (issue 18, item 7).

For each district and care category that had a lead provider during a period: the money of
the care ordered for people living in the district in that category, and how much of it went to
the lead in force on the day each piece of care began.

The money counted is each invoicing cycle's amount (what was ordered and held for it), for the
cycles that begin in the period: an ongoing package counts the cycles it has made so far, a
fixed order the cycles falling in the period, so a year's figure is that year's care whenever
it was ordered. Released cycles (cancelled care, nothing delivered) are not counted. Where a
person lives is their postcode's district now (`providers.lead_providers.district_for_postcode`);
people without a postcode are in no area. An order counts under a category when the category
is one of its service's categories or their parents (`Order.category_codes`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select

from marketplace.orders.models import CycleState, Order, OrderCycle
from marketplace.people.models import Person
from marketplace.types import Session
from providers.lead_providers import category_words, outward_code
from providers.models import LeadProvider, Locality


@dataclass
class LeadShare:
    """One district and category: its leads during the period and the money of its care."""

    district: Locality
    category_code: str
    category: str
    leads: list[LeadProvider]
    ordered_pence: int = 0
    through_lead_pence: int = 0
    orders: set[uuid.UUID] = field(default_factory=set)

    @property
    def elsewhere_pence(self) -> int:
        return self.ordered_pence - self.through_lead_pence

    @property
    def share_percent(self) -> int | None:
        """The lead's share, a whole percentage (halves rounded up); None when nothing was
        ordered."""
        if not self.ordered_pence:
            return None
        return (200 * self.through_lead_pence + self.ordered_pence) // (2 * self.ordered_pence)


def lead_share_report(session: Session, since: date, until: date) -> list[LeadShare]:
    """For every district and category with a lead in force on some day from `since` to
    `until` (both included): the care ordered there in that category, by its cycles beginning
    in those days, and the part of it from the lead in force on each cycle's first day. By
    district name, then category."""
    leads = list(
        session.scalars(
            select(LeadProvider)
            .where(
                LeadProvider.starts_on <= until,
                or_(LeadProvider.ends_on.is_(None), LeadProvider.ends_on >= since),
            )
            .order_by(LeadProvider.starts_on)
        )
    )
    # A naming replaced before it began was never in force.
    leads = [lead for lead in leads if lead.ends_on is None or lead.ends_on >= lead.starts_on]
    rows: dict[tuple[uuid.UUID, str], LeadShare] = {}
    for lead in leads:
        key = (lead.locality_id, lead.category_code)
        if key not in rows:
            rows[key] = LeadShare(
                district=lead.locality,
                category_code=lead.category_code,
                category=category_words(session, lead.category_code),
                leads=[],
            )
        rows[key].leads.append(lead)
    if not rows:
        return []
    district_of_outward = {
        outward: district.id
        for district in session.scalars(select(Locality).where(Locality.kind == "district"))
        for outward in district.postcode_districts or []
    }
    categories_by_district: dict[uuid.UUID, list[LeadShare]] = defaultdict(list)
    for (district_id, _), row in rows.items():
        categories_by_district[district_id].append(row)
    cycles = session.execute(
        select(
            OrderCycle.starts_on,
            OrderCycle.amount_pence,
            Order.id,
            Order.organisation_id,
            Order.category_codes,
            Person.postcode,
        )
        .join(Order, OrderCycle.order_id == Order.id)
        .join(Person, Order.person_id == Person.id)
        .where(
            OrderCycle.starts_on >= since,
            OrderCycle.starts_on <= until,
            OrderCycle.state != CycleState.RELEASED,
        )
    )
    for starts_on, amount, order_id, organisation_id, codes, postcode in cycles:
        home = district_of_outward.get(outward_code(postcode))
        if home is None:
            continue
        for row in categories_by_district.get(home, []):
            if row.category_code not in (codes or []):
                continue
            row.ordered_pence += amount
            row.orders.add(order_id)
            in_force = next(
                (
                    lead
                    for lead in reversed(row.leads)
                    if lead.starts_on <= starts_on
                    and (lead.ends_on is None or starts_on <= lead.ends_on)
                ),
                None,
            )
            if in_force is not None and in_force.organisation_id == organisation_id:
                row.through_lead_pence += amount
    return sorted(rows.values(), key=lambda row: (row.district.name, row.category))
