"""Changes to a package (issue 18, VARIATIONS), the forms both parties' pages share: asking for
a change (the person's side) or proposing one (the provider's), declining one, and the words
the order pages show for each change. The views are the audiences' own
(`citizens/variation_views.py`, `providers/portal/variation_views.py`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.formatting import pounds
from marketplace.forms import (
    CheckboxesField,
    GovDateField,
    PenceField,
    RadiosField,
    choices,
    show_refusal,
)
from marketplace.ledger import LedgerError
from marketplace.orders import variation_terms, variations
from marketplace.orders.models import (
    Order,
    PackageVariation,
    VariationKind,
    VariationParty,
)
from marketplace.orders.package_terms import Terms, terms_of, terms_on
from marketplace.orders.schedule import MAX_UNITS_PER_OCCASION, WEEKDAY_NAMES, WEEKDAYS

REASON_MAX_LENGTH = variations.REASON_MAX_LENGTH
KEEP = ""

# What each kind of change is called on the pages, as a heading and a link.
HEADINGS = {
    VariationKind.SCHEDULE: "Change the hours or days",
    VariationKind.PRICE: "Propose a new price",
    VariationKind.PAUSE: "Pause the care",
    VariationKind.RESUME: "Restart the care",
}


class VariationForm(FlaskForm):
    """One form for every kind of change; each page shows the fields its kind uses."""

    effective_from = GovDateField(
        "From which date?", description="For example, 6 7 2026. It cannot be in the past."
    )
    units_per_occasion = SelectField(
        "How many hours each time?",
        widget=GovSelect(),
        choices=choices(
            [(KEEP, "Keep as now")]
            + [(str(n), str(n)) for n in range(1, MAX_UNITS_PER_OCCASION + 1)]
        ),
        default=KEEP,
    )
    days = CheckboxesField(
        "Which days of the week?",
        choices=choices((code, WEEKDAY_NAMES[code]) for code in WEEKDAYS),
        description="Select all that apply.",
    )
    unit_price_pence = PenceField("New price")
    resumes_on = GovDateField(
        "When will care restart? (optional)",
        description="Leave this empty if you do not know yet: you can ask to restart later.",
    )
    reason = TextAreaField(
        "Why is this change needed? (optional)",
        widget=GovCharacterCount(),
        validators=[
            Length(
                max=REASON_MAX_LENGTH,
                message=f"The reason must be {REASON_MAX_LENGTH} characters or fewer",
            )
        ],
    )
    submit = SubmitField("Send the request", widget=GovSubmitInput())


class DeclineVariationForm(FlaskForm):
    reason = TextAreaField(
        "Why are you declining this change?",
        widget=GovCharacterCount(),
        validators=[
            InputRequired(message="Enter why you are declining this change"),
            Length(
                max=REASON_MAX_LENGTH,
                message=f"The reason must be {REASON_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Decline the change", widget=GovSubmitInput())


def variation_form(order: Order, today: date) -> VariationForm:
    """The form, its days ticked as the package has them now."""
    form = VariationForm()
    if not form.is_submitted():
        now = terms_now(order, today)
        form.days.data = list(now.days) if now is not None else []
    return form


def propose_from(
    form: VariationForm,
    order: Order,
    *,
    by: User,
    party: VariationParty,
    kind: VariationKind,
    today: date,
) -> PackageVariation | None:
    """Propose the change the form asks for; None (with the refusal on the form's fields, or
    above it) when it is refused."""
    if form.effective_from.data is None:
        if not form.effective_from.errors:
            form.effective_from.errors = ["Enter the date the change starts"]
        return None
    units = int(form.units_per_occasion.data) if form.units_per_occasion.data else None
    now = terms_now(order, today)
    days = list(form.days.data or [])
    # Unchanged days are no change: only the hours then.
    if now is not None and set(days) == set(now.days):
        days = []
    if kind is VariationKind.SCHEDULE and not days and form.days.data == []:
        form.days.errors = ["Select at least one day of the week"]
        return None
    try:
        return variations.propose(
            db.session,
            order,
            by=by,
            party=party,
            kind=kind,
            effective_from=form.effective_from.data,
            units_per_occasion=units,
            days=days or None,
            unit_price_pence=form.unit_price_pence.data,
            resumes_on=form.resumes_on.data,
            reason=form.reason.data or "",
            today=today,
        )
    except LedgerError as refusal:
        _show(form, refusal)
        return None


def _show(form: FlaskForm, refusal: LedgerError) -> None:
    """The refusal beside the field it names, else above the form."""
    fields = refusal.details.get("fields") or {}
    for name in fields:
        if name in form._fields:
            show_refusal(form._fields[name], refusal)
            return
    show_refusal(form, refusal)


def terms_now(order: Order, today: date) -> Terms | None:
    """The terms in force today (or on the package's first day, before it starts)."""
    return terms_on(terms_of(order), max(today, order.starts_on))


def terms_text(terms: Terms | None, order: Order) -> str:
    """'2 hours each time on Monday and Thursday, £26 an hour' or 'Paused'."""
    if terms is None:
        return ""
    if terms.paused:
        return "Paused"
    names = [WEEKDAY_NAMES[code] for code in WEEKDAYS if code in terms.days]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    each = variation_terms.PER_UNIT.get(order.price_unit.value, "a unit")
    units = variation_terms.units_text(terms.units_per_occasion, order)
    return f"{units} each time on {joined}, {pounds(terms.unit_price_pence)} {each}"


def variation_words(today: date) -> dict[str, Any]:
    """What the order pages' variation partials call (a context processor's dictionary)."""
    return {
        "variation_text": variation_terms.describe,
        "pending_variations": variations.pending_of,
        "package_terms_now": lambda order: terms_text(terms_now(order, today), order),
        "earliest_price_change": lambda order: variation_terms.earliest_price_change(order, today),
        "variation_headings": HEADINGS,
        "package_paused": lambda order: bool(order.terms) and terms_of(order)[-1].paused,
    }


class CouncilDecisionForm(FlaskForm):
    """A council officer's decision on a change both parties accepted."""

    decision = RadiosField(
        "Does the council agree to this change?",
        choices=choices([("agree", "Yes, agree it"), ("refuse", "No, refuse it")]),
        validators=[InputRequired(message="Select whether the council agrees")],
    )
    reason = TextAreaField(
        "Reason (needed to refuse)",
        widget=GovCharacterCount(),
        validators=[
            Length(
                max=REASON_MAX_LENGTH,
                message=f"The reason must be {REASON_MAX_LENGTH} characters or fewer",
            )
        ],
    )
    submit = SubmitField("Record the decision", widget=GovSubmitInput())
