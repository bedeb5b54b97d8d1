"""Forms of the shortlist pages: approving chosen services, and a note on one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import Length

from marketplace.forms import CheckboxesField
from marketplace.people.shortlists import NOTE_MAX_LENGTH


class ApproveShortlistForm(FlaskForm):
    """The services the person chooses, and the shortlist's version they were shown."""

    services = CheckboxesField(
        "Which services do you want?",
        description="Select all that apply. You can approve more later.",
    )
    version = HiddenField()
    submit = SubmitField("Approve the services I chose", widget=GovSubmitInput())

    def seen_version(self) -> int | None:
        """The version the page showed, or None if the form was tampered with."""
        text = (self.version.data or "").strip()
        return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


class ShortlistNoteForm(FlaskForm):
    note = TextAreaField(
        "Note",
        widget=GovCharacterCount(),
        description="Why this service may suit them. The person can read it.",
        validators=[
            Length(
                max=NOTE_MAX_LENGTH,
                message=f"The note must be {NOTE_MAX_LENGTH} characters or fewer",
            )
        ],
    )
    submit = SubmitField("Save the note", widget=GovSubmitInput())
