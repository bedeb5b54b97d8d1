"""RECON (issue 19, item 2): the reconciliation's pages, from each funder down to the penny.

/council/reconciliation: the funders (their pots and the streams allocated from them) and the
reablement pots; a funder's page: its pots' named lines, planned against allocated; people,
a person's streams, areas, providers; the checks (over and under spending, commitments with
nothing delivered); and the drill-down: the ledger transfers behind any figure. Every table
has its CSV (the same rows) and every summary table its chart. The period is in every link
(`since`, `until`), so a drill-down is of the same period as the figure it came from.

The figures come from `marketplace.console.reconciliation`; this module only chooses,
pages and links. Officers only (`read_reconciliation`).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, render_template, request, url_for
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.console import reconciliation as recon
from marketplace.console.reconciliation import Reconciliation, ReconciliationError, Scope
from marketplace.council import bp
from marketplace.council.paging import Paged, page_number
from marketplace.council.reconciliation_forms import ReconciliationPeriodForm, ToleranceForm
from marketplace.council.reconciliation_tables import (
    Builder,
    Table,
    funders_table,
    localities_table,
    overdue_table,
    pace_table,
    people_table,
    pot_lines_table,
    pot_transfers_table,
    providers_table,
    reablement_people_table,
    reablement_table,
    streams_table,
    transfers_table,
)
from marketplace.csv_export import csv_text
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.pages.downloads import csv_download

PEOPLE_PER_PAGE = 50
TRANSFERS_PER_PAGE = 100
FIGURE_NAMES = set(recon.ALL_FIGURE_LABELS)
AREAS_INTRO = (
    "Each person's area is the district of their home postcode; people with no postcode, or "
    "one outside the county, are under “No area known”."
)
PROVIDERS_INTRO = (
    "Money from people's budgets held for each provider (committed), paid to it (spent), and "
    "moved into the Individual Service Funds it holds, less what came back. Allocations and "
    "returns go to no provider and are not here."
)


def _period_form() -> ReconciliationPeriodForm:
    return ReconciliationPeriodForm(request.args, today=london_today())


def _found(form: ReconciliationPeriodForm) -> Reconciliation | None:
    """The reconciliation of the form's period, or None if the form is wrong (its errors
    then say why)."""
    if not form.validate():
        return None
    try:
        period = form.period()
    except ReconciliationError as refused:
        form.year.errors.append(str(refused))
        return None
    return recon.reconcile(db.session, period)


def _scope() -> Scope:
    try:
        return Scope.from_args(request.args)
    except ReconciliationError:
        abort(404)


def _builder(found: Reconciliation) -> Builder:
    return Builder(found, url_for)


def _page(template: str, form: ReconciliationPeriodForm, **context: Any) -> tuple[str, int]:
    found = context.get("found")
    return render_template(
        f"council/reconciliation/{template}",
        form=form,
        period_args=found.period.args if found else {},
        **context,
    ), (200 if found is not None else 400)


def _csv(table: Table, name: str, found: Reconciliation) -> Response:
    period = found.period
    return csv_download(
        csv_text(table.head, table.csv_rows),
        f"reconciliation-{name}-{period.since.isoformat()}-to-{period.until.isoformat()}.csv",
    )


def _or_400(form: ReconciliationPeriodForm) -> Reconciliation:
    found = _found(form)
    if found is None:
        abort(400)
    return found


@bp.route("/reconciliation")
@requires("read_reconciliation")
def reconciliation() -> tuple[str, int]:
    form = _period_form()
    found = _found(form)
    if found is None:
        return _page("index.html", form, found=None)
    b = _builder(found)
    return _page(
        "index.html",
        form,
        found=found,
        funders=funders_table(b),
        reablement=reablement_table(b),
    )


@bp.route("/reconciliation.csv")
@requires("read_reconciliation")
def reconciliation_csv() -> Response:
    found = _or_400(_period_form())
    table = request.args.get("table", "")
    b = _builder(found)
    if table == "funders":
        return _csv(funders_table(b), "funders", found)
    if table == "reablement":
        return _csv(reablement_table(b), "reablement", found)
    abort(400)


def _funder_tables(found: Reconciliation, funder: str) -> list[Table]:
    if not recon.funder_exists(found, funder):
        abort(404)
    b = _builder(found)
    reablement_pots = [pot for pot, _ in found.reablement() if str(pot.funder_id) == funder]
    return [pot_lines_table(b, str(pot.id)) for pot in found.funder_pots(funder)] + [
        reablement_people_table(b, str(pot.id)) for pot in reablement_pots
    ]


def _funder_name(found: Reconciliation, funder: str) -> str:
    if funder in found.names:
        return found.names[funder]
    try:
        named = recon.funder_named(db.session, uuid.UUID(funder))
    except ValueError:
        named = None
    if named is None:
        abort(404)
    return named.name


@bp.route("/reconciliation/funders/<funder>")
@requires("read_reconciliation")
def reconciliation_funder(funder: str) -> tuple[str, int]:
    form = _period_form()
    found = _found(form)
    if found is None:
        return _page("funder.html", form, found=None, funder=funder, name="")
    name = _funder_name(found, funder)
    tables = _funder_tables(found, funder)
    return _page(
        "funder.html",
        form,
        found=found,
        funder=funder,
        name=name,
        pot_tables=[t for t in tables if t.table_id.startswith("pot-")],
        reablement_tables=[t for t in tables if t.table_id.startswith("reablement-")],
        totals=found.totals(Scope(funder=funder)),
        own_money=funder == recon.OWN_MONEY,
    )


@bp.route("/reconciliation/funders/<funder>.csv")
@requires("read_reconciliation")
def reconciliation_funder_csv(funder: str) -> Response:
    found = _or_400(_period_form())
    pot = request.args.get("pot", "")
    tables = {table.table_id: table for table in _funder_tables(found, funder)}
    table = tables.get(f"pot-{pot}") or tables.get(f"reablement-{pot}")
    if table is None:
        abort(404)
    return _csv(table, f"pot-lines-{pot[:8]}", found)


def _people(found: Reconciliation, scope: Scope) -> tuple[Table, Paged, list[recon.Row]]:
    rows = found.people(scope)
    paged = Paged(page_number(), PEOPLE_PER_PAGE, len(rows))
    start = (paged.page - 1) * PEOPLE_PER_PAGE
    shown = rows[start : start + PEOPLE_PER_PAGE]
    return people_table(_builder(found), shown, rows, scope), paged, rows


def _scope_words(found: Reconciliation, scope: Scope) -> list[tuple[str, str]]:
    """The scope in words: (what, which), for the page to say whose figures these are."""
    lines = {str(line.id): line.name for lines in found.pot_plan.values() for line in lines}
    people = {str(info.person_id): info.person_name for info in found.streams.values()}
    pots = {str(pot.id): pot.label for pot in found.pots}
    words = []
    for name, what, names in (
        ("funder", "Funder", found.names),
        ("pot", "Pot", pots),
        ("line", "Line", {**lines, recon.NO_LINE: recon.NO_LINE_NAME}),
        ("person", "Person", people),
        ("area", "Area", {}),
        ("provider", "Provider", found.names),
        ("stream", "Stream", {}),
        ("reference", "Commitment", {}),
    ):
        value = getattr(scope, name)
        if value:
            label = names.get(value, value)
            if name == "stream" and uuid.UUID(value) in found.streams:
                info = found.streams[uuid.UUID(value)]
                label = f"{info.person_name}: {info.funder_name}"
            words.append((what, label))
    return words


@bp.route("/reconciliation/people")
@requires("read_reconciliation")
def reconciliation_people() -> tuple[str, int]:
    form = _period_form()
    scope = _scope()
    found = _found(form)
    if found is None:
        return _page("people.html", form, found=None, scope=scope)
    table, paged, _ = _people(found, scope)
    return _page(
        "people.html",
        form,
        found=found,
        scope=scope,
        table=table,
        paged=paged,
        words=_scope_words(found, scope),
        page_url=lambda number: url_for(
            "council.reconciliation_people", page=number, **found.period.args, **scope.args
        ),
    )


@bp.route("/reconciliation/people.csv")
@requires("read_reconciliation")
def reconciliation_people_csv() -> Response:
    found = _or_400(_period_form())
    scope = _scope()
    rows = found.people(scope)
    return _csv(people_table(_builder(found), rows, rows, scope), "people", found)


@bp.route("/reconciliation/people/<uuid:who>")
@requires("read_reconciliation")
def reconciliation_person(who: uuid.UUID) -> tuple[str, int]:
    person = recon.person_named(db.session, who)
    if person is None:
        abort(404)
    form = _period_form()
    found = _found(form)
    if found is None:
        return _page("person.html", form, found=None, person=person)
    return _page(
        "person.html",
        form,
        found=found,
        person=person,
        table=streams_table(_builder(found), str(who)),
    )


@bp.route("/reconciliation/people/<uuid:who>.csv")
@requires("read_reconciliation")
def reconciliation_person_csv(who: uuid.UUID) -> Response:
    if recon.person_named(db.session, who) is None:
        abort(404)
    found = _or_400(_period_form())
    return _csv(streams_table(_builder(found), str(who)), "streams", found)


@bp.route("/reconciliation/areas")
@requires("read_reconciliation")
def reconciliation_localities() -> tuple[str, int]:
    form = _period_form()
    found = _found(form)
    table = localities_table(_builder(found)) if found else None
    return _page(
        "table.html",
        form,
        found=found,
        table=table,
        title="Money by area",
        endpoint="council.reconciliation_localities",
        intro=AREAS_INTRO,
    )


@bp.route("/reconciliation/areas.csv")
@requires("read_reconciliation")
def reconciliation_localities_csv() -> Response:
    found = _or_400(_period_form())
    return _csv(localities_table(_builder(found)), "areas", found)


@bp.route("/reconciliation/providers")
@requires("read_reconciliation")
def reconciliation_providers() -> tuple[str, int]:
    form = _period_form()
    found = _found(form)
    table = providers_table(_builder(found)) if found else None
    return _page(
        "table.html",
        form,
        found=found,
        table=table,
        title="Money by provider",
        endpoint="council.reconciliation_providers",
        intro=PROVIDERS_INTRO,
    )


@bp.route("/reconciliation/providers.csv")
@requires("read_reconciliation")
def reconciliation_providers_csv() -> Response:
    found = _or_400(_period_form())
    return _csv(providers_table(_builder(found)), "providers", found)


def _figure() -> str:
    figure = request.args.get("figure", "")
    if figure not in FIGURE_NAMES:
        abort(404)
    return figure


def _transfers(found: Reconciliation, scope: Scope, figure: str) -> tuple[Table, Paged, int]:
    lines = found.movements(scope, figure)
    total = sum(
        line.movement.available_pence if figure == "available_pence" else line.movement.amount_pence
        for line in lines
    )
    paged = Paged(page_number(), TRANSFERS_PER_PAGE, len(lines))
    start = (paged.page - 1) * TRANSFERS_PER_PAGE
    shown = lines[start : start + TRANSFERS_PER_PAGE]
    codes = recon.account_codes(db.session, [line.movement.transfer for line in shown])
    csv_href = url_for(
        "council.reconciliation_transfers_csv", figure=figure, **found.period.args, **scope.args
    )
    return transfers_table(_builder(found), shown, figure, codes, csv_href, total), paged, total


@bp.route("/reconciliation/transfers")
@requires("read_reconciliation")
def reconciliation_transfers() -> tuple[str, int]:
    figure = _figure()
    scope = _scope()
    form = _period_form()
    found = _found(form)
    if found is None:
        return _page("transfers.html", form, found=None, figure=figure, scope=scope)
    table, paged, total = _transfers(found, scope, figure)
    return _page(
        "transfers.html",
        form,
        found=found,
        figure=figure,
        figure_label=recon.ALL_FIGURE_LABELS[figure],
        scope=scope,
        words=_scope_words(found, scope),
        table=table,
        paged=paged,
        total=total,
        page_url=lambda number: url_for(
            "council.reconciliation_transfers",
            page=number,
            figure=figure,
            **found.period.args,
            **scope.args,
        ),
    )


@bp.route("/reconciliation/transfers.csv")
@requires("read_reconciliation")
def reconciliation_transfers_csv() -> Response:
    figure = _figure()
    scope = _scope()
    found = _or_400(_period_form())
    lines = found.movements(scope, figure)
    total = sum(
        line.movement.available_pence if figure == "available_pence" else line.movement.amount_pence
        for line in lines
    )
    codes = recon.account_codes(db.session, [line.movement.transfer for line in lines])
    table = transfers_table(_builder(found), lines, figure, codes, "", total)
    return _csv(table, f"transfers-{figure.removesuffix('_pence')}", found)


def _pot_transfers(
    found: Reconciliation, figure: str
) -> tuple[Table, Paged, int, list[tuple[str, str]]]:
    pot_arg, funder = request.args.get("pot", ""), request.args.get("funder", "")
    reference = request.args.get("reference") or None
    person, provider = request.args.get("person") or None, request.args.get("provider") or None
    try:
        pot = uuid.UUID(pot_arg) if pot_arg else None
        for named in (funder, person, provider):
            if named:
                uuid.UUID(named)
    except ValueError:
        abort(404)
    if (pot is None) == (not funder):
        abort(404)
    words: list[tuple[str, str]] = []
    if pot is not None:
        found_pot = recon.pot_of(found, pot)
        if found_pot is None:
            abort(404)
        words.append(("Pot", found_pot.label))
    else:
        words.append(("Funder", found.names.get(funder, "")))
    if reference:
        words.append(("Commitment", reference))
    lines = found.pot_movements(
        figure,
        pot=pot,
        funder=funder or None,
        reference=reference,
        person=person,
        provider=provider,
    )
    if lines and person:
        words.append(("Person", lines[0].person[1] if lines[0].person else ""))
    if lines and provider:
        words.append(("Provider", lines[0].provider[1] if lines[0].provider else ""))
    total = sum(
        line.movement.available_pence if figure == "available_pence" else line.movement.amount_pence
        for line in lines
    )
    paged = Paged(page_number(), TRANSFERS_PER_PAGE, len(lines))
    start = (paged.page - 1) * TRANSFERS_PER_PAGE
    shown = lines[start : start + TRANSFERS_PER_PAGE]
    codes = recon.account_codes(db.session, [line.movement.transfer for line in shown])
    args = _pot_args()
    csv_href = url_for(
        "council.reconciliation_pot_transfers_csv", figure=figure, **found.period.args, **args
    )
    table = pot_transfers_table(shown, figure, codes, csv_href, total)
    return table, paged, total, words


@bp.route("/reconciliation/pot-transfers")
@requires("read_reconciliation")
def reconciliation_pot_transfers() -> tuple[str, int]:
    figure = _figure()
    form = _period_form()
    found = _found(form)
    if found is None:
        return _page("transfers.html", form, found=None, figure=figure, scope=Scope())
    table, paged, total, words = _pot_transfers(found, figure)
    return _page(
        "transfers.html",
        form,
        found=found,
        figure=figure,
        figure_label=recon.ALL_FIGURE_LABELS[figure],
        scope=Scope(),
        words=words,
        table=table,
        paged=paged,
        total=total,
        page_url=lambda number: url_for(
            "council.reconciliation_pot_transfers",
            page=number,
            figure=figure,
            **found.period.args,
            **_pot_args(),
        ),
    )


def _pot_args() -> dict[str, Any]:
    """The pot drill-down's own arguments, as asked."""
    return {
        k: v
        for k in ("pot", "funder", "reference", "person", "provider")
        if (v := request.args.get(k))
    }


