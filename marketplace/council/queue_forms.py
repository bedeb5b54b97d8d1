"""The council's forms on its work queues (issue 19, QUEUES): deciding a reported listing, and
recording an overdue support plan review."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.console import review_dates
from marketplace.forms import GovDateField, RadiosField, choices
from providers import listing_reports


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class ListingReportDecisionForm(FlaskForm):
    decision = RadiosField(
        "What does the council decide?",
        choices=choices(
            [
                (listing_reports.UPHOLD, "Uphold it: ask the provider to correct the listing"),
                (
                    listing_reports.UPHOLD_AND_HIDE,
                    "Uphold it and unpublish the listing until the provider corrects it",
                ),
                (listing_reports.DISMISS, "Dismiss it: the listing is right"),
            ]
        ),
        validators=[InputRequired(message="Select whether to uphold or dismiss the report")],
    )
    reason = TextAreaField(
        "Reason",
        widget=GovCharacterCount(),
        filters=[_strip],
        description=(
            "Upheld: what the provider must correct (they will see it). Dismissed: why (the "
            "person who reported it will see it)."
        ),
        validators=[
            InputRequired(message="Enter the reason for the decision"),
            Length(
                max=listing_reports.DECISION_REASON_MAX_LENGTH,
                message=(
                    f"Reason must be {listing_reports.DECISION_REASON_MAX_LENGTH} characters "
                    "or fewer"
                ),
            ),
        ],
    )
    submit = SubmitField("Record the decision", widget=GovSubmitInput())


class PlanReviewForm(FlaskForm):
    decision = RadiosField(
        "What has happened with this review?",
        choices=choices(
            [
                (review_dates.BOOKED, "The review is booked"),
                (review_dates.REVIEWED, "The plan has been reviewed"),
            ]
        ),
        validators=[InputRequired(message="Select whether the review is booked or done")],
    )
    booked_for = GovDateField(
        "Date the review is booked for",
        description="Only if the review is booked. For example, 27 3 2027",
    )
    note = TextAreaField(
        "Note (optional)",
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=[
            Length(
                max=review_dates.NOTE_MAX_LENGTH,
                message=f"Note must be {review_dates.NOTE_MAX_LENGTH} characters or fewer",
            )
        ],
    )
    # The review date the officer was shown: a second officer recording the same review is
    # told it was recorded already, not moved on again.
    seen_due_on = HiddenField()
    submit = SubmitField("Record", widget=GovSubmitInput())
