"""Council officers' forms for a period end in bulk (issue 19, CLOSE): choosing the budgets and
the rule (a GET form: the preview is a page you can reload and share), and confirming the
preview exactly as shown."""

from __future__ import annotations

import re
import uuid
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea
from wtforms import Field, HiddenField, SelectField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import InputRequired, Length

from marketplace.console.models import UnspentRule
from marketplace.console.period_end import Selection
from marketplace.forms import GovDateField, RadiosField, choices

RULE_CHOICES = (
    (
        UnspentRule.RETURN.value,
        "Return it to each funder (and the person's own money to the person)",
    ),
    (
        UnspentRule.CARRY_FORWARD.value,
        "Carry it forward into the person's next budget where there is one (otherwise return it)",
    ),
)
_DIGEST = re.compile(r"[0-9a-f]{64}", re.ASCII)


class _Listed(SelectField):
    """A select whose answer must be one of its options, said in GOV.UK's words; absent from
    the query string means its first option ("All")."""

    def pre_validate(self, form: object) -> None:
        if self.data not in {value for value, *_ in self.iter_choices()}:
            raise ValidationError(f"Choose the {self.label.text.lower()} from the list")


class _Rule(RadiosField):
    def pre_validate(self, form: object) -> None:
        if self.data is not None and self.data not in {v for v, *_ in self.iter_choices()}:
            raise ValidationError("Select what happens to money left unspent")


class ChooseBudgetsForm(FlaskForm):
    """Which budgets: those whose period ended by a date, of everyone (or one funder's, one
    area's, one person's); and what to do with what is unspent."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    ended_by = GovDateField(
        "Periods that ended on or before",
        description="Yesterday or earlier: a period has ended only after its last day. "
        "For example, 31 3 2026",
    )
    rule = _Rule(
        "What happens to money left unspent?",
        choices=choices(RULE_CHOICES),
        validators=[InputRequired(message="Select what happens to money left unspent")],
    )
    funder = _Listed(
        "Funder", widget=GovSelect(), description="Budgets with money from", default=""
    )
    district = _Listed("Area", widget=GovSelect(), description="Where the person lives", default="")
    person_id = HiddenField()
    submit = SubmitField("Preview", widget=GovSubmitInput())

    def __init__(self, *args: object, today: date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.today = today

    def offer(self, funders: list[tuple[str, str]], districts: list[tuple[str, str]]) -> None:
        self.funder.choices = choices([("", "All funders"), *funders])
        self.district.choices = choices([("", "All areas"), *districts])

    def validate_ended_by(self, field: Field) -> None:
        if field.data is None and not field.errors:
            raise ValidationError("Enter the date the periods ended by")
        if field.data is not None and field.data >= self.today:
            raise ValidationError(
                "The date must be yesterday or earlier: a period has ended only after its last day"
            )

    def validate_person_id(self, field: Field) -> None:
        if field.data and _uuid(field.data) is None:
            raise ValidationError("Choose the person again from their page")

    def chosen_person_id(self) -> uuid.UUID | None:
        return _uuid(self.person_id.data)

    def selection(self) -> Selection:
        """The selection the valid form names."""
        assert self.ended_by.data is not None  # validated
        return Selection(
            ended_by=self.ended_by.data,
            rule=UnspentRule(self.rule.data),
            person_id=_uuid(self.person_id.data),
            funder_id=_uuid(self.funder.data),
            district_code=self.district.data or None,
        )


class ConfirmPeriodEndForm(FlaskForm):
    """The preview's selection and its fingerprint, sent back to close exactly that."""

    ended_by = HiddenField()
    rule = HiddenField()
    person_id = HiddenField()
    funder = HiddenField()
    district = HiddenField()
    fingerprint = HiddenField()
    note = TextAreaField(
        "Note for the record (optional)",
        widget=GovTextArea(),
        validators=[Length(max=2000, message="The note must be 2,000 characters or fewer")],
    )
    submit = SubmitField("Close these periods", widget=GovSubmitInput())

    def fill(self, selection: Selection, fingerprint: str) -> None:
        self.ended_by.data = selection.ended_by.isoformat()
        self.rule.data = selection.rule.value
        self.person_id.data = str(selection.person_id or "")
        self.funder.data = str(selection.funder_id or "")
        self.district.data = selection.district_code or ""
        self.fingerprint.data = fingerprint

    def selection(self) -> Selection | None:
        """The selection posted, or None if it is not well formed (a tampered form)."""
        try:
            ended_by = date.fromisoformat(self.ended_by.data or "")
            rule = UnspentRule(self.rule.data)
        except ValueError:
            return None
        for text in (self.person_id.data, self.funder.data):
            if text and _uuid(text) is None:
                return None
        if not _DIGEST.fullmatch(self.fingerprint.data or ""):
            return None
        return Selection(
            ended_by=ended_by,
            rule=rule,
            person_id=_uuid(self.person_id.data),
            funder_id=_uuid(self.funder.data),
            district_code=(self.district.data or "")[:40] or None,
        )


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None
