"""Council officers' forms for funders and their yearly pots."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import (
    Field,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, NumberRange

from marketplace.budgets.models import FunderKind, PotPurpose
from marketplace.forms import PenceField, RadiosField, choices

# £500 million into one pot at once: more than a county's whole adult social care budget.
FUNDING_MAX_PENCE = 50_000_000_000


class FunderForm(FlaskForm):
    name = StringField(
        "Name of the funder",
        widget=GovTextInput(),
        description="For example, Hertfordshire and West Essex Integrated Care Board",
        validators=[
            InputRequired(message="Enter the funder's name"),
            Length(max=200, message="The name must be 200 characters or fewer"),
        ],
    )
    kind = RadiosField(
        "What kind of funder is it?",
        choices=choices(
            [
                (FunderKind.COUNCIL.value, "The council"),
                (FunderKind.NHS.value, "An NHS funder (its money pays personal health budgets)"),
            ]
        ),
        validators=[InputRequired(message="Select what kind of funder it is")],
    )
    cost_centre = StringField(
        "Default cost centre (optional)",
        widget=GovTextInput(),
        description="The finance system's cost centre for this funder's money, used where a "
        "line of its pot names none. For example, ASC-PB01",
        validators=[Length(max=40, message="The cost centre must be 40 characters or fewer")],
    )
    submit = SubmitField("Add the funder", widget=GovSubmitInput())


class CostCentreForm(FlaskForm):
    """FINEXPORT (issue 19): a funder's default cost centre, changed."""

    cost_centre = StringField(
        "Default cost centre",
        widget=GovTextInput(),
        description="The finance system's cost centre for this funder's money, used where a "
        "line of its pot names none. Leave it empty for none. For example, ASC-PB01",
        validators=[Length(max=40, message="The cost centre must be 40 characters or fewer")],
    )
    submit = SubmitField("Save the cost centre", widget=GovSubmitInput())


class FundPotForm(FlaskForm):
    funder = SelectField(
        "Funder", widget=GovSelect(), validators=[InputRequired(message="Select a funder")]
    )
    financial_year = IntegerField(
        "Financial year it starts in",
        widget=GovTextInput(),
        description="For example, 2026 for April 2026 to March 2027",
        validators=[
            InputRequired(message="Enter the year the financial year starts in, like 2026"),
            NumberRange(min=2000, max=2100, message="Enter a year between 2000 and 2100"),
        ],
    )
    # REABLEMENT (issue 18): a funder has a pot for budgets and may have one for reablement.
    purpose = RadiosField(
        "Which pot?",
        choices=choices(
            [
                (PotPurpose.BUDGETS.value, "Personal budgets"),
                (
                    PotPurpose.REABLEMENT.value,
                    "Reablement (free short-term care, never from a person's budget)",
                ),
            ]
        ),
        # Left out (a form from before reablement pots): personal budgets.
        default=PotPurpose.BUDGETS.value,
    )
    amount = PenceField(
        "Amount put into the pot, in pounds",
        max_pence=FUNDING_MAX_PENCE,
        validators=[InputRequired(message="Enter the amount, like 250000.00")],
    )
    description = StringField(
        "Reference (optional)",
        widget=GovTextInput(),
        description="For example, the funder's remittance or agreement number",
        validators=[Length(max=200, message="The reference must be 200 characters or fewer")],
    )
    # A fresh key each time the form is shown: pressing the button twice funds once.
    key = HiddenField(default=lambda: str(uuid.uuid4()))
    submit = SubmitField("Put the money in the pot", widget=GovSubmitInput())

    def validate_key(self, field: Field) -> None:
        try:
            uuid.UUID(field.data or "")
        except ValueError as error:
            raise ValidationError("This form has expired: open it again") from error

    def validate_amount(self, field: Field) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError("Enter an amount more than £0")


class PotLineForm(FlaskForm):
    """RECON (issue 19): a named line of a funder's pot, with its cost centre and plan."""

    name = StringField(
        "Name of the line",
        widget=GovTextInput(),
        description="For example, Continuing healthcare, or Section 117 aftercare",
        validators=[
            InputRequired(message="Enter the line's name"),
            Length(max=120, message="The name must be 120 characters or fewer"),
        ],
    )
    cost_centre = StringField(
        "Cost centre or budget code (optional)",
        widget=GovTextInput(),
        description="As the funder's finance system knows it; carried into payment files",
        validators=[Length(max=40, message="The cost centre must be 40 characters or fewer")],
    )
    planned = PenceField(
        "Planned amount for the year, in pounds",
        max_pence=FUNDING_MAX_PENCE,
        validators=[InputRequired(message="Enter the planned amount, like 250000.00")],
    )
    submit = SubmitField("Add the line", widget=GovSubmitInput())
