"""An officer keeps a person's details for them: the same summary, form and record of changes
as the person's own pages (routes on the `council` blueprint)."""

from __future__ import annotations

import uuid

from flask import abort, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.council import bp
from marketplace.extensions import db
from marketplace.pages.details import details_page, save_details
from marketplace.people.models import Person
from marketplace.people.service import person_by_id


def _person(person_id: uuid.UUID, action: str) -> Person:
    person = person_by_id(db.session, person_id)
    if person is None or not can(current_user, action, person):
        abort(404)
    return person


@bp.route("/people/<uuid:person_id>/details")
@requires("find_people")
def person_details(person_id: uuid.UUID) -> str:
    person = _person(person_id, "view_person")
    return details_page(
        person,
        own=False,
        change_url=url_for("council.change_details", person_id=person.id),
        back=url_for("council.person", person_id=person.id),
    )


@bp.route("/people/<uuid:person_id>/details/change", methods=["GET", "POST"])
@requires("find_people")
def change_details(person_id: uuid.UUID) -> Response | tuple[str, int]:
    person = _person(person_id, "change_person_details")
    form, saved = save_details(person, own=False)
    if saved:
        return redirect(url_for("council.person_details", person_id=person.id))
    return render_template(
        "citizens/details_form.html",
        form=form,
        person=person,
        own=False,
        back=url_for("council.person_details", person_id=person.id),
    ), 400 if form.errors else 200
