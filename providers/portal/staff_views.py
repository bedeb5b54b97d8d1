"""The provider portal's people and places: registration, staff invitations, venues."""

from __future__ import annotations

import uuid

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts import browser_sessions
from marketplace.accounts import service as accounts
from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.extensions import limiter
from marketplace.forms import show_refusal
from providers import listings, organisations, registration, staff
from providers.models import Organisation, OrganisationKind
from providers.portal import bp
from providers.portal.forms import AcceptInvitationForm, InviteForm, RegisterProviderForm, VenueForm
from providers.portal.views import organisation_details, own_organisation


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_UP_RATE_LIMIT"], methods=["POST"])
def register() -> Response | tuple[str, int]:
    form = RegisterProviderForm()
    form.areas.choices = organisations.district_choices()
    if request.method == "GET" and request.args.get("kind") == OrganisationKind.BROKERAGE:
        form.kind.data = OrganisationKind.BROKERAGE.value
    if form.validate_on_submit():
        try:
            registration.request_registration(
                organisation_details(form),
                owner_name=form.owner_name.data,
                owner_email=form.owner_email.data,
                owner_password=form.password.data,
                confirm_link=lambda token: url_for(
                    "provider_portal.confirm_registration", token=token, _external=True
                ),
                sign_in_link=url_for("accounts.sign_in", _external=True),
                reset_link=url_for("accounts.forgotten_password", _external=True),
                kind=OrganisationKind(form.kind.data),
            )
        except accounts.PasswordRejected as rejected:
            show_refusal(form.password, rejected)
        except ValueError:
            form.areas.errors = [*form.areas.errors, "Choose areas from the list"]
        else:
            # The same answer whether or not the address has an account (as sign-up's).
            session["registration_email"] = accounts.normalise_email(form.owner_email.data)
            return redirect(url_for("provider_portal.check_email_registration"))
    return render_template("providers/register.html", form=form), 400 if form.errors else 200


@bp.route("/register/check-your-email")
def check_email_registration() -> str:
    return render_template("providers/check_email.html", email=session.get("registration_email"))


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_UP_RATE_LIMIT"], methods=["POST"])
def confirm_registration(token: str) -> Response | tuple[str, int] | str:
    # A GET only shows a button: mail scanners open links, and must not spend them.
    if request.method == "GET":
        return render_template("providers/confirm_registration.html", token=token)
    try:
        owner = registration.confirm_registration(token)
    except accounts.InvalidLink as invalid:
        return render_template("accounts/invalid_link.html", reason=str(invalid)), 400
    browser_sessions.sign_in(owner)
    flash(
        "Your brokerage is registered. The council will check it before people can give "
        "your brokers their consent or your services are shown to the public"
        if owner.organisation is not None and owner.organisation.is_brokerage
        else "Your organisation is registered. The council will check it before your "
        "services are shown to the public",
        "success",
    )
    return redirect(url_for("provider_portal.dashboard"))


@bp.route("/join/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_UP_RATE_LIMIT"], methods=["POST"])
def join(token: str) -> Response | tuple[str, int]:
    try:
        invitation = staff.invitation_for(token)
    except accounts.InvalidLink as invalid:
        return render_template("accounts/invalid_link.html", reason=str(invalid)), 400
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = staff.accept(token, full_name=form.full_name.data, password=form.password.data)
        except accounts.PasswordRejected as rejected:
            show_refusal(form.password, rejected)
        except accounts.InvalidLink as invalid:
            return render_template("accounts/invalid_link.html", reason=str(invalid)), 400
        else:
            browser_sessions.sign_in(user)
            flash(f"Welcome to {invitation.organisation.name}", "success")
            return redirect(url_for("provider_portal.dashboard"))
    return render_template("providers/join.html", form=form, invitation=invitation), (
        400 if form.errors else 200
    )


def _owned_organisation() -> Organisation:
    organisation = own_organisation()
    if not can(current_user, "manage_staff", organisation):
        abort(403)
    return organisation


@bp.route("/staff", methods=["GET", "POST"])
@requires("use_provider_portal")
def staff_list() -> Response | tuple[str, int]:
    organisation = own_organisation()
    form = InviteForm()
    if form.validate_on_submit():
        organisation = _owned_organisation()
        try:
            staff.invite(
                organisation,
                form.email.data,
                by=current_user._get_current_object(),
                link=lambda token: url_for("provider_portal.join", token=token, _external=True),
            )
        except staff.StaffChangeRefused as refused:
            show_refusal(form.email, refused)
        else:
            flash(f"Invitation sent to {form.email.data}", "success")
            return redirect(url_for("provider_portal.staff_list"))
    return render_template(
        "providers/staff.html",
        form=form,
        organisation=organisation,
        members=staff.active_staff(organisation),
        invitations=staff.open_invitations(organisation),
        may_manage=can(current_user, "manage_staff", organisation),
    ), 400 if form.errors else 200


@bp.route("/staff/<uuid:user_id>/remove", methods=["POST"])
@requires("use_provider_portal")
def remove_staff(user_id: uuid.UUID) -> Response:
    organisation = _owned_organisation()
    member = staff.staff_member(organisation, user_id)
    if member is None:
        abort(404)
    try:
        staff.remove(organisation, member, by=current_user._get_current_object())
    except staff.StaffChangeRefused as refused:
        flash(str(refused), "error")
    else:
        flash(f"{member.full_name} has been removed", "success")
    return redirect(url_for("provider_portal.staff_list"))


@bp.route("/invitations/<uuid:invitation_id>/revoke", methods=["POST"])
@requires("use_provider_portal")
def revoke_invitation(invitation_id: uuid.UUID) -> Response:
    organisation = _owned_organisation()
    try:
        staff.revoke(organisation, invitation_id)
    except LookupError:
        abort(404)
    flash("The invitation has been cancelled", "success")
    return redirect(url_for("provider_portal.staff_list"))


@bp.route("/venues", methods=["GET", "POST"])
@requires("use_provider_portal")
def venues() -> Response | tuple[str, int]:
    organisation = own_organisation()
    form = VenueForm()
    if form.validate_on_submit():
        venue = listings.add_venue(
            organisation,
            name=form.name.data,
            address=form.address.data,
            town=form.town.data,
            postcode=form.postcode.data,
            accessibility=list(form.accessibility.data or []),
        )
        flash(f"{venue.name} has been added", "success")
        return redirect(url_for("provider_portal.venues"))
    return render_template("providers/venues.html", form=form, organisation=organisation), (
        400 if form.errors else 200
    )
