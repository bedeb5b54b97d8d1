"""The form of the council's page adding its own brokerage (its service finders)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from marketplace.forms import CheckboxesField, email_field

NAME_MAX = 200
DESCRIPTION_MAX = 3000
PHONE_MAX = 30


class AddBrokerageForm(FlaskForm):
    """The council's brokerage: what the public directory says about it, and the email address
    of its first broker, who is invited and becomes its owner."""

    name = StringField(
        "Name of the brokerage",
        widget=GovTextInput(),
        description="As people will see it, like Hertfordshire County Council Service Finders",
        validators=[
            InputRequired(message="Enter the name of the brokerage"),
            Length(max=NAME_MAX, message=f"Name must be {NAME_MAX} characters or fewer"),
        ],
    )
    description = TextAreaField(
        "What the brokerage does",
        widget=GovCharacterCount(),
        description="Who it helps and how, in plain words. People see this in the directory.",
        validators=[
            InputRequired(message="Enter what the brokerage does"),
            Length(
                max=DESCRIPTION_MAX,
                message=f"What the brokerage does must be {DESCRIPTION_MAX} characters or fewer",
            ),
        ],
    )
    email = email_field(
        "Contact email address", required="Enter the brokerage's contact email address"
    )
    phone = StringField(
        "Phone number",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=PHONE_MAX, message=f"Phone number must be {PHONE_MAX} characters or fewer"),
        ],
    )
    areas = CheckboxesField("Areas it serves", description="Select all that apply.")
    broker_email = email_field(
        "Email address of its first broker",
        required="Enter the email address of its first broker",
        description="We will email them an invitation. They will be able to invite the rest "
        "of the team.",
    )
    submit = SubmitField("Add the brokerage", widget=GovSubmitInput())


class InviteBrokerForm(FlaskForm):
    """The first broker of a brokerage with none, invited by a council officer."""

    email = email_field("Their email address", required="Enter their email address")
    submit = SubmitField("Send invitation", widget=GovSubmitInput())
