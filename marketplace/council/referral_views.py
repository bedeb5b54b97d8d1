"""The council's front door pages (REFERRALS, issue 20): the referrals list (the most urgent and
the longest waiting first, filtered by status, with the count in each) and a referral's page
(the answers, the indication with its workings, who filled it in, the timeline), and its
actions, one GOV.UK form each: first contact, resolving it there and then, an assessment visit
needed, assessed, closing it, and turning it into a person's record, a draft support plan and a
budget. Rules: `marketplace/referrals/queue.py` and `conversion.py`.

A rule's refusal comes back on the form as an error (400, or 409 when another officer has just
moved the referral) and the request rolls back: nothing changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from werkzeug.wrappers import Response
from wtforms import SubmitField

from marketplace.accounts import record_claims
from marketplace.accounts.access import requires
from marketplace.budgets import queries as budget_queries
from marketplace.budgets.figures import pot_figures
from marketplace.budgets.models import FunderPot, PaymentFrequency, StreamKind
from marketplace.budgets.rules import financial_year_of
from marketplace.council import bp
from marketplace.council.paging import Paged, page_number
from marketplace.council.referral_forms import (
    AssessedForm,
    CloseForm,
    ConvertForm,
    FirstContactForm,
    ResolveForm,
    VisitNeededForm,
)
from marketplace.extensions import db
from marketplace.formatting import london_today, pounds
from marketplace.forms import choices
from marketplace.referrals import conversion, questions, queue, referral_lists
from marketplace.referrals.models import Referral, ReferralStatus
from marketplace.types import utcnow
from providers.listings import category_choices

PER_PAGE = 25
S = ReferralStatus


def _referral(referral_id: uuid.UUID) -> Referral:
    found = referral_lists.referral_by_id(db.session, referral_id)
    if found is None:
        abort(404)
    return found


def answer_rows(answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The answers as summary-list rows, in the questions' order, each value in the words the
    person chose."""
    rows = []
    for question in questions.questions_asked(answers):
        value = answers.get(question.key)
        labels = dict(question.options)
        if question.kind == "contact":
            contact = value or {}
            shown = "\n".join(part for part in (contact.get("email"), contact.get("phone")) if part)
        elif isinstance(value, list):
            shown = "\n".join(str(labels.get(item, item)) for item in value) or "None of these"
        else:
            shown = labels.get(value, value) if value not in (None, "") else "Not answered"
        rows.append(
            {
                "key": {"text": question.short or question.heading},
                "value": {"text": shown, "classes": "app-pre-line"},
            }
        )
    return rows


@bp.route("/referrals")
@requires("manage_referrals")
def referrals() -> str:
    wanted = request.args.get("status", "")
    status = S(wanted) if wanted in {s.value for s in S} else None
    counts = referral_lists.counts_by_status(db.session)
    total = counts[status] if status is not None else sum(counts.values())
    paged = Paged(page=page_number(), per_page=PER_PAGE, total=total)
    rows: list[Referral] = []
    if not paged.past_end:
        rows, _ = referral_lists.referrals_for_council(
            db.session,
            statuses=[status] if status is not None else None,
            page=paged.page,
            per_page=PER_PAGE,
        )
    return render_template(
        "council/referrals/list.html",
        referrals=rows,
        counts=counts,
        status=status,
        paged=paged,
        page_url=lambda number: url_for(
            "council.referrals", status=status.value if status else None, page=number
        ),
        now=utcnow(),
    )


def _page(referral: Referral, **context: Any) -> str:
    return render_template(
        "council/referrals/referral.html",
        referral=referral,
        answers=answer_rows(referral.assessment.answers),
        timeline=referral_lists.timeline(referral, for_person=False),
        live_visit=referral_lists.live_visit(db.session, referral),
        allowed={to for to in S if queue.may_move(referral, to)},
        may_contact=queue.may_record_contact(referral),
        invite_form=InviteForm(),
        **context,
    )


@bp.route("/referrals/<uuid:referral_id>")
@requires("manage_referrals")
def referral(referral_id: uuid.UUID) -> str:
    return _page(_referral(referral_id))


# action -> (form, title, the step's rule as a function of the form)
Step = Callable[[Referral, Any], object]


def _steps() -> dict[str, tuple[type[FlaskForm], str, Step]]:
    officer = current_user._get_current_object()
    now = utcnow()
    return {
        "contact": (
            FirstContactForm,
            "Record first contact",
            lambda r, f: queue.record_first_contact(
                db.session, r, by=officer, how=f.how.data, note=f.note.data or "", now=now
            ),
        ),
        "resolve": (
            ResolveForm,
            "Resolve at first contact",
            lambda r, f: queue.resolve_at_first_contact(
                db.session, r, by=officer, how=f.how.data, note=f.note.data or "", now=now
            ),
        ),
        "visit-needed": (
            VisitNeededForm,
            "An assessment visit is needed",
            lambda r, f: queue.needs_visit(
                db.session, r, by=officer, note=f.note.data or "", now=now
            ),
        ),
        "assessed": (
            AssessedForm,
            "Record that the needs are assessed",
            lambda r, f: queue.mark_assessed(
                db.session, r, by=officer, note=f.note.data or "", now=now
            ),
        ),
        "close": (
            CloseForm,
            "Close the referral",
            lambda r, f: queue.close(
                db.session, r, by=officer, reason=f.reason.data, note=f.note.data or "", now=now
            ),
        ),
    }


