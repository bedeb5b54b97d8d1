"""Council officers' forms on orders: the filters over all orders, and refusing an order."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import Form, SelectField, StringField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from marketplace.forms import GovDateField, choices
from marketplace.orders.life import REASON_MAX_LENGTH
from marketplace.orders.models import OrderStatus
from providers.models import Organisation


class ChoiceField(SelectField):
    """A select whose unknown values are refused with a message, not a crash."""

    widget = GovSelect()

    def pre_validate(self, form: Form) -> None:
        if self.data and self.data not in {choice.value for choice in self.choices or []}:
            raise ValidationError(f"{self.label.text}: choose from the list")


class OrderFiltersForm(Form):
    """Read from the query string (a GET form: nothing changes, so no CSRF token)."""

    reference = StringField(
        "Order reference",
        widget=GovTextInput(),
        description="For example, ORD-7K2M9QXB",
        validators=[Optional(), Length(max=12, message="A reference is 12 characters")],
        filters=[lambda v: v.strip().upper() if v else v],
    )
    status = ChoiceField("Status", default="")
    provider = ChoiceField("Provider", default="")
    placed_from = GovDateField("Placed on or after", description="For example, 1 6 2026")
    placed_to = GovDateField("Placed on or before", description="For example, 30 6 2026")

    def offer(self, organisations: Iterable[Organisation]) -> None:
        self.status.choices = choices(
            [("", "Any status"), *((status.value, status.label) for status in OrderStatus)]
        )
        self.provider.choices = choices(
            [("", "Any provider"), *((str(each.id), each.name) for each in organisations)]
        )

    def validate_placed_to(self, field: GovDateField) -> None:
        start = self.placed_from.data
        if start and field.data and field.data < start:
            raise ValidationError("“Placed on or before” must be the same as or after the start")


class RefuseOrderForm(FlaskForm):
    reason = TextAreaField(
        "Why is it not approved?",
        widget=GovCharacterCount(),
        filters=[lambda v: v.strip() if v else v],
        description="The person will see this. The money held for it goes back to the budget.",
        validators=[
            DataRequired(message="Enter why the order is not approved"),
            Length(
                max=REASON_MAX_LENGTH,
                message=f"Reason must be {REASON_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Do not approve", widget=GovSubmitInput())
