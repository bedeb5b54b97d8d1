"""The period of the council's figures (issue 19, item 9): a GET form, so a period's figures
have an address an officer can bookmark and share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import Form, SubmitField

from marketplace.console.figures import Period
from marketplace.pages.forms import FilterDateField


class FiguresPeriodForm(Form):
    since = FilterDateField("Start date", description="For example, 1 4 2026")
    until = FilterDateField("End date", description="For example, 31 3 2027")
    submit = SubmitField("Show the figures", widget=GovSubmitInput())

    def __init__(self, formdata: Any, *, today: date, default: Period) -> None:
        super().__init__(formdata)
        self.today = today
        if self.since.data is None and not self.since.errors and not any(self.since.raw_data):
            self.since.process_formdata([default.since.isoformat()])
        if self.until.data is None and not self.until.errors and not any(self.until.raw_data):
            self.until.process_formdata([default.until.isoformat()])

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        since, until = self.since.data, self.until.data
        if valid and since and until:
            if until < since:
                self.until.errors.append("The end date must be the same as or after the start date")
                valid = False
            elif until > self.today:
                self.until.errors.append("The end date must be today or earlier")
                valid = False
        return valid

    def period(self) -> Period:
        """The period the valid form names."""
        assert self.since.data is not None  # validated
        assert self.until.data is not None
        return Period(self.since.data, self.until.data)
