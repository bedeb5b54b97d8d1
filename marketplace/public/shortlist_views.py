"""Shortlisting from the directory (routes on `public`): "Add to shortlist" on a service's
page, and /shortlist.

A visitor who has not signed in keeps their shortlist in the browser session (service ids
only); when they sign in as a citizen it moves into their account (`_move_visit_shortlist`,
run by Flask-Login's `user_logged_in`). A citizen's shortlist, or the one of whoever a broker
or a family member is acting for, is kept in the database (`marketplace.people.shortlists`)
and shown at /my/shortlist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, user_logged_in
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.forms import ButtonForm
from marketplace.pages.on_behalf import person_in_hand
from marketplace.people import shortlists
from marketplace.people.models import Person
from marketplace.people.shortlists import ShortlistRefused
from marketplace.public import bp
from providers import directory
from providers.models import Service

# Where a visitor's shortlist is kept in the browser session: service ids, as text.
VISIT_SHORTLIST = "shortlist"


@dataclass(frozen=True)
class ShortlistState:
    """What a service's page says about shortlisting it for whoever is looking."""

    can_add: bool
    on_it: bool
    whose: str = "your"  # or the name of the person acted for, with "'s"
    for_name: str | None = None  # the person acted for, if it is not the one looking


def _person_in_hand() -> Person | None:
    """The person a signed-in user shortlists for: whoever they act for, else their own."""
    if not current_user.is_authenticated:
        return None
    return person_in_hand()


def _keeps_visit_shortlist() -> bool:
    """A visitor (not signed in) keeps their shortlist in the session. Someone signed in with
    no person in hand (staff, or a broker acting for no one) has no shortlist."""
    return not current_user.is_authenticated


def _visit_ids() -> list[uuid.UUID]:
    ids = []
    for text in session.get(VISIT_SHORTLIST, []):
        try:
            ids.append(uuid.UUID(str(text)))
        except ValueError:
            continue
    return ids


def state_for(service_id: uuid.UUID) -> ShortlistState:
    """Whether the one looking may shortlist this service, and whether it is on the list."""
    person = _person_in_hand()
    if person is not None:
        if not can(current_user, "shortlist_for", person):
            return ShortlistState(can_add=False, on_it=False)
        shortlist = shortlists.shortlist_of(db.session, person)
        on_it = shortlist is not None and any(i.service_id == service_id for i in shortlist.items)
        if current_user.person_id == person.id:
            return ShortlistState(can_add=True, on_it=on_it)
        return ShortlistState(True, on_it, f"{person.full_name}'s", person.full_name)
    if _keeps_visit_shortlist():
        return ShortlistState(can_add=True, on_it=service_id in _visit_ids())
    return ShortlistState(can_add=False, on_it=False)


def _service_from_form() -> Service:
    try:
        service_id = uuid.UUID(request.form.get("service_id", ""))
    except ValueError:
        abort(400)
    service = directory.public_service(service_id)
    if service is None:
        abort(404)
    return service


@bp.route("/shortlist/add", methods=["POST"])
def add_to_shortlist() -> BaseResponse:
    """Put the service on the shortlist of whoever is looking (a visitor's in the session)."""
    person = _person_in_hand()
    if person is None and not _keeps_visit_shortlist():
        abort(403)
    if person is not None and not can(current_user, "shortlist_for", person):
        abort(403)
    if not ButtonForm().validate_on_submit():
        abort(400)
    service = _service_from_form()
    back = url_for("public.service", service_id=service.id)
    if person is not None:
        try:
            shortlists.add(db.session, person, service.id, by=current_user)
        except ShortlistRefused as refused:
            flash(refused.message, "info")
            return redirect(back)
        whose = "your" if current_user.person_id == person.id else f"{person.full_name}'s"
        flash(f"{service.name} is on {whose} shortlist", "success")
        return redirect(back)
    ids = _visit_ids()
    if service.id not in ids:
        if len(ids) >= shortlists.ITEMS_MAX:
            flash(
                f"A shortlist can hold {shortlists.ITEMS_MAX} services: remove one before "
                "adding another",
                "info",
            )
            return redirect(back)
        session[VISIT_SHORTLIST] = [str(each) for each in [*ids, service.id]]
    flash(f"{service.name} is on your shortlist", "success")
    return redirect(back)


@bp.route("/shortlist")
def shortlist() -> BaseResponse | str:
    """A visitor's shortlist; anyone with a shortlist kept in the database goes to theirs."""
    person = _person_in_hand()
    if person is not None:
        return redirect(url_for("citizens.shortlist"))
    if not _keeps_visit_shortlist():
        abort(403)
    services = [s for s in map(directory.public_service, _visit_ids()) if s is not None]
    return render_template("public/shortlist.html", services=services, button=ButtonForm())


@bp.route("/shortlist/remove", methods=["POST"])
def remove_from_shortlist() -> BaseResponse:
    """Take a service off a visitor's shortlist."""
    if not _keeps_visit_shortlist():
        abort(403)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        service_id = uuid.UUID(request.form.get("service_id", ""))
    except ValueError:
        abort(400)
    session[VISIT_SHORTLIST] = [str(each) for each in _visit_ids() if each != service_id]
    flash("The service was taken off your shortlist", "success")
    return redirect(url_for("public.shortlist"))


def _move_visit_shortlist(_app: Any, user: User, **_extra: Any) -> None:
    """At sign-in, a citizen's shortlist from before it moves into their account (committed
    with the sign-in's request). Anyone else keeps it in the session."""
    ids = _visit_ids()
    if not ids or user.role is not Role.CITIZEN or user.person is None:
        return
    shortlists.move_from_visit(db.session, user.person, ids, by=user)
    session.pop(VISIT_SHORTLIST, None)


user_logged_in.connect(_move_visit_shortlist)
