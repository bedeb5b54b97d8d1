"""The council's forms on a referral (REFERRALS, issue 20): first contact, resolving it at
first contact, an assessment visit needed, assessed, closing it, and converting it into a
person's record, a draft support plan and a budget."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.budgets.models import PaymentFrequency
from marketplace.council.forms import FREQUENCY_LABELS, PotField
from marketplace.forms import GovDateField, PenceField, RadiosField, choices
from marketplace.people.plans import OUTCOMES_MAX_LENGTH, WEEKLY_AMOUNT_MAX_PENCE
from marketplace.referrals.queue import CLOSE_REASONS, CONTACT_WAYS, NOTE_MAX, RESOLUTIONS


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


def _note(label: str, *, required: str | None = None, hint: str = "") -> TextAreaField:
    validators = [InputRequired(message=required)] if required else []
    return TextAreaField(
        label,
        widget=GovCharacterCount(),
        filters=[_strip],
        description=hint,
        validators=[
            *validators,
            Length(max=NOTE_MAX, message=f"The note must be {NOTE_MAX} characters or fewer"),
        ],
    )


class FirstContactForm(FlaskForm):
    how = RadiosField(
        "How did you contact the person?",
        choices=choices(
            (value, words.removeprefix("by ").capitalize()) for value, words in CONTACT_WAYS.items()
        ),
        validators=[InputRequired(message="Select how you contacted the person")],
    )
    note = _note("Note (optional)", hint="The person will see it on their status page")
    submit = SubmitField("Record first contact", widget=GovSubmitInput())


class ResolveForm(FlaskForm):
    how = RadiosField(
        "How was the referral resolved?",
        choices=choices(RESOLUTIONS.items()),
        validators=[InputRequired(message="Select how the referral was resolved")],
    )
    note = _note(
        "What was the person given or told?",
        required="Enter what the person was given or told",
        hint="The person will see it, and it is emailed to them",
    )
    submit = SubmitField("Resolve the referral", widget=GovSubmitInput())


class VisitNeededForm(FlaskForm):
    note = _note("Note for the assessor (optional)", hint="The person will see it too")
    submit = SubmitField("An assessment visit is needed", widget=GovSubmitInput())


class AssessedForm(FlaskForm):
    note = _note("What the assessment found (optional)", hint="The person will see it")
    submit = SubmitField("Record that the needs are assessed", widget=GovSubmitInput())


class CloseForm(FlaskForm):
    reason = RadiosField(
        "Why is the referral being closed?",
        choices=choices(CLOSE_REASONS.items()),
        validators=[InputRequired(message="Select why the referral is being closed")],
    )
    note = _note("Note (optional)", hint="The person will see it, and it is emailed to them")
    submit = SubmitField("Close the referral", widget=GovSubmitInput())


def _weekly(label: str, hint: str = "Leave empty if there is none") -> PenceField:
    return PenceField(label, max_pence=WEEKLY_AMOUNT_MAX_PENCE, description=hint)


class ConvertForm(FlaskForm):
    weekly_budget = PenceField(
        "Weekly budget agreed, in pounds",
        max_pence=WEEKLY_AMOUNT_MAX_PENCE,
        description="The whole weekly amount, for example 245.50",
        validators=[InputRequired(message="Enter the weekly budget agreed")],
    )
    council_weekly = _weekly("Council: weekly amount in pounds")
    council_pot = PotField("Council: from which pot", widget=GovSelect(), default="")
    nhs_weekly = _weekly("NHS personal health budget: weekly amount in pounds")
    nhs_pot = PotField("NHS: from which pot", widget=GovSelect(), default="")
    contribution_weekly = _weekly("The person's assessed contribution: weekly amount in pounds")
    starts_on = GovDateField(
        "Start date",
        description="For example, 1 4 2026",
        validators=[InputRequired(message="Enter the start date")],
    )
    ends_on = GovDateField(
        "End date",
        description="For example, 31 3 2027",
        validators=[InputRequired(message="Enter the end date")],
    )
    frequency = RadiosField(
        "How often is it paid in?",
        choices=choices((f.value, FREQUENCY_LABELS[f]) for f in FREQUENCY_LABELS),
        default=PaymentFrequency.FOUR_WEEKLY.value,
        validators=[InputRequired(message="Choose how often the budget is paid in")],
    )
    plan_category = SelectField(
        "The support plan's main category of support",
        widget=GovSelect(),
        description="The weekly budget goes to it in the draft plan; the plan can be changed",
        validators=[InputRequired(message="Choose the plan's main category of support")],
    )
    outcomes = TextAreaField(
        "What the person wants their support to help with",
        widget=GovCharacterCount(),
        filters=[_strip],
        description="Kept in the person's own words from their self-assessment",
        validators=[
            InputRequired(message="Enter what the person wants their support to help with"),
            Length(
                max=OUTCOMES_MAX_LENGTH,
                message=f"Outcomes must be {OUTCOMES_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Make the person's record, draft plan and budget", widget=GovSubmitInput())
