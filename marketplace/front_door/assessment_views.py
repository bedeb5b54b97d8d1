"""The front door's pages (JOURNEY, issue 20): the self-assessment's start page, its question
pages, check your answers, save and come back later, sending it, and the page that follows (the
indication and the help offered at once).

Every page about one assessment takes it through `access.assessment_or_404`. Each page carries
the revision it was drawn from, so that a change made since (in another tab, by someone else)
is refused, not overwritten.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.forms import ButtonForm
from marketplace.front_door import access, bp
from marketplace.front_door.assessment_forms import (
    QuestionForm,
    ResumeEmailForm,
    SendForm,
    question_form,
)
from marketplace.referrals import assessments, help_now
from marketplace.referrals import questions as q
from marketplace.referrals.models import AssessmentStatus, SelfAssessment
from marketplace.types import utcnow

Page = Response | str | tuple[str, int]


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def _heading(question: q.Question, answers: dict[str, Any]) -> str:
    if q.for_someone_else(answers) and question.heading_for_someone:
        return question.heading_for_someone
    return question.heading


def _question_url(assessment: SelfAssessment, key: str, changing: bool = False) -> str:
    if changing:
        return url_for("front_door.question", assessment_id=assessment.id, key=key, change=1)
    return url_for("front_door.question", assessment_id=assessment.id, key=key)


def _where_next(assessment: SelfAssessment) -> str:
    """The next question not answered, or check your answers when every one is."""
    to_ask = assessments.questions_to_ask(assessment)
    if to_ask:
        return _question_url(assessment, to_ask[0].key)
    return url_for("front_door.check_answers", assessment_id=assessment.id)


@bp.route("")
def start_page() -> Page:
    """What the self-assessment is, and a start button (or continue, if one is under way)."""
    in_progress = assessments.in_progress_for(db.session, held=access.held_ids(), user=_user())
    return render_template(
        "front_door/assessment/start.html",
        in_progress=in_progress,
        continue_url=_where_next(in_progress) if in_progress else None,
        form=ButtonForm(),
    )


@bp.route("/start", methods=["POST"])
def begin() -> Page:
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        assessment = assessments.start(db.session, by=_user(), now=utcnow())
    except assessments.NoRasVersion as refused:
        return render_template(
            "front_door/assessment/unavailable.html", message=refused.message
        ), 503
    access.remember(assessment)
    return redirect(_question_url(assessment, q.QUESTIONS[0].key))


@bp.route("/<uuid:assessment_id>/question/<key>", methods=["GET", "POST"])
def question(assessment_id: uuid.UUID, key: str) -> Page:
    assessment = access.assessment_or_404(assessment_id)
    if assessment.status is AssessmentStatus.SUBMITTED:
        return redirect(url_for("front_door.result", assessment_id=assessment.id))
    asked_question = q.BY_KEY.get(key)
    if asked_question is None or not q.asked(asked_question, assessment.answers):
        abort(404)
    changing = request.args.get("change") == "1"
    heading = _heading(asked_question, assessment.answers)
    form = question_form(
        asked_question,
        heading=heading,
        # Only a GET shows the saved answer: a page sent with nothing chosen must read as
        # nothing, not as the answer it was drawn with.
        saved=assessment.answers.get(key) if request.method == "GET" else None,
        revision=assessment.revision,
    )
    status, saved_now, done = 200, None, None
    if form.validate_on_submit():
        done, status, saved_now = _save(assessment, asked_question, form, changing)
        if done is not None:
            return redirect(done)
    elif request.method == "POST":
        status = 400
    return render_template(
        "front_door/assessment/question.html",
        assessment=assessment,
        question=asked_question,
        heading=heading,
        form=form,
        back=_back_link(assessment, asked_question, changing),
        changing=changing,
        saved_now=_answer_text(asked_question, saved_now) if saved_now is not None else None,
    ), status


def _save(
    assessment: SelfAssessment, asked_question: q.Question, form: QuestionForm, changing: bool
) -> tuple[str | None, int, Any]:
    """Save a question page's answer: (where to go next, or None to show the page again with
    its errors; the status; the answer now saved, when someone else's change was refused)."""
    if form.save_later.data and form.nothing_given():
        return url_for("front_door.save_for_later", assessment_id=assessment.id), 303, None
    try:
        assessments.save_answer(
            db.session,
            assessment,
            asked_question.key,
            form.answer_value(),
            revision_seen=int(form.revision.data),
            now=utcnow(),
            by=_user(),
        )
    except KeyError:
        # Someone else's change means this question is no longer asked.
        return _where_next(assessment), 303, None
    except assessments.AnswerRefused as refused:
        field = form.field_for(refused.part)
        field.errors = [*field.errors, refused.message]
        return None, 400, None
    except assessments.StaleAnswers as stale:
        # Keep what this person chose on the page, show what is saved now, and let the next
        # save be from the revision they have now seen.
        db.session.refresh(assessment)
        field = form.field_for(None)
        field.errors = [*field.errors, stale.message]
        form.revision.data = str(assessment.revision)
        return None, 409, assessment.answers.get(asked_question.key)
    if form.save_later.data:
        return url_for("front_door.save_for_later", assessment_id=assessment.id), 303, None
    return _after_saving(assessment, asked_question, changing), 303, None


def _after_saving(assessment: SelfAssessment, answered: q.Question, changing: bool) -> str:
    """Where a saved answer leads: from check your answers, back there (or first to a question
    the change newly made asked); otherwise the next question in order."""
    if changing:
        to_ask = assessments.questions_to_ask(assessment)
        if to_ask:
            return _question_url(assessment, to_ask[0].key, changing=True)
        return url_for("front_door.check_answers", assessment_id=assessment.id)
    asked_now = q.questions_asked(assessment.answers)
    keys = [question.key for question in asked_now]
    following = asked_now[keys.index(answered.key) + 1 :]
    if following:
        return _question_url(assessment, following[0].key)
    return _where_next(assessment)


