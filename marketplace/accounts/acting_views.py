"""Starting and stopping acting for someone (routes on `accounts`): a broker for a client, a
family member for the person whose consent they hold. The loader that keeps it up, request by
request, is `marketplace/pages/on_behalf.py`."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts import bp
from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.extensions import db

# The acting-for loader and the people's rules are imported in the views, not here: people's
# models import this package (for the user), which imports this module while they load.


@bp.route("/acting-for/<uuid:person_id>", methods=["POST"])
@requires("use_account")
def start_acting_for(person_id: uuid.UUID) -> Response:
    """Act for the person from now on, if the user holds a live consent of theirs (404
    otherwise, so an id tells nobody whether the person exists); then the first of their pages
    the consent opens."""
    from marketplace.pages import on_behalf
    from marketplace.people.service import person_by_id

    user = current_user._get_current_object()
    person = person_by_id(db.session, person_id)
    if person is None or not can(user, "act_for", person):
        abort(404)
    on_behalf.start_acting(person)
    return redirect(on_behalf.landing_page(user, person))


@bp.route("/acting-for/stop", methods=["POST"])
@requires("use_account")
def stop_acting_for() -> Response:
    """Stop acting for anyone, and go back to where the user acts from."""
    from marketplace.pages import on_behalf

    person = on_behalf.stop_acting()
    if person is not None:
        flash(f"You have stopped acting for {person.full_name}", "success")
    return redirect(on_behalf.acting_from(current_user._get_current_object()))
