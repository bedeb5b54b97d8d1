"""The council's front door pages (VISITS, issue 20): assessors, their diaries and absences, and
booking, moving and cancelling assessment and review visits (routes on the `council`
blueprint, for officers who may manage diaries).

Every refusal of the rules comes back as a GOV.UK error on the form with a 4xx, which rolls
back whatever the request began: nothing changes.
"""

from __future__ import annotations

import uuid

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.models import User
from marketplace.council import bp
from marketplace.council.diary_forms import (
    AbsenceForm,
    AssessorForm,
    CancelVisitForm,
    ChooseSlotForm,
    EditAssessorForm,
    OutcomeForm,
    SlotsForm,
)
from marketplace.extensions import db
from marketplace.formatting import london_time, london_today
from marketplace.forms import choices, show_refusal
from marketplace.referrals import diary, visit_notices, visits
from marketplace.referrals.models import Assessor, DiarySlot, Referral, Visit
from marketplace.types import utcnow


def _assessor(assessor_id: uuid.UUID) -> Assessor:
    return db.session.get(Assessor, assessor_id) or abort(404)


def _visit(visit_id: uuid.UUID) -> Visit:
    return db.session.get(Visit, visit_id) or abort(404)


def _officer() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _refused(form: object, refused: diary.DiaryRefused | visits.VisitRefused) -> None:
    placed = False
    for name, message in refused.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
            placed = True
    if not placed:
        show_refusal(form, refused)  # type: ignore[arg-type]


def _slot_label(slot: DiarySlot) -> str:
    return f"{london_time(slot.starts_at)} with {slot.assessor.user.full_name}"


def _offer_hours() -> int:
    return int(current_app.config["VISIT_OFFER_HOURS"])


# Assessors -----------------------------------------------------------------------------------


@bp.route("/assessors")
@requires("manage_diaries")
def assessors() -> str:
    return render_template(
        "council/diary/assessors.html",
        assessors=diary.assessors(db.session),
        skill_labels=diary.SKILL_LABELS,
    )


@bp.route("/assessors/new", methods=["GET", "POST"])
@requires("manage_diaries")
def add_assessor() -> Response | tuple[str, int]:
    form = AssessorForm()
    officers = {str(user.id): user for user in diary.officers_not_assessors(db.session)}
    form.user.choices = choices(
        [("", "Choose an officer")] + [(k, u.full_name) for k, u in officers.items()]
    )
    if form.validate_on_submit():
        try:
            made = diary.add_assessor(
                db.session,
                officers.get(form.user.data or "") or abort(400),
                skills=form.skills.data or [],
                districts=diary.parse_districts(form.districts.data or ""),
            )
        except diary.DiaryRefused as refused:
            _refused(form, refused)
        else:
            flash(f"{made.user.full_name} is an assessor", "success")
            return redirect(url_for("council.assessor_diary", assessor_id=made.id))
    return render_template("council/diary/assessor_form.html", form=form, assessor=None), (
        400 if form.errors else 200
    )


@bp.route("/assessors/<uuid:assessor_id>/edit", methods=["GET", "POST"])
@requires("manage_diaries")
def edit_assessor(assessor_id: uuid.UUID) -> Response | tuple[str, int]:
    assessor = _assessor(assessor_id)
    form = EditAssessorForm()
    if not form.is_submitted():
        form.skills.data = list(assessor.skills or [])
        form.districts.data = ", ".join(assessor.districts or [])
        form.active.data = "yes" if assessor.active else "no"
    if form.validate_on_submit():
        try:
            diary.edit_assessor(
                db.session,
                assessor,
                skills=form.skills.data or [],
                districts=diary.parse_districts(form.districts.data or ""),
                active=form.active.data == "yes",
            )
        except diary.DiaryRefused as refused:
            _refused(form, refused)
        else:
            flash(f"{assessor.user.full_name}'s details are saved", "success")
            return redirect(url_for("council.assessor_diary", assessor_id=assessor.id))
    return render_template("council/diary/assessor_form.html", form=form, assessor=assessor), (
        400 if form.errors else 200
    )


