"""Council officers' forms for assessors' diaries and visits (issue 20, VISITS)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from marketplace.forms import CheckboxesField, GovDateField, RadiosField, choices
from marketplace.referrals.diary import SKILLS, SLOT_MINUTES_CHOICES


class AssessorForm(FlaskForm):
    user = SelectField(
        "Which officer?",
        widget=GovSelect(),
        validators=[InputRequired(message="Select the officer")],
    )
    skills = CheckboxesField(
        "What can they assess?",
        choices=choices(SKILLS),
        description="Select all that apply. Anyone can assess physical needs and frailty.",
        validators=[Optional()],
    )
    districts = StringField(
        "Which postcode districts do they cover?",
        widget=GovTextInput(),
        description="For example, SG1, SG2, AL10. Leave empty if they cover anywhere.",
        validators=[Length(max=400, message="Districts must be 400 characters or fewer")],
    )
    submit = SubmitField("Save assessor", widget=GovSubmitInput())


class EditAssessorForm(AssessorForm):
    user = None  # type: ignore[assignment]
    active = RadiosField(
        "Do they visit?",
        choices=choices([("yes", "Yes"), ("no", "No, not at the moment")]),
        validators=[InputRequired(message="Select whether they visit")],
    )


class SlotsForm(FlaskForm):
    # A date left empty is no date (GovDateField): without InputRequired the form would be
    # accepted with nothing to act on and shown again with no message.
    day = GovDateField(
        "Day",
        description="For example, 27 3 2027",
        validators=[InputRequired(message="Enter the day")],
    )
    times = StringField(
        "Start times",
        widget=GovTextInput(),
        description="In the 24-hour clock, separated by commas, for example 9:30, 11:00, 14:00",
        validators=[InputRequired(message="Enter at least one start time")],
    )
    minutes = RadiosField(
        "How long is each visit?",
        choices=choices((str(m), f"{m} minutes") for m in SLOT_MINUTES_CHOICES),
        default="90",
        validators=[InputRequired(message="Select how long each visit is")],
    )
    submit = SubmitField("Add slots", widget=GovSubmitInput())


class AbsenceForm(FlaskForm):
    starts_on = GovDateField(
        "First day away",
        description="For example, 27 3 2027",
        validators=[InputRequired(message="Enter the first day away")],
    )
    ends_on = GovDateField(
        "Last day away",
        description="For example, 29 3 2027",
        validators=[InputRequired(message="Enter the last day away")],
    )
    reason = StringField(
        "Reason (optional)",
        widget=GovTextInput(),
        description="For example, off sick or annual leave",
        validators=[Length(max=200, message="Reason must be 200 characters or fewer")],
    )
    submit = SubmitField("Record absence and re-book visits", widget=GovSubmitInput())


class ChooseSlotForm(FlaskForm):
    # Any slot may be posted (a page left open lists times since taken): the rules decide,
    # and say "just been booked for someone else" rather than "not a valid choice".
    slot = RadiosField("Choose a time", validators=[Optional()], validate_choice=False)
    # The visit the page was drawn for, so a page left open is refused if it changed.
    seen = HiddenField()
    submit = SubmitField("Book this time", widget=GovSubmitInput())
    automatic = SubmitField("Book the earliest automatically", widget=GovSubmitInput())


class CancelVisitForm(FlaskForm):
    reason = TextAreaField(
        "Why is the visit cancelled?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter why the visit is cancelled"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
    )
    submit = SubmitField("Cancel the visit", widget=GovSubmitInput())


class OutcomeForm(FlaskForm):
    outcome = RadiosField(
        "What happened?",
        choices=choices(
            [
                ("done", "The visit was done"),
                ("wasted", "Nobody was in, or the visit could not go ahead"),
            ]
        ),
        validators=[InputRequired(message="Select what happened")],
    )
    note = TextAreaField(
        "Note (optional)",
        widget=GovTextArea(),
        validators=[Length(max=500, message="Note must be 500 characters or fewer")],
    )
    submit = SubmitField("Record", widget=GovSubmitInput())
