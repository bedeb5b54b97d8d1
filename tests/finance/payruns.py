"""Helpers for the payment-run tests: settled (and unsettled) invoices made through the rules,
from two providers, with the money from the person's contribution, an NHS pot line and the
council, and by card."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import FunderPotLine, StreamKind
from marketplace.finance import payment_runs
from marketplace.finance.models import PaymentRun
from marketplace.finance.verify import check_payment_runs
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import Invoice, Order
from marketplace.types import utcnow
from providers.models import Organisation, Service
from tests.orders.fixtures import OCCASIONS, TODAY, World, assert_ledger_verifies

INVOICED_ON = date(2026, 7, 6)


@dataclass
class Second:
    """Another provider, its staff and listing."""

    provider: Organisation
    staff: User
    service: Service


def make_second(
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
    make_listing: Callable[..., Service],
) -> Second:
    provider = make_organisation("Abbey Care Services")
    staff = make_user(Role.PROVIDER_STAFF, organisation=provider)
    return Second(provider, staff, make_listing(provider, name="Night sitting", price_pence=30_00))


def name_nhs_line(session: Session, world: World) -> FunderPotLine:
    """The NHS stream names the ICB pot's 'Continuing healthcare' line (cost centre CHC-01)."""
    nhs = next(s for s in world.budget.streams if s.kind is StreamKind.NHS)
    assert nhs.pot is not None
    line = FunderPotLine(pot=nhs.pot, name="Continuing healthcare", cost_centre="CHC-01")
    session.add(line)
    nhs.pot_line = line
    session.commit()
    return line


def delivered(
    session: Session, world: World, service: Service, staff: User, *, key: str
) -> Invoice:
    """An order of 2 hours on Mondays and Thursdays for 4 weeks from 8 June, every visit
    delivered, invoiced (raised, not settled)."""
    order: Order = checkout.place_order(
        session,
        world.person,
        service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key=key,
    )
    life.accept(session, order, by=staff)
    for day in OCCASIONS:
        deliveries.record_delivery(
            session, order, by=staff, delivered_on=day, units=2, note="", today=INVOICED_ON
        )
    invoice = invoicing.raise_invoice(session, order, order.cycles[0], by=staff, today=INVOICED_ON)
    session.commit()
    return invoice


def settle(session: Session, world: World, invoice: Invoice) -> Invoice:
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()
    return invoice


def make(
    session: Session, by: User, *, until: datetime | None = None, **centres: str
) -> PaymentRun:
    """Preview then make a run, as the pages do; committed."""
    settled_until = until or utcnow() + timedelta(seconds=1)
    preview = payment_runs.preview_run(session, settled_until=settled_until, cost_centres=centres)
    run = payment_runs.make_run(
        session,
        settled_until=settled_until,
        fingerprint=preview.fingerprint,
        by=by,
        cost_centres=centres,
    )
    session.commit()
    return run


def assert_all_verifies(session: Session) -> None:
    assert_ledger_verifies(session)
    problems, _ = check_payment_runs(session)
    assert problems == []
