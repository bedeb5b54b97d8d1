"""A person's details pages, which the person (citizens/details_views.py) and the council's
officers (council/details_views.py) both use: the same form and templates."""

from __future__ import annotations

from flask import flash, render_template
from flask_login import current_user

from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.people import details, records
from marketplace.people.details_form import PersonDetailsForm
from marketplace.people.models import Person


def save_details(person: Person, *, own: bool) -> tuple[PersonDetailsForm, bool]:
    """The details form for the person, and whether a valid submission was saved (with its
    change on the person's record)."""
    form = PersonDetailsForm.for_person(person, today=london_today())
    if not form.validate_on_submit():
        return form, False
    changed = records.update_person(
        db.session, person, form.changes(person), by=current_user._get_current_object()
    )
    whose = "Your" if own else f"{person.full_name}'s"
    flash(f"{whose} details are saved" if changed else "Nothing was changed", "success")
    return form, True


def details_page(person: Person, *, own: bool, change_url: str, back: str) -> str:
    """The summary of the person's details and the record of their changes."""
    return render_template(
        "citizens/details.html",
        person=person,
        own=own,
        change_url=change_url,
        back=back,
        history=details.details_history(db.session, person),
        labels=details.FIELD_LABELS,
    )
