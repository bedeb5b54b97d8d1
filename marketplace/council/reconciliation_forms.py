"""RECON (issue 19): the reconciliation's period, a GET form so every page of it (and every
drill-down) has an address an officer can bookmark, share and put in a committee paper: a
financial year, or from and to dates; the current financial year unless chosen."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import Form, StringField, SubmitField

from marketplace.console.reconciliation import (
    DEFAULT_TOLERANCE_PERCENT,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_TOLERANCE_PERCENT,
    Period,
)
from marketplace.pages.forms import FilterDateField


class ReconciliationPeriodForm(Form):
    year = StringField(
        "Financial year",
        widget=GovTextInput(),
        description="The year it starts in: 2026 for April 2026 to March 2027",
    )
    since = FilterDateField("Or from", description="For example, 1 4 2026")
    until = FilterDateField("To", description="For example, 31 3 2027")
    submit = SubmitField("Show the reconciliation", widget=GovSubmitInput())

    def __init__(self, formdata: Any, *, today: date) -> None:
        super().__init__(formdata)
        self.today = today

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        year = (self.year.data or "").strip()
        since, until = self.since.data, self.until.data
        in_range = year.isascii() and year.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR
        if year and not in_range:
            self.year.errors.append(f"Enter a financial year from {FIRST_YEAR} to {LAST_YEAR}")
            valid = False
        if valid and (since is None) != (until is None):
            missing = self.until if until is None else self.since
            missing.errors.append("Enter both dates, or a financial year")
            valid = False
        if valid and since and until and until < since:
            self.until.errors.append("The end date must be the same as or after the start date")
            valid = False
        return valid

    def period(self) -> Period:
        """The period the valid form names: its dates, else its year, else this year."""
        if self.since.data and self.until.data:
            return Period(self.since.data, self.until.data)
        year = (self.year.data or "").strip()
        return Period.financial_year(int(year)) if year else Period.current(self.today)


class ToleranceForm(Form):
    """The council's tolerance for spending against the point in the period."""

    tolerance = StringField(
        "Tolerance, as a percentage of each budget's whole amount",
        widget=GovTextInput(),
        description=f"A whole number from 0 to {MAX_TOLERANCE_PERCENT}",
    )

    def __init__(self, formdata: Any, *, default: int = DEFAULT_TOLERANCE_PERCENT) -> None:
        super().__init__(formdata)
        self.default = default

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        text = (self.tolerance.data or "").strip()
        if text and not (text.isascii() and text.isdigit() and int(text) <= MAX_TOLERANCE_PERCENT):
            self.tolerance.errors.append(
                f"Enter the tolerance as a whole number from 0 to {MAX_TOLERANCE_PERCENT}"
            )
            valid = False
        return valid

    def percent(self) -> int:
        text = (self.tolerance.data or "").strip()
        return int(text) if text else self.default
