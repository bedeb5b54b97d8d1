"""The council's front door pages (RAS, issue 20): the resource allocation system's versions, and
making the next one.

A version is never edited: "make a new version" shows a form prefilled from the current
version and saves the next number. Bad boxes come back beside the box (a GOV.UK error summary,
answered 400, which rolls back: nothing saved); a version saved by another officer since the
form was drawn is refused with a message (the form's `based_on`).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.council import bp
from marketplace.council.ras_forms import (
    BAND_ROWS,
    INCOME_ROWS,
    SAVINGS_ROWS,
    RasVersionForm,
)
from marketplace.extensions import db
from marketplace.referrals import ras
from marketplace.referrals.models import RasVersion
from marketplace.referrals.questions import (
    CARER_COPING,
    CARER_SUPPORT,
    CONDITIONS,
    INCOME_BANDS,
    NEED_LEVELS,
    OUTCOMES,
    SAVINGS_BANDS,
)
from marketplace.referrals.ras_examples import EXAMPLES
from marketplace.referrals.ras_explain import STREAM_WORDS
from marketplace.types import utcnow


def _labels() -> dict[str, object]:
    """The questions' words and the streams' names, for the configuration's tables."""
    return {
        "streams": STREAM_WORDS,
        "outcomes": OUTCOMES,
        "need_levels": NEED_LEVELS,
        "carer_support": CARER_SUPPORT,
        "carer_coping": CARER_COPING,
        "conditions": CONDITIONS,
        "savings_bands": SAVINGS_BANDS,
        "income_bands": INCOME_BANDS,
    }


@bp.route("/ras")
@requires("configure_ras")
def ras_versions() -> str:
    rows = ras.versions_with_use(db.session)
    return render_template("council/ras/versions.html", rows=rows)


@bp.route("/ras/<int:number>")
@requires("configure_ras")
def ras_version(number: int) -> str:
    version = ras.version_by_number(db.session, number)
    if version is None:
        abort(404)
    current = ras.current_version(db.session)
    return render_template(
        "council/ras/version.html",
        version=version,
        is_current=current is not None and current.id == version.id,
        config=version.config,
        labels=_labels(),
    )


@bp.route("/ras/new", methods=["GET", "POST"])
@requires("configure_ras")
def new_ras_version() -> Response | tuple[str, int]:
    current = ras.current_version(db.session)
    form = RasVersionForm()
    if not form.is_submitted():
        form.fill_from(current.config if current else ras.default_config(), _number(current))
    preview = None
    previewing = "preview" in request.form
    if form.validate_on_submit():
        config = form.to_config()
        form.show_config_problems(ras.config_problems(config))
        if not previewing and not (form.note.data or "").strip():
            form.note.errors = [*form.note.errors, "Enter why you are making this version"]
        if form.errors:
            pass  # shown again beside their boxes, answered 400: nothing saved
        elif previewing:
            preview = [(example, ras.work_out(config, answers)) for example, answers in EXAMPLES]
        else:
            try:
                version = ras.new_version(
                    db.session,
                    config,
                    by=current_user,
                    note=form.note.data or "",
                    now=utcnow(),
                    based_on=_based_on(form.based_on.data),
                )
            except ras.VersionClash as clash:
                form.form_errors.append(str(clash))
            else:
                flash(f"Version {version.number} saved: new self-assessments use it", "success")
                return redirect(url_for("council.ras_version", number=version.number))
    return render_template(
        "council/ras/new.html",
        form=form,
        current=current,
        preview=preview,
        band_rows=range(BAND_ROWS),
        income_rows=INCOME_ROWS,
        savings_rows=SAVINGS_ROWS,
        labels=_labels(),
    ), 400 if form.errors else 200


def _number(version: RasVersion | None) -> int:
    return version.number if version is not None else 0


def _based_on(text: str | None) -> int | None:
    """The version the form was drawn from ("0" before any), or None if the field was lost."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
