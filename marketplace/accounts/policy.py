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
from marketplace.types import utcnow

if TYPE_CHECKING:
    from flask_login.mixins import AnonymousUserMixin

    from marketplace.people.models import Consent, Person
    from providers.models import Organisation, Service

Rule = Callable[[User, Any], bool]

# Staff of an organisation: a provider's, or a brokerage's (which may list and sell its own
# service, so it keeps listings and fulfils orders like any provider).
_STAFF = (Role.PROVIDER_STAFF, Role.BROKER)


def _role(*roles: Role) -> Rule:
    return lambda user, _thing: user.role in roles


def live_consent(user: User, person: Person, scope: str | None = None) -> Consent | None:
    """The live consent under which `user` may act for `person` in `scope` (any scope when
    None): one granted to the user's brokerage (for a broker) or to the user's own account (a
    family member), not revoked, started and not ended. Read afresh from the person's consents
    on every request, so a revocation or an expiry takes effect on the very next one."""
    now = utcnow()
    for consent in person.consents:
        live_and_held = consent.is_live(now) and consent.held_by(user)
        if live_and_held and (scope is None or consent.covers(scope)):
            return consent
    return None


def is_attorney(user: User, person: Person) -> bool:
    """True if `user` holds a live consent for `person` resting on a legal authority (a
    lasting power of attorney or a deputyship) granted to their own account: they may then do
    what the person may about their consents, approvals and notes."""
    now = utcnow()
    return any(
        consent.is_live(now)
        and consent.grantee_user_id is not None
        and consent.grantee_user_id == getattr(user, "id", None)
        and consent.authority.is_legal
        for consent in person.consents
    )


def _self(user: User, person: Person) -> bool:
    return user.role is Role.CITIZEN and user.person_id == person.id


def _own_person(user: User, person: Person) -> bool:
    return user.role is Role.COUNCIL_OFFICER or _self(user, person)


def _for_person(scope: str) -> Rule:
    """The person themselves, a council officer, or someone acting under a live consent of
    the person's that covers `scope` (a broker of the brokerage it was given to, or the
    account it was granted to)."""

    def rule(user: User, person: Person) -> bool:
        return _own_person(user, person) or (
            user.role in (Role.BROKER, Role.CITIZEN)
            and live_consent(user, person, scope) is not None
        )

    rule.scope = scope  # type: ignore[attr-defined]  # what a refusal page names: scope_needed
    return rule


def _person_or_attorney(user: User, person: Person) -> bool:
    """What only the person decides: their consents, their approvals (never a broker)."""
    return _self(user, person) or is_attorney(user, person)


def _order_for(scope: str) -> Rule:
    by_person = _for_person(scope)

    def rule(user: User, order: Any) -> bool:
        return by_person(user, order.person)

    rule.scope = scope  # type: ignore[attr-defined]
    return rule


def _own_organisation(user: User, organisation: Organisation) -> bool:
    return user.role is Role.COUNCIL_OFFICER or (
        user.role in _STAFF and user.organisation_id == organisation.id
    )


def _own_listing(user: User, service: Service) -> bool:
    return user.role in _STAFF and user.organisation_id == service.organisation_id


def _owner_of(user: User, organisation: Organisation) -> bool:
    return (
        user.role in _STAFF
        and user.organisation_id == organisation.id
        and user.is_organisation_owner
    )


def _providing(user: User, order: Any) -> bool:
    """Staff of the order's provider, once the order has been sent to them."""
    return (
        user.role in _STAFF
        and user.organisation_id == order.organisation_id
        and order.reached_provider
    )


# While the provider is delivering an order it may need to let itself in.
_DELIVERING = frozenset({"accepted", "in_progress"})


def _party_to_order(user: User, order: Any) -> bool:
    """The person it is for (or whoever may see their orders under a live consent), council
    officers, and its provider's staff once it has been sent to them (not while the council
    decides on it, nor if the council refused it)."""
    return _for_person("see")(user, order.person) or _providing(user, order)


def variation_side(user: User, order: Any) -> str | None:
    """VARIATIONS (issue 18): which party to a package `user` speaks for in a change to it:
    "provider" (its provider's staff), "person" (the person, or whoever acts for them under a
    live consent covering orders), or None. Officers are neither: the council agrees, or
    refuses, a change both parties accepted (`council_decide_variation`)."""
    if _providing(user, order):
        return "provider"
    person = order.person
    if _self(user, person) or (
        user.role in (Role.BROKER, Role.CITIZEN) and live_consent(user, person, "order") is not None
    ):
        return "person"
    return None


def _propose_variation(user: User, order: Any) -> bool:
    return variation_side(user, order) is not None


_propose_variation.scope = "order"  # type: ignore[attr-defined]


def _decide_variation(user: User, variation: Any) -> bool:
    """The other party to the one that proposed it: never the proposer's own side."""
    side = variation_side(user, variation.order)
    return side is not None and side != variation.proposed_by_party.value


