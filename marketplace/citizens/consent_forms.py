"""The form of the consent pages: giving consent to a brokerage (the person's own, or their
attorney's on their behalf)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from marketplace.forms import CheckboxesField, GovDateField, RadiosField, choices
from marketplace.people.models import ConsentScope


def scope_choices(scopes: Iterable[ConsentScope] = tuple(ConsentScope)) -> list[SelectChoice]:
    return choices((scope.value, scope.label) for scope in scopes)


class GiveConsentForm(FlaskForm):
    """Consent to an approved brokerage, from today until the end date chosen."""

    brokerage = RadiosField(
        "Which brokerage do you want to give consent to?",
        validators=[InputRequired(message="Select the brokerage")],
    )
    scopes = CheckboxesField(
        "What can their brokers do?",
        choices=scope_choices(),
        description="Select all that apply. They can do nothing else.",
    )
    ends_on = GovDateField(
        "When should the consent end?",
        description="It can last up to 3 years. You can withdraw it at any time before then. "
        "For example, 4 3 2027",
    )
    submit = SubmitField("Give consent", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.scopes.data and not self.scopes.errors:
            self.scopes.errors = [*self.scopes.errors, "Select what their brokers can do"]
            valid = False
        if self.ends_on.data is None and not self.ends_on.errors:
            self.ends_on.errors = [*self.ends_on.errors, "Enter the date the consent should end"]
            valid = False
        return valid
