"""Account forms, rendered with GOV.UK Frontend widgets."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length

from marketplace.accounts.passwords import MAX_LENGTH
from marketplace.forms import email_field, new_password_field


class SignUpForm(FlaskForm):
    full_name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter your full name"),
            Length(max=200, message="Full name must be 200 characters or fewer"),
        ],
    )
    email = email_field(description="We will send you a link to confirm it")
    password = new_password_field()
    submit = SubmitField("Create account", widget=GovSubmitInput())


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter your password"),
            Length(max=MAX_LENGTH, message="Enter a correct email address and password"),
        ],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ForgottenPasswordForm(FlaskForm):
    email = email_field()
    submit = SubmitField("Send reset link", widget=GovSubmitInput())


def _confirm_field() -> PasswordField:
    return PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Confirm your new password"),
            EqualTo("password", message="The passwords do not match"),
        ],
    )


class NewPasswordForm(FlaskForm):
    password = new_password_field("New password", "Enter a new password")
    confirm = _confirm_field()
    submit = SubmitField("Save new password", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your current password")],
    )
    password = new_password_field("New password", "Enter a new password")
    confirm = _confirm_field()
    submit = SubmitField("Change password", widget=GovSubmitInput())


class TokenDecisionForm(FlaskForm):
    """Confirm, refuse or revoke an API token that acts for the signed-in user (the CSRF token
    is the point: the decision is a POST from their own session)."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())
