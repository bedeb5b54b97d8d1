"""Who may do what: the one place access is decided.

Views (through `accounts.access.requires`), the API and templates all ask
`can(user, action, thing)`. A view never checks a role itself. Plain rules: no Flask here (the
decorator that turns a refusal into a sign-in page or a 403 is `accounts/access.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from marketplace.accounts.models import User
from marketplace.accounts.principals import TokenPrincipal
from marketplace.accounts.roles import Role

if TYPE_CHECKING:
    from flask_login.mixins import AnonymousUserMixin

    from marketplace.people.models import Person
    from providers.models import Organisation, Service

Rule = Callable[[User, Any], bool]


def _role(*roles: Role) -> Rule:
    return lambda user, _thing: user.role in roles


def _own_person(user: User, person: Person) -> bool:
    return user.role is Role.COUNCIL_OFFICER or (
        user.role is Role.CITIZEN and user.person_id == person.id
    )


def _own_organisation(user: User, organisation: Organisation) -> bool:
    return user.role is Role.COUNCIL_OFFICER or (
        user.role is Role.PROVIDER_STAFF and user.organisation_id == organisation.id
    )


def _own_listing(user: User, service: Service) -> bool:
    return user.role is Role.PROVIDER_STAFF and user.organisation_id == service.organisation_id


def _owner_of(user: User, organisation: Organisation) -> bool:
    return (
        user.role is Role.PROVIDER_STAFF
        and user.organisation_id == organisation.id
        and user.is_organisation_owner
    )


def _providing(user: User, order: Any) -> bool:
    """Staff of the order's provider, once the order has been sent to them."""
    return (
        user.role is Role.PROVIDER_STAFF
        and user.organisation_id == order.organisation_id
        and order.reached_provider
    )


# While the provider is delivering an order it may need to let itself in.
_DELIVERING = frozenset({"accepted", "in_progress"})


def _party_to_order(user: User, order: Any) -> bool:
    """The person it is for, council officers, and its provider's staff once it has been sent
    to them (not while the council decides on it, nor if the council refused it)."""
    return _own_person(user, order.person) or (
        user.role is Role.PROVIDER_STAFF
        and user.organisation_id == order.organisation_id
        and order.reached_provider
    )


RULES: dict[str, Rule] = {
    "use_account": lambda _user, _thing: True,
    "use_citizen_pages": _role(Role.CITIZEN),
    "use_provider_portal": _role(Role.PROVIDER_STAFF),
    "use_broker_pages": _role(Role.BROKER),
    "use_council_pages": _role(Role.COUNCIL_OFFICER),
    "administer": _role(Role.ADMIN),
    "read_mail_outbox": _role(Role.ADMIN),
    "view_person": _own_person,
    "manage_organisation": _own_organisation,
    "manage_listing": _own_listing,
    "manage_staff": _owner_of,
    "review_providers": _role(Role.COUNCIL_OFFICER),
    # People, their budgets and their support plans.
    "find_people": _role(Role.COUNCIL_OFFICER),
    # Creating and changing a person's record (the integration API).
    "manage_people": _role(Role.COUNCIL_OFFICER),
    "view_budget": _own_person,
    "manage_budgets": _role(Role.COUNCIL_OFFICER),
    "view_support_plan": _own_person,
    # The person drafts their own plan, or an officer drafts it with them (brokers later).
    "draft_support_plan": _own_person,
    "approve_support_plan": _role(Role.COUNCIL_OFFICER),
    # Orders: the person (or an officer for them) buys, cancels and confirms deliveries; the
    # order's provider accepts, delivers and invoices; officers approve and settle.
    "place_order_for": _own_person,
    "view_order": _party_to_order,
    "cancel_order": lambda user, order: _own_person(user, order.person),
    "confirm_delivery": lambda user, order: _own_person(user, order.person),
    "fulfil_order": _providing,
    # A person's details: the person keeps them, or an officer for them (brokers later).
    "change_person_details": _own_person,
    # The order's provider sees how to get in (key safe code, access notes) only while the
    # order is accepted or in progress: not before it accepts, nor once the order has ended.
    "see_how_to_get_in": lambda user, order: (
        _providing(user, order) and order.status.value in _DELIVERING
    ),
    "approve_order": _role(Role.COUNCIL_OFFICER),
    "settle_invoice": _role(Role.COUNCIL_OFFICER),
    "view_all_orders": _role(Role.COUNCIL_OFFICER),
    # Council finance: card payments reconciled with Stripe, and resolving their mismatches.
    "reconcile_payments": _role(Role.COUNCIL_OFFICER),
}


def can(
    user: User | TokenPrincipal | AnonymousUserMixin | None, action: str, thing: Any = None
) -> bool:
    """True if `user` may do `action` (to `thing`, where the action concerns one).

    Anonymous and deactivated users may do nothing here. An API token's principal is judged
    as a user of its role who owns nothing. An unknown action is a programming error and
    raises KeyError rather than quietly allowing or refusing.
    """
    rule = RULES[action]
    if not isinstance(user, User | TokenPrincipal) or not user.is_active:
        return False
    return rule(user, thing)
