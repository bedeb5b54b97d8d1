"""The person's own details: a "check your answers" summary at /my/details, with a form to
change them and the record of changes (routes on the `citizens` blueprint). The council's
copy of these pages (council/details_views.py) uses the same form and templates."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.policy import can, requires
from marketplace.citizens.budget_views import london_today
from marketplace.citizens.views import bp
from marketplace.extensions import db
from marketplace.people import details, records
from marketplace.people.details_form import PersonDetailsForm
from marketplace.people.models import Person


def save_details(person: Person, *, own: bool) -> tuple[PersonDetailsForm, bool]:
    """The details form for the person, and whether a valid submission was saved (with its
    change on the person's record)."""
    form = PersonDetailsForm.for_person(person, today=london_today())
    if not form.validate_on_submit():
        return form, False
    changed = records.update_person(
        db.session, person, form.changes(person), by=current_user._get_current_object()
    )
    whose = "Your" if own else f"{person.full_name}'s"
    flash(f"{whose} details are saved" if changed else "Nothing was changed", "success")
    return form, True


def details_page(person: Person, *, own: bool, change_url: str, back: str) -> str:
    """The summary of the person's details and the record of their changes."""
    return render_template(
        "citizens/details.html",
        person=person,
        own=own,
        change_url=change_url,
        back=back,
        history=details.details_history(db.session, person),
        labels=details.FIELD_LABELS,
    )


def _own_person() -> Person:
    person = current_user.person
    if person is None or not can(current_user, "view_person", person):
        abort(404)
    return person


@bp.route("/details")
@requires("use_citizen_pages")
def person_details() -> str:
    return details_page(
        _own_person(),
        own=True,
        change_url=url_for("citizens.change_details"),
        back=url_for("citizens.dashboard"),
    )


@bp.route("/details/change", methods=["GET", "POST"])
@requires("use_citizen_pages")
def change_details() -> Response | tuple[str, int]:
    person = _own_person()
    if not can(current_user, "change_person_details", person):
        abort(404)
    form, saved = save_details(person, own=True)
    if saved:
        return redirect(url_for("citizens.person_details"))
    return render_template(
        "citizens/details_form.html",
        form=form,
        person=person,
        own=True,
        back=url_for("citizens.person_details"),
    ), 400 if form.errors else 200
