"""Council officers' forms for budgets: give a budget, revise a stream, close a period, and
approve a support plan; and the decision on a provider's organisation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    Field,
    Form,
    HiddenField,
    IntegerField,
    SelectField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from marketplace.budgets.closing import CloseChoice
from marketplace.budgets.models import FunderPot, PaymentFrequency, StreamKind
from marketplace.budgets.rules import DEFAULT_DRAW_ORDER, PERIOD_MAX, STREAM_MAX_PENCE
from marketplace.forms import GovDateField, PenceField, RadiosField, choices
from marketplace.ledger.transfers import REASON_LENGTH

_WHOLE_PENCE = re.compile(r"[0-9]{1,15}", re.ASCII)

FREQUENCY_LABELS = {
    PaymentFrequency.FOUR_WEEKLY: "Every 4 weeks",
    PaymentFrequency.MONTHLY: "Monthly",
    PaymentFrequency.ANNUAL: "Once, at the start of the period",
}
# Officers' words for the streams (StreamKind.label speaks to the person).
STREAM_NAMES = {
    StreamKind.COUNCIL: "Council",
    StreamKind.NHS: "NHS personal health budget",
    StreamKind.CLIENT_CONTRIBUTION: "Assessed client contribution",
    StreamKind.OWN_FUNDS: "The person's own top-up",
}
STREAM_ORDER = (
    StreamKind.CLIENT_CONTRIBUTION,
    StreamKind.NHS,
    StreamKind.COUNCIL,
    StreamKind.OWN_FUNDS,
)


class PotField(SelectField):
    """A funder's pot, or none; a value that is not one of the pots offered is refused."""

    def pre_validate(self, form: Form) -> None:
        if self.data and self.data not in {choice.value for choice in self.choices or []}:
            raise ValidationError("Choose a pot from the list")


def _amount(kind: StreamKind) -> PenceField:
    return PenceField(
        f"{STREAM_NAMES[kind]}: amount for the period in pounds",
        max_pence=STREAM_MAX_PENCE,
        description="Leave empty if there is none",
    )


def _order(kind: StreamKind) -> IntegerField:
    return IntegerField(
        f"{STREAM_NAMES[kind]}: draw order",
        widget=GovTextInput(),
        default=DEFAULT_DRAW_ORDER[kind],
        description="Lower numbers are spent first",
        validators=[
            Optional(),
            NumberRange(min=1, max=99, message="Enter a draw order from 1 to 99"),
        ],
    )


def _pot(kind: StreamKind) -> PotField:
    return PotField(f"{STREAM_NAMES[kind]}: from which pot", widget=GovSelect(), default="")


class LineField(SelectField):
    """RECON (issue 19): a line of a pot, or none; one not offered is refused."""

    def pre_validate(self, form: Form) -> None:
        if self.data and self.data not in {choice.value for choice in self.choices or []}:
            raise ValidationError("Choose a line from the list, or no line")


def _line(kind: StreamKind) -> LineField:
    # RECON (issue 19): the named line of the pot the stream is drawn for, if the pot has lines.
    return LineField(
        f"{STREAM_NAMES[kind]}: for which line of the pot",
        widget=GovSelect(),
        default="",
        description="Leave as it is if the funder names no line for it",
    )


