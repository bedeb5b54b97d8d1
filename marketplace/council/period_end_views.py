"""Council officers' pages for a period end in bulk (issue 19, CLOSE): choose the budgets and
the rule, preview every amount, confirm, and read the closing report (with its CSV).

Bad input comes back as the GOV.UK error summary (400). A confirmation whose preview has gone
stale answers 409 with the new preview and nothing closed (the request's rollback undoes
nothing, as the rules closed nothing).
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.console import period_end
from marketplace.console.models import UnspentRule
from marketplace.console.period_end import PeriodEndChanged, PeriodEndPreview
from marketplace.council import bp
from marketplace.council.period_end_forms import ChooseBudgetsForm, ConfirmPeriodEndForm
from marketplace.csv_export import csv_text
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.pages.downloads import csv_download


def _choose_form() -> ChooseBudgetsForm:
    form = ChooseBudgetsForm(request.args, today=london_today())
    form.offer(
        [(str(f.id), f.name) for f in period_end.funders_to_choose(db.session)],
        [(d.code, d.name) for d in period_end.districts_to_choose(db.session)],
    )
    return form


def _choose_page(form: ChooseBudgetsForm, status: int) -> tuple[str, int]:
    return render_template(
        "council/period_end/choose.html",
        form=form,
        person=period_end.person_named(db.session, form.chosen_person_id()),
        runs=period_end.recent_runs(db.session),
    ), status


@bp.route("/period-end")
@requires("close_periods")
def period_end_start() -> tuple[str, int]:
    form = _choose_form()
    if not form.rule.data:
        form.rule.data = current_app.config["PERIOD_END_UNSPENT_RULE"]
    if not any(form.ended_by.raw_data or []):
        # Every period that has ended, unless the officer chooses an earlier date.
        yesterday = london_today() - timedelta(days=1)
        form.ended_by.raw_data = [str(yesterday.day), str(yesterday.month), str(yesterday.year)]
    return _choose_page(form, 200)


@bp.route("/period-end/preview")
@requires("close_periods")
def period_end_preview() -> tuple[str, int]:
    form = _choose_form()
    if not form.validate():
        return _choose_page(form, 400)
    preview = period_end.preview_period_end(db.session, form.selection())
    if not preview.plans:
        form.ended_by.errors = [
            "No open budget's period ended by that date"
            + (" for the funder, area or person chosen" if _filtered(form) else "")
            + ". Choose a later date, or fewer filters"
        ]
        return _choose_page(form, 400)
    return _preview_page(preview, ConfirmPeriodEndForm(formdata=None), 200)


def _filtered(form: ChooseBudgetsForm) -> bool:
    return bool(form.funder.data or form.district.data or form.person_id.data)


@bp.route("/period-end/preview.csv")
@requires("close_periods")
def period_end_preview_csv() -> Response:
    form = _choose_form()
    if not form.validate():
        abort(400)
    selection = form.selection()
    preview = period_end.preview_period_end(db.session, selection)
    return csv_download(
        csv_text(period_end.PREVIEW_HEADER, period_end.preview_rows(preview)),
        f"period-end-preview-{selection.ended_by.isoformat()}.csv",
    )


def _preview_page(
    preview: PeriodEndPreview,
    form: ConfirmPeriodEndForm,
    status: int,
    refusal: str | None = None,
) -> tuple[str, int]:
    form.fill(preview.selection, preview.fingerprint)
    selection = preview.selection
    return render_template(
        "council/period_end/preview.html",
        preview=preview,
        confirm=form,
        refusal=refusal,
        person=period_end.person_named(db.session, selection.person_id),
        funder=next(
            (f for f in period_end.funders_to_choose(db.session) if f.id == selection.funder_id),
            None,
        )
        if selection.funder_id
        else None,
        district=next(
            (
                d
                for d in period_end.districts_to_choose(db.session)
                if d.code == selection.district_code
            ),
            None,
        )
        if selection.district_code
        else None,
        query={k: v for k, v in _query_of(preview).items() if v},
        carry=selection.rule is UnspentRule.CARRY_FORWARD,
    ), status


def _query_of(preview: PeriodEndPreview) -> dict[str, str | list[str]]:
    """The choose form's query string that makes this preview again (the date's three boxes
    share one name)."""
    selection = preview.selection
    ended_by = selection.ended_by
    return {
        "ended_by": [str(ended_by.day), str(ended_by.month), str(ended_by.year)],
        "rule": selection.rule.value,
        "funder": str(selection.funder_id or ""),
        "district": selection.district_code or "",
        "person_id": str(selection.person_id or ""),
    }


@bp.route("/period-end", methods=["POST"])
@requires("close_periods")
def period_end_confirm() -> Response | tuple[str, int]:
    form = ConfirmPeriodEndForm()
    selection = form.selection()
    if selection is None or not form.validate_on_submit():
        if selection is not None and form.note.errors:
            preview = period_end.preview_period_end(db.session, selection)
            return _preview_page(preview, form, 400)
        abort(400)
    try:
        run, _ = period_end.confirm_period_end(
            db.session,
            selection,
            fingerprint=form.fingerprint.data,
            made_by=current_user,
            note=(form.note.data or "").strip(),
        )
    except PeriodEndChanged as changed:
        return _preview_page(changed.preview, form, 409, str(changed))
    except period_end.NothingToClose as nothing:
        preview = period_end.preview_period_end(db.session, selection)
        return _preview_page(preview, form, 409, str(nothing))
    return redirect(url_for("council.period_end_run", reference=run.reference))


@bp.route("/period-end/runs/<reference>")
@requires("close_periods")
def period_end_run(reference: str) -> str:
    run = period_end.run_by_reference(db.session, reference[:20])
    if run is None:
        abort(404)
    return render_template(
        "council/period_end/run.html", run=run, chart=period_end.funder_chart(run)
    )


@bp.route("/period-end/runs/<reference>.csv")
@requires("close_periods")
def period_end_run_csv(reference: str) -> Response:
    run = period_end.run_by_reference(db.session, reference[:20])
    if run is None:
        abort(404)
    if request.args.get("table") == "funders":
        header, rows = period_end.funder_rows(run)
        return csv_download(csv_text(header, rows), f"period-end-{run.reference}-funders.csv")
    return csv_download(
        csv_text(period_end.REPORT_HEADER, period_end.report_rows(run)),
        f"period-end-{run.reference}.csv",
    )
