"""Sign up, sign in, sign out, change and reset passwords."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
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

# The module, not its names: importing the navigation imports this package (a cycle).
from marketplace import navigation
from marketplace.accounts import bp, browser_sessions, service
from marketplace.accounts.access import requires
from marketplace.accounts.forms import (
    ChangePasswordForm,
    ForgottenPasswordForm,
    NewPasswordForm,
    SignInForm,
    SignUpForm,
)
from marketplace.extensions import limiter
from marketplace.forms import show_refusal

SIGN_IN_FAILED = "Enter a correct email address and password"


def _limit(setting: str):
    return limiter.limit(lambda: current_app.config[setting], methods=["POST"])


def _account_tried() -> str:
    """The rate-limit key of the account a sign-in tries: its email as accounts store it."""
    return "sign-in:" + service.normalise_email(request.form.get("email", ""))[:254]


def _failed(response: Response) -> bool:
    # A wrong email or password re-shows the form with 400; a success redirects.
    return response.status_code == 400


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: `next=` never leads to another site."""
    if not target:
        return None
    target = target.replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _render_form(template: str, form: object, **context: object) -> tuple[str, int]:
    status = 400 if getattr(form, "errors", None) else 200
    return render_template(template, form=form, **context), status


@bp.route("/sign-up", methods=["GET", "POST"])
@_limit("SIGN_UP_RATE_LIMIT")
def sign_up() -> Response | tuple[str, int]:
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            service.request_sign_up(
                email=form.email.data,
                full_name=form.full_name.data,
                password=form.password.data,
                confirm_link=lambda token: url_for(
                    "accounts.confirm_sign_up", token=token, _external=True
                ),
                sign_in_link=url_for("accounts.sign_in", _external=True),
                reset_link=url_for("accounts.forgotten_password", _external=True),
            )
        except service.PasswordRejected as rejected:
            show_refusal(form.password, rejected)
        else:
            session["sign_up_email"] = service.normalise_email(form.email.data)
            return redirect(url_for("accounts.check_email_sign_up"))
    return _render_form("accounts/sign_up.html", form)


@bp.route("/sign-up/check-your-email")
def check_email_sign_up() -> str:
    return render_template(
        "accounts/check_email.html", email=session.get("sign_up_email"), purpose="sign_up"
    )


@bp.route("/sign-up/confirm/<token>", methods=["GET", "POST"])
@_limit("SIGN_UP_RATE_LIMIT")
def confirm_sign_up(token: str) -> Response | tuple[str, int] | str:
    # A GET only shows a button: mail scanners open links, and must not spend them.
    if request.method == "GET":
        return render_template("accounts/confirm_sign_up.html", token=token)
    try:
        user = service.confirm_sign_up(token)
    except service.InvalidLink as invalid:
        return render_template("accounts/invalid_link.html", reason=str(invalid)), 400
    browser_sessions.sign_in(user)
    flash("Your account has been created", "success")
    return redirect(url_for(navigation.home_for(user)))


@bp.route("/sign-in", methods=["GET", "POST"])
@_limit("SIGN_IN_RATE_LIMIT")
# Counted per account as well as per address, so that guessing one person's password from
# many addresses is held back too; only failures count, so the owner signing in does not.
@limiter.limit(
    lambda: current_app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"],
    key_func=_account_tried,
    methods=["POST"],
    deduct_when=_failed,
)
def sign_in() -> Response | tuple[str, int]:
    form = SignInForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            form.email.errors.append(SIGN_IN_FAILED)
        else:
            browser_sessions.sign_in(user)
            return redirect(
                safe_next(request.args.get("next")) or url_for(navigation.home_for(user))
            )
    return _render_form("accounts/sign_in.html", form)


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    browser_sessions.sign_out()
    flash("You have signed out", "success")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/account")
@requires("use_account")
def account() -> str:
    # Imported here: the loader imports people's models, which import this package.
    from marketplace.pages.on_behalf import people_to_act_for

    return render_template(
        "accounts/account.html",
        user=current_user,
        people_to_act_for=people_to_act_for(current_user._get_current_object()),
    )


@bp.route("/account/change-password", methods=["GET", "POST"])
@requires("use_account")
def change_password() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            service.change_password(user, form.current_password.data, form.password.data)
        except service.PasswordRejected as rejected:
            field = form.current_password if "current" in str(rejected) else form.password
            show_refusal(field, rejected)
        else:
            browser_sessions.sign_in(user)
            flash("Your password has been changed", "success")
            return redirect(url_for("accounts.account"))
    return _render_form("accounts/change_password.html", form)


@bp.route("/forgotten-password", methods=["GET", "POST"])
@_limit("RESET_RATE_LIMIT")
def forgotten_password() -> Response | tuple[str, int]:
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        service.request_password_reset(
            form.email.data,
            lifetime=timedelta(seconds=current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]),
            reset_link=lambda user_id, token: url_for(
                "accounts.reset_password", user_id=user_id, token=token, _external=True
            ),
        )
        session["reset_email"] = service.normalise_email(form.email.data)
        return redirect(url_for("accounts.check_email_reset"))
    return _render_form("accounts/forgotten_password.html", form)


@bp.route("/forgotten-password/check-your-email")
def check_email_reset() -> str:
    return render_template(
        "accounts/check_email.html", email=session.get("reset_email"), purpose="reset"
    )


@bp.route("/reset-password/<uuid:user_id>/<token>", methods=["GET", "POST"])
@_limit("RESET_RATE_LIMIT")
def reset_password(user_id: uuid.UUID, token: str) -> Response | tuple[str, int]:
    try:
        service.user_for_reset(user_id, token)
    except service.InvalidLink as invalid:
        return render_template("accounts/invalid_link.html", reason=str(invalid)), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = service.reset_password(user_id, token, form.password.data)
        except service.PasswordRejected as rejected:
            show_refusal(form.password, rejected)
        else:
            browser_sessions.sign_in(user)
            flash("Your password has been reset", "success")
            return redirect(url_for(navigation.home_for(user)))
    return _render_form("accounts/reset_password.html", form)
