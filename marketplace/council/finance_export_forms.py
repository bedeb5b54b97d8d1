"""Council officers' form for an export to the finance system (issue 19, FINEXPORT): making
exactly the export previewed (its range travels with the button)."""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import HiddenField, SubmitField


class MakeExportForm(FlaskForm):
    """The range the officer previewed: from the latest export's end ("" for the first) to a
    moment a minute before the preview, both as ISO 8601 UTC times."""

    since = HiddenField()
    until = HiddenField()
    submit = SubmitField("Make the export", widget=GovSubmitInput())

    def previewed(self) -> tuple[datetime | None, datetime] | None:
        """The previewed (since, until), or None if the form was tampered with."""
        try:
            since = datetime.fromisoformat(self.since.data) if self.since.data else None
            until = datetime.fromisoformat(self.until.data or "")
        except ValueError:
            return None
        if until.tzinfo is None or (since is not None and since.tzinfo is None):
            return None
        return since, until