class BudgetForm(FlaskForm):
    starts_on = GovDateField("Start date", description="For example, 1 4 2026")
    ends_on = GovDateField("End date", description="For example, 31 3 2027")
    frequency = RadiosField(
        "How often is it paid in?",
        choices=choices((f.value, FREQUENCY_LABELS[f]) for f in FREQUENCY_LABELS),
        default=PaymentFrequency.FOUR_WEEKLY.value,
        validators=[InputRequired(message="Choose how often the budget is paid in")],
    )
    client_contribution_amount = _amount(StreamKind.CLIENT_CONTRIBUTION)
    client_contribution_order = _order(StreamKind.CLIENT_CONTRIBUTION)
    nhs_amount = _amount(StreamKind.NHS)
    nhs_pot = _pot(StreamKind.NHS)
    nhs_line = _line(StreamKind.NHS)
    nhs_order = _order(StreamKind.NHS)
    council_amount = _amount(StreamKind.COUNCIL)
    council_pot = _pot(StreamKind.COUNCIL)
    council_line = _line(StreamKind.COUNCIL)
    council_order = _order(StreamKind.COUNCIL)
    own_funds_amount = _amount(StreamKind.OWN_FUNDS)
    own_funds_order = _order(StreamKind.OWN_FUNDS)
    submit = SubmitField("Give this budget", widget=GovSubmitInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # RECON (issue 19): each line offered, to the pot it is a line of.
        self.line_pots: dict[str, str] = {}

    def offer_pots(self, pots: Iterable[FunderPot], labels: Mapping[uuid.UUID, str]) -> None:
        """Offer each funder stream the pots of its kind of funder, labelled."""
        for kind in (StreamKind.COUNCIL, StreamKind.NHS):
            field = self.field(kind, "pot")
            mine = [pot for pot in pots if pot.funder.kind is kind.funder_kind]
            field.choices = choices(
                [("", "Choose a pot"), *((str(pot.id), labels[pot.id]) for pot in mine)]
            )
            if not self.is_submitted() and len(mine) == 1:
                field.data = str(mine[0].id)
            # RECON (issue 19): the lines of those pots, each named with its pot.
            self.field(kind, "line").choices = choices(
                [
                    ("", "No line: the pot as a whole"),
                    *(
                        (str(line.id), f"{pot.label}: {line.name}")
                        for pot in mine
                        for line in pot.lines
                    ),
                ]
            )
            self.line_pots.update({str(line.id): str(pot.id) for pot in mine for line in pot.lines})

    def field(self, kind: StreamKind, part: str) -> Field:
        """The form's `amount`, `pot` or `order` field of a stream kind."""
        return self[f"{kind.value}_{part}"]

    def streams_given(self) -> list[StreamKind]:
        """The kinds of stream with an amount entered, in the form's order."""
        return [kind for kind in STREAM_ORDER if self.field(kind, "amount").data is not None]

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        for field, message in (
            (self.starts_on, "Enter the start date"),
            (self.ends_on, "Enter the end date"),
        ):
            if field.data is None and not field.errors:
                field.errors.append(message)
                valid = False
        start, end = self.starts_on.data, self.ends_on.data
        if start and end and not self.ends_on.errors:
            if end < start:
                self.ends_on.errors.append("The end date must be the same as or after the start")
                valid = False
            elif end - start >= PERIOD_MAX:
                self.ends_on.errors.append("A budget's period can be a year at most")
                valid = False
        return self._validate_streams() and valid

    def _validate_streams(self) -> bool:
        valid = True
        orders: dict[int, StreamKind] = {}
        given = self.streams_given()
        for kind in given:
            amount = self.field(kind, "amount")
            if amount.data == 0:
                amount.errors.append(f"{amount.label.text} must be more than £0, or left empty")
                valid = False
            if kind.funder_kind is not None and not self.field(kind, "pot").data:
                self.field(kind, "pot").errors.append(
                    f"Choose the pot the {STREAM_NAMES[kind].lower()} money comes from"
                )
                valid = False
            line = self.field(kind, "line").data if kind.funder_kind is not None else None
            if line and self.line_pots.get(line) != self.field(kind, "pot").data:
                self.field(kind, "line").errors.append(
                    "Choose a line of the pot the money comes from, or no line"
                )
                valid = False
            order_field = self.field(kind, "order")
            order = order_field.data or DEFAULT_DRAW_ORDER[kind]
            if order in orders and not order_field.errors:
                order_field.errors.append(
                    f"{STREAM_NAMES[orders[order]]} already has draw order {order}: "
                    "give each stream its own"
                )
                valid = False
            orders[order] = kind
        if not given and not any(self.field(k, "amount").errors for k in STREAM_ORDER):
            self.field(StreamKind.COUNCIL, "amount").errors.append(
                "Enter the amount of at least one funding stream"
            )
            valid = False
        return valid


class ReviseStreamForm(FlaskForm):
    amount = PenceField(
        "New amount for the whole period, in pounds",
        max_pence=STREAM_MAX_PENCE,
        validators=[InputRequired(message="Enter the new amount, like 12000.00")],
    )
    reason = TextAreaField(
        "Why is it changing?",
        widget=GovCharacterCount(),
        description="The person can read this on their statement.",
        validators=[
            InputRequired(message="Say why the amount is changing"),
            Length(
                max=REASON_LENGTH, message=f"The reason must be {REASON_LENGTH} characters or fewer"
            ),
        ],
    )
    # A fresh key each time the form is shown: pressing the button twice revises once.
    key = HiddenField(default=lambda: str(uuid.uuid4()))
    submit = SubmitField("Revise the amount", widget=GovSubmitInput())

    def validate_key(self, field: Field) -> None:
        try:
            uuid.UUID(field.data or "")
        except ValueError as error:
            raise ValidationError("This form has expired: open it again") from error


def close_choices_form(
    streams: Iterable[tuple[uuid.UUID, str]], formdata: Any, can_carry: bool
) -> Form:
    """Radios per stream (return it, or carry it forward), read from the query string."""
    options = [(CloseChoice.RETURN.value, "Return it to where it came from")]
    if can_carry:
        options.append((CloseChoice.CARRY_FORWARD.value, "Carry it forward to the next budget"))
    fields = {
        f"stream_{stream_id.hex}": RadiosField(
            f"What happens to what is unspent of {name}?",
            choices=choices(options),
            default=CloseChoice.RETURN.value,
            validators=[InputRequired(message=f"Choose what happens to {name}")],
        )
        for stream_id, name in streams
    }
    form_class = type("CloseChoicesForm", (Form,), fields)
    return form_class(formdata)


def choices_from(form: Form, stream_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, CloseChoice]:
    """The choice made for each stream (return where none, or none that makes sense)."""
    chosen = {}
    for stream_id in stream_ids:
        field = form[f"stream_{stream_id.hex}"]
        value = field.data if field.data in set(CloseChoice) else CloseChoice.RETURN.value
        chosen[stream_id] = CloseChoice(value)
    return chosen


class ConfirmCloseForm(FlaskForm):
    """The preview's choices and its unspent total, sent back to close exactly that."""

    choices = HiddenField()
    expected_unspent_pence = HiddenField()
    submit = SubmitField("Close the period", widget=GovSubmitInput())

    def chosen(self) -> dict[uuid.UUID, CloseChoice] | None:
        """The choices posted, or None if they are not well formed."""
        chosen = {}
        try:
            for part in (self.choices.data or "").split(","):
                if not part:
                    continue
                stream_id, choice = part.split(":")
                chosen[uuid.UUID(stream_id)] = CloseChoice(choice)
        except ValueError:
            return None
        return chosen

    def expected(self) -> int | None:
        """The unspent total the preview showed, in pence, or None if it is not one.

        ASCII digits only, and not too many: str.isdigit takes "²", which int() refuses.
        """
        text = self.expected_unspent_pence.data or ""
        return int(text) if _WHOLE_PENCE.fullmatch(text) else None


def encode_choices(chosen: Mapping[uuid.UUID, CloseChoice]) -> str:
    return ",".join(f"{stream_id}:{choice.value}" for stream_id, choice in chosen.items())


class ApprovePlanForm(FlaskForm):
    """Approves the draft the officer read: if it has changed since, nothing is approved."""

    plan_id = HiddenField()
    drafted_at = HiddenField()
    submit = SubmitField("Approve this plan", widget=GovSubmitInput())


class StatusDecisionForm(FlaskForm):
    decision = RadiosField("Decision", validators=[InputRequired(message="Select a decision")])
    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        description="Needed to reject or suspend: the provider will see it",
        validators=[Length(max=2000, message="Reason must be 2000 characters or fewer")],
    )
    submit = SubmitField("Save decision", widget=GovSubmitInput())
