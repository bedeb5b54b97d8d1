"""Forms of the shared pages: the statement's filters (the person's statement and the officer's
copy)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSelect
from wtforms import Form, SelectField, ValidationError

from marketplace.budgets.statement import StatementFilter
from marketplace.forms import GovDateField, choices


class FilterDateField(GovDateField):
    """A GOV.UK date input that also takes one ISO date (`?from=2026-04-01`), so that a
    filtered statement's address can be written by hand, bookmarked and shared."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if len(valuelist) == 1 and valuelist[0].strip():
            try:
                day = date.fromisoformat(valuelist[0].strip())
            except ValueError:
                pass
            else:
                self.data = day
                self.raw_data = [str(day.day), str(day.month), str(day.year)]
                return
        super().process_formdata(valuelist)


class FundingField(SelectField):
    """One of the budget's streams, or all of them."""

    def pre_validate(self, form: Form) -> None:
        if self.data and self.data not in {choice.value for choice in self.choices or []}:
            raise ValidationError("Choose funding from the list")


class StatementFilterForm(Form):
    """Filters read from the query string (GET: nothing changes, and the address is the
    filtered statement)."""

    date_from = FilterDateField("From", description="For example, 1 4 2026")
    date_to = FilterDateField("To", description="For example, 30 6 2026")
    stream = FundingField("Funding", widget=GovSelect(), default="")

    def __init__(self, formdata: Any, streams: Iterable[tuple[str, str]]) -> None:
        super().__init__(formdata)
        self.stream.choices = choices([("", "All funding"), *streams])

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        start, end = self.date_from.data, self.date_to.data
        if valid and start and end and end < start:
            self.date_to.errors.append("The ‘To’ date must be the same as or after ‘From’")  # noqa: RUF001
            valid = False
        return valid

    def chosen(self) -> StatementFilter:
        """The filter asked for (what is invalid is left out, so the page still shows)."""
        stream = None if self.stream.errors or not self.stream.data else self.stream.data
        return StatementFilter(
            date_from=None if self.date_from.errors else self.date_from.data,
            date_to=None if self.date_to.errors else self.date_to.data,
            stream_id=uuid.UUID(stream) if stream else None,
        )
