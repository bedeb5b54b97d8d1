"""The provider's answer to a question about one of its services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.people.questions import TEXT_MAX_LENGTH


class AnswerForm(FlaskForm):
    text = TextAreaField(
        "Your answer",
        widget=GovCharacterCount(),
        description="They will be told you have answered, and read it when they sign in",
        validators=[
            InputRequired(message="Enter your answer"),
            Length(
                max=TEXT_MAX_LENGTH,
                message=f"Your answer must be {TEXT_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Send your answer", widget=GovSubmitInput())
