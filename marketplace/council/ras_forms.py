"""The council's form for making the next version of the resource allocation system (RAS,
issue 20): every part of the configuration in boxes, prefilled from the current version,
turned back into a configuration for `ras.check_config`, whose problems come back beside the
box each is about (`show_config_problems`)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import Field, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from marketplace.budgets.models import StreamKind
from marketplace.council.reablement_forms import WholeNumberField
from marketplace.forms import CheckboxesField, PenceField, choices
from marketplace.referrals.questions import (
    CARER_COPING,
    CARER_SUPPORT,
    CONDITIONS,
    INCOME_BANDS,
    NEED_LEVELS,
    OUTCOMES,
    SAVINGS_BANDS,
)

NOTE_MAX_LENGTH = 2000
# Rows for bands on the form: a configuration may have fewer (empty rows are left out).
BAND_ROWS = 6
# Bands of income and savings a contribution may be estimated for ("rather not say" has none).
INCOME_ROWS = tuple((k, label) for k, label in INCOME_BANDS if k != "prefer_not")
SAVINGS_ROWS = tuple((k, label) for k, label in SAVINGS_BANDS if k != "prefer_not")
STREAM_CHOICES = tuple((kind.value, kind.label) for kind in StreamKind)
# Weekly amounts typed on this form: at most a million pounds a week (ras_config.LARGEST).
MAX_WEEKLY_PENCE = 100_000_000


def _points(label: str) -> WholeNumberField:
    return WholeNumberField(label)


class RasVersionForm(FlaskForm):
    """The whole configuration; the per-answer boxes are added below, one per answer."""

    based_on = HiddenField()
    price_per_point = PenceField("Price per point each week, in pounds", max_pence=MAX_WEEKLY_PENCE)
    max_points = WholeNumberField("The most points anyone can have")
    max_weekly = PenceField("The highest weekly indication, in pounds", max_pence=MAX_WEEKLY_PENCE)
    streams_usual = CheckboxesField(
        "Funding streams that usually apply", choices=choices(STREAM_CHOICES)
    )
    streams_self_funder = CheckboxesField(
        "Funding streams when the person probably pays in full", choices=choices(STREAM_CHOICES)
    )
    nhs_conditions = CheckboxesField(
        "Conditions where the NHS usually pays too", choices=choices(CONDITIONS)
    )
    self_funder_savings = CheckboxesField(
        "Savings bands where the person probably pays for their own care in full",
        choices=choices(SAVINGS_BANDS),
    )
    note = TextAreaField(
        "Why are you making this version?",
        widget=GovTextArea(),
        description="For example, the price per point goes up in April",
        validators=[
            Length(max=NOTE_MAX_LENGTH, message="The note must be 2000 characters or fewer"),
        ],
    )
    submit = SubmitField("Save as the next version", widget=GovSubmitInput())

    def to_config(self) -> dict[str, Any]:
        """The configuration the boxes describe (blanks as None, for `check_config` to name);
        band rows left wholly empty are left out, and contribution rows left empty mean no
        estimate for that band."""
        data = self.data
        bands = []
        for i in range(BAND_ROWS):
            row = [data[f"band{i}_{part}"] for part in ("name", "from", "to", "width")]
            if all(value in (None, "") for value in row):
                continue
            bands.append(
                {
                    "name": (row[0] or "").strip(),
                    "from_points": row[1],
                    "to_points": row[2],
                    "width_percent": row[3],
                }
            )
        return {
            "outcome_points": {
                key: {level: data[f"op_{key}_{level}"] for level, _l in NEED_LEVELS}
                for key, _t, _w in OUTCOMES
            },
            "carer_support_reduction": {k: data[f"cs_{k}"] for k, _l in CARER_SUPPORT},
            "carer_coping_addition": {k: data[f"cc_{k}"] for k, _l in CARER_COPING},
            "condition_points": {k: data[f"cond_{k}"] for k, _l in CONDITIONS},
            "price_per_point_pence": data["price_per_point"],
            "bands": bands,
            "max_points": data["max_points"],
            "max_weekly_pence": data["max_weekly"],
            "streams": {
                "usual": list(data["streams_usual"] or []),
                "self_funder": list(data["streams_self_funder"] or []),
                "by_condition": {c: ["nhs"] for c in data["nhs_conditions"] or []},
            },
            "contribution": {
                "self_funder_savings": list(data["self_funder_savings"] or []),
                "income_weekly": _ranges(data, "income", INCOME_ROWS),
                "savings_weekly": _ranges(data, "savings", SAVINGS_ROWS),
            },
        }

    def fill_from(self, config: dict[str, Any], number: int) -> None:
        """Prefill every box from `config` (the current version, `number`)."""
        data: dict[str, Any] = {
            "based_on": str(number),
            "price_per_point": config["price_per_point_pence"],
            "max_points": config["max_points"],
            "max_weekly": config["max_weekly_pence"],
            "streams_usual": config["streams"]["usual"],
            "streams_self_funder": config["streams"]["self_funder"],
            "nhs_conditions": [
                c
                for c, names in config["streams"].get("by_condition", {}).items()
                if "nhs" in names
            ],
            "self_funder_savings": config["contribution"]["self_funder_savings"],
        }
        for key, levels in config["outcome_points"].items():
            data |= {f"op_{key}_{level}": points for level, points in levels.items()}
        data |= {f"cs_{k}": v for k, v in config["carer_support_reduction"].items()}
        data |= {f"cc_{k}": v for k, v in config["carer_coping_addition"].items()}
        data |= {f"cond_{k}": v for k, v in config["condition_points"].items()}
        for i, band in enumerate(config["bands"][:BAND_ROWS]):
            data |= {
                f"band{i}_name": band["name"],
                f"band{i}_from": band["from_points"],
                f"band{i}_to": band["to_points"],
                f"band{i}_width": band["width_percent"],
            }
        for part, rows in (("income", "income_weekly"), ("savings", "savings_weekly")):
            for band, (low, high) in config["contribution"][rows].items():
                data |= {f"{part}_{band}_low": low, f"{part}_{band}_high": high}
        for name, value in data.items():
            if name in self._fields:
                self._fields[name].data = value

    def show_config_problems(self, problems: list[tuple[str, str]]) -> None:
        """`ras_config.config_problems`' problems beside their boxes; any about no one box
        above the form (in the error summary)."""
        for path, message in problems:
            field = self._fields.get(field_for_path(path))
            if field is not None and field.name != "based_on":
                if message not in field.errors:
                    field.errors = [*field.errors, message]
            elif message not in self.form_errors:
                self.form_errors.append(message)


def _ranges(data: dict[str, Any], part: str, rows: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    ranges: dict[str, Any] = {}
    for band, _label in rows:
        low, high = data[f"{part}_{band}_low"], data[f"{part}_{band}_high"]
        if low is None and high is None:
            continue
        ranges[band] = [low, high]
    return ranges


_SIMPLE_PATHS = {
    "price_per_point_pence": "price_per_point",
    "max_points": "max_points",
    "max_weekly_pence": "max_weekly",
    "streams.usual": "streams_usual",
    "streams.self_funder": "streams_self_funder",
    "streams.by_condition": "nhs_conditions",
    "contribution.self_funder_savings": "self_funder_savings",
}
_PREFIXES = {
    "outcome_points": "op",
    "carer_support_reduction": "cs",
    "carer_coping_addition": "cc",
    "condition_points": "cond",
}
_BAND_PARTS = {"name": "name", "from_points": "from", "to_points": "to", "width_percent": "width"}


def field_for_path(path: str) -> str:
    """The form's field for a configuration path ("bands.1.from_points" -> "band1_from"), or
    "" when no one box holds it."""
    if path in _SIMPLE_PATHS:
        return _SIMPLE_PATHS[path]
    parts = path.split(".")
    if parts[0] in _PREFIXES and len(parts) >= 2:
        return "_".join([_PREFIXES[parts[0]], *parts[1:]])
    if parts[0] == "bands" and len(parts) == 3:
        return f"band{parts[1]}_{_BAND_PARTS.get(parts[2], '')}"
    if parts[0] == "streams" and len(parts) >= 2 and parts[1] == "by_condition":
        return "nhs_conditions"
    if parts[0] == "contribution" and len(parts) == 4:
        side = "low" if parts[3] == "0" else "high"
        return f"{parts[1].removesuffix('_weekly')}_{parts[2]}_{side}"
    return ""


def _answer_fields() -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for key, title, _words in OUTCOMES:
        for level, label in NEED_LEVELS:
            fields[f"op_{key}_{level}"] = _points(f"{title}: \u201c{label}\u201d")
    for key, label in CARER_SUPPORT:
        fields[f"cs_{key}"] = _points(f"Points taken off: \u201c{label}\u201d")
    for key, label in CARER_COPING:
        fields[f"cc_{key}"] = _points(f"Points added: \u201c{label}\u201d")
    for key, label in CONDITIONS:
        fields[f"cond_{key}"] = _points(f"Points for {label.lower()}")
    return fields


def _band_and_money_fields() -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for i in range(BAND_ROWS):
        n = i + 1
        fields[f"band{i}_name"] = StringField(f"Band {n} name", widget=GovTextInput())
        fields[f"band{i}_from"] = _points(f"Band {n} from (points)")
        fields[f"band{i}_to"] = _points(f"Band {n} to (points)")
        fields[f"band{i}_width"] = _points(f"Band {n} width (%)")
    for part, rows, what in (
        ("income", INCOME_ROWS, "income"),
        ("savings", SAVINGS_ROWS, "savings"),
    ):
        for band, label in rows:
            for side in ("low", "high"):
                fields[f"{part}_{band}_{side}"] = PenceField(
                    f"{'Lowest' if side == 'low' else 'Highest'} weekly contribution, {what} "
                    f"{label.lower()}, in pounds",
                    max_pence=MAX_WEEKLY_PENCE,
                )
    return fields


# One box per answer, band and contribution row, on the form's class (WTForms binds them).
for _name, _field in (_answer_fields() | _band_and_money_fields()).items():
    setattr(RasVersionForm, _name, _field)