@bp.route("/assessors/<uuid:assessor_id>")
@requires("manage_diaries")
def assessor_diary(assessor_id: uuid.UUID) -> str:
    assessor = _assessor(assessor_id)
    return render_template(
        "council/diary/diary.html",
        assessor=assessor,
        days=diary.diary(db.session, assessor, first_day=london_today(), days=28),
        skill_labels=diary.SKILL_LABELS,
    )


@bp.route("/assessors/<uuid:assessor_id>/slots", methods=["GET", "POST"])
@requires("manage_diaries")
def add_slots(assessor_id: uuid.UUID) -> Response | tuple[str, int]:
    assessor = _assessor(assessor_id)
    form = SlotsForm()
    if form.validate_on_submit() and form.day.data is not None:
        try:
            made = diary.add_day_slots(
                db.session,
                assessor,
                form.day.data,
                diary.parse_times(form.times.data or ""),
                minutes=int(form.minutes.data or 0),
                today=london_today(),
            )
        except diary.DiaryRefused as refused:
            _refused(form, refused)
        else:
            flash(f"{len(made)} slots added on {form.day.data:%-d %B %Y}", "success")
            return redirect(url_for("council.assessor_diary", assessor_id=assessor.id))
    return render_template("council/diary/slots.html", form=form, assessor=assessor), (
        400 if form.errors else 200
    )


@bp.route("/assessors/<uuid:assessor_id>/absence", methods=["GET", "POST"])
@requires("manage_diaries")
def record_absence(assessor_id: uuid.UUID) -> Response | tuple[str, int]:
    assessor = _assessor(assessor_id)
    form = AbsenceForm()
    starts_on, ends_on = form.starts_on.data, form.ends_on.data
    if form.validate_on_submit() and starts_on is not None and ends_on is not None:
        try:
            _absence, outcomes = diary.record_absence(
                db.session,
                assessor,
                starts_on=starts_on,
                ends_on=ends_on,
                reason=form.reason.data or "",
                by=_officer(),
                now=utcnow(),
            )
        except diary.DiaryRefused as refused:
            _refused(form, refused)
        else:
            what = "; ".join(_rebooked(old, new) for old, new in outcomes)
            flash(
                f"Absence recorded. {len(outcomes)} visits were in it"
                + (f": {what}" if what else ""),
                "success",
            )
            return redirect(url_for("council.assessor_diary", assessor_id=assessor.id))
    return render_template("council/diary/absence.html", form=form, assessor=assessor), (
        400 if form.errors else 200
    )


def _rebooked(old: Visit, new: Visit | None) -> str:
    was = london_time(old.slot.starts_at)
    if new is None:
        return f"{was}: could not be re-booked; back to waiting for a visit"
    return f"{was}: re-booked for {_slot_label(new.slot)}"


# Visits --------------------------------------------------------------------------------------


