"""What brokers have written about the person (/my/notes, issue 17): people have a right to see
what is written about them. The person reads every note, from every brokerage; so does their
attorney while acting for them (`read_client_notes`)."""

from __future__ import annotations

from flask import render_template

from marketplace.accounts.access import requires
from marketplace.citizens import bp
from marketplace.citizens.budget_views import own_person
from marketplace.extensions import db
from marketplace.people import caseload


@bp.route("/notes")
@requires("use_citizen_pages")
def notes() -> str:
    person = own_person("read_client_notes")
    return render_template(
        "citizens/notes.html", person=person, notes=caseload.notes_of(db.session, person)
    )
