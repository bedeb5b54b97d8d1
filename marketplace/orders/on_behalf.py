"""Buying and paying for someone else (issue 17): a broker, or a family member, acting under
a consent the person gave.

Who acts for whom is decided by the policy (`accounts.policy`: a live consent covering the
scope); this module says what the orders' and payments' rules record and refuse when someone
acts that way:
- the consent is read afresh under the purchase's locks, so one withdrawn or ended after the
  basket page was shown (or while another purchase waited on the lock) refuses the purchase;
- someone who is not the person's attorney (a broker, or a family member holding a consent
  of the person's own) orders only what the person approved on a shortlist;
- the order and a card payment name the consent they were made under, the order's timeline
  says who placed it for the person, and the person is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.policy import can, is_attorney, live_consent
from marketplace.accounts.roles import Role
from marketplace.notifications.models import NotificationKind
from marketplace.orders import events
from marketplace.orders.errors import NotYours, OrderError
from marketplace.orders.models import Order, OrderStatus
from marketplace.people.models import Consent, ConsentScope, Person
from marketplace.people.shortlists import approved_choice
from marketplace.types import Session
from providers.models import Service

# What each scope lets the holder do, in the words of a refusal ("... does not let you <it>").
_DOING = {
    ConsentScope.ORDER: "place orders for them",
    ConsentScope.PAY: "pay by card for them",
}


class NotApproved(OrderError):
    """Someone ordering for a person under their consent (not their attorney) chose a service
    the person has not approved on a shortlist."""

    code = "not_approved"


def acts_as_themselves(by: User, person: Person) -> bool:
    """True when `by` is the person's own account or a council officer: they buy under no
    consent (the officer's own authority, or the person's)."""
    return by.role is Role.COUNCIL_OFFICER or (
        by.role is Role.CITIZEN and by.person_id == person.id
    )


def reread_consents(session: Session, person: Person) -> None:
    """Read the person's consents again from the database (their rows and the list), so a
    consent withdrawn or ended by another request since they were loaded is seen. Called under
    the purchase's locks, at the last moment before anything is written."""
    session.execute(
        select(Consent)
        .where(Consent.person_id == person.id)
        .execution_options(populate_existing=True)
    ).scalars().all()
    session.expire(person, ["consents"])


def acting_consent(
    session: Session, by: User, person: Person, scope: ConsentScope
) -> Consent | None:
    """The live consent `by` acts under for `person` in `scope`, read afresh; None when they
    act as themselves (the person, or a council officer). Raises NotYours, in words for the
    one acting, when they hold no live consent covering `scope`."""
    if acts_as_themselves(by, person):
        return None
    reread_consents(session, person)
    consent = live_consent(by, person, scope)
    if consent is None:
        raise NotYours(refusal_for(by, person, scope), scope=str(scope))
    return consent


def refusal_for(by: User, person: Person, scope: ConsentScope) -> str:
    """Why `by` may not do `scope` for the person, in plain words: no live consent at all
    (withdrawn, ended or not begun), or one that does not cover it."""
    if live_consent(by, person) is None:
        return (
            f"You can no longer act for {person.full_name}: their consent has ended or was "
            "withdrawn. Nothing has been ordered or paid."
        )
    return (
        f"{person.full_name}'s consent does not let you {_DOING[scope]}. "
        f"Ask {person.full_name} to change their consent, or to do this themselves."
    )


def needs_approval(by: User, person: Person, consent: Consent | None) -> bool:
    """Whether what `by` orders must have been approved by the person on a shortlist: it must
    when they act under a consent and are not the person's attorney (an attorney decides what
    the person would)."""
    return consent is not None and not is_attorney(by, person)


def check_approved(session: Session, person: Person, service: Service) -> None:
    """Raise NotApproved unless the person approved `service` on their shortlist."""
    if approved_choice(session, person, service.id) is None:
        raise NotApproved(
            f"{person.full_name} has not approved {service.name} on their shortlist, so you "
            "cannot order it for them. Add it to their shortlist and share it with them: "
            "you can order it once they approve it.",
            service_id=str(service.id),
        )


def may_order_unapproved(by: User, person: Person) -> bool:
    """Whether `by` may order services the person has not approved (for pages that say so
    before checkout): the person, an officer, or their attorney."""
    return acts_as_themselves(by, person) or is_attorney(by, person)


def approval_refusal(session: Session, by: User, person: Person, service: Service) -> str | None:
    """Why `by` may not order `service` for the person because the person has not approved it
    on a shortlist, in words, or None (they may order unapproved services, or it is approved):
    for the pages, before checkout refuses it."""
    if may_order_unapproved(by, person):
        return None
    try:
        check_approved(session, person, service)
    except NotApproved as refusal:
        return refusal.message
    return None


@dataclass(frozen=True)
class Placer:
    """Who placed an order for the person, for its timeline: their name, and their brokerage's
    (None for a family member)."""

    name: str
    brokerage: str | None

    @classmethod
    def of(cls, by: User, consent: Consent) -> Placer:
        return cls(
            name=by.full_name,
            brokerage=consent.brokerage.name if consent.brokerage is not None else None,
        )

    @property
    def words(self) -> str:
        """ "Sam Patel (Herts Independent Brokerage)", or a family member's name."""
        return self.name if self.brokerage is None else f"{self.name} ({self.brokerage})"

    def details(self, consent: Consent) -> dict[str, Any]:
        """What the order's "placed" step keeps (names as they were, so the timeline reads
        the same after a broker leaves or a brokerage is renamed)."""
        return {
            "on_behalf": True,
            "placed_by_name": self.name,
            "placed_by_brokerage": self.brokerage,
            "consent_id": str(consent.id),
        }


def tell_person_placed_for(session: Session, order: Order, *, by: User, consent: Consent) -> None:
    """Tell the person that `by` placed this order for them (in their inbox, and by email with
    a link to the order's page)."""
    placer = Placer.of(by, consent)
    title = f"{placer.words} placed order {order.reference} for you"
    if order.status is OrderStatus.AWAITING_PAYMENT:
        title += ": it waits for payment by card"
    events.tell_person(session, order, NotificationKind.ORDER_PLACED_FOR_YOU, title[:200])


def check_may_order(session: Session, by: User, person: Person) -> Consent | None:
    """The consent `by` orders under for `person` (None when they order as themselves), read
    afresh. Raises NotYours, in words, when they may not place orders for them."""
    if acts_as_themselves(by, person):
        if not can(by, "place_order_for", person):
            raise NotYours("You cannot place orders for this person")
        return None
    return acting_consent(session, by, person, ConsentScope.ORDER)


def check_may_pay(session: Session, by: User, person: Person) -> Consent | None:
    """The consent `by` pays by card under for `person` (None when they pay as themselves).
    Raises NotYours, in words, when they may not pay by card for them."""
    if acts_as_themselves(by, person):
        if not can(by, "pay_by_card_for", person):
            raise NotYours("You cannot pay for this person")
        return None
    return acting_consent(session, by, person, ConsentScope.PAY)
