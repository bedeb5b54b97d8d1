"""Council finance's pages on card payments (routes on the `council` blueprint): the
mismatches reconciliation found between Stripe and our records, by kind, as a CSV, and
resolving one with a reason.

Reconciliation itself runs as `flask payments reconcile` (it talks to Stripe; a page does
not wait for that): these pages show what it stored.
"""

from __future__ import annotations

import uuid

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.access import requires
from marketplace.console import queue_decisions
from marketplace.council import bp
from marketplace.council.payment_forms import ResolveMismatchForm
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.forms import show_refusal
from marketplace.payments.mismatches import (
    MismatchError,
    MismatchKind,
    PaymentMismatch,
    mismatches,
    resolve_mismatch,
)
from marketplace.payments.reconcile import mismatches_csv
from marketplace.types import utcnow


@bp.route("/payments")
@requires("reconcile_payments")
def payment_mismatches() -> str:
    show_all = request.args.get("show") == "all"
    found = mismatches(db.session, unresolved_only=not show_all)
    by_kind = {kind: [m for m in found if m.kind is kind] for kind in MismatchKind}
    return render_template(
        "council/payments/mismatches.html",
        by_kind=by_kind,
        show_all=show_all,
        total=len(found),
    )


@bp.route("/payments/mismatches.csv")
@requires("reconcile_payments")
def payment_mismatches_csv() -> Response:
    body = mismatches_csv(mismatches(db.session))
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="card-payment-mismatches-{london_today():%Y-%m-%d}.csv"'
            )
        },
    )


@bp.route("/payments/mismatches/<uuid:mismatch_id>", methods=["GET", "POST"])
@requires("reconcile_payments")
def payment_mismatch(mismatch_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    mismatch = db.session.get(PaymentMismatch, mismatch_id)
    if mismatch is None:
        abort(404)
    form = ResolveMismatchForm()
    if mismatch.resolved_at is None and form.validate_on_submit():
        try:
            resolve_mismatch(
                db.session, mismatch, by=current_user, reason=form.reason.data, now=utcnow()
            )
        except MismatchError as refused:
            show_refusal(form.reason if refused.fields else form, refused)
        else:
            queue_decisions.mismatch_resolved(db.session, mismatch, by=current_user)
            flash("Mismatch marked as resolved.", "success")
            return redirect(url_for("council.payment_mismatches"))
    elif request.method == "POST" and mismatch.resolved_at is not None:
        form.form_errors.append("This mismatch was resolved already")
    return render_template("council/payments/mismatch.html", mismatch=mismatch, form=form), 400 if (
        form.errors or form.form_errors
    ) else 200
