"""The broker workspace's forms: adding a client with the consent they gave on paper, asking
someone for consent, writing a note, inviting a client to claim their record."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from marketplace.forms import CheckboxesField, GovDateField, RadiosField, choices, email_field
from marketplace.people.caseload import NOTE_MAX_LENGTH
from marketplace.people.models import Authority, ConsentScope


class AddClientForm(FlaskForm):
    """A new client's record and the consent they (or their attorney or deputy) signed."""

    full_name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the client's full name"),
            Length(max=200, message="Full name must be 200 characters or fewer"),
        ],
    )
    date_of_birth = GovDateField("Date of birth (optional)", description="For example, 27 3 1941")
    postcode = StringField(
        "Postcode (optional)",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=10, message="Postcode must be 10 characters or fewer")],
    )
    email = email_field(
        "Email address (optional)",
        required=None,
        description="Only if they use email. You can invite them to see their record later.",
    )
    authority = RadiosField(
        "Who signed the consent form?",
        choices=choices((a.value, a.label) for a in Authority),
        validators=[InputRequired(message="Select who signed the consent form")],
    )
    given_by_name = StringField(
        "Name of the person who signed it",
        widget=GovTextInput(),
        description="The client, or their attorney or deputy.",
        validators=[
            InputRequired(message="Enter the name of the person who signed the consent form"),
            Length(max=200, message="The name must be 200 characters or fewer"),
        ],
    )
    document_reference = StringField(
        "Reference of the power of attorney or court order",
        widget=GovTextInput(),
        description="Only for an attorney or a deputy. For example, 7000-1234-5678.",
        validators=[
            Optional(),
            Length(max=100, message="The reference must be 100 characters or fewer"),
        ],
    )
    scopes = CheckboxesField(
        "What did they agree you can do?",
        choices=choices((s.value, s.label) for s in ConsentScope),
        description="Select all that the signed form allows.",
    )
    ends_on = GovDateField(
        "When does the consent end?",
        description="It can last up to 3 years from today. For example, 4 3 2027",
    )
    submit = SubmitField("Add client", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.scopes.data and not self.scopes.errors:
            self.scopes.errors = [*self.scopes.errors, "Select what they agreed you can do"]
            valid = False
        if self.ends_on.data is None and not self.ends_on.errors:
            self.ends_on.errors = [*self.ends_on.errors, "Enter the date the consent ends"]
            valid = False
        return valid


class AskForConsentForm(FlaskForm):
    email = email_field(
        "Their email address",
        required="Enter their email address",
        description="We will email them a link to give your brokerage consent online.",
    )
    submit = SubmitField("Send the request", widget=GovSubmitInput())


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Add a note",
        widget=GovTextArea(),
        description="The client, and anyone with power of attorney for them, can read every "
        "note. Notes cannot be changed once added.",
        validators=[
            InputRequired(message="Enter the note"),
            Length(
                max=NOTE_MAX_LENGTH,
                message=f"The note must be {NOTE_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Add note", widget=GovSubmitInput())


class InviteToClaimForm(FlaskForm):
    email = email_field(
        "Their email address",
        required="Enter their email address",
        description="We will email them a link to create an account and see their record.",
    )
    submit = SubmitField("Send the invitation", widget=GovSubmitInput())