_decide_variation.scope = "order"  # type: ignore[attr-defined]


def _review_order(user: User, order: Any) -> bool:
    """REVIEWS (issue 19): the person the order was for, or whoever acts for them under a live
    consent covering their orders (a broker, a family member); never an officer, who speaks
    for the council, not for the person."""
    person = order.person
    return _self(user, person) or (
        user.role in (Role.BROKER, Role.CITIZEN) and live_consent(user, person, "order") is not None
    )


_review_order.scope = "order"  # type: ignore[attr-defined]


def _holds_fund(user: User, fund: Any) -> bool:
    """ISF (issue 18): staff of the provider an Individual Service Fund was asked of."""
    return user.role in _STAFF and user.organisation_id == fund.organisation_id


def _party_to_fund(user: User, fund: Any) -> bool:
    """ISF: whoever may see the person's budget, officers, and the fund's provider's staff."""
    return _for_person("see")(user, fund.person) or _holds_fund(user, fund)


def _answers_assessment(user: User, assessment: Any) -> bool:
    """The account that started the self-assessment, or the person it is about."""
    return assessment.user_id == user.id or (
        user.person_id is not None and assessment.person_id == user.person_id
    )


def _acting(user: User, _thing: Any) -> bool:
    """A citizen on their own pages, or anyone whose request acts for a person under a live
    consent (the acting-for loader checked it): the citizen pages then show that person."""
    return user.role is Role.CITIZEN or getattr(user, "acting_for", None) is not None


