"""The signed-in user's own page of the API tokens that act for them (routes on the
`accounts` blueprint): a token someone else made for them waits here until they confirm it
(or refuse it); a live one can be revoked. Nobody else can confirm a token for them."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts import api_tokens as tokens
from marketplace.accounts import bp
from marketplace.accounts.access import requires
from marketplace.accounts.forms import TokenDecisionForm
from marketplace.extensions import db


def _own_token(token_id: uuid.UUID) -> tokens.ApiToken:
    found = tokens.token_acting_for(db.session, token_id, current_user._get_current_object())
    if found is None:
        abort(404)
    if not TokenDecisionForm().validate_on_submit():
        abort(400)
    return found


@bp.route("/account/api-tokens")
@requires("use_account")
def api_tokens() -> str:
    rows = tokens.acting_for(db.session, current_user._get_current_object())
    return render_template("accounts/api_tokens.html", tokens=rows, form=TokenDecisionForm())


@bp.route("/account/api-tokens/<uuid:token_id>/confirm", methods=["POST"])
@requires("use_account")
def confirm_api_token(token_id: uuid.UUID) -> Response:
    found = _own_token(token_id)
    try:
        tokens.confirm(db.session, found, by=current_user._get_current_object())
    except tokens.TokenUserError as refused:
        flash(str(refused), "error")
    else:
        flash(f"The token {found.name!r} now acts for you", "success")
    return redirect(url_for("accounts.api_tokens"))


@bp.route("/account/api-tokens/<uuid:token_id>/revoke", methods=["POST"])
@requires("use_account")
def revoke_api_token(token_id: uuid.UUID) -> Response:
    found = _own_token(token_id)
    if tokens.revoke(db.session, found):
        flash(f"The token {found.name!r} is revoked: it no longer works", "success")
    else:
        flash(f"The token {found.name!r} was already revoked", "success")
    return redirect(url_for("accounts.api_tokens"))