@bp.route("/reconciliation/pot-transfers.csv")
@requires("read_reconciliation")
def reconciliation_pot_transfers_csv() -> Response:
    figure = _figure()
    found = _or_400(_period_form())
    _, _, total, _ = _pot_transfers(found, figure)
    # The CSV holds every row, not the page's: read them again unpaged.
    lines = found.pot_movements(
        figure,
        pot=uuid.UUID(request.args["pot"]) if request.args.get("pot") else None,
        funder=request.args.get("funder") or None,
        reference=request.args.get("reference") or None,
        person=request.args.get("person") or None,
        provider=request.args.get("provider") or None,
    )
    codes = recon.account_codes(db.session, [line.movement.transfer for line in lines])
    return _csv(pot_transfers_table(lines, figure, codes, "", total), "pot-transfers", found)


@bp.route("/reconciliation/checks")
@requires("read_reconciliation")
def reconciliation_checks() -> tuple[str, int]:
    form = _period_form()
    tolerance = _tolerance_form()
    found = _found(form)
    if found is None or not tolerance.validate():
        # The error summary is the wrong form's: the period's, else the tolerance's.
        return render_template(
            "council/reconciliation/checks.html",
            form=form if found is None else tolerance,
            period_form=form,
            tolerance=tolerance,
            found=None,
            period_args=found.period.args if found else {},
        ), 400
    b = _builder(found)
    today = london_today()
    args = {**found.period.args, "tolerance": str(tolerance.percent())}
    paces = recon.pace(found, today=today, tolerance_percent=tolerance.percent())
    overdue = recon.overdue_commitments(db.session, found.period, today=today)
    return render_template(
        "council/reconciliation/checks.html",
        form=form,
        period_form=form,
        tolerance=tolerance,
        found=found,
        period_args=found.period.args,
        percent=tolerance.percent(),
        pace=pace_table(
            b, paces, url_for("council.reconciliation_checks_csv", table="pace", **args)
        ),
        overdue=overdue_table(
            b, overdue, today, url_for("council.reconciliation_checks_csv", table="overdue", **args)
        ),
    ), 200


def _tolerance_form() -> ToleranceForm:
    default = int(
        current_app.config.get("RECONCILIATION_TOLERANCE_PERCENT", recon.DEFAULT_TOLERANCE_PERCENT)
    )
    return ToleranceForm(request.args, default=default)


@bp.route("/reconciliation/checks.csv")
@requires("read_reconciliation")
def reconciliation_checks_csv() -> Response:
    found = _or_400(_period_form())
    tolerance = _tolerance_form()
    if not tolerance.validate():
        abort(400)
    b = _builder(found)
    today = london_today()
    table = request.args.get("table", "")
    if table == "pace":
        paces = recon.pace(found, today=today, tolerance_percent=tolerance.percent())
        return _csv(pace_table(b, paces, ""), "pace", found)
    if table == "overdue":
        overdue = recon.overdue_commitments(db.session, found.period, today=today)
        return _csv(overdue_table(b, overdue, today, ""), "overdue", found)
    abort(400)
