"""Council officers' form for naming a lead provider (issue 18, LEAD)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.forms import GovDateField


class LeadProviderForm(FlaskForm):
    locality = SelectField(
        "Area", widget=GovSelect(), validators=[InputRequired(message="Select an area")]
    )
    category = SelectField(
        "Kind of care",
        widget=GovSelect(),
        validators=[InputRequired(message="Select a kind of care")],
    )
    organisation = SelectField(
        "Lead provider",
        widget=GovSelect(),
        description="Only approved care providers are listed",
        validators=[InputRequired(message="Select a provider")],
    )
    starts_on = GovDateField(
        "Date it becomes the lead",
        description="Today or later. The current lead provider, if there is one, stops being "
        "the lead the day before. For example, 1 4 2027",
    )
    reason = TextAreaField(
        "Why the council chose this provider",
        widget=GovTextArea(),
        description="For the record: for example, the contract it won",
        validators=[
            InputRequired(message="Enter why the council chose this provider"),
            Length(max=2000, message="The reason must be 2000 characters or fewer"),
        ],
    )
    submit = SubmitField("Name the lead provider", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.starts_on.data is None and not self.starts_on.errors:
            self.starts_on.errors = [*self.starts_on.errors, "Enter the date it becomes the lead"]
            return False
        return valid
