"""Form fields shared by every part of the site: money, dates and choices, GOV.UK style."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovTextInput,
)
from wtforms import EmailField, Field, Form, PasswordField, SelectMultipleField, ValidationError
from wtforms.fields.choices import RadioField, SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional

from marketplace import money
from marketplace.formatting import pounds

MAX_PRICE_PENCE = 1_000_000  # £10,000 for one unit: anything more is a typing slip
# A day, month or year as typed: up to 4 ASCII digits (a year has 4; str.isdigit takes "²").
_DATE_PART = re.compile(r"[0-9]{1,4}", re.ASCII)


def refusal_message(refused: Exception, field_name: str | None = None) -> str:
    """A rule's refusal as a GOV.UK error message: what it says about `field_name` when it
    names fields (`details["fields"]`, as an order's refusal does), else its `message` (or its
    text, for a refusal that is a plain ValueError), beginning with a capital letter."""
    details = getattr(refused, "details", None)
    fields = details.get("fields") if isinstance(details, dict) else None
    about_field = fields.get(field_name) if isinstance(fields, dict) and field_name else None
    message = str(about_field or getattr(refused, "message", None) or refused)
    return message[:1].upper() + message[1:]


def show_refusal(where: Form | Field, refused: Exception) -> None:
    """Put a rule's refusal on a form as an error, for the form to be shown again (a 4xx).

    On a field, it goes beside that field (what the refusal says about a field of that name,
    when it names fields); on a form, it goes above the form (`form_errors`), in the error
    summary."""
    if isinstance(where, Form):
        where.form_errors.append(refusal_message(refused))
    else:
        where.errors = [*where.errors, refusal_message(refused, where.short_name)]


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms 3.3 wants SelectChoice objects, not tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


class PenceField(Field):
    """An amount typed in pounds ("24.50", "£1,200") and held as integer pence.

    Read by `marketplace.money`'s strict pattern (never a float, never Decimal arithmetic on
    whatever was typed), from 0 to `max_pence`.
    """

    widget = GovTextInput()

    def __init__(
        self,
        label: str | None = None,
        validators: Sequence[Any] | None = None,
        max_pence: int = MAX_PRICE_PENCE,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.max_pence = max_pence

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return pounds(self.data, plain=True)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = money.pence_from_text(valuelist[0], max_pence=self.max_pence)
        except money.MoneyError as error:
            self.data = None
            raise ValueError(error.message_for(self.label.text)) from None


class GovDateField(Field):
    """A GOV.UK date input (day, month, year) that answers missing or bad parts with a message.

    GOV.UK's widget sends three values under one name; a POST may send fewer, which a plain
    DateField turns into a 500. Here every shape of input ends in data or a validation error.
    """

    widget = GovDateInput()
    # The boxes GovDateInput draws, in order; each has the id `<name>-<box>`.
    BOXES = ("day", "month", "year")

    def _value(self) -> str:
        return ""

    def error_target_id(self) -> str:
        """The id the error summary links to: the first box left empty, else the day box.

        GOV.UK's pattern: the field's own id names the wrapper around the boxes, which cannot
        take focus, so a link to it leaves the focus on the link.
        """
        parts = list(self.raw_data or [])[:3]
        parts += [""] * (3 - len(parts))
        empty = [box for box, part in zip(self.BOXES, parts, strict=True) if not str(part).strip()]
        box = empty[0] if 0 < len(empty) < 3 else self.BOXES[0]
        return f"{self.name}-{box}"

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [part.strip() for part in (valuelist or [])][:3]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        if not any(parts):
            self.data = None
            return
        if not all(parts):
            self.data = None
            raise ValueError(f"{self.label.text} must include a day, month and year")
        # Each part is checked for shape before int(): "2147483648" overflows date() with an
        # OverflowError, and a very long run of digits costs time to convert.
        if not all(_DATE_PART.fullmatch(part) for part in parts):
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date")
        try:
            self.data = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError as error:
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date") from error


class CheckboxesField(SelectMultipleField):
    """Several checkboxes under one question."""

    widget = GovCheckboxesInput()

    def pre_validate(self, form: Any) -> None:
        allowed = {
            choice.value if isinstance(choice, SelectChoice) else choice[0]
            for choice in (self.choices or [])
        }
        for value in self.data or []:
            if value not in allowed:
                raise ValidationError(f"{self.label.text}: choose only from the options given")


class RadiosField(RadioField):
    widget = GovRadioInput()


def email_field(
    label: str = "Email address",
    *,
    required: str | None = "Enter your email address",
    description: str | None = None,
) -> EmailField:
    """An email address question, checked for shape (deliverability is the email's job)."""
    validators: list[Any] = [InputRequired(message=required)] if required else [Optional()]
    validators += [
        Length(max=254, message="Email address must be 254 characters or fewer"),
        Email(
            message="Enter an email address in the correct format, like name@example.com",
            check_deliverability=False,
        ),
    ]
    return EmailField(label, widget=GovTextInput(), description=description, validators=validators)


def new_password_field(
    label: str = "Create a password", required: str = "Enter a password"
) -> PasswordField:
    """A password being chosen; its strength is checked by the accounts rules."""
    return PasswordField(
        label,
        widget=GovPasswordInput(),
        description="Use 10 characters or more. Three random words together work well.",
        validators=[InputRequired(message=required)],
    )


class ButtonForm(FlaskForm):
    """A form that is only a button (and its CSRF token): remove, confirm, mark as read."""
