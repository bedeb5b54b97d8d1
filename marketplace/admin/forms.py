"""Administrators' forms: a new API token, and revoking one."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import SelectField, StringField, SubmitField, ValidationError
from wtforms.validators import InputRequired, Length

from marketplace.accounts.api_tokens import NAME_LENGTH
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
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
    user = SelectField(
        "Acts for (optional)",
        widget=GovSelect(),
        description=(
            "Choose a user of the role and, once they confirm it on their account page, the "
            "token makes its requests as them: a council officer's token can then place, "
            "cancel and approve orders, and a provider's token can accept and deliver its "
            "organisation's orders. Without a user the token may read, but not change, orders. "
            "Deactivating the user stops the token at once."
        ),
        default="",
        validate_choice=False,  # validate_user says what is wrong in our words
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())

    def offer(self, users: Iterable[User]) -> None:
        """The users a token may act for (active users of the roles above)."""
        self.user.choices = choices(
            [
                ("", "No one: it acts for its role only"),
                *(
                    (str(user.id), f"{user.full_name} ({user.email}), {user.role.label.lower()}")
                    for user in users
                ),
            ]
        )

    def validate_user(self, field: SelectField) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices or []}:
            raise ValidationError("Choose a user from the list")


class RevokeTokenForm(FlaskForm):
    submit = SubmitField("Revoke", widget=GovSubmitInput())
