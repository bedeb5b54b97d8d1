"""The person's own details: a "check your answers" summary at /my/details, with a form to
change them and the record of changes (routes on the `citizens` blueprint). The council's
copy of these pages (council/details_views.py) uses the same form and templates, built in
`marketplace/pages/details.py`."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.citizens import bp
from marketplace.pages.details import details_page, save_details
from marketplace.pages.on_behalf import person_in_hand, refuse_outside_consent
from marketplace.people.models import Person


def _own_person(action: str = "view_person") -> Person:
    """The person these pages are about (`person_in_hand`), if the user may `action` for them:
    404 if there is none, a 403 page saying why when acting under a consent that does not
    cover `action`."""
    person = person_in_hand()
    if person is None:
        abort(404)
    if not can(current_user, action, person):
        if current_user.acting_for is not None:
            refuse_outside_consent(person, action)
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
    person = _own_person("change_person_details")
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
