"""The person's forms for their assessment visit (issue 20, VISITS): choose a time, accept an
offered one, cancel with a reason. Each carries the visit the page was drawn for (`seen`), so
a page left open while the visit changed is refused in words."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.forms import RadiosField


class ChooseTimeForm(FlaskForm):
    # Any slot may be posted (a page left open lists times since taken): the rules decide.
    slot = RadiosField(
        "Choose a time",
        validate_choice=False,
        validators=[InputRequired(message="Choose a time for the visit")],
    )
    seen = HiddenField()
    submit = SubmitField("Book this time", widget=GovSubmitInput())


class OfferForm(FlaskForm):
    seen = HiddenField()
    accept = SubmitField("Accept this time", widget=GovSubmitInput())
    decline = SubmitField("No thanks", widget=GovSubmitInput())


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Why do you want to cancel the visit?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter why you want to cancel the visit"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
    )
    seen = HiddenField()
    submit = SubmitField("Cancel the visit", widget=GovSubmitInput())
