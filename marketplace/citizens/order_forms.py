"""Forms of the citizen's ordering pages: a schedule for a service, the checkout's split of
each item over the funding streams, a delivery query and a cancellation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, Field, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.forms import CheckboxesField, GovDateField, PenceField, RadiosField, choices
from marketplace.orders.life import REASON_MAX_LENGTH
from marketplace.orders.models import ScheduleKind
from marketplace.orders.schedule import WEEKDAY_NAMES, WEEKDAYS, Schedule
from providers.models import PriceUnit

HOW_LONG_WEEKS = "weeks"
HOW_LONG_ONGOING = "ongoing"
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}", re.ASCII)

# The word for one of a service's units, by its price unit.
UNIT_WORDS: dict[PriceUnit, str] = {
    PriceUnit.PER_HOUR: "hours",
    PriceUnit.PER_VISIT: "visits",
    PriceUnit.PER_SESSION: "sessions",
    PriceUnit.PER_DAY: "days",
    PriceUnit.PER_NIGHT: "nights",
    PriceUnit.PER_WEEK: "weeks",
    PriceUnit.PER_ITEM: "items",
}


class WholeNumberField(Field):
    """A whole number typed in a text box; anything else is a validation message, not a 500."""

    widget = GovTextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        # ASCII digits, and few of them: str.isdigit takes "²", which int() refuses with its
        # own message, and thousands of digits cost time to convert.
        if not _WHOLE_NUMBER.fullmatch(text):
            self.data = None
            raise ValueError(f"{self.label.text} must be a whole number, like 2")
        self.data = int(text)


class ScheduleForm(FlaskForm):
    """When and how much of a service: one date, or chosen weekdays for some weeks."""

    schedule_kind = RadiosField(
        "How often do you need it?",
        choices=choices(
            [
                (ScheduleKind.ONE_OFF.value, "Once, on one date"),
                (ScheduleKind.RECURRING.value, "Every week, on the days I choose"),
            ]
        ),
        validators=[InputRequired(message="Select how often you need it")],
    )
    starts_on = GovDateField(
        "Date", description="The date of the first visit. For example, 27 3 2027"
    )
    units_per_occasion = WholeNumberField("How many hours each time")
    days = CheckboxesField(
        "Which days of the week?",
        choices=choices((code, WEEKDAY_NAMES[code]) for code in WEEKDAYS),
        description="Only if you need it every week. Select all that apply.",
    )
    # PACKAGES (issue 18): every week for some weeks, or until further notice (a package).
    how_long = RadiosField(
        "For how long?",
        choices=choices(
            [
                (HOW_LONG_WEEKS, "For a number of weeks"),
                (HOW_LONG_ONGOING, "Until further notice"),
            ]
        ),
        default=HOW_LONG_WEEKS,
        description=(
            "Only if you need it every week. Until further notice, it carries on from one "
            "budget period to the next until you or the provider end it."
        ),
    )
    weeks = WholeNumberField(
        "For how many weeks?",
        description="Only if you need it for a number of weeks. For example, 12",
    )
    check = SubmitField("Check the cost", widget=GovSubmitInput())
    add = SubmitField("Add to basket", widget=GovSubmitInput())

    def label_units(self, price_unit: PriceUnit) -> None:
        """Ask for hours, visits or items, as the service is priced."""
        word = UNIT_WORDS.get(price_unit, "units")
        self.units_per_occasion.label.text = f"How many {word} each time"

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.starts_on.data is None and not self.starts_on.errors:
            self.starts_on.errors = [*self.starts_on.errors, "Enter the date"]
            valid = False
        if self.units_per_occasion.data is None and not self.units_per_occasion.errors:
            self.units_per_occasion.errors = [
                *self.units_per_occasion.errors,
                f"Enter {self.units_per_occasion.label.text.lower()}",
            ]
            valid = False
        if self.is_recurring and not self.days.data and not self.days.errors:
            self.days.errors = [*self.days.errors, "Select at least one day of the week"]
            valid = False
        if (
            self.is_recurring
            and not self.until_further_notice
            and self.weeks.data is None
            and not self.weeks.errors
        ):
            self.weeks.errors = [*self.weeks.errors, "Enter how many weeks"]
            valid = False
        return valid

    @property
    def is_recurring(self) -> bool:
        return self.schedule_kind.data == ScheduleKind.RECURRING.value

    @property
    def until_further_notice(self) -> bool:
        return self.how_long.data == HOW_LONG_ONGOING

    def schedule(self) -> Schedule:
        """The schedule asked for (call after `validate`)."""
        if self.is_recurring:
            return Schedule(
                ScheduleKind.RECURRING,
                self.starts_on.data,
                self.units_per_occasion.data,
                None if self.until_further_notice else self.weeks.data,
                tuple(code for code in WEEKDAYS if code in (self.days.data or [])),
            )
        return Schedule(ScheduleKind.ONE_OFF, self.starts_on.data, self.units_per_occasion.data)

    def show_problems(self, problems: dict[str, str]) -> bool:
        """Put the rules' problems beside their fields; those about no field go on the form.
        Returns whether any did."""
        for name, message in problems.items():
            field = getattr(self, name, None)
            if isinstance(field, Field) and name in self._fields:
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(message)
        return bool(problems)

    # The error summary links form-wide problems to the order's details.
    _form_error_key = "order-details"


class CheckoutForm(FlaskForm):
    """Place the order for the items shown; an optional amount per stream for each item."""

    place = SubmitField("Place order", widget=GovSubmitInput())
    # A budget holder's choice to pay by card what the budget cannot cover (offered only
    # where the council allows it); a self-funder always pays by card.
    pay_by_card = BooleanField("Pay the rest by card", widget=GovCheckboxInput())
    _form_error_key = "checkout-items"

    @staticmethod
    def split_name(item_id: uuid.UUID, stream_id: uuid.UUID) -> str:
        return f"split_{item_id.hex}_{stream_id.hex}"

    def split_fields(self, item_id: uuid.UUID, stream_ids: Iterable[uuid.UUID]) -> list[Field]:
        return [self[self.split_name(item_id, stream_id)] for stream_id in stream_ids]

    def chosen_split(
        self, item_id: uuid.UUID, stream_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int] | None:
        """The amounts typed for an item, by stream (blank is nothing), or None if every box is
        blank: then the budget's own order decides."""
        amounts = {
            stream_id: self[self.split_name(item_id, stream_id)].data for stream_id in stream_ids
        }
        if all(pence is None for pence in amounts.values()):
            return None
        return {stream_id: pence or 0 for stream_id, pence in amounts.items()}


