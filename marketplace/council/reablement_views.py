"""Council officers' pages for reablement (issue 18, REABLEMENT; routes on the `council`
blueprint): start an episode for a person, see it, record its outcome, and the report of how
many ended with no ongoing care needed.

Every refusal of the rules (a pot without the money, no budget for ongoing care) comes back
as a GOV.UK error on the form, and the request answers 4xx, which rolls back whatever it
began: nothing changes.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.budgets.rules import financial_year_of
from marketplace.council import bp
from marketplace.council.reablement_forms import ReablementOutcomeForm, StartReablementForm
from marketplace.extensions import db
from marketplace.formatting import london_today, pounds
from marketplace.forms import choices, show_refusal
from marketplace.ledger.errors import LedgerError
from marketplace.orders import reablement
from marketplace.orders.errors import InvalidOrder
from marketplace.orders.models import ReablementEpisode, ReablementOutcome
from marketplace.pages.acting_for import acting_for


def _max_weeks() -> int:
    return int(current_app.config.get("REABLEMENT_MAX_WEEKS", reablement.DEFAULT_MAX_WEEKS))


@bp.route("/people/<uuid:person_id>/reablement/new", methods=["GET", "POST"])
@requires("manage_budgets")
def start_reablement() -> Response | tuple[str, int]:
    person = acting_for()
    today = london_today()
    form = StartReablementForm()
    services = {str(s.id): s for s in reablement.commissionable_services(db.session)}
    pots = {
        str(pot.id): pot
        for year in (financial_year_of(today), financial_year_of(today) + 1)
        for pot in reablement.reablement_pots(db.session, date(year, 4, 1))
    }
    form.service.choices = choices(
        [("", "Select a service")]
        + [(key, f"{s.organisation.name}: {s.name}") for key, s in services.items()]
    )
    use = reablement.pots_use(db.session, list(pots.values()))
    form.pot.choices = choices(
        [("", "Select a pot")]
        + [(key, f"{pot.label} ({pounds(use[pot.id]['left'])} left)") for key, pot in pots.items()]
    )
    max_weeks = _max_weeks()
    if not form.is_submitted():
        form.weeks.data = max_weeks
    current = reablement.current_episode(db.session, person)
    if form.validate_on_submit():
        service, pot = services.get(form.service.data or ""), pots.get(form.pot.data or "")
        if service is None:
            form.service.errors = ["Select a service from the list"]
        if pot is None:
            form.pot.errors = ["Select a reablement pot from the list"]
        starts_on, weeks = form.starts_on.data, form.weeks.data
        units = form.units_per_occasion.data
        # The form's own checks refuse a missing date or number; these say so to the types.
        assert starts_on is not None
        assert weeks is not None
        assert units is not None
        if service is not None and pot is not None:
            try:
                episode = reablement.start_episode(
                    db.session,
                    person=person,
                    service=service,
                    pot=pot,
                    starts_on=starts_on,
                    weeks=weeks,
                    units_per_occasion=units,
                    days=list(form.days.data or []),
                    by=current_user,
                    today=today,
                    max_weeks=max_weeks,
                )
            except InvalidOrder as refused:
                form.show_problems(refused.details.get("fields") or {})
            except LedgerError as refused:
                show_refusal(form, refused)
            else:
                flash(
                    f"Reablement started for {person.full_name} with {episode.organisation.name}",
                    "success",
                )
                return redirect(url_for("council.reablement_episode", reference=episode.reference))
    return render_template(
        "council/reablement/start.html",
        form=form,
        person=person,
        max_weeks=max_weeks,
        current=current,
        no_pots=not pots,
    ), 400 if form.errors else 200


@bp.route("/people/<uuid:person_id>/reablement")
@requires("find_people")
def person_reablement() -> str:
    person = acting_for()
    episodes = reablement.episodes_of(db.session, person)
    return render_template(
        "council/reablement/person.html",
        person=person,
        episodes=[(episode, reablement.free_until(episode.order, episode)) for episode in episodes],
    )


def _episode(reference: str) -> ReablementEpisode:
    episode = reablement.episode_by_reference(db.session, reference[:12])
    if episode is None:
        abort(404)
    return episode


@bp.route("/reablement/<reference>")
@requires("find_people")
def reablement_episode(reference: str) -> str:
    episode = _episode(reference)
    return _episode_page(episode, ReablementOutcomeForm())


def _episode_page(episode: ReablementEpisode, form: ReablementOutcomeForm) -> str:
    order = episode.order
    free_until = reablement.free_until(order, episode)
    return render_template(
        "council/reablement/episode.html",
        episode=episode,
        order=order,
        free_until=free_until,
        chargeable_from=free_until + timedelta(days=1),
        form=form,
        today=london_today(),
    )


@bp.route("/reablement/<reference>/outcome", methods=["GET", "POST"])
@requires("manage_budgets")
def record_reablement_outcome(reference: str) -> Response | tuple[str, int]:
    episode = _episode(reference)
    if episode.outcome is not None:
        flash(f"The outcome was recorded already: {episode.outcome.label.lower()}", "success")
        return redirect(url_for("council.reablement_episode", reference=episode.reference))
    form = ReablementOutcomeForm()
    if form.validate_on_submit():
        try:
            reablement.end_episode(
                db.session,
                episode,
                outcome=ReablementOutcome(form.outcome.data),
                by=current_user,
                note=form.note.data or "",
                today=london_today(),
            )
        except LedgerError as refused:
            show_refusal(form, refused)
        else:
            flash(
                f"Reablement {episode.reference} ended: {episode.outcome.label.lower()}"
                if episode.outcome is not None
                else "Outcome recorded",
                "success",
            )
            return redirect(url_for("council.reablement_episode", reference=episode.reference))
    order = episode.order
    return render_template(
        "council/reablement/outcome.html",
        episode=episode,
        order=order,
        free_until=reablement.free_until(order, episode),
        form=form,
        today=london_today(),
    ), 400 if form.errors else 200


def _day(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return default


@bp.route("/reablement")
@requires("find_people")
def reablement_report() -> str:
    today = london_today()
    year = financial_year_of(today)
    since = _day("since", date(year, 4, 1))
    until = _day("until", today)
    if until < since:
        since, until = until, since
    return render_template(
        "council/reablement/report.html",
        report=reablement.reablement_report(db.session, since, until),
        running=reablement.running_episodes(db.session),
        target=reablement.TARGET_SHARE,
        today=today,
        year=year,
    )
