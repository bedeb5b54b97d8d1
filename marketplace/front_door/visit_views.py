"""The front door's pages (VISITS, issue 20): the person's assessment visit, for whoever may use
the self-assessment (`access.assessment_or_404`: anyone else is told the page is not found).

The visit (when, in London time; who is coming; what to expect); an offered time to accept or
decline; choosing a time while waiting for a visit; moving it to another free time that fits;
cancelling it with a reason. Each form carries the visit it was drawn for: if the visit
changed meanwhile, or the time chosen has just gone, the person is told in words and nothing
changes.
"""

from __future__ import annotations

import uuid

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.formatting import london_time
from marketplace.forms import choices, show_refusal
from marketplace.front_door import bp
from marketplace.front_door.access import assessment_or_404
from marketplace.front_door.visit_forms import CancelForm, ChooseTimeForm, OfferForm
from marketplace.referrals import visit_notices, visits
from marketplace.referrals.models import DiarySlot, Referral, SelfAssessment, Visit
from marketplace.referrals.questions import for_someone_else
from marketplace.types import utcnow

STALE = "Your visit has changed since this page was opened. Check the details below."


def _referral(assessment: SelfAssessment) -> Referral:
    return assessment.referral or abort(404)


def _by() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def _seen(visit: Visit | None) -> str:
    return str(visit.id) if visit else "none"


def _label(slot: DiarySlot) -> str:
    return f"{london_time(slot.starts_at)} with {slot.assessor.user.full_name}"


def _slot(form: ChooseTimeForm) -> DiarySlot:
    try:
        slot = db.session.get(DiarySlot, uuid.UUID(form.slot.data or ""))
    except ValueError:
        slot = None
    if slot is None:
        raise visits.VisitRefused("Choose a time", fields={"slot": "Choose a time for the visit"})
    return slot


def _put(form: object, refused: visits.VisitRefused) -> None:
    field = getattr(form, next(iter(refused.fields), ""), None)
    if field is not None:
        field.errors = [*field.errors, next(iter(refused.fields.values()))]
    else:
        show_refusal(form, refused)  # type: ignore[arg-type]


def _page(
    assessment: SelfAssessment, referral: Referral, live: Visit | None, form: object, status: int
) -> tuple[str, int]:
    slots = (
        visits.fitting_slots(db.session, referral, now=utcnow())
        if live is None and referral.status.value == "awaiting_visit"
        else []
    )
    if isinstance(form, ChooseTimeForm):
        form.slot.choices = choices((str(s.id), _label(s)) for s in slots)
    return render_template(
        "front_door/visit/visit.html",
        assessment=assessment,
        referral=referral,
        visit=live,
        slots=slots,
        form=form,
        what_to_expect=visit_notices.WHAT_TO_EXPECT,
        someone_else=for_someone_else(assessment.answers),
        status_page="front_door.status" in current_app.view_functions,
    ), status


@bp.route("/<uuid:assessment_id>/visit")
def visit(assessment_id: uuid.UUID) -> tuple[str, int]:
    assessment = assessment_or_404(assessment_id)
    referral = _referral(assessment)
    live = visits.live_visit(db.session, referral)
    form: object = OfferForm(seen=_seen(live)) if live else ChooseTimeForm(seen=_seen(live))
    return _page(assessment, referral, live, form, 200)


@bp.route("/<uuid:assessment_id>/visit/book", methods=["POST"])
def book_own_visit(assessment_id: uuid.UUID) -> Response | tuple[str, int]:
    assessment = assessment_or_404(assessment_id)
    referral = _referral(assessment)
    live = visits.live_visit(db.session, referral)
    form = ChooseTimeForm()
    if not form.validate_on_submit():
        return _page(assessment, referral, live, form, 400)
    try:
        if form.seen.data != _seen(live):
            raise visits.VisitChanged(STALE)
        booked = visits.book(db.session, referral, _slot(form), by=_by(), now=utcnow())
    except visits.VisitRefused as refused:
        _put(form, refused)
        return _page(assessment, referral, live, form, 409)
    flash(f"Your visit is booked for {visit_notices.describe(booked)}", "success")
    return redirect(url_for("front_door.visit", assessment_id=assessment.id))


