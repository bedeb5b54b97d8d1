"""Council officers' pages for paying providers (issue 19, PAYRUNS; routes on the `council`
blueprint; the files' layouts are docs/payment-runs.md): past runs, choosing and previewing a
run (totals per provider, CSV), making exactly the run previewed, a run's remittances and their
lines, the payment file and remittance advice, marking the file sent, and cancelling a run
before it is sent.

Bad input comes back as the GOV.UK error summary (400). A confirmation whose preview has gone
stale answers 409 with the new preview, nothing paid; the same confirmation sent again goes to
the run it made.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.council import bp
from marketplace.council.paging import Paged, page_number
from marketplace.council.payment_run_forms import (
    CancelRunForm,
    ChooseRunForm,
    ConfirmRunForm,
    SendRunForm,
)
from marketplace.csv_export import csv_text, pence_cell
from marketplace.extensions import db
from marketplace.finance import payment_files, payment_runs
from marketplace.finance.models import PaymentRun, PaymentRunStatus
from marketplace.finance.payment_runs import RunPreview
from marketplace.formatting import LONDON, london_today
from marketplace.pages.downloads import csv_download
from marketplace.types import utcnow

RUNS_PER_PAGE = 25
PREVIEW_HEADER = ("supplier_id", "supplier_name", "invoice_count", "line_count", "amount")


def _cost_centres() -> dict[str, str]:
    return dict(current_app.config.get("PAYMENT_COST_CENTRES") or {})


def _choose_form() -> ChooseRunForm:
    return ChooseRunForm(request.args, today=london_today())


def _cut_off(form: ChooseRunForm) -> datetime:
    """The end of the chosen London day, or now if that is later than now."""
    day = form.settled_by.data
    assert day is not None  # validated
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=LONDON)
    return min(end, utcnow())


@bp.route("/payment-runs")
@requires("pay_providers")
def payment_runs_list() -> str:
    page = page_number()
    runs, total = payment_runs.runs_page(db.session, page=page, per_page=RUNS_PER_PAGE)
    return render_template(
        "council/payment_runs/list.html",
        runs=runs,
        paged=Paged(page=page, per_page=RUNS_PER_PAGE, total=total),
        page_url=lambda number: url_for("council.payment_runs_list", page=number),
    )


def _choose_page(form: ChooseRunForm, status: int) -> tuple[str, int]:
    return render_template("council/payment_runs/choose.html", form=form), status


@bp.route("/payment-runs/new")
@requires("pay_providers")
def payment_run_new() -> tuple[str, int]:
    form = _choose_form()
    if not any(form.settled_by.raw_data or []):
        today = london_today()
        form.settled_by.raw_data = [str(today.day), str(today.month), str(today.year)]
    return _choose_page(form, 200)


@bp.route("/payment-runs/preview")
@requires("pay_providers")
def payment_run_preview() -> tuple[str, int]:
    form = _choose_form()
    if not form.validate():
        return _choose_page(form, 400)
    preview = payment_runs.preview_run(
        db.session, settled_until=_cut_off(form), cost_centres=_cost_centres()
    )
    return _preview_page(preview, 200)


@bp.route("/payment-runs/preview.csv")
@requires("pay_providers")
def payment_run_preview_csv() -> Response:
    form = _choose_form()
    if not form.validate():
        abort(400)
    preview = payment_runs.preview_run(
        db.session, settled_until=_cut_off(form), cost_centres=_cost_centres()
    )
    assert form.settled_by.data is not None
    return csv_download(
        csv_text(PREVIEW_HEADER, _preview_rows(preview)),
        f"payment-run-preview-{form.settled_by.data.isoformat()}.csv",
    )


def _preview_rows(preview: RunPreview) -> list[list[object]]:
    return [
        [
            str(provider.organisation.id),
            provider.organisation.name,
            provider.invoice_count,
            len(provider.dues),
            pence_cell(provider.total_pence),
        ]
        for provider in preview.providers
    ]


def _preview_page(preview: RunPreview, status: int, refusal: str | None = None) -> tuple[str, int]:
    confirm = ConfirmRunForm(formdata=None)
    confirm.settled_until.data = preview.settled_until.isoformat()
    confirm.fingerprint.data = preview.fingerprint
    cut = preview.settled_until.astimezone(LONDON)
    # The cut-off is the end of a day (midnight after it) or a moment today: name the day.
    end_of_day = cut.time() == time()
    shown = (cut - timedelta(microseconds=1)) if end_of_day else cut
    settled_by = f"{shown:%-d %B %Y}" + ("" if end_of_day else f", up to {shown:%H:%M}")
    return render_template(
        "council/payment_runs/preview.html",
        preview=preview,
        confirm=confirm,
        refusal=refusal,
        settled_by=settled_by,
        query={"settled_by": [str(shown.day), str(shown.month), str(shown.year)]},
    ), status


@bp.route("/payment-runs", methods=["POST"])
@requires("pay_providers")
def payment_run_make() -> Response | tuple[str, int]:
    form = ConfirmRunForm()
    previewed = form.previewed() if form.validate_on_submit() else None
    if previewed is None:
        abort(400)
    settled_until, fingerprint = previewed
    if settled_until > utcnow():
        abort(400)
    try:
        run = payment_runs.make_run(
            db.session,
            settled_until=settled_until,
            fingerprint=fingerprint,
            by=current_user,
            cost_centres=_cost_centres(),
        )
    except payment_runs.AlreadyMade as made:
        flash(f"This payment run was already made: {made.run.reference}. Nothing more was paid.")
        return redirect(url_for("council.payment_run", reference=made.run.reference))
    except payment_runs.PreviewChanged as changed:
        db.session.rollback()
        return _preview_page(changed.preview, 409, str(changed))
    except payment_runs.NothingToPay as nothing:
        db.session.rollback()
        preview = payment_runs.preview_run(
            db.session, settled_until=settled_until, cost_centres=_cost_centres()
        )
        return _preview_page(preview, 409, str(nothing))
    return redirect(url_for("council.payment_run", reference=run.reference, made=1))


def _run_or_404(reference: str) -> PaymentRun:
    run = payment_runs.run_by_reference(db.session, reference[:20])
    if run is None:
        abort(404)
    return run


def _run_page(
    run: PaymentRun,
    *,
    cancel: CancelRunForm | None = None,
    send: SendRunForm | None = None,
    refusal: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    cancel = cancel or CancelRunForm(formdata=None)
    return render_template(
        "council/payment_runs/run.html",
        run=run,
        made=request.args.get("made") == "1",
        cancellable=run.status is PaymentRunStatus.MADE and run.sent_at is None,
        cancel_form=cancel,
        send_form=send or SendRunForm(formdata=None),
        # The layout's error summary reads `form`: the cancellation, when it failed.
        form=cancel if cancel.errors else None,
        refusal=refusal,
    ), status


@bp.route("/payment-runs/<reference>")
@requires("pay_providers")
def payment_run(reference: str) -> tuple[str, int]:
    return _run_page(_run_or_404(reference))


@bp.route("/payment-runs/<reference>/payment-file.csv")
@requires("pay_providers")
def payment_run_file(reference: str) -> Response:
    run = _run_or_404(reference)
    return csv_download(payment_files.payment_file(run), f"payment-file-{run.reference}.csv")


@bp.route("/payment-runs/<reference>/remittance-advice.csv")
@requires("pay_providers")
def payment_run_advice(reference: str) -> Response:
    run = _run_or_404(reference)
    return csv_download(payment_files.advice_file(run), f"remittance-advice-{run.reference}.csv")


@bp.route("/payment-runs/<reference>/remittances/<remittance>")
@requires("pay_providers")
def payment_run_remittance(reference: str, remittance: str) -> str:
    run = _run_or_404(reference)
    found = next((r for r in run.remittances if r.reference == remittance), None)
    if found is None:
        abort(404)
    return render_template(
        "council/payment_runs/remittance.html",
        run=run,
        remittance=found,
        rows=payment_files.advice_rows(run, [found]),
    )


@bp.route("/payment-runs/<reference>/sent", methods=["POST"])
@requires("pay_providers")
def payment_run_sent(reference: str) -> Response | tuple[str, int]:
    run = _run_or_404(reference)
    form = SendRunForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        payment_runs.mark_sent(db.session, run, by=current_user)
    except payment_runs.NotSendable as refused:
        db.session.rollback()
        return _run_page(_run_or_404(reference), refusal=str(refused), status=409)
    flash(f"Payment run {run.reference} marked as sent. Each provider has been told.")
    return redirect(url_for("council.payment_run", reference=run.reference))


@bp.route("/payment-runs/<reference>/cancel", methods=["POST"])
@requires("pay_providers")
def payment_run_cancel(reference: str) -> Response | tuple[str, int]:
    run = _run_or_404(reference)
    form = CancelRunForm()
    if not form.validate_on_submit():
        return _run_page(run, cancel=form, status=400)
    try:
        payment_runs.cancel_run(db.session, run, by=current_user, reason=form.reason.data or "")
    except payment_runs.PaymentRunError as refused:
        db.session.rollback()
        return _run_page(_run_or_404(reference), refusal=str(refused), status=409)
    flash(
        f"Payment run {run.reference} cancelled. Its payments are reversed and its invoices "
        "will be paid by the next run."
    )
    return redirect(url_for("council.payment_run", reference=run.reference))