def _back_link(assessment: SelfAssessment, shown: q.Question, changing: bool) -> str:
    if changing:
        return url_for("front_door.check_answers", assessment_id=assessment.id)
    asked_now = q.questions_asked(assessment.answers)
    keys = [question.key for question in asked_now]
    index = keys.index(shown.key)
    if index == 0:
        return url_for("front_door.start_page")
    return _question_url(assessment, keys[index - 1])


def _answer_text(question: q.Question, value: Any) -> list[str]:
    """An answer as the lines "check your answers" shows."""
    if value is None:
        return ["Not answered yet"]
    labels = dict(question.options)
    if question.kind == "radios":
        return [labels.get(value, str(value))]
    if question.kind == "checkboxes":
        return [labels.get(v, v) for v in value] or ["None of these"]
    if question.kind == "contact":
        lines = [value.get("email", ""), value.get("phone", "")]
        return [line for line in lines if line]
    return [str(value)] if value else ["Not given"]


def _summary(assessment: SelfAssessment) -> list[tuple[str, list[dict[str, Any]]]]:
    """Check your answers' rows, by section, in the order asked."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for asked_question in q.questions_asked(assessment.answers):
        sections.setdefault(asked_question.section, []).append(
            {
                "key": asked_question.key,
                "label": asked_question.short,
                "lines": _answer_text(asked_question, assessment.answers.get(asked_question.key)),
                "change": _question_url(assessment, asked_question.key, changing=True),
            }
        )
    return list(sections.items())


@bp.route("/<uuid:assessment_id>/check", methods=["GET", "POST"])
def check_answers(assessment_id: uuid.UUID) -> Page:
    assessment = access.assessment_or_404(assessment_id)
    if assessment.status is AssessmentStatus.SUBMITTED:
        return redirect(url_for("front_door.result", assessment_id=assessment.id))
    if assessments.questions_to_ask(assessment):
        return redirect(_where_next(assessment))
    form = SendForm(data={"revision": str(assessment.revision)})
    status = 200
    if form.validate_on_submit():
        try:
            assessments.submit(
                db.session, assessment, revision_seen=int(form.revision.data), now=utcnow()
            )
        except (assessments.StaleAnswers, assessments.NotComplete) as refused:
            db.session.refresh(assessment)
            form.send.errors = [refused.message]
            form.revision.data = str(assessment.revision)
            status = 409
        else:
            return redirect(url_for("front_door.result", assessment_id=assessment.id))
    elif request.method == "POST":
        status = 400
    assessments.mark_checked(db.session, assessment, now=utcnow())
    return render_template(
        "front_door/assessment/check.html",
        assessment=assessment,
        form=form,
        sections=_summary(assessment),
        someone_else=q.for_someone_else(assessment.answers),
    ), status


@bp.route("/<uuid:assessment_id>/save", methods=["GET", "POST"])
def save_for_later(assessment_id: uuid.UUID) -> Page:
    assessment = access.assessment_or_404(assessment_id)
    if assessment.status is AssessmentStatus.SUBMITTED:
        return redirect(url_for("front_door.result", assessment_id=assessment.id))
    contact = assessment.answers.get("contact") or {}
    form = ResumeEmailForm(data={"email": assessment.resume_email or contact.get("email", "")})
    if form.validate_on_submit():
        try:
            assessments.send_resume_link(
                db.session,
                assessment,
                email=form.email.data or "",
                now=utcnow(),
                link_path=lambda token: url_for("front_door.resume", token=token),
            )
        except assessments.AnswerRefused as refused:
            form.email.errors = [*form.email.errors, refused.message]
        else:
            return redirect(url_for("front_door.saved", assessment_id=assessment.id))
    return render_template(
        "front_door/assessment/save.html",
        assessment=assessment,
        form=form,
        back=_where_next(assessment),
    ), 400 if form.errors else 200


@bp.route("/<uuid:assessment_id>/saved")
def saved(assessment_id: uuid.UUID) -> Page:
    assessment = access.assessment_or_404(assessment_id)
    if assessment.resume_email is None or assessment.resume_expires_at is None:
        return redirect(url_for("front_door.save_for_later", assessment_id=assessment.id))
    return render_template(
        "front_door/assessment/saved.html", assessment=assessment, carry_on=_where_next(assessment)
    )


@bp.route("/resume/<token>")
def resume(token: str) -> Page:
    """The emailed link: this browser may now use the assessment; on to where it stopped."""
    try:
        assessment = assessments.follow_resume_link(db.session, token, now=utcnow())
    except assessments.ResumeLinkRefused as refused:
        return render_template(
            "front_door/assessment/link_refused.html", refused=refused
        ), 404 if refused.reason == "unknown" else 410
    access.remember(assessment)
    return redirect(_where_next(assessment))


@bp.route("/<uuid:assessment_id>/result")
def result(assessment_id: uuid.UUID) -> Page:
    """After sending: the reference, the indication of budget, help at once, what next."""
    assessment = access.assessment_or_404(assessment_id)
    if assessment.status is not AssessmentStatus.SUBMITTED or assessment.referral is None:
        return redirect(_where_next(assessment))
    return render_template(
        "front_door/assessment/result.html",
        assessment=assessment,
        referral=assessment.referral,
        indication=assessment.indication,
        help=help_now.help_for(db.session, assessment.answers, today=london_today()),
        someone_else=q.for_someone_else(assessment.answers),
    )