def checkout_form(
    items: Iterable[tuple[uuid.UUID, Iterable[tuple[uuid.UUID, str]]]],
) -> CheckoutForm:
    """A checkout form with a pounds box for each item and each stream (id, stream name)."""
    fields: dict[str, Field] = {}
    for item_id, streams in items:
        for stream_id, name in streams:
            fields[CheckoutForm.split_name(item_id, stream_id)] = PenceField(f"Amount from {name}")
    return type("ItemsCheckoutForm", (CheckoutForm,), fields)()


class QueryDeliveryForm(FlaskForm):
    reason = TextAreaField(
        "What is wrong with this delivery?",
        widget=GovCharacterCount(),
        description="For example, the carer did not come, or stayed a shorter time",
        validators=[
            InputRequired(message="Enter what is wrong with this delivery"),
            Length(
                max=REASON_MAX_LENGTH,
                message=f"What is wrong must be {REASON_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Send the query", widget=GovSubmitInput())


class CancelOrderForm(FlaskForm):
    reason = TextAreaField(
        "Why are you cancelling? (optional)",
        widget=GovCharacterCount(),
        validators=[
            Length(
                max=REASON_MAX_LENGTH,
                message=f"The reason must be {REASON_MAX_LENGTH} characters or fewer",
            )
        ],
    )
    submit = SubmitField("Cancel the order", widget=GovSubmitInput())
    _form_error_key = "cancel-details"
