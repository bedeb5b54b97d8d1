"""Administrators' pages for API tokens (routes on the `admin` blueprint): list them, create
one (shown once, never again), revoke one."""

from __future__ import annotations

import uuid

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts import api_tokens as tokens
from marketplace.accounts.access import requires
from marketplace.accounts.roles import Role
from marketplace.admin import bp
from marketplace.admin.forms import TOKEN_ROLES, NewTokenForm, RevokeTokenForm
from marketplace.extensions import db
from marketplace.forms import show_refusal


@bp.route("/api-tokens")
@requires("administer")
def api_tokens() -> str:
    return render_template(
        "admin/api_tokens.html", tokens=tokens.tokens(db.session), form=RevokeTokenForm()
    )


@bp.route("/api-tokens/new", methods=["GET", "POST"])
@requires("administer")
def new_api_token() -> Response | tuple[str, int]:
    form = NewTokenForm()
    form.offer(tokens.users_for_tokens(db.session, TOKEN_ROLES))
    if form.validate_on_submit():
        user = tokens.user_by_id(db.session, uuid.UUID(form.user.data)) if form.user.data else None
        try:
            row, secret = tokens.create_token(
                db.session,
                name=form.name.data,
                role=Role(form.role.data),
                created_by=current_user._get_current_object(),
                user=user,
            )
        except tokens.TokenUserError as refused:
            show_refusal(form.user, refused)
        except tokens.TokenError as refused:
            show_refusal(form.name, refused)
        else:
            # Shown on this response only: never put in a redirect, a flash or a cache.
            # make_response gives Flask's response class (text/html); werkzeug's own
            # Response defaults to text/plain, which showed the page's raw HTML.
            response = make_response(
                render_template("admin/api_token_created.html", token=row, secret=secret)
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    return render_template("admin/api_token_form.html", form=form), 400 if form.errors else 200


@bp.route("/api-tokens/<uuid:token_id>/revoke", methods=["POST"])
@requires("administer")
def revoke_api_token(token_id: uuid.UUID) -> Response:
    found = tokens.token_by_id(db.session, token_id)
    if found is None:
        abort(404)
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    if tokens.revoke(db.session, found):
        flash(f"The token {found.name!r} is revoked: it no longer works", "success")
    else:
        flash(f"The token {found.name!r} was already revoked", "success")
    return redirect(url_for("admin.api_tokens"))
