"""An officer keeps a person's details for them: the same summary, form and record of changes
as the person's own pages (routes on the `council` blueprint)."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.council import bp
from marketplace.pages.acting_for import acting_for
from marketplace.pages.details import details_page, save_details


@bp.route("/people/<uuid:person_id>/details")
@requires("find_people")
def person_details() -> str:
    person = acting_for()
    return details_page(
        person,
        own=False,
        change_url=url_for("council.change_details", person_id=person.id),
        back=url_for("council.person", person_id=person.id),
    )


@bp.route("/people/<uuid:person_id>/details/change", methods=["GET", "POST"])
@requires("find_people")
def change_details() -> Response | tuple[str, int]:
    person = acting_for()
    if not can(current_user, "change_person_details", person):
        abort(404)
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
