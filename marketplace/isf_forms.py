"""ISF (issue 18): the forms of the Individual Service Fund pages, which the citizens', the
provider portal's and the council's pages share (each audience imports only this module,
never another audience's), and the one helper that puts a fund rule's refusal on them."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
)
from wtforms import HiddenField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.budgets.isf import AGREEMENT_MAX, DESCRIPTION_MAX, MAX_FUND_PENCE
from marketplace.forms import GovDateField, PenceField, RadiosField, choices, show_refusal
from marketplace.ledger import InsufficientFunds, LedgerError

# The stream choice that leaves it to the rules: the first part of the budget with the money.
ANY_STREAM = "any"


class RequestFundForm(FlaskForm):
    organisation = SelectField(
        "Which provider do you want to hold the money?",
        widget=GovSelect(),
        validators=[InputRequired(message="Select the provider")],
    )
    amount = PenceField(
        "How much should they hold?",
        description="In pounds, like 250.00. It comes out of the budget when they agree.",
        max_pence=MAX_FUND_PENCE,
        validators=[InputRequired(message="Enter how much they should hold, like 250.00")],
    )
    agreement = TextAreaField(
        "How will the money be spent?",
        widget=GovCharacterCount(),
        description=(
            "What you and the provider have agreed, in your own words. For example: "
            "a support worker for trips out on Saturday afternoons."
        ),
        validators=[
            InputRequired(message="Say how the money will be spent"),
            Length(
                max=AGREEMENT_MAX,
                message=f"Say how the money will be spent in {AGREEMENT_MAX} characters or fewer",
            ),
        ],
    )
    stream = RadiosField("Which part of the budget should it come from?", default=ANY_STREAM)
    submit = SubmitField("Send the request", widget=GovSubmitInput())


class DecideFundForm(FlaskForm):
    decision = RadiosField(
        "Will you hold this fund?",
        choices=choices(
            [("agree", "Yes, we agree to hold it"), ("decline", "No, we cannot hold it")]
        ),
        validators=[InputRequired(message="Select yes or no")],
    )
    reason = TextAreaField(
        "If not, why not?",
        # GOV.UK's textarea: the default widget drew no label and no error.
        widget=GovTextArea(),
        description="The person will read this",
        validators=[Length(max=1000, message="Keep the reason to 1000 characters or fewer")],
    )
    submit = SubmitField("Send your answer", widget=GovSubmitInput())


class SpendForm(FlaskForm):
    # Made when the form is shown: sending the same form twice records the spending once.
    key = HiddenField(validators=[Length(max=64, message="Start again: the form was changed")])
    spent_on = GovDateField("When was it spent?", description="For example, 27 5 2026")
    amount = PenceField(
        "How much was spent?",
        description="In pounds, like 35.50",
        max_pence=MAX_FUND_PENCE,
        validators=[InputRequired(message="Enter how much was spent, like 35.50")],
    )
    description = TextAreaField(
        "What was it spent on?",
        # GOV.UK's textarea: the default widget drew no label and no error.
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Say what the money was spent on"),
            Length(
                max=DESCRIPTION_MAX,
                message=f"Say what it was spent on in {DESCRIPTION_MAX} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Record the spending", widget=GovSubmitInput())


class EndFundForm(FlaskForm):
    why = TextAreaField(
        "Why is the fund ending?",
        # GOV.UK's textarea: the default widget drew no label and no error.
        widget=GovTextArea(),
        description="The person and the provider will see this on the fund's statement",
        validators=[
            InputRequired(message="Say why the fund is ending"),
            Length(max=300, message="Keep the reason to 300 characters or fewer"),
        ],
    )
    submit = SubmitField("End the fund and return what is left", widget=GovSubmitInput())


def show_fund_refusal(form: FlaskForm, refused: LedgerError) -> None:
    """The refusal beside the field it names (`details["field"]`), else above the form."""
    name = refused.details.get("field")
    if isinstance(refused, InsufficientFunds):
        name = "amount"  # too much for the fund or the budget: beside the amount typed
    field = form._fields.get(name) if isinstance(name, str) else None
    show_refusal(field if field is not None else form, refused)
