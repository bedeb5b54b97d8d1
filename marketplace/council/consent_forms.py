"""The form of the council's page recording a lasting power of attorney or a deputyship."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from marketplace.forms import CheckboxesField, GovDateField, RadiosField, choices, email_field
from marketplace.people.consents import DOCUMENT_REFERENCE_MAX_LENGTH
from marketplace.people.models import Authority, ConsentScope


class RecordAttorneyForm(FlaskForm):
    """An officer records a lasting power of attorney or a deputyship, granted to a family
    member's own account, from the document they have seen."""

    email = email_field(
        "The family member's email address",
        required="Enter the family member's email address",
        description="The email address of their account on this service",
    )
    authority = RadiosField(
        "What kind of authority is it?",
        choices=choices(
            (authority.value, authority.label) for authority in Authority if authority.is_legal
        ),
        validators=[InputRequired(message="Select the kind of authority")],
    )
    document_reference = StringField(
        "Document reference",
        widget=GovTextInput(),
        description="The reference on the lasting power of attorney or the court order",
        validators=[
            InputRequired(message="Enter the document reference"),
            Length(
                max=DOCUMENT_REFERENCE_MAX_LENGTH,
                message=f"Document reference must be {DOCUMENT_REFERENCE_MAX_LENGTH} "
                "characters or fewer",
            ),
        ],
    )
    scopes = CheckboxesField(
        "What can they do for the person?",
        choices=choices((scope.value, scope.label) for scope in ConsentScope),
        description="Select all that apply.",
    )
    starts_on = GovDateField("Start date", description="For example, 1 12 2026")
    ends_on = GovDateField(
        "End date", description="It can be up to 3 years from today. For example, 30 11 2029"
    )
    submit = SubmitField("Record the authority", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field, message in (
            (self.scopes, "Select what they can do for the person"),
            (self.starts_on, "Enter the start date"),
            (self.ends_on, "Enter the end date"),
        ):
            if not field.data and not field.errors:
                field.errors = [*field.errors, message]
                valid = False
        return valid
