"""The person's shortlist (routes on `citizens`): the services on it with the notes on each,
taking one off, a note, sending it to the person (a broker acting for them), and the person's
(or their attorney's) approval of the services they choose.

While a broker or a family member acts for someone, these pages show that person's shortlist
(`own_person` gives the person in hand); the policy says what each may do with it.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.citizens import bp
from marketplace.citizens.budget_views import own_person
from marketplace.citizens.shortlist_forms import ApproveShortlistForm, ShortlistNoteForm
from marketplace.extensions import db
from marketplace.forms import ButtonForm, choices, show_refusal
from marketplace.pages.on_behalf import refuse_outside_consent
from marketplace.people import shortlists
from marketplace.people.models import Person
from marketplace.people.shortlists import ShortlistChanged, ShortlistItem, ShortlistRefused


def _person(action: str | None = None) -> Person:
    """The person whose shortlist this is (the citizen, or whoever the user acts for), if the
    user may `action` for them (when None, see the shortlist at all: build it or approve
    from it). Acting under a consent that does not cover it is a 403 page in words."""
    person = own_person("use_citizen_pages")
    allowed = (
        can(current_user, action, person)
        if action
        else can(current_user, "shortlist_for", person)
        or can(current_user, "approve_shortlist", person)
    )
    if not allowed:
        if current_user.acting_for is not None:
            refuse_outside_consent(person, action or "shortlist_for")
        abort(404)
    return person


def _item(person: Person, item_id: uuid.UUID) -> ShortlistItem:
    item = shortlists.item_of(db.session, person, item_id)
    if item is None:
        abort(404)
    return item


def _items_of(person: Person) -> list[ShortlistItem]:
    shortlist = shortlists.shortlist_of(db.session, person)
    return shortlist.items if shortlist else []


def _approve_form(person: Person, form: ApproveShortlistForm | None = None) -> ApproveShortlistForm:
    """The approval form over the services not approved yet, as of the shortlist's version."""
    shortlist = shortlists.shortlist_of(db.session, person)
    approved = shortlists.approvals_of(db.session, person)
    form = form or ApproveShortlistForm()
    items = _items_of(person)
    form.services.choices = choices(
        (str(item.service_id), f"{item.service.name}, from {item.service.organisation.name}")
        for item in items
        if item.service_id not in approved
    )
    form.version.data = str(shortlist.version) if shortlist else ""
    return form


def _page(
    person: Person, form: ApproveShortlistForm | None = None, status: int = 200
) -> tuple[str, int]:
    shortlist = shortlists.shortlist_of(db.session, person)
    return (
        render_template(
            "citizens/shortlist/shortlist.html",
            person=person,
            shortlist=shortlist,
            items=shortlist.items if shortlist else [],
            approved=shortlists.approvals_of(db.session, person),
            history=shortlists.approval_history(db.session, person),
            awaiting=shortlists.awaiting_approval(db.session, person) is not None,
            form=_approve_form(person, form),
            button=ButtonForm(),
            own=current_user.person_id == person.id,
        ),
        status,
    )


@bp.route("/shortlist")
@requires("use_citizen_pages")
def shortlist() -> tuple[str, int]:
    return _page(_person())


@bp.route("/shortlist/approve", methods=["POST"])
@requires("use_citizen_pages")
def approve_shortlist() -> BaseResponse | tuple[str, int]:
    person = _person("approve_shortlist")
    form = ApproveShortlistForm()
    form.services.choices = choices((str(item.service_id), "") for item in _items_of(person))
    if not form.validate_on_submit():
        return _page(person, form, 400)
    shortlist = shortlists.shortlist_of(db.session, person)
    seen = form.seen_version()
    try:
        if shortlist is None or seen is None:
            raise ShortlistChanged()
        made = shortlists.approve(
            db.session,
            shortlist,
            [uuid.UUID(value) for value in form.services.data or []],
            seen_version=seen,
            by=current_user,
        )
    except ShortlistRefused as refused:
        show_refusal(form.services, refused)
        return _page(person, form, 400)
    names = ", ".join(approval.service.name for approval in made)
    flash(f"Approved: {names}" if names else "Those services were approved already", "success")
    return redirect(url_for("citizens.shortlist"))


@bp.route("/shortlist/share", methods=["POST"])
@requires("use_citizen_pages")
def share_shortlist() -> BaseResponse:
    person = _person("shortlist_for")
    if not ButtonForm().validate_on_submit():
        abort(400)
    shortlist = shortlists.shortlist_of(db.session, person)
    if shortlist is None:
        abort(404)
    try:
        shortlists.share(db.session, shortlist, current_user)
    except ShortlistRefused as refused:
        flash(refused.message, "info")
        return redirect(url_for("citizens.shortlist"))
    flash(f"The shortlist was sent to {person.full_name} to choose from", "success")
    return redirect(url_for("citizens.shortlist"))


@bp.route("/shortlist/<uuid:item_id>/remove", methods=["POST"])
@requires("use_citizen_pages")
def remove_shortlist_item(item_id: uuid.UUID) -> BaseResponse:
    person = _person("shortlist_for")
    item = _item(person, item_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    name = item.service.name
    shortlists.remove(db.session, item, by=current_user)
    flash(f"{name} was taken off the shortlist", "success")
    return redirect(url_for("citizens.shortlist"))


@bp.route("/shortlist/<uuid:item_id>/note", methods=["GET", "POST"])
@requires("use_citizen_pages")
def shortlist_note(item_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    person = _person("shortlist_for")
    item = _item(person, item_id)
    form = ShortlistNoteForm(data={"note": item.note or ""})
    if form.validate_on_submit():
        try:
            shortlists.write_note(db.session, item, form.note.data, by=current_user)
        except ShortlistRefused as refused:
            show_refusal(form.note, refused)
        else:
            flash(f"The note on {item.service.name} was saved", "success")
            return redirect(url_for("citizens.shortlist"))
    status = 400 if form.errors else 200
    return render_template(
        "citizens/shortlist/note.html", form=form, item=item, person=person
    ), status
