"""Council officers' forms for paying providers (issue 19, PAYRUNS): which invoices to pay (a
GET form: the preview is a page you can reload), confirming the preview exactly as shown,
marking the payment file sent, and cancelling a run with a reason."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import Field, HiddenField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import InputRequired, Length

from marketplace.forms import GovDateField

_DIGEST = re.compile(r"[0-9a-f]{64}", re.ASCII)


class ChooseRunForm(FlaskForm):
    """Pay the invoices settled on or before a day (today or earlier)."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    settled_by = GovDateField(
        "Pay invoices settled on or before",
        description="Today or earlier. For example, 4 12 2026",
    )
    submit = SubmitField("Preview the payment run", widget=GovSubmitInput())

    def __init__(self, *args: object, today: date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.today = today

    def validate_settled_by(self, field: Field) -> None:
        if field.data is None and not field.errors:
            raise ValidationError("Enter the date the invoices were settled by")
        if field.data is not None and field.data > self.today:
            raise ValidationError("The date must be today or earlier")


class ConfirmRunForm(FlaskForm):
    """The preview's cut-off (an ISO UTC time) and fingerprint, sent back to pay exactly that."""

    settled_until = HiddenField()
    fingerprint = HiddenField()
    submit = SubmitField("Make the payment run", widget=GovSubmitInput())

    def previewed(self) -> tuple[datetime, str] | None:
        """(cut-off, fingerprint), or None if the form was tampered with."""
        try:
            until = datetime.fromisoformat(self.settled_until.data or "")
        except ValueError:
            return None
        if until.tzinfo is None or not _DIGEST.fullmatch(self.fingerprint.data or ""):
            return None
        return until, self.fingerprint.data


class SendRunForm(FlaskForm):
    """The payment file has gone to the bank: providers are told; no more cancelling."""

    submit = SubmitField("Mark the payment file as sent", widget=GovSubmitInput())


class CancelRunForm(FlaskForm):
    """Cancel a run before its file is sent: every payment reversed, with why."""

    reason = TextAreaField(
        "Why is the run cancelled?",
        widget=GovTextArea(),
        description="Kept with the run and on each reversal in the ledger",
        validators=[
            InputRequired(message="Enter why the run is cancelled"),
            Length(max=400, message="The reason must be 400 characters or fewer"),
        ],
    )
    submit = SubmitField("Cancel the payment run", widget=GovSubmitInput())

    def validate_reason(self, field: Field) -> None:
        if not (field.data or "").strip():
            raise ValidationError("Enter why the run is cancelled")