RULES: dict[str, Rule] = {
    "use_account": lambda _user, _thing: True,
    "use_citizen_pages": _acting,
    "use_provider_portal": _role(*_STAFF),
    "use_broker_pages": _role(Role.BROKER),
    "use_council_pages": _role(Role.COUNCIL_OFFICER),
    "administer": _role(Role.ADMIN),
    "read_mail_outbox": _role(Role.ADMIN),
    "view_person": _for_person("see"),
    "manage_organisation": _own_organisation,
    "manage_listing": _own_listing,
    "manage_staff": _owner_of,
    "review_providers": _role(Role.COUNCIL_OFFICER),
    # LEAD (issue 18): name lead providers by area and category, read their share of care.
    "manage_lead_providers": _role(Role.COUNCIL_OFFICER),
    # People, their budgets and their support plans.
    "find_people": _role(Role.COUNCIL_OFFICER),
    # Creating and changing a person's record (the integration API).
    "manage_people": _role(Role.COUNCIL_OFFICER),
    "view_budget": _for_person("see"),
    "manage_budgets": _role(Role.COUNCIL_OFFICER),
    # CLOSE (issue 19): close many budgets' periods at once, and read the council's figures.
    "close_periods": _role(Role.COUNCIL_OFFICER),
    "read_council_figures": _role(Role.COUNCIL_OFFICER),
    "view_support_plan": _for_person("see"),
    # The person drafts their own plan, an officer drafts it with them, or a broker (or
    # attorney) whose consent covers planning drafts it for them.
    "draft_support_plan": _for_person("plan"),
    "approve_support_plan": _role(Role.COUNCIL_OFFICER),
    # Orders: the person (or an officer for them) buys, cancels and confirms deliveries; the
    # order's provider accepts, delivers and invoices; officers approve and settle.
    "place_order_for": _for_person("order"),
    "view_order": _party_to_order,
    "cancel_order": _order_for("order"),
    "confirm_delivery": _order_for("order"),
    # Paying by card (an order's card share, a top-up, a saved card for recurring care).
    "pay_by_card_for": _for_person("pay"),
    "fulfil_order": _providing,
    # A person's details: the person keeps them, an officer for them, or their attorney.
    "change_person_details": lambda user, person: (
        _own_person(user, person) or is_attorney(user, person)
    ),
    # The order's provider sees how to get in (key safe code, access notes) only while the
    # order is accepted or in progress: not before it accepts, nor once the order has ended.
    "see_how_to_get_in": lambda user, order: (
        _providing(user, order) and order.status.value in _DELIVERING
    ),
    "approve_order": _role(Role.COUNCIL_OFFICER),
    # OUTCOMES (issue 18): a council officer sets an outcome order's safety parameters.
    "set_outcome_safety": _role(Role.COUNCIL_OFFICER),
    "settle_invoice": _role(Role.COUNCIL_OFFICER),
    "view_all_orders": _role(Role.COUNCIL_OFFICER),
    # Council finance: card payments reconciled with Stripe, and resolving their mismatches.
    "reconcile_payments": _role(Role.COUNCIL_OFFICER),
    # PAYRUNS (issue 19): officers pay providers (payment runs, their files, cancelling).
    "pay_providers": _role(Role.COUNCIL_OFFICER),
    # QUEUES (issue 19): officers decide the listings the public reported.
    "decide_listing_reports": _role(Role.COUNCIL_OFFICER),
    # INSIGHT (issue 19): the market insight reports (searches, demand and supply, prices).
    "read_market_insight": _role(Role.COUNCIL_OFFICER),
    # FINEXPORT (issue 19): officers export commitments, actuals and payments to the
    # council's finance system and download past exports.
    "export_to_finance": _role(Role.COUNCIL_OFFICER),
    # RECON (issue 19): the reconciliation from each funder to the penny.
    "read_reconciliation": _role(Role.COUNCIL_OFFICER),
    # Brokers, families and consent (issue 17). A thing named "person" is a Person.
    # Acting for a person at all (choosing them to act for): any live consent of theirs.
    "act_for": lambda user, person: (
        user.role in (Role.BROKER, Role.CITIZEN) and live_consent(user, person) is not None
    ),
    # The person's consents: they (or their attorney) see, give and revoke them; officers see.
    "view_consents": lambda user, person: _own_person(user, person) or is_attorney(user, person),
    "manage_consents": _person_or_attorney,
    # An officer records a lasting power of attorney or a deputyship they have seen, granted
    # to a family member's account (the person's attorney cannot make another by themselves).
    "record_legal_authority": _role(Role.COUNCIL_OFFICER),
    # A brokerage's caseload: its brokers keep it (adding clients, recording paper consent).
    "manage_caseload": _role(Role.BROKER),
    # Notes about a client: its brokers write them under a live consent; the person, their
    # attorney and officers read every one.
    "write_client_note": lambda user, person: (
        user.role is Role.BROKER and live_consent(user, person) is not None
    ),
    "read_client_notes": lambda user, person: (
        _own_person(user, person) or is_attorney(user, person)
    ),
    # Shortlists: a person's own, or one built for them under a consent covering shortlists;
    # only the person (or their attorney) approves one, and that approval is what lets a
    # broker place the order.
    "shortlist_for": _for_person("shortlist"),
    "approve_shortlist": _person_or_attorney,
    # Questions to a provider about a service, for a person (or under a consent to talk to
    # providers); the provider's staff answer their own organisation's threads.
    "ask_provider_for": _for_person("message"),
    "answer_questions": lambda user, organisation: (
        user.role in _STAFF and user.organisation_id == organisation.id
    ),
    # The audit log: a person sees their own entries (an attorney too); officers search all.
    "view_audit_log_of": lambda user, person: (
        _own_person(user, person) or is_attorney(user, person)
    ),
    "search_audit_log": _role(Role.COUNCIL_OFFICER),
    "export_subject_access": _role(Role.COUNCIL_OFFICER),
    # VARIATIONS (issue 18): a change to a package (an order) is proposed by one party (the
    # person's side or the provider's), accepted or declined (a variation) by the other, and,
    # where the council pays for a rise, agreed or refused by an officer.
    "propose_variation": _propose_variation,
    "decide_variation": _decide_variation,
    "council_decide_variation": _role(Role.COUNCIL_OFFICER),
    # ISF (issue 18): a person (or whoever orders for them) asks a provider to hold part of
    # their budget as an Individual Service Fund; the provider's staff agree or decline it and
    # record its spending; the person, the provider and officers read its statement; an
    # officer lists every fund and may end one, returning what is unspent.
    "request_isf_for": _for_person("order"),
    "view_isf": _party_to_fund,
    "answer_isf": _holds_fund,
    "view_all_isfs": _role(Role.COUNCIL_OFFICER),
    "end_isf": _role(Role.COUNCIL_OFFICER),
    # REVIEWS (issue 19): the person (or whoever orders for them) rates a completed order's
    # service; officers moderate every review before it is shown; the service's provider's
    # staff reply once to a published one. PERF (issue 19): officers read providers'
    # performance.
    "review_order": _review_order,
    "moderate_reviews": _role(Role.COUNCIL_OFFICER),
    "reply_to_review": _own_listing,
    "read_provider_performance": _role(Role.COUNCIL_OFFICER),
    # The front door (issue 20). A self-assessment is answered by whoever started it (the
    # browser holding it: marketplace/front_door/access.py) or the account it is about;
    # officers work the referrals, book visits into assessors' diaries, set the resource
    # allocation system and its versions.
    "answer_self_assessment": _answers_assessment,
    "manage_referrals": _role(Role.COUNCIL_OFFICER),
    "configure_ras": _role(Role.COUNCIL_OFFICER),
    "manage_diaries": _role(Role.COUNCIL_OFFICER),
}


def scope_needed(action: str) -> str | None:
    """The consent scope (a `ConsentScope` value) that lets someone acting for a person do
    `action`, or None when no consent does (only the person, their attorney or an officer may):
    what a refusal while acting names. Raises KeyError for an unknown action, as `can` does."""
    scope: str | None = getattr(RULES[action], "scope", None)
    return scope


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
