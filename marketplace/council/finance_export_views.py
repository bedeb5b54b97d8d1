"""Council officers' pages for exports to the finance system (issue 19, FINEXPORT; routes on
the `council` blueprint; the layout is docs/finance-export.md): past exports, a preview of the
next one, making it, and downloading any export again, byte for byte."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.council import bp
from marketplace.council.finance_export_forms import MakeExportForm
from marketplace.council.paging import Paged, page_number
from marketplace.extensions import db
from marketplace.finance import exports
from marketplace.finance.export_lines import LineType
from marketplace.pages.downloads import csv_download

EXPORTS_PER_PAGE = 25


@bp.route("/finance-exports")
@requires("export_to_finance")
def finance_exports() -> str:
    page = page_number()
    made, total = exports.exports_page(db.session, page=page, per_page=EXPORTS_PER_PAGE)
    return render_template(
        "council/finance_exports/list.html",
        made=made,
        paged=Paged(page=page, per_page=EXPORTS_PER_PAGE, total=total),
        page_url=lambda number: url_for("council.finance_exports", page=number),
    )


@bp.route("/finance-exports/new")
@requires("export_to_finance")
def finance_export_preview() -> str:
    return _preview(MakeExportForm(), moved=False)


def _preview(form: MakeExportForm, *, moved: bool) -> str:
    summary = exports.preview(db.session)
    form.since.data = summary.since.isoformat() if summary.since else ""
    form.until.data = summary.until.isoformat()
    return render_template(
        "council/finance_exports/preview.html",
        summary=summary,
        line_types=list(LineType),
        latest=exports.latest_export(db.session),
        form=form,
        moved=moved,
    )


@bp.route("/finance-exports", methods=["POST"])
@requires("export_to_finance")
def make_finance_export() -> Response | tuple[str, int]:
    form = MakeExportForm()
    previewed = form.previewed() if form.validate_on_submit() else None
    if previewed is None:
        abort(400)
    try:
        export = exports.make_export(db.session, by=current_user, previewed=previewed)
    except exports.RangeMoved:
        db.session.rollback()
        return _preview(MakeExportForm(formdata=None), moved=True), 409
    return redirect(url_for("council.finance_export", reference=export.reference, made=1))


@bp.route("/finance-exports/<reference>")
@requires("export_to_finance")
def finance_export(reference: str) -> str:
    export = exports.find_export(db.session, reference)
    if export is None:
        abort(404)
    return render_template(
        "council/finance_exports/export.html",
        export=export,
        summary=exports.summary_of_export(export),
        line_types=list(LineType),
        # Straight after making it: the confirmation panel.
        just_made=request.args.get("made") == "1",
    )


@bp.route("/finance-exports/<reference>.csv")
@requires("export_to_finance")
def download_finance_export(reference: str) -> Response:
    export = exports.find_export(db.session, reference)
    if export is None:
        abort(404)
    return csv_download(export.content, f"finance-export-{export.reference}")
