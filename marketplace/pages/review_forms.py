"""Ratings and reviews (issue 19, REVIEWS): the forms the three audiences' pages share: the
person's rating and review, the council's moderation decision, the provider's reply. The
views are each audience's own `review_views`; the rules are `providers/reviews.py`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.forms import RadiosField, choices
from providers.reviews import REASON_MAX_LENGTH, REPLY_MAX_LENGTH, TEXT_MAX_LENGTH

RATING_WORDS = {
    5: "5 out of 5: excellent",
    4: "4 out of 5: good",
    3: "3 out of 5: all right",
    2: "2 out of 5: poor",
    1: "1 out of 5: very poor",
}


class ReviewForm(FlaskForm):
    """A rating from 1 to 5 (words, not stars alone) and a short review."""

    rating = RadiosField(
        "How would you rate this service?",
        choices=choices((str(value), words) for value, words in RATING_WORDS.items()),
        validators=[InputRequired(message="Select a rating from 1 to 5")],
    )
    text = TextAreaField(
        "Your review (optional)",
        description="Say what went well or what could have been better. Do not include names, "
        "addresses or anything about anyone's health: the council checks every review before "
        "it is shown, and it is shown without your name.",
        widget=GovCharacterCount(),
        validators=[
            Length(
                max=TEXT_MAX_LENGTH,
                message=f"Your review must be {TEXT_MAX_LENGTH} characters or fewer",
            )
        ],
    )
    submit = SubmitField("Send the review", widget=GovSubmitInput())


class ModerationForm(FlaskForm):
    """A council officer's decision on a pending review."""

    decision = RadiosField(
        "Publish this review?",
        choices=choices([("publish", "Yes, publish it"), ("reject", "No, reject it")]),
        validators=[InputRequired(message="Select whether to publish the review")],
    )
    reason = TextAreaField(
        "Reason (needed to reject: the writer is told it)",
        widget=GovCharacterCount(),
        validators=[
            Length(
                max=REASON_MAX_LENGTH,
                message=f"The reason must be {REASON_MAX_LENGTH} characters or fewer",
            )
        ],
    )
    submit = SubmitField("Record the decision", widget=GovSubmitInput())


class ReplyForm(FlaskForm):
    """The provider's one public reply to a published review."""

    reply = TextAreaField(
        "Your reply",
        description="Shown under the review, once, for anyone to read. Do not name the person "
        "or say anything that could identify them or their care.",
        widget=GovCharacterCount(),
        validators=[
            InputRequired(message="Enter your reply"),
            Length(
                max=REPLY_MAX_LENGTH,
                message=f"Your reply must be {REPLY_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Publish the reply", widget=GovSubmitInput())
