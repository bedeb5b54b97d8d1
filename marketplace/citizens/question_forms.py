"""A question (or a follow-up message) to a provider about one of its services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.people.questions import TEXT_MAX_LENGTH


def _text_field(label: str, description: str, missing: str) -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovCharacterCount(),
        description=description,
        validators=[
            InputRequired(message=missing),
            Length(
                max=TEXT_MAX_LENGTH,
                message=f"Your message must be {TEXT_MAX_LENGTH} characters or fewer",
            ),
        ],
    )


class AskForm(FlaskForm):
    text = _text_field(
        "What would you like to ask?",
        "For example, whether they can come on the days you need, what the care involves, "
        "or whether someone can visit before you start",
        "Enter your question",
    )
    submit = SubmitField("Send your question", widget=GovSubmitInput())


class FollowUpForm(FlaskForm):
    text = _text_field(
        "Send another message",
        "The provider will be told, and will answer here",
        "Enter your message",
    )
    submit = SubmitField("Send your message", widget=GovSubmitInput())
