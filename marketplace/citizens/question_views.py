"""Questions to a provider about a service, before buying (routes on `citizens`): the
person's threads, one thread with a form to write again, and asking about a service.

The pages are about the person in hand (the citizen's own, or the person the user acts for)
and need `ask_provider_for`: someone acting under a consent that does not cover talking to
providers gets a page saying so. A thread is found only among the person's own: anyone else's
answers 404. Every write is one call to the questions' rules; a refusal is shown on the form
and the page answers 400, so the request's transaction rolls back.
"""

from __future__ import annotations

import uuid

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.citizens import bp
from marketplace.citizens.budget_views import own_person
from marketplace.citizens.question_forms import AskForm, FollowUpForm
from marketplace.extensions import db, limiter
from marketplace.forms import show_refusal
from marketplace.people import questions
from marketplace.people.models import Person
from marketplace.people.questions import QuestionRefused, QuestionThread
from providers import directory

ACTION = "ask_provider_for"


# Each message (a question, or one more in a thread) emails the provider's staff: held to one
# rate shared by both pages, per address.
_HELD_TO_THE_QUESTIONS_RATE = limiter.shared_limit(
    lambda: current_app.config["QUESTION_RATE_LIMIT"], scope="questions", methods=["POST"]
)


def _person() -> Person:
    return own_person(ACTION)


def _own_thread(person: Person, thread_id: uuid.UUID) -> QuestionThread:
    thread = questions.thread_of(db.session, person, thread_id)
    if thread is None:
        abort(404)
    return thread


def _own_words(person: Person) -> bool:
    """True when the signed-in citizen is the person (not someone acting for them)."""
    return current_user.person_id == person.id and current_user.acting_for is None


@bp.route("/questions")
@requires("use_citizen_pages")
def questions_list() -> str:
    person = _person()
    return render_template(
        "citizens/questions/list.html",
        person=person,
        own=_own_words(person),
        threads=questions.threads_of(db.session, person),
    )


@bp.route("/questions/<uuid:thread_id>", methods=["GET", "POST"])
@_HELD_TO_THE_QUESTIONS_RATE
@requires("use_citizen_pages")
def question(thread_id: uuid.UUID) -> Response | tuple[str, int]:
    person = _person()
    thread = _own_thread(person, thread_id)
    form = FollowUpForm()
    if form.validate_on_submit():
        try:
            questions.follow_up(db.session, thread, by=current_user, text=form.text.data)
        except QuestionRefused as refused:
            show_refusal(form.text, refused)
        else:
            flash(f"Your message has been sent to {thread.organisation.name}", "success")
            return redirect(url_for("citizens.question", thread_id=thread.id))
    status = 400 if form.errors else 200
    page = render_template(
        "citizens/questions/thread.html",
        person=person,
        own=_own_words(person),
        thread=thread,
        form=form,
    )
    return page, status


@bp.route("/questions/ask/<uuid:service_id>", methods=["GET", "POST"])
@_HELD_TO_THE_QUESTIONS_RATE
@requires("use_citizen_pages")
def ask_question(service_id: uuid.UUID) -> Response | tuple[str, int]:
    person = _person()
    service = directory.public_service(service_id)
    if service is None:
        abort(404)
    form = AskForm()
    if form.validate_on_submit():
        try:
            thread = questions.ask(
                db.session, person=person, service=service, by=current_user, text=form.text.data
            )
        except QuestionRefused as refused:
            show_refusal(form.text, refused)
        else:
            flash(f"Your question has been sent to {service.organisation.name}", "success")
            return redirect(url_for("citizens.question", thread_id=thread.id))
    status = 400 if form.errors else 200
    page = render_template(
        "citizens/questions/ask.html",
        person=person,
        own=_own_words(person),
        service=service,
        form=form,
    )
    return page, status