@bp.route("/referrals/<uuid:referral_id>/visit", methods=["GET", "POST"])
@requires("manage_diaries")
def book_visit(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    referral = db.session.get(Referral, referral_id) or abort(404)
    live = visits.live_visit(db.session, referral)
    if live is not None:
        return redirect(url_for("council.visit", visit_id=live.id))
    now = utcnow()
    slots = visits.fitting_slots(db.session, referral, now=now)
    form = ChooseSlotForm()
    form.slot.choices = choices((str(s.id), _slot_label(s)) for s in slots)
    if form.validate_on_submit():
        try:
            if form.automatic.data:
                visit = visits.book_automatically(db.session, referral, now=now)
                if visit is None:
                    raise visits.VisitRefused("No free time fits: add slots to a diary that fits")
            else:
                slot = _chosen_slot(form)
                visit = visits.book(db.session, referral, slot, by=_officer(), now=now)
        except visits.VisitRefused as refused:
            _refused(form, refused)
        else:
            flash(f"Visit booked for {visit_notices.describe(visit)}", "success")
            return redirect(url_for("council.visit", visit_id=visit.id))
    return render_template(
        "council/diary/book.html", form=form, referral=referral, slots=slots
    ), 409 if form.errors else 200


def _chosen_slot(form: ChooseSlotForm) -> DiarySlot:
    try:
        slot = db.session.get(DiarySlot, uuid.UUID(form.slot.data or ""))
    except ValueError:
        slot = None
    if slot is None:
        raise visits.VisitRefused("Choose a time", fields={"slot": "Choose a time"})
    return slot


@bp.route("/visits/<uuid:visit_id>")
@requires("manage_diaries")
def visit(visit_id: uuid.UUID) -> str:
    found = _visit(visit_id)
    return render_template(
        "council/diary/visit.html", visit=found, started=found.slot.starts_at <= utcnow()
    )


@bp.route("/visits/<uuid:visit_id>/move", methods=["GET", "POST"])
@requires("manage_diaries")
def move_visit(visit_id: uuid.UUID) -> Response | tuple[str, int]:
    found = _visit(visit_id)
    now = utcnow()
    slots = [s for s in visits.fitting_slots(db.session, found, now=now) if s.id != found.slot_id]
    form = ChooseSlotForm()
    form.slot.choices = choices((str(s.id), _slot_label(s)) for s in slots)
    if form.validate_on_submit():
        try:
            new = visits.move(
                db.session,
                found,
                _chosen_slot(form),
                by=_officer(),
                ended_by="council",
                now=now,
                offer_hours=_offer_hours(),
            )
        except visits.VisitRefused as refused:
            _refused(form, refused)
        else:
            flash(f"Visit moved to {visit_notices.describe(new)}", "success")
            return redirect(url_for("council.visit", visit_id=new.id))
    return render_template("council/diary/move.html", form=form, visit=found, slots=slots), (
        409 if form.errors else 200
    )


@bp.route("/visits/<uuid:visit_id>/cancel", methods=["GET", "POST"])
@requires("manage_diaries")
def cancel_visit(visit_id: uuid.UUID) -> Response | tuple[str, int]:
    found = _visit(visit_id)
    form = CancelVisitForm()
    if form.validate_on_submit():
        try:
            offer = visits.cancel(
                db.session,
                found,
                by=_officer(),
                ended_by="council",
                reason=form.reason.data or "",
                now=utcnow(),
                offer_hours=_offer_hours(),
            )
        except visits.VisitRefused as refused:
            _refused(form, refused)
        else:
            flash(
                "Visit cancelled"
                + (" and the time offered to the next referral that fits" if offer else ""),
                "success",
            )
            return redirect(url_for("council.visit", visit_id=found.id))
    return render_template("council/diary/cancel.html", form=form, visit=found), (
        400 if form.errors else 200
    )


@bp.route("/visits/<uuid:visit_id>/outcome", methods=["GET", "POST"])
@requires("manage_diaries")
def record_visit_outcome(visit_id: uuid.UUID) -> Response | tuple[str, int]:
    found = _visit(visit_id)
    form = OutcomeForm()
    if form.validate_on_submit():
        try:
            visits.record_outcome(
                db.session,
                found,
                outcome=form.outcome.data,
                by=_officer(),  # type: ignore[arg-type]
                note=form.note.data or "",
                now=utcnow(),
                review_months=current_app.config["PLAN_REVIEW_MONTHS"],
            )
        except visits.VisitRefused as refused:
            _refused(form, refused)
        else:
            flash("Outcome recorded", "success")
            return redirect(url_for("council.visit", visit_id=found.id))
    return render_template("council/diary/outcome.html", form=form, visit=found), (
        400 if form.errors else 200
    )
