"""The integration API for the council's case-management system, beside the ORUK feed on the
same `api` blueprint: people, their budgets, figures and statements, in our own words.

Thin views: parse the JSON (`integration_requests`), ask the policy (`auth`), call the same
rules functions as the officers' and citizens' pages, answer JSON (`integration_json`).
Authentication is by bearer token or browser session (see `auth`); state-changing requests
honour `Idempotency-Key` (see `idempotency`). Read docs/api.md, "Integration API".
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.api import auth, bp, integration_json, integration_requests
from marketplace.api.bodies import json_body
from marketplace.api.idempotency import idempotent
from marketplace.api.problems import ApiProblem, from_refusal, invalid, response_for
from marketplace.budgets import allocations
from marketplace.budgets import queries as person_budgets
from marketplace.budgets.errors import BudgetError
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import PersonalBudget
from marketplace.budgets.rules import financial_year_of
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.orders import package_periods
from marketplace.people import records
from marketplace.people.models import Person
from marketplace.people.service import person_by_id
from providers.openreferral.identifiers import parse_uuid

Json = dict[str, Any]


@bp.errorhandler(ApiProblem)
def api_problem(problem: ApiProblem) -> Response:
    """A refusal of the integration API: its JSON error with its status."""
    return response_for(problem)


def _answer(body: Json, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _person(person_id: str) -> Person:
    found_id = parse_uuid(person_id)
    found = person_by_id(db.session, found_id) if found_id else None
    if found is None:
        raise ApiProblem("not_found", f"There is no person with id {person_id!r}")
    return found


def _chosen_budget(found: Person) -> PersonalBudget:
    """The budget named by `?budget_id=`, else the one the citizen's page shows first."""
    asked = request.args.get("budget_id")
    if asked:
        budget_id = parse_uuid(asked)
        chosen = person_budgets.budget_of(db.session, found, budget_id) if budget_id else None
        if chosen is None:
            raise ApiProblem("not_found", f"{found.full_name} has no budget with id {asked!r}")
        return chosen
    chosen = person_budgets.current_budget(db.session, found, london_today())
    if chosen is None:
        raise ApiProblem(
            "not_found", f"{found.full_name} has no personal budget", reason="no_budget"
        )
    return chosen


@bp.post("/people")
@auth.required("manage_people")
@idempotent
def create_person() -> Response:
    """Add a person the council supports (with its case reference, unique when given)."""
    fields = integration_requests.person_fields(json_body(), partial=False)
    try:
        created = records.create_person(db.session, **fields)
    except records.PersonConflict as refused:
        raise from_refusal(refused) from refused
    response = _answer(integration_json.person(created), 201)
    response.headers["Location"] = url_for("api.get_person", person_id=created.id)
    return response


@bp.get("/people/<person_id>")
def get_person(person_id: str) -> Response:
    """One person's record: council officers, or the citizen themself."""
    auth.current_principal()
    found = _person(person_id)
    auth.check("view_person", found)
    return _answer(integration_json.person(found))


@bp.patch("/people/<person_id>")
@auth.required("manage_people")
@idempotent
def update_person(person_id: str) -> Response:
    """Change some of a person's fields (null clears an optional one); the change is on the
    person's record of changes."""
    found = _person(person_id)
    changes = integration_requests.person_fields(json_body(), partial=True)
    principal = auth.current_principal()
    try:
        records.update_person(
            db.session, found, changes, by=principal if isinstance(principal, User) else None
        )
    except records.PersonConflict as refused:
        raise from_refusal(refused) from refused
    return _answer(integration_json.person(found))


@bp.post("/people/<person_id>/budgets")
@auth.required("manage_budgets")
@idempotent
def create_budget(person_id: str) -> Response:
    """Give the person a personal budget, as an officer's page does (same rules)."""
    found = _person(person_id)
    asked = integration_requests.budget_request(json_body())
    overlapping = person_budgets.overlapping_budget(
        db.session, found, asked.starts_on, asked.ends_on
    )
    if overlapping is not None:
        raise ApiProblem(
            "conflict",
            f"{found.full_name} already has an open budget from {overlapping.starts_on} to "
            f"{overlapping.ends_on}: revise it, or close it first",
            budget_id=str(overlapping.id),
            field="starts_on",
        )
    specs = _stream_specs(asked)
    try:
        created = allocations.create_budget(
            db.session,
            person=found,
            starts_on=asked.starts_on,
            ends_on=asked.ends_on,
            frequency=asked.frequency,
            streams=specs,
            today=london_today(),
        )
    except ledger.InsufficientFunds as refused:
        short = next(
            (
                number
                for number, spec in enumerate(specs)
                if spec.pot and str(spec.pot.account_id) == refused.details.get("account_id")
            ),
            None,
        )
        problem = from_refusal(refused)
        if short is not None:
            problem.details["field"] = f"streams.{short}.amount_pence"
            problem.details["pot_id"] = str(specs[short].pot.id)  # type: ignore[union-attr]
        raise problem from refused
    except (BudgetError, ledger.InvalidTransfer) as refused:
        raise from_refusal(refused) from refused
    return _answer(integration_json.budget(created), 201)


def _stream_specs(asked: integration_requests.BudgetRequest) -> list[allocations.StreamSpec]:
    """The streams as the rules take them, each pot found and checked as the page checks it."""
    errors: dict[str, str] = {}
    specs = []
    for number, item in enumerate(asked.streams):
        pot = person_budgets.pot_by_id(db.session, item.pot_id) if item.pot_id else None
        at = f"streams.{number}.pot_id"
        if item.pot_id and pot is None:
            errors[at] = "There is no pot with this id"
        elif pot is not None and pot.funder.kind is not item.kind.funder_kind:
            errors[at] = f"{pot.label} is not a {item.kind.funder_kind} funder's pot"
        elif pot is not None and pot.financial_year != financial_year_of(asked.starts_on):
            errors[at] = (
                f"Choose a pot for the financial year the budget starts in, not {pot.label}"
            )
        specs.append(
            allocations.StreamSpec(
                item.kind, item.amount_pence, pot=pot, draw_order=item.draw_order
            )
        )
    if errors:
        raise invalid(errors)
    return specs


@bp.get("/people/<person_id>/budget")
def get_budget(person_id: str) -> Response:
    """Allocated, committed, spent and available, per stream and in total: the figures of the
    citizen's budget page."""
    auth.current_principal()
    found = _person(person_id)
    auth.check("view_budget", found)
    chosen = _chosen_budget(found)
    return _answer(integration_json.budget_figures(chosen, budget_figures(db.session, chosen)))


@bp.get("/people/<person_id>/statement")
def get_statement(person_id: str) -> Response:
    """The budget's statement, as on the page: filtered by `from`, `to` and `stream`."""
    auth.current_principal()
    found = _person(person_id)
    auth.check("view_budget", found)
    chosen = _chosen_budget(found)
    asked = integration_requests.statement_filter(
        request.args, {stream.id for stream in chosen.streams}
    )
    return _answer(
        integration_json.statement(
            # PERIODS: each commitment's lines name the order and cycle they were held for.
            package_periods.budget_statement(db.session, chosen, asked)
        )
    )
