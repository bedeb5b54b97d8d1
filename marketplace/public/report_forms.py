"""The public's form to report a problem with a listing (issue 19, QUEUES)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.forms import RadiosField, choices, email_field
from providers import listing_reports


class ReportListingForm(FlaskForm):
    reason = RadiosField(
        "What is wrong with this listing?",
        choices=choices(listing_reports.REASONS.items()),
        validators=[InputRequired(message="Select what is wrong with this listing")],
    )
    details = TextAreaField(
        "Tell us what is wrong",
        widget=GovCharacterCount(),
        filters=[lambda value: value.strip() if value else value],
        description=(
            "For example, what you found when you contacted them. Do not include anyone's "
            "medical details."
        ),
        validators=[
            InputRequired(message="Enter what is wrong, so the council can check it"),
            Length(
                max=listing_reports.DETAILS_MAX_LENGTH,
                message=f"Details must be {listing_reports.DETAILS_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    # Only asked of someone not signed in (the view removes it otherwise).
    email = email_field(
        "Email address (optional)",
        required=None,
        description="If you would like to be told what the council decides.",
    )
    submit = SubmitField("Send the report", widget=GovSubmitInput())