@bp.route("/<uuid:assessment_id>/visit/offer", methods=["POST"])
def answer_offer(assessment_id: uuid.UUID) -> Response | tuple[str, int]:
    assessment = assessment_or_404(assessment_id)
    referral = _referral(assessment)
    live = visits.live_visit(db.session, referral)
    form = OfferForm()
    if form.validate_on_submit():
        try:
            if live is None or form.seen.data != _seen(live):
                raise visits.VisitChanged(STALE)
            if form.accept.data:
                visits.accept_offer(db.session, live, by=_by(), now=utcnow())
                flash(f"Your visit is booked for {visit_notices.describe(live)}", "success")
            else:
                visits.decline_offer(
                    db.session,
                    live,
                    by=_by(),
                    now=utcnow(),
                    offer_hours=current_app.config["VISIT_OFFER_HOURS"],
                )
                flash("You said no to that time. The council will be in touch.", "success")
        except visits.VisitRefused as refused:
            show_refusal(form, refused)
        else:
            return redirect(url_for("front_door.visit", assessment_id=assessment.id))
    return _page(assessment, referral, live, form, 409)


@bp.route("/<uuid:assessment_id>/visit/move", methods=["GET", "POST"])
def move_own_visit(assessment_id: uuid.UUID) -> Response | tuple[str, int]:
    assessment = assessment_or_404(assessment_id)
    referral = _referral(assessment)
    live = visits.live_visit(db.session, referral)
    if live is None or live.status.value != "booked":
        return redirect(url_for("front_door.visit", assessment_id=assessment.id))
    slots = [
        s for s in visits.fitting_slots(db.session, live, now=utcnow()) if s.id != live.slot_id
    ]
    form = ChooseTimeForm(seen=_seen(live))
    form.slot.choices = choices((str(s.id), _label(s)) for s in slots)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        status = 409
        try:
            if form.seen.data != _seen(live):
                raise visits.VisitChanged(STALE)
            new = visits.move(
                db.session,
                live,
                _slot(form),
                by=_by(),
                ended_by="person",
                now=utcnow(),
                offer_hours=current_app.config["VISIT_OFFER_HOURS"],
            )
        except visits.VisitRefused as refused:
            _put(form, refused)
        else:
            flash(f"Your visit is now on {visit_notices.describe(new)}", "success")
            return redirect(url_for("front_door.visit", assessment_id=assessment.id))
    return render_template(
        "front_door/visit/move.html", assessment=assessment, visit=live, slots=slots, form=form
    ), status


@bp.route("/<uuid:assessment_id>/visit/cancel", methods=["GET", "POST"])
def cancel_own_visit(assessment_id: uuid.UUID) -> Response | tuple[str, int]:
    assessment = assessment_or_404(assessment_id)
    referral = _referral(assessment)
    live = visits.live_visit(db.session, referral)
    if live is None or live.status.value != "booked":
        return redirect(url_for("front_door.visit", assessment_id=assessment.id))
    form = CancelForm(seen=_seen(live))
    if form.validate_on_submit():
        try:
            if form.seen.data != _seen(live):
                raise visits.VisitChanged(STALE)
            visits.cancel(
                db.session,
                live,
                by=_by(),
                ended_by="person",
                reason=form.reason.data or "",
                now=utcnow(),
                offer_hours=current_app.config["VISIT_OFFER_HOURS"],
            )
        except visits.VisitRefused as refused:
            _put(form, refused)
        else:
            flash("Your visit is cancelled. The council will be in touch.", "success")
            return redirect(url_for("front_door.visit", assessment_id=assessment.id))
    return render_template(
        "front_door/visit/cancel.html", assessment=assessment, visit=live, form=form
    ), 400 if form.errors else 200
