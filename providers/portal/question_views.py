"""Questions about the organisation's services, from people thinking of buying them (or
someone acting for them): the list, waiting ones first, and each thread with a form to answer.
Routes on `provider_portal`.

Threads are found only inside the signed-in user's own organisation: another organisation's
answers 404. The answer goes through the questions' rules; a refusal is shown on the form and
the page answers 400, so the request's transaction rolls back.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.extensions import db
from marketplace.forms import show_refusal
from marketplace.people import questions
from marketplace.people.questions import QuestionRefused, QuestionThread
from providers.models import Organisation
from providers.portal import bp
from providers.portal.question_forms import AnswerForm
from providers.portal.views import own_organisation


def _answering_organisation() -> Organisation:
    organisation = own_organisation()
    if not can(current_user, "answer_questions", organisation):
        abort(404)
    return organisation


def _own_thread(thread_id: uuid.UUID) -> QuestionThread:
    thread = questions.organisation_thread(db.session, _answering_organisation(), thread_id)
    if thread is None:
        abort(404)
    return thread


@bp.route("/questions")
@requires("use_provider_portal")
def questions_list() -> str:
    organisation = _answering_organisation()
    threads = questions.threads_for_organisation(db.session, organisation)
    return render_template(
        "providers/questions.html",
        organisation=organisation,
        waiting=[t for t in threads if t.unanswered],
        answered=[t for t in threads if not t.unanswered],
    )


@bp.route("/questions/<uuid:thread_id>", methods=["GET", "POST"])
@requires("use_provider_portal")
def question(thread_id: uuid.UUID) -> Response | tuple[str, int]:
    thread = _own_thread(thread_id)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            questions.answer(db.session, thread, by=current_user, text=form.text.data)
        except QuestionRefused as refused:
            show_refusal(form.text, refused)
        else:
            flash("Your answer has been sent", "success")
            return redirect(url_for("provider_portal.question", thread_id=thread.id))
    status = 400 if form.errors else 200
    return render_template("providers/question.html", thread=thread, form=form), status
