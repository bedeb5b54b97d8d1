"""The support plan form, the same for the person drafting their own plan and for an officer
drafting it with them: the outcomes in the person's words, then rows of a category and a
weekly amount (empty rows are skipped)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSelect, GovSubmitInput
from wtforms import Field, Form, SelectField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import InputRequired, Length

from marketplace.forms import PenceField, choices
from marketplace.people.models import SupportPlan
from marketplace.people.plans import (
    ITEMS_MAX,
    OUTCOMES_MAX_LENGTH,
    WEEKLY_AMOUNT_MAX_PENCE,
    PlanItemSpec,
)

_ROW_FIELD = re.compile(r"^(?:category|amount)_([0-9]{1,4})$")
SPARE_ROWS = 3
MIN_ROWS = 5


class CategoryField(SelectField):
    """A category from the list, refused in plain words if the value is not one of them."""

    def pre_validate(self, form: Form) -> None:
        if self.data and self.data not in {choice.value for choice in self.choices or []}:
            raise ValidationError("Choose a category from the list")


class PlanForm(FlaskForm):
    """Made for a number of rows by `plan_form`; use that, not this class directly."""

    row_count = 0
    outcomes = TextAreaField(
        "What do you want your care and support to help with?",
        widget=GovCharacterCount(),
        description="In your own words: for example, staying in your own home, getting out to "
        "see friends, or giving the person who cares for you a break.",
        validators=[
            InputRequired(message="Say what you want your care and support to help with"),
            Length(
                max=OUTCOMES_MAX_LENGTH,
                message=f"This must be {OUTCOMES_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Save the draft plan", widget=GovSubmitInput())

    def rows(self) -> list[tuple[Field, Field]]:
        """(category, weekly amount) field pairs, in order."""
        return [(self[f"category_{n}"], self[f"amount_{n}"]) for n in range(1, self.row_count + 1)]

    def items(self) -> list[PlanItemSpec]:
        """The rows filled in, as the plan's items."""
        return [
            PlanItemSpec(category.data, amount.data)
            for category, amount in self.rows()
            if category.data
        ]

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        seen: set[str] = set()
        for category, amount in self.rows():
            if category.data and amount.data is None and not amount.errors:
                amount.errors.append("Enter the weekly amount for this category, like 120.00")
                valid = False
            if not category.data and amount.data is not None:
                category.errors.append("Choose the category this amount is for")
                valid = False
            if category.data in seen:
                category.errors.append("Each category can be in the plan only once")
                valid = False
            if category.data:
                seen.add(category.data)
        if valid and not seen:
            self.category_1.errors.append("Choose at least one category of support")
            valid = False
        return valid


def plan_form(
    category_choices: Iterable[tuple[str, str]],
    *,
    plan: SupportPlan | None = None,
    posted: Iterable[str] = (),
) -> PlanForm:
    """The form with room for the plan's items (or the rows posted) and a few spare rows,
    filled from `plan` when there is no form data."""
    highest = max((int(m.group(1)) for m in map(_ROW_FIELD.match, posted) if m), default=0)
    existing = len(plan.items) if plan is not None else 0
    count = min(max(highest, existing + SPARE_ROWS, MIN_ROWS), ITEMS_MAX)
    options = choices([("", "Choose a category"), *category_choices])
    fields: dict[str, Any] = {"row_count": count}
    for n in range(1, count + 1):
        fields[f"category_{n}"] = CategoryField(
            f"Category {n}", widget=GovSelect(), choices=options, default=""
        )
        fields[f"amount_{n}"] = PenceField(
            f"Weekly amount {n} in pounds", max_pence=WEEKLY_AMOUNT_MAX_PENCE
        )
    form_class = type("SizedPlanForm", (PlanForm,), fields)
    form = form_class()
    if plan is not None and not form.is_submitted():
        form.outcomes.data = plan.outcomes
        for (category, amount), item in zip(form.rows(), plan.items, strict=False):
            category.data = item.category_code
            amount.data = item.weekly_amount_pence
    return form
