"""The service navigation each kind of user sees."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request, url_for
from flask_login.mixins import AnonymousUserMixin

from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.notifications.service import unread_count


@dataclass(frozen=True)
class NavItem:
    text: str
    endpoint: str

    def as_params(self) -> dict[str, object]:
        href = url_for(self.endpoint)
        return {
            "text": self.text,
            "href": href,
            "active": request.path.startswith(href) if href != "/" else request.path == "/",
        }


_BY_ACTION = [
    ("use_citizen_pages", NavItem("Your care and support", "citizens.dashboard")),
    ("use_citizen_pages", NavItem("Basket", "citizens.basket")),
    ("use_citizen_pages", NavItem("Shortlist", "citizens.shortlist")),
    ("use_citizen_pages", NavItem("My orders", "citizens.orders")),
    ("use_citizen_pages", NavItem("Questions", "citizens.questions_list")),
    ("use_provider_portal", NavItem("Your organisation", "provider_portal.dashboard")),
    ("use_provider_portal", NavItem("Orders", "provider_portal.orders")),
    ("use_provider_portal", NavItem("Questions", "provider_portal.questions_list")),
    ("use_provider_portal", NavItem("Invoices", "provider_portal.invoices")),
    ("use_provider_portal", NavItem("Remittances", "provider_portal.remittances")),  # PAYRUNS
    ("use_provider_portal", NavItem("Individual Service Funds", "provider_portal.isf_list")),  # ISF
    ("use_broker_pages", NavItem("Your clients", "brokers.dashboard")),
    ("use_council_pages", NavItem("Council", "council.dashboard")),
    ("use_council_pages", NavItem("Work queues", "council.queues_overview")),  # QUEUES
    ("use_council_pages", NavItem("Reports", "council.reports")),  # INSIGHT (issue 19)
    ("view_all_orders", NavItem("Orders", "council.orders")),
    ("settle_invoice", NavItem("Invoices to pay", "council.invoices")),
    ("pay_providers", NavItem("Paying providers", "council.payment_runs_list")),  # PAYRUNS
    ("view_all_isfs", NavItem("Individual Service Funds", "council.isf_list")),  # ISF
    ("administer", NavItem("Users", "admin.users")),
    ("read_mail_outbox", NavItem("Mail outbox", "admin.outbox")),
    ("administer", NavItem("API tokens", "admin.api_tokens")),
]


def _as_named_by(user: User | AnonymousUserMixin, item: NavItem) -> NavItem:
    """A brokerage's brokers call their organisation their brokerage."""
    organisation = getattr(user, "organisation", None)
    if item.endpoint == "provider_portal.dashboard" and organisation and organisation.is_brokerage:
        return NavItem("Your brokerage", item.endpoint)
    return item


# While acting for someone, the person's own pages are theirs, not the reader's (issue 17).
_WHILE_ACTING = {
    "citizens.dashboard": "Their care and support",
    "citizens.basket": "Their basket",
    "citizens.shortlist": "Their shortlist",
    "citizens.orders": "Their orders",
    "citizens.questions_list": "Their questions",
}


def _as_acted_for(item: NavItem) -> NavItem:
    """The person's items say whose they are while the reader acts for them."""
    return NavItem(_WHILE_ACTING.get(item.endpoint, item.text), item.endpoint)


def _unread_this_request(user: User) -> int:
    """The user's unread notifications, counted once a request. The layout makes the
    navigation once a page (it was made for every template rendered, a form field drawn by
    govuk-frontend-wtf included, and the provider's order page counted four times); kept for a
    request that draws more than one page."""
    counted: dict[object, int] = g.setdefault("unread_notifications", {})
    if user.id not in counted:
        counted[user.id] = unread_count(db.session, user)
    return counted[user.id]


def navigation_for(user: User | AnonymousUserMixin) -> list[dict[str, object]]:
    """Navigation links for the signed-in role, then the account links. While acting for
    someone the person's items say "Their ...", and the reader's own organisation's portal is
    hidden (two "Questions" and two "Orders" could not be told apart); it comes back when they
    stop acting.

    The layout calls it once a page with the user Flask-Login put in the template's context,
    not the `current_user` proxy, which would be resolved again at each of the thirty-odd
    reads here."""
    items = [NavItem("Find care and support", "public.home")]
    acting = getattr(user, "acting_for", None) is not None
    for action, item in _BY_ACTION:
        if acting and action == "use_provider_portal":
            continue
        if can(user, action):
            named = _as_named_by(user, item)
            items.append(_as_acted_for(named) if acting else named)
    if isinstance(user, User) and user.is_authenticated:
        unread = _unread_this_request(user)
        items.append(NavItem(f"Notifications ({unread})", "notifications.inbox"))
        items.append(NavItem("Your account", "accounts.account"))
    else:
        items += [
            NavItem("Sign in", "accounts.sign_in"),
            NavItem("Create an account", "accounts.sign_up"),
        ]
    params = [item.as_params() for item in items]
    # Only the most specific link is the current one ("Orders", not also "Your organisation").
    active = [each for each in params if each["active"]]
    if len(active) > 1:
        chosen = max(active, key=lambda each: len(str(each["href"])))
        for each in active:
            each["active"] = each is chosen
    return params


HOME_BY_ROLE = {
    Role.CITIZEN: "citizens.dashboard",
    Role.PROVIDER_STAFF: "provider_portal.dashboard",
    Role.BROKER: "brokers.dashboard",
    Role.COUNCIL_OFFICER: "council.dashboard",
    Role.ADMIN: "admin.users",
}


def home_for(user: User) -> str:
    """The endpoint a user lands on after signing in."""
    return HOME_BY_ROLE[user.role]
