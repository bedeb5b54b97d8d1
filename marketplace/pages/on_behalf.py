"""Acting for someone across the whole site: a broker for a client, or a family member for the
person whose power of attorney they hold (issue 17; docs/brokers.md, "Acting for someone").

Starting to act keeps the person's id in the signed-in browser's session (`start_acting`), and
nothing else: every later request loads the person again and asks the policy again
(`act_for`: any live consent of theirs the user holds) before anything else runs, so a consent
withdrawn or ended since the last request is noticed on the very next one. The person is then
forgotten, the user told why, and a request for one of the person's pages (the `citizens`
blueprint) is sent back to where the user acts from. While acting, `current_user.acting_for` is
the person, the citizens' pages show them (`person_in_hand`), every page carries a banner
naming them (`templates/layouts/base.html`), and what the consent does not cover is refused in
words (`refuse_outside_consent`), never by a 404 that would hide why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as browser_session
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.models import User
from marketplace.accounts.policy import can, scope_needed
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people import consents
from marketplace.people.models import Consent, ConsentScope, Person
from marketplace.people.service import person_by_id
from marketplace.types import utcnow

# The signed-in browser's session key holding the id of the person acted for.
SESSION_KEY = "acting_for"
# The person's own pages, which show the person acted for while acting.
PERSON_PAGES = "citizens"
# Requests that never act for anyone: files, and machines with their own credentials.
NOT_ACTING = frozenset({"static", "api", "webhooks"})


def init_app(app: Flask) -> None:
    """Load the person acted for before every request (before any blueprint's own loaders and
    the views' `@requires`), and give every page the banner's facts."""
    app.before_request(load_person_acted_for)
    app.context_processor(_banner_context)


def load_person_acted_for() -> Response | None:
    """Set `current_user.acting_for` to the person the session names, if the user may still
    act for them; otherwise forget them, say why, and send a request for the person's pages
    back to where the user acts from."""
    raw_id = browser_session.get(SESSION_KEY)
    if raw_id is None or _not_acting(request.endpoint, request.blueprint):
        return None
    if not current_user.is_authenticated:
        browser_session.pop(SESSION_KEY, None)
        return None
    user: User = current_user._get_current_object()
    person = _person(raw_id)
    if person is not None and can(user, "act_for", person):
        user.act_for(person)
        return None
    browser_session.pop(SESSION_KEY, None)
    name = person.full_name if person is not None else "this person"
    flash(f"You can no longer act for {name}: their consent has ended or was withdrawn")
    if request.blueprint == PERSON_PAGES:
        return redirect(acting_from(user))
    return None


def start_acting(person: Person) -> None:
    """Act for `person` from the next request on (the caller checked `act_for`)."""
    browser_session[SESSION_KEY] = str(person.id)


def stop_acting() -> Person | None:
    """Stop acting for anyone; the person acted for in this request, if any."""
    browser_session.pop(SESSION_KEY, None)
    person: Person | None = getattr(current_user, "acting_for", None)
    if isinstance(current_user._get_current_object(), User):
        current_user.act_for(None)
    return person


def person_in_hand() -> Person | None:
    """The person this request's citizens' pages are about: the one the user acts for, else a
    citizen's own person (None for anyone else)."""
    acting: Person | None = getattr(current_user, "acting_for", None)
    if acting is not None:
        return acting
    own: Person | None = getattr(current_user, "person", None)
    return own


# Where acting for someone starts: the first of these pages the consent opens (their home
# needs "see"; a consent to shortlist only opens their shortlist), else the directory's search.
LANDING_PAGES = (
    ("view_person", "citizens.dashboard"),
    ("shortlist_for", "citizens.shortlist"),
    ("ask_provider_for", "citizens.questions_list"),
    ("draft_support_plan", "citizens.draft_plan"),
    ("place_order_for", "citizens.basket"),
)


def landing_page(user: User, person: Person) -> str:
    """The page to start acting for `person` on: the first of `LANDING_PAGES` the user may
    see under their consent, else the search (a consent to pay by card only, say)."""
    for action, endpoint in LANDING_PAGES:
        if endpoint in current_app.view_functions and can(user, action, person):
            return url_for(endpoint)
    return url_for("public.search")


def acting_from(user: User) -> str:
    """Where `user` chooses whom to act for: a broker's workspace, or a citizen's own home."""
    if user.role is Role.BROKER:
        return url_for("brokers.dashboard")
    return url_for("citizens.dashboard")


def refuse_outside_consent(person: Person, action: str) -> NoReturn:
    """Answer 403 with a page saying, in words, that the consent under which the user acts for
    `person` does not let them do `action` (and what it would take)."""
    scope = scope_needed(action)
    response = render_template(
        "citizens/outside_consent.html",
        person=person,
        needed=ConsentScope(scope).label if scope is not None else None,
        covers=covered_scopes(current_user._get_current_object(), person),
    )
    abort(Response(response, status=403, mimetype="text/html"))


@dataclass(frozen=True)
class ActingChoice:
    """Someone the user may act for: the person, the authority their consent rests on (its
    label), and the last moment it covers."""

    person: Person
    authority: str
    until: datetime


def people_to_act_for(user: User) -> list[ActingChoice]:
    """The people a citizen (a family member) holds a live consent from, by name, each once
    (with the consent that lasts longest). Brokers choose from their caseload instead."""
    if user.role is not Role.CITIZEN:
        return []
    latest: dict[uuid.UUID, Consent] = {}
    for held in consents.held_by(db.session, user):
        latest[held.person_id] = held  # held_by orders each person's by end: the last lasts
    return [
        ActingChoice(held.person, held.authority.label, consents.last_day(held))
        for held in latest.values()
    ]


def live_consents(user: User, person: Person) -> list[Consent]:
    """The person's live consents that `user` holds, read afresh."""
    now = utcnow()
    return [c for c in person.consents if c.is_live(now) and c.held_by(user)]


def covered_scopes(user: User, person: Person) -> list[str]:
    """What the user's live consents from `person` let them do, as labels, in the order the
    scopes are listed (`ConsentScope`)."""
    held = {scope for consent in live_consents(user, person) for scope in consent.scopes}
    return [scope.label for scope in ConsentScope if scope.value in held]


def _banner_context() -> dict[str, Any]:
    person = getattr(current_user, "acting_for", None)
    if person is None:
        return {"acting_banner": None}
    return {
        "acting_banner": {
            "name": person.full_name,
            "covers": covered_scopes(current_user._get_current_object(), person),
        }
    }


def _person(raw_id: object) -> Person | None:
    try:
        person_id = uuid.UUID(str(raw_id))
    except ValueError:
        return None
    return person_by_id(db.session, person_id)


def _not_acting(endpoint: str | None, blueprint: str | None) -> bool:
    # A page not found has no endpoint: it still carries the banner.
    return endpoint in NOT_ACTING or blueprint in NOT_ACTING
