"""The provider's forms on an order: accept, decline, record or correct a delivery, invoice.

Each checks only the shape of what was typed; whether the order allows it is the orders'
rules' to say (`marketplace.orders`), and their refusals are put on these forms by the views.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import Field, HiddenField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from marketplace.forms import GovDateField
from marketplace.orders.deliveries import NOTE_MAX_LENGTH
from marketplace.orders.life import REASON_MAX_LENGTH
from marketplace.orders.schedule import MAX_UNITS_PER_OCCASION
from providers.models import PriceUnit

# What one unit of each price is called when counting what was delivered.
UNIT_NAMES = {
    PriceUnit.PER_HOUR: "hours",
    PriceUnit.PER_VISIT: "visits",
    PriceUnit.PER_SESSION: "sessions",
    PriceUnit.PER_DAY: "days",
    PriceUnit.PER_NIGHT: "nights",
    PriceUnit.PER_WEEK: "weeks",
    PriceUnit.PER_ITEM: "items",
    PriceUnit.FREE: "units",
}


class WholeNumberField(Field):
    """A count typed as a whole number from 0 to 16, with plain messages for anything else."""

    widget = GovTextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        # ASCII digits only: str.isdigit takes "²", which int() refuses with its own message.
        if not (text.isascii() and text.isdigit()):
            raise ValueError(f"{self.label.text} must be a whole number, like 2")
        # Measured before int(): thousands of digits cost time to convert.
        digits = text.lstrip("0") or "0"
        number = int(digits) if len(digits) <= 9 else MAX_UNITS_PER_OCCASION + 1
        if number > MAX_UNITS_PER_OCCASION:
            raise ValueError(
                f"{self.label.text} must be {MAX_UNITS_PER_OCCASION} or fewer for one day"
            )
        self.data = number

    def pre_validate(self, form: Any) -> None:
        if self.data is None and not self.process_errors:
            raise ValidationError(f"Enter {self.label.text.lower()}, or 0 for a missed visit")


def _note(label: str = "Note") -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovCharacterCount(),
        description="For example, what was done, or why a visit was missed",
        validators=[
            Optional(),
            Length(
                max=NOTE_MAX_LENGTH, message=f"Note must be {NOTE_MAX_LENGTH} characters or fewer"
            ),
        ],
    )


class AcceptOrderForm(FlaskForm):
    submit = SubmitField("Accept this order", widget=GovSubmitInput())


class DeclineOrderForm(FlaskForm):
    reason = TextAreaField(
        "Why are you declining it?",
        widget=GovCharacterCount(),
        filters=[lambda v: v.strip() if v else v],
        description="The person will see this, so they can look for care elsewhere.",
        validators=[
            DataRequired(message="Enter why you are declining this order"),
            Length(
                max=REASON_MAX_LENGTH,
                message=f"Reason must be {REASON_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Decline this order", widget=GovSubmitInput())


class DeliveryForm(FlaskForm):
    delivered_on = GovDateField("Date delivered", description="For example, 8 6 2026")
    units = WholeNumberField("Hours delivered")
    note = _note()
    submit = SubmitField("Record this delivery", widget=GovSubmitInput())

    def name_units(self, unit_name: str) -> None:
        """Say what is being counted (hours, visits, items ...) on the units question."""
        self.units.label.text = f"{unit_name.capitalize()} delivered"
        self.units.description = "Enter 0 for a missed visit, and say why in the note"

    def validate_delivered_on(self, field: GovDateField) -> None:
        if field.data is None and not field.errors:
            raise ValidationError("Enter the date it was delivered")


class CorrectDeliveryForm(FlaskForm):
    delivery_id = HiddenField()
    units = WholeNumberField("Corrected amount")
    note = _note("What was wrong, and what you have corrected")
    submit = SubmitField("Correct this delivery", widget=GovSubmitInput())


class RaiseInvoiceForm(FlaskForm):
    cycle_id = HiddenField()
    submit = SubmitField("Raise invoice", widget=GovSubmitInput())
