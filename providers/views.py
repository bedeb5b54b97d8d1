"""The provider portal: an organisation's staff manage their own listings."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from marketplace.accounts.policy import can, requires

bp = Blueprint("provider_portal", __name__, url_prefix="/provider")


@bp.route("/")
@requires("use_provider_portal")
def dashboard() -> str:
    organisation = current_user.organisation
    if organisation is None or not can(current_user, "manage_organisation", organisation):
        abort(404)
    return render_template("providers/dashboard.html", organisation=organisation)
