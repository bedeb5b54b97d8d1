"""The audit log for council officers (issue 17): searching it (/council/audit, by person, by
who acted, by date, in pages) and a person's subject access export
(/council/people/<person_id>/subject-access.csv and .json: everything held about them)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from flask import Response, render_template, request, url_for

from marketplace.accounts.access import requires
from marketplace.council import bp
from marketplace.council.paging import Paged, page_number
from marketplace.council.subject_access import as_lines, subject_access
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.pages.acting_for import acting_for
from marketplace.pages.audit_hooks import describe_page
from marketplace.people import audit

ENTRIES_PER_PAGE = 50
SEARCH_TEXT_LENGTH = 200
DATE_FIELDS = {"since": "From", "until": "To"}


def _date(prefix: str) -> tuple[date | None, str | None, dict[str, str]]:
    """The date the three boxes `prefix`-day, -month, -year give, or what is wrong with it."""
    parts = {
        part: request.args.get(f"{prefix}-{part}", "").strip() for part in ("day", "month", "year")
    }
    label = DATE_FIELDS[prefix]
    if not any(parts.values()):
        return None, None, parts
    if not all(parts.values()):
        return None, f"{label} date must include a day, month and year", parts
    if not all(value.isascii() and value.isdigit() and len(value) <= 4 for value in parts.values()):
        return None, f"{label} date must be a real date, for example 27 3 2026", parts
    try:
        found = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        return None, f"{label} date must be a real date, for example 27 3 2026", parts
    if found.year < 2000:
        return None, f"{label} date must be in the year 2000 or later", parts
    return found, None, parts


def _start_of(day: date) -> datetime:
    """The moment a London day starts, as an aware datetime (compared in UTC by the column)."""
    return datetime.combine(day, time.min, tzinfo=LONDON)


@bp.route("/audit")
@requires("search_audit_log")
def audit_search() -> tuple[str, int]:
    person = request.args.get("person", "").strip()[:SEARCH_TEXT_LENGTH]
    actor = request.args.get("actor", "").strip()[:SEARCH_TEXT_LENGTH]
    since, since_error, since_parts = _date("since")
    until, until_error, until_parts = _date("until")
    errors = {
        name: error
        for name, error in (("since-day", since_error), ("until-day", until_error))
        if error
    }
    if since and until and until < since:
        errors["until-day"] = "To date must be the same as or after the from date"
    entries: list[audit.AuditEntry] = []
    paged = Paged(page=page_number(), per_page=ENTRIES_PER_PAGE, total=0)
    if not errors:
        wanted = audit.AuditSearch(
            person=person,
            actor=actor,
            since=_start_of(since) if since else None,
            # The calendar's last day has no next: searching to it is searching to the end.
            before=_start_of(until + timedelta(days=1)) if until and until < date.max else None,
        )
        entries, total = audit.search(db.session, wanted, page=paged.page, per_page=paged.per_page)
        paged = Paged(page=paged.page, per_page=paged.per_page, total=total)
    arguments = {
        key: value for key, value in request.args.items() if key != "page" and value.strip()
    }
    return render_template(
        "council/audit.html",
        person=person,
        actor=actor,
        since_parts=since_parts,
        until_parts=until_parts,
        errors=errors,
        entries=entries,
        paged=paged,
        searched=bool(arguments),
        # The search is kept across pages.
        page_url=lambda number: (
            f"{url_for('council.audit_search')}?{urlencode({**arguments, 'page': number})}"
        ),
    ), 400 if errors else 200


@bp.route("/people/<uuid:person_id>/subject-access.json")
@requires("export_subject_access")
def subject_access_json() -> Response:
    person = acting_for()
    describe_page("Subject access export (JSON)")
    held = subject_access(db.session, person)
    body = json.dumps(
        {
            "person_id": str(person.id),
            "exported_at": datetime.now(LONDON).isoformat(),
            "held": held,
        },
        indent=2,
        ensure_ascii=False,
    )
    return _download(body, "application/json", f"subject-access-{person.id}.json")


@bp.route("/people/<uuid:person_id>/subject-access.csv")
@requires("export_subject_access")
def subject_access_csv() -> Response:
    person = acting_for()
    describe_page("Subject access export (CSV)")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["What", "Row", "Field", "Value"])
    for what, row, field, value in as_lines(subject_access(db.session, person)):
        # A spreadsheet runs a cell that starts with = + - @ as a formula: never ours.
        safe = "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
        writer.writerow([what, row, field, safe])
    return _download(out.getvalue(), "text/csv", f"subject-access-{person.id}.csv")


def _download(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
