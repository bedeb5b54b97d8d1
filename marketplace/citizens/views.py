"""Citizens' own pages: their care and support."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from marketplace.accounts.policy import can, requires

bp = Blueprint("citizens", __name__, url_prefix="/my")


@bp.route("/")
@requires("use_citizen_pages")
def dashboard() -> str:
    person = current_user.person
    if person is None or not can(current_user, "view_person", person):
        abort(404)
    return render_template("citizens/dashboard.html", person=person)
