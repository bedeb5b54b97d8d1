"""Council finance's form on card payments: resolving a reconciliation mismatch."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

RESOLUTION_MAX_LENGTH = 1000


class ResolveMismatchForm(FlaskForm):
    reason = TextAreaField(
        "How was it resolved?",
        widget=GovCharacterCount(),
        filters=[lambda v: v.strip() if v else v],
        description=(
            "For example, the refund made by hand at Stripe, or the ledger corrected. "
            "Your name and the time are kept with it."
        ),
        validators=[
            DataRequired(message="Enter how the mismatch was resolved"),
            Length(
                max=RESOLUTION_MAX_LENGTH,
                message=f"Reason must be {RESOLUTION_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Mark as resolved", widget=GovSubmitInput())
