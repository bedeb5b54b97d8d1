"""Council officers' forms for reablement (issue 18, REABLEMENT): starting an episode and
recording its outcome."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import Field, SelectField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import InputRequired, Length

from marketplace.forms import CheckboxesField, GovDateField, RadiosField, choices
from marketplace.orders.models import ReablementOutcome
from marketplace.orders.schedule import WEEKDAY_NAMES, WEEKDAYS

NOTE_MAX_LENGTH = 2000
# ASCII digits, and few of them (str.isdigit takes "²").
_WHOLE_NUMBER = re.compile(r"[0-9]{1,4}", re.ASCII)


class WholeNumberField(Field):
    """A whole number typed in a text box; anything else is a validation message."""

    widget = GovTextInput()

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text and not _WHOLE_NUMBER.fullmatch(text):
            raise ValueError(f"{self.label.text} must be a whole number, like 2")
        self.data = int(text) if text else None


class StartReablementForm(FlaskForm):
    service = SelectField(
        "Which provider's service?",
        widget=GovSelect(),
        description="The provider the council has asked to give the reablement",
        validators=[InputRequired(message="Select the service")],
    )
    pot = SelectField(
        "Which reablement pot pays for it?",
        widget=GovSelect(),
        validators=[InputRequired(message="Select the reablement pot")],
    )
    starts_on = GovDateField("Start date", description="For example, 27 3 2027")
    weeks = WholeNumberField("For how many weeks?")
    units_per_occasion = WholeNumberField("How many hours (or visits) each time?")
    days = CheckboxesField(
        "Which days of the week?",
        choices=choices((code, WEEKDAY_NAMES[code]) for code in WEEKDAYS),
        description="Select all that apply.",
    )
    submit = SubmitField("Start reablement", widget=GovSubmitInput())

    def validate_starts_on(self, field: Field) -> None:
        if field.data is None and not field.errors:
            raise ValidationError("Enter the start date")

    def validate_weeks(self, field: Field) -> None:
        if field.data is None:
            raise ValidationError("Enter how many weeks, like 6")

    def validate_units_per_occasion(self, field: Field) -> None:
        if field.data is None:
            raise ValidationError("Enter how many hours or visits each time, like 1")

    def validate_days(self, field: Field) -> None:
        if not field.data:
            raise ValidationError("Select at least one day of the week")

    def show_problems(self, problems: dict[str, str]) -> None:
        """The rules' problems beside their fields; any about no field above the form."""
        for name, message in problems.items():
            field = self._fields.get(name)
            if field is not None:
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(message)


class ReablementOutcomeForm(FlaskForm):
    outcome = RadiosField(
        "What was the outcome?",
        choices=choices(
            [
                (ReablementOutcome.NO_ONGOING_NEED.value, "No ongoing care needed"),
                (
                    ReablementOutcome.ONGOING_CARE.value,
                    "Ongoing care: carry on with the same provider, paid from their budget",
                ),
            ]
        ),
        validators=[InputRequired(message="Select the outcome")],
    )
    note = TextAreaField(
        "Note (optional)",
        widget=GovTextArea(),
        description="For example, what they can now do for themselves",
        validators=[
            Length(max=NOTE_MAX_LENGTH, message="The note must be 2000 characters or fewer")
        ],
    )
    submit = SubmitField("Record the outcome", widget=GovSubmitInput())
