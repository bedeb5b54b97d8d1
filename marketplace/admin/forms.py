"""Administrators' forms: a new API token, and revoking one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from marketplace.accounts.roles import Role
from marketplace.api.tokens import NAME_LENGTH
from marketplace.forms import RadiosField, choices

# The roles a machine may act as: the integration API serves the council's systems. Other
# roles can be given on the command line, for tests of the access rules.
TOKEN_ROLES = (Role.COUNCIL_OFFICER, Role.BROKER, Role.PROVIDER_STAFF)


class NewTokenForm(FlaskForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        description="Say which system uses it, like 'Case management (Liquidlogic)'",
        validators=[
            InputRequired(message="Enter a name for the token"),
            Length(max=NAME_LENGTH, message=f"The name must be {NAME_LENGTH} characters or fewer"),
        ],
    )
    role = RadiosField(
        "What may it do?",
        choices=choices(
            (role.value, f"What a {role.label.lower()} may do") for role in TOKEN_ROLES
        ),
        default=Role.COUNCIL_OFFICER.value,
        validators=[InputRequired(message="Choose what the token may do")],
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())


class RevokeTokenForm(FlaskForm):
    submit = SubmitField("Revoke", widget=GovSubmitInput())
