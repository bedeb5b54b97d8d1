"""Who has looked at or changed the person's record (/my/record-log, issue 17): the audit log's
entries about them, newest first. The person reads their own; so does their attorney while
acting for them (`view_audit_log_of`)."""

from __future__ import annotations

from flask import render_template, request, url_for

from marketplace.accounts.access import requires
from marketplace.citizens import bp
from marketplace.citizens.budget_views import own_person
from marketplace.extensions import db
from marketplace.people import audit

ENTRIES_PER_PAGE = 50
# Deeper than any log: a 20-digit page would overflow the database's OFFSET.
MAX_PAGE_DIGITS = 6


def _page_asked_for() -> int:
    text = request.args.get("page", "1").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_PAGE_DIGITS):
        return 1
    return max(int(text), 1)


@bp.route("/record-log")
@requires("use_citizen_pages")
def record_log() -> str:
    person = own_person("view_audit_log_of")
    page = _page_asked_for()
    entries, total = audit.entries_of(db.session, person, page=page, per_page=ENTRIES_PER_PAGE)
    pages = max(-(-total // ENTRIES_PER_PAGE), 1)
    return render_template(
        "citizens/record_log.html",
        person=person,
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        previous_url=url_for("citizens.record_log", page=page - 1) if 1 < page <= pages else None,
        next_url=url_for("citizens.record_log", page=page + 1) if page < pages else None,
    )