@bp.route(
    "/referrals/<uuid:referral_id>/<any(contact, resolve, 'visit-needed', assessed, close):action>",
    methods=["GET", "POST"],
)
@requires("manage_referrals")
def referral_action(referral_id: uuid.UUID, action: str) -> Response | tuple[str, int]:
    found = _referral(referral_id)
    form_class, title, step = _steps()[action]
    form = form_class()
    status = 200
    if form.validate_on_submit():
        try:
            step(found, form)
        except queue.ReferralMoveRefused as refused:
            form.form_errors.append(
                f"{refused.message}. Another officer may have just changed it: nothing was changed"
            )
            status = 409
        except queue.ReferralError as refused:
            _show(form, refused)
            status = 400
        else:
            flash(f"{title}: done for {found.reference}", "success")
            return redirect(url_for("council.referral", referral_id=found.id))
    if form.errors and status == 200:
        status = 400
    return render_template(
        "council/referrals/action.html", referral=found, form=form, title=title
    ), status


def _show(form: FlaskForm, refused: queue.ReferralError) -> None:
    field = getattr(form, refused.field, None) if refused.field else None
    if field is not None:
        field.errors = [*field.errors, refused.message]
    else:
        form.form_errors.append(refused.message)


def _offer_pots(form: ConvertForm, years: list[int]) -> dict[str, FunderPot]:
    pots = budget_queries.pots_to_allocate_from(db.session, years)
    for kind, field in ((StreamKind.COUNCIL, form.council_pot), (StreamKind.NHS, form.nhs_pot)):
        mine = [pot for pot in pots if pot.funder.kind is kind.funder_kind]
        field.choices = choices(
            [
                ("", "Choose a pot"),
                *(
                    (
                        str(pot.id),
                        f"{pot.label} "
                        f"({pounds(pot_figures(db.session, pot).unallocated_pence)} unallocated)",
                    )
                    for pot in mine
                ),
            ]
        )
        if not form.is_submitted() and len(mine) == 1:
            field.data = str(mine[0].id)
    return {str(pot.id): pot for pot in pots}


@bp.route("/referrals/<uuid:referral_id>/convert", methods=["GET", "POST"])
@requires("manage_referrals")
def convert_referral(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    found = _referral(referral_id)
    today = london_today()
    year = financial_year_of(today)
    form = ConvertForm()
    pots = _offer_pots(form, [year, year + 1])
    form.plan_category.choices = choices([("", "Choose a category"), *category_choices()])
    if not form.is_submitted():
        form.starts_on.data = today
        form.ends_on.data = date(year + 1, 3, 31)
        form.outcomes.data = conversion.default_outcomes(found.assessment)
        indication = found.assessment.indication
        if indication is not None:
            form.weekly_budget.data = indication.low_weekly_pence
    status = 200
    if form.validate_on_submit():
        streams = [
            conversion.WeeklyStream(
                StreamKind.COUNCIL,
                form.council_weekly.data or 0,
                pots.get(form.council_pot.data or ""),
            ),
            conversion.WeeklyStream(
                StreamKind.NHS, form.nhs_weekly.data or 0, pots.get(form.nhs_pot.data or "")
            ),
            conversion.WeeklyStream(
                StreamKind.CLIENT_CONTRIBUTION, form.contribution_weekly.data or 0
            ),
        ]
        weekly, starts_on, ends_on = (
            form.weekly_budget.data,
            form.starts_on.data,
            form.ends_on.data,
        )
        # Each is required: the form does not validate without it.
        assert weekly is not None
        assert starts_on is not None
        assert ends_on is not None
        try:
            made = conversion.convert(
                db.session,
                found,
                by=current_user._get_current_object(),
                weekly_budget_pence=weekly,
                streams=streams,
                starts_on=starts_on,
                ends_on=ends_on,
                frequency=PaymentFrequency(form.frequency.data),
                outcomes=form.outcomes.data or "",
                plan_category=form.plan_category.data,
                now=utcnow(),
                today=today,
            )
        except queue.ReferralMoveRefused as refused:
            form.form_errors.append(f"{refused.message}: nothing was changed")
            status = 409
        except queue.ReferralError as refused:
            if refused.field == "streams":
                form.council_weekly.errors = [*form.council_weekly.errors, refused.message]
            elif refused.field == "weekly_budget":
                form.weekly_budget.errors = [*form.weekly_budget.errors, refused.message]
            else:
                _show(form, refused)
            status = 400
        else:
            flash(
                f"{made.person.full_name} now has a record, a draft support plan and a budget "
                f"of {pounds(made.plan.weekly_total_pence)} a week"
                + (
                    ". An account already uses their contact email address: invite them to "
                    "claim the record rather than linking it"
                    if made.account_uses_contact_email
                    else ""
                ),
                "success",
            )
            return redirect(url_for("council.referral", referral_id=found.id))
    if form.errors and status == 200:
        status = 400
    return render_template("council/referrals/convert.html", referral=found, form=form), status


class InviteForm(FlaskForm):
    submit = SubmitField("Invite them to claim their record", widget=GovSubmitInput())


@bp.route("/referrals/<uuid:referral_id>/invite", methods=["POST"])
@requires("manage_referrals")
def invite_to_claim_referral(referral_id: uuid.UUID) -> Response:
    found = _referral(referral_id)
    person = found.person
    if person is None or not person.email:
        abort(404)
    if InviteForm().validate_on_submit():
        try:
            record_claims.invite_to_claim(
                person=person,
                email=person.email,
                by=current_user._get_current_object(),
                claim_link=lambda token: url_for(
                    "accounts.claim_record", token=token, _external=True
                ),
                sign_in_link=url_for("accounts.sign_in", _external=True),
                reset_link=url_for("accounts.forgotten_password", _external=True),
            )
        except record_claims.ClaimRefused as refused:
            flash(str(refused), "success")
        else:
            # The same words whether or not the address has an account.
            flash(
                f"We have emailed {person.email} an invitation to see {person.full_name}'s "
                "record. The link works for 7 days.",
                "success",
            )
    return redirect(url_for("council.referral", referral_id=found.id))
