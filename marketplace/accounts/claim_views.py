"""Claiming one's record (issue 17): the page an invitation from a broker links to. A GET only
shows the form (mail scanners open links, and must not spend them); choosing a password makes
the citizen's account, linked to the record, and signs them in."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from werkzeug.wrappers import Response
from wtforms import SubmitField

from marketplace import navigation
from marketplace.accounts import bp, browser_sessions, record_claims, service
from marketplace.extensions import limiter
from marketplace.forms import new_password_field, show_refusal


class ClaimRecordForm(FlaskForm):
    password = new_password_field()
    submit = SubmitField("Create my account", widget=GovSubmitInput())


@bp.route("/claim-your-record/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_UP_RATE_LIMIT"], methods=["POST"])
def claim_record(token: str) -> Response | tuple[str, int]:
    claim = record_claims.claim_waiting(token)
    if claim is None:
        reason = "This link has expired or has already been used"
        return render_template("accounts/invalid_link.html", reason=reason), 400
    form = ClaimRecordForm()
    if form.validate_on_submit():
        try:
            user = record_claims.claim_record(
                token,
                password=form.password.data,
                sign_in_link=url_for("accounts.sign_in", _external=True),
                reset_link=url_for("accounts.forgotten_password", _external=True),
            )
        except service.PasswordRejected as rejected:
            show_refusal(form.password, rejected)
        except service.InvalidLink as invalid:
            return render_template("accounts/invalid_link.html", reason=str(invalid)), 400
        else:
            browser_sessions.sign_in(user)
            flash("Your account has been created. This is your record.", "success")
            return redirect(url_for(navigation.home_for(user)))
    return render_template(
        "accounts/claim_record.html", form=form, email=claim.email
    ), 400 if form.errors else 200
