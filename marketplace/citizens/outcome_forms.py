"""OUTCOMES (issue 18): the forms of the citizen's outcome pages: buying a service for
outcomes of the support plan, and querying what the provider recorded for a week."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.citizens.order_forms import WholeNumberField
from marketplace.forms import CheckboxesField, GovDateField, RadiosField, choices
from marketplace.orders.outcomes import NOTE_MAX_LENGTH, PlanOutcome

UNTIL_FURTHER_NOTICE = "until_further_notice"
FOR_WEEKS = "weeks"


class OutcomeOrderForm(FlaskForm):
    """Which of the plan's outcomes, from when, and for how long."""

    outcomes = CheckboxesField(
        "Which outcomes should the provider help you with?",
        description="From your support plan. Select all that apply.",
    )
    starts_on = GovDateField(
        "When should it start?",
        description="Each week starts on this day of the week. For example, 27 3 2027",
    )
    length = RadiosField(
        "For how long?",
        choices=choices(
            [(FOR_WEEKS, "For a number of weeks"), (UNTIL_FURTHER_NOTICE, "Until further notice")]
        ),
        validators=[InputRequired(message="Select for how long")],
    )
    weeks = WholeNumberField("How many weeks?", description="For example, 12")
    # One placement for this form, however many times it is sent.
    key = HiddenField()
    submit = SubmitField("Place the order", widget=GovSubmitInput())

    def offer(self, outcomes: list[PlanOutcome]) -> None:
        self.outcomes.choices = choices((o.key, o.text) for o in outcomes)
        if not self.key.data:
            self.key.data = f"outcomes:{uuid.uuid4()}"

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.outcomes.data and not self.outcomes.errors:
            self.outcomes.errors = [*self.outcomes.errors, "Select at least one outcome"]
            valid = False
        if self.starts_on.data is None and not self.starts_on.errors:
            self.starts_on.errors = [*self.starts_on.errors, "Enter the date it should start"]
            valid = False
        if self.length.data == FOR_WEEKS and self.weeks.data is None and not self.weeks.errors:
            self.weeks.errors = [*self.weeks.errors, "Enter how many weeks"]
            valid = False
        return valid

    @property
    def chosen_start(self) -> date:
        """The first day (call after `validate`, which requires one)."""
        day: date | None = self.starts_on.data
        if day is None:
            raise ValueError("the form was not validated")
        return day

    @property
    def chosen_weeks(self) -> int | None:
        return None if self.length.data == UNTIL_FURTHER_NOTICE else self.weeks.data


class QueryOutcomeForm(FlaskForm):
    reason = TextAreaField(
        "What is wrong?",
        widget=GovCharacterCount(),
        validators=[
            InputRequired(message="Enter what is wrong"),
            Length(max=NOTE_MAX_LENGTH, message=f"Enter {NOTE_MAX_LENGTH} characters or fewer"),
        ],
    )
    submit = SubmitField("Send the query", widget=GovSubmitInput())
