"""The citizen buys care: a service's schedule and cost ("what if I add this"), the basket,
checkout with the split over their funding streams, their orders, each order's page (its
timeline, deliveries to confirm or query, invoices) and cancelling (routes on `citizens`).

Every write is one call to the orders' rules; a refusal re-shows the form with the reason
and answers 400, so the request's transaction rolls back and nothing changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.access import requires
from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.budgets.models import FundingStream
from marketplace.budgets.queries import current_budget
from marketplace.citizens import bp
from marketplace.citizens.budget_views import own_person
from marketplace.citizens.order_forms import (
    UNIT_WORDS,
    CancelOrderForm,
    CheckoutForm,
    QueryDeliveryForm,
    ScheduleForm,
    checkout_form,
)
from marketplace.extensions import db
from marketplace.formatting import london_today, pounds
from marketplace.forms import ButtonForm, refusal_message, show_refusal
from marketplace.ledger import LedgerError
from marketplace.orders import basket as baskets
from marketplace.orders import checkout, deliveries, life, on_behalf, outcomes, queries, reablement
from marketplace.orders import forecast as forecasting
from marketplace.orders import packages as ongoing
from marketplace.orders.basket_costs import basket_costs
from marketplace.orders.errors import BasketRefused, InsufficientFunds, InvalidOrder
from marketplace.orders.models import BasketItem, Delivery, DeliveryStatus, Order, OrderStatus
from marketplace.orders.package_terms import is_package
from marketplace.orders.queries import with_providers
from marketplace.orders.schedule import schedule_of
from marketplace.pages.on_behalf import person_in_hand, refuse_outside_consent
from marketplace.payments import recurring
from marketplace.payments import service as card_payments
from marketplace.people import questions
from marketplace.people.models import Person
from providers import directory, reviews
from providers.models import Service


def _user() -> User:
    return current_user._get_current_object()


def _plan_rule() -> str:
    """The council's OUT_OF_PLAN_PURCHASES, which the orders' rules take from the edge."""
    return str(current_app.config["OUT_OF_PLAN_PURCHASES"])


def _cycles_ahead() -> int:
    """The council's PACKAGE_CYCLES_AHEAD: how many cycles ahead a new package holds."""
    return int(current_app.config["PACKAGE_CYCLES_AHEAD"])


def _top_ups_allowed() -> bool:
    """The council's CARD_TOP_UPS_ALLOWED: whether a budget holder may pay by card what their
    budget cannot cover."""
    return bool(current_app.config["CARD_TOP_UPS_ALLOWED"])


def _not_approved(person: Person, service: Service) -> str | None:
    """Why the user, ordering for the person under their consent, may not order `service`
    (the person has not approved it on a shortlist), or None."""
    return on_behalf.approval_refusal(db.session, _user(), person, service)


def _for_someone_else(person: Person) -> bool:
    """Whether the user is buying for someone other than themselves (acting for them)."""
    return current_user.person_id != person.id


def _card_offer(person: Person) -> checkout.CardTerms | None:
    """How the person may pay by card, if at all: a self-funder pays by card what their own
    account does not hold; a budget holder, where the council allows it, what their budget
    cannot cover. None when the card is not open to them."""
    return checkout.card_terms(
        db.session, person, pay_by_card=True, top_ups_allowed=_top_ups_allowed()
    )


# Adding a service to the basket --------------------------------------------------------


def _shortfall_message(refusal: InsufficientFunds) -> str:
    short = refusal.details.get("shortfall_pence", 0)
    available = refusal.details.get("available_pence", 0)
    return (
        f"Your budget is {pounds(short)} short for this: {pounds(available)} is available "
        "to pay for it. Choose fewer hours or fewer weeks, or a different split at checkout. "
        + (
            "You can also pay the rest by card at checkout."
            if _top_ups_allowed()
            else "Your council does not take payment by card for what your budget cannot cover."
        )
    )


@bp.route("/services/<uuid:service_id>/order", methods=["GET", "POST"])
@requires("use_citizen_pages")
def order_service(service_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    person = own_person("place_order_for")
    service = directory.public_service(service_id)
    if service is None:
        abort(404)
    today = london_today()
    form = ScheduleForm()
    form.label_units(service.price_unit)
    quoted = None
    shortfall = None
    card = _card_offer(person)
    not_approved = _not_approved(person, service)
    if not_approved is not None and form.is_submitted():
        form.validate()
        form.form_errors.append(not_approved)
    elif form.validate_on_submit():
        schedule = form.schedule()
        try:
            quoted = checkout.quote(
                db.session,
                person,
                service,
                schedule,
                today=today,
                plan_rule=_plan_rule(),
                card=card,
                cycles_ahead=_cycles_ahead(),
            )
        except InsufficientFunds as refusal:
            shortfall = refusal.details
            form.form_errors.append(_shortfall_message(refusal))
        except InvalidOrder as refusal:
            form.show_problems(refusal.details.get("fields") or {"": refusal.message})
        except LedgerError as refusal:
            show_refusal(form, refusal)
        if quoted is not None and form.add.data:
            baskets.add_to_basket(db.session, person, service, schedule, by=_user(), today=today)
            flash(f"{service.name} is in your basket", "success")
            return redirect(url_for("citizens.basket"))
    return render_template(
        "citizens/orders/add.html",
        form=form,
        service=service,
        person=person,
        quote=quoted,
        what_if=(
            # A self-funder's account holds only what their cards paid in: no budget to
            # forecast.
            forecasting.what_if_ordered(
                db.session,
                quoted.budget,
                total_pence=quoted.total_pence,
                # PERIODS: a package adds its later cycles, as the budget page counts them.
                adding=forecasting.care_of_quote(quoted),
                today=today,
            )
            if quoted and not (card is not None and card.self_funded)
            else None
        ),
        assumption=forecasting.ASSUMPTION,
        shortfall=shortfall,
        card=card,
        unit_word=UNIT_WORDS.get(service.price_unit, "units"),
        not_approved=not_approved,
    ), 400 if form.errors else 200


# The basket ---------------------------------------------------------------------------


@bp.route("/basket")
@requires("use_citizen_pages")
def basket() -> str:
    person = own_person("place_order_for")
    items = baskets.basket_of(db.session, person)
    card = _card_offer(person)
    costs = basket_costs(
        db.session,
        person,
        items,
        today=london_today(),
        plan_rule=_plan_rule(),
        card=card,
        cycles_ahead=_cycles_ahead(),
    )
    return render_template(
        "citizens/orders/basket.html",
        person=person,
        costs=costs,
        problems={
            each.item.id: problem
            for each in costs.items
            if (
                problem := (
                    _refusal_message(each.refusal)
                    if each.refusal is not None
                    else _not_approved(person, each.item.service)
                )
            )
        },
        assumption=forecasting.ASSUMPTION,
        form=None,
        button=ButtonForm(),
        card=card,
    )


@bp.route("/basket/<uuid:item_id>/remove", methods=["POST"])
@requires("use_citizen_pages")
def remove_from_basket(item_id: uuid.UUID) -> BaseResponse:
    person = own_person("place_order_for")
    if not ButtonForm().validate_on_submit():
        abort(400)
    if baskets.remove_from_basket(db.session, person, item_id):
        flash("The item was removed from your basket", "success")
    return redirect(url_for("citizens.basket"))


# Checkout -----------------------------------------------------------------------------


@dataclass
class CheckoutLine:
    """One basket item at checkout: its quote (how it would be paid), or why it cannot be."""

    item: BasketItem
    schedule_text: str
    quote: checkout.Quote | None
    problem: str | None


def _streams(person: Person, today: date) -> list[FundingStream]:
    budget = current_budget(db.session, person, today)
    return list(budget.streams) if budget is not None else []


def _checkout_lines(
    person: Person,
    items: list[BasketItem],
    form: CheckoutForm,
    today: date,
    card: checkout.CardTerms | None,
) -> list[CheckoutLine]:
    streams = [stream.id for stream in _streams(person, today)]
    splits = (
        {item.id: form.chosen_split(item.id, streams) for item in items}
        if form.is_submitted()
        else None
    )
    return [
        CheckoutLine(
            line.item,
            schedule_of(line.item).describe(),
            line.quote,
            _not_approved(person, line.item.service)
            if line.refusal is None
            else _refusal_message(line.refusal),
        )
        for line in checkout.quote_basket(
            db.session,
            person,
            items,
            today=today,
            splits=splits,
            plan_rule=_plan_rule(),
            card=card,
            cycles_ahead=_cycles_ahead(),
        )
    ]


def _refusal_message(refusal: LedgerError) -> str:
    if isinstance(refusal, InsufficientFunds) and "stream_name" in refusal.details:
        details = refusal.details
        return (
            f"{details['stream_name']} has {pounds(details['available_pence'])}, so it cannot "
            f"pay {pounds(details['requested_pence'])}. Put less on it, or leave every box "
            "empty to use the usual order."
        )
    if isinstance(refusal, InsufficientFunds):
        return _shortfall_message(refusal)
    return refusal_message(refusal)


@bp.route("/checkout", methods=["GET", "POST"])
@requires("use_citizen_pages")
def checkout_page() -> BaseResponse | tuple[str, int]:
    person = own_person("place_order_for")
    today = london_today()
    streams = _streams(person, today)
    items = baskets.basket_of(db.session, person)
    # The form is made for the items the page showed (posted back), so that a second
    # submission still reads its own fields after the first emptied the basket.
    shown = queries.ids(request.form.getlist("item")) if request.method == "POST" else []
    item_ids = shown or [item.id for item in items]
    form = checkout_form(
        (item_id, [(stream.id, stream.kind.label) for stream in streams]) for item_id in item_ids
    )
    card = _card_offer(person)
    if form.validate_on_submit():
        placed = _place(person, form, shown, [s.id for s in streams], items, today, card)
        if placed is not None:
            return _placed(person, placed)
    return render_template(
        "citizens/orders/checkout.html",
        person=person,
        form=form,
        streams=streams,
        lines=_checkout_lines(person, items, form, today, card),
        card=card,
        may_pay=can(current_user, "pay_by_card_for", person),
    ), 400 if form.errors else 200


def _placed(person: Person, placed: list[Order]) -> BaseResponse:
    """Where checkout goes once the orders are placed, and what it says: the payment page
    when a card share waits (or, for someone whose consent does not cover paying by card, the
    order's page: the person pays it), else the orders."""
    references = ", ".join(order.reference for order in placed)
    unpaid = [order for order in placed if order.status is OrderStatus.AWAITING_PAYMENT]
    if _for_someone_else(person):
        placed_words = f"The order for {person.full_name} is placed: {references}."
        budget_words = "The money is held in their budget until the provider is paid."
    else:
        placed_words = f"Your order is placed: {references}."
        budget_words = "The money is held in your budget until the provider is paid."
    if unpaid and not can(current_user, "pay_by_card_for", person):
        flash(
            f"{placed_words} {person.full_name} needs to pay "
            f"{pounds(sum(order.card_pence for order in unpaid))} by card before it goes to the "
            "provider: their consent does not let you pay by card for them.",
            "success",
        )
        return redirect(url_for("citizens.order_page", order_id=unpaid[0].id))
    if unpaid:
        flash(f"{placed_words} Pay by card to send it to the provider.", "success")
        return redirect(url_for("citizens.pay_for_order", order_id=unpaid[0].id))
    flash(f"{placed_words} {budget_words}", "success")
    return redirect(url_for("citizens.orders"))


def _place(
    person: Person,
    form: CheckoutForm,
    shown: list[uuid.UUID],
    stream_ids: list[uuid.UUID],
    items: list[BasketItem],
    today: date,
    card: checkout.CardTerms | None,
) -> list[Order] | None:
    """Place the orders (None if refused: the reasons are on the form). A refusal about an
    item whose split was chosen goes on that split's boxes; otherwise the first item's
    refusal is the form's."""
    by_id = {item.id: item for item in items}
    splits = {
        item_id: split
        for item_id in shown
        if item_id in by_id and (split := form.chosen_split(item_id, stream_ids)) is not None
    }
    try:
        return checkout.check_out(
            db.session,
            person,
            shown,
            by=_user(),
            today=today,
            splits=splits,
            plan_rule=_plan_rule(),
            # A self-funder pays by card; a budget holder only when they chose to pay by card
            # what their budget cannot cover (and the council allows it).
            pay_by_card=card is not None and (card.self_funded or bool(form.pay_by_card.data)),
            card_top_ups_allowed=_top_ups_allowed(),
            cycles_ahead=_cycles_ahead(),
        )
    except BasketRefused as refused:
        about_splits = [(item, why) for item, why in refused.problems if item.id in splits]
        for item, why in about_splits:
            # The error goes on the box of the stream it is about, or the first box.
            about = why.details.get("stream_id")
            fields = form.split_fields(item.id, stream_ids)
            field = next(
                (f for f, sid in zip(fields, stream_ids, strict=True) if str(sid) == about),
                fields[0],
            )
            field.errors = [*field.errors, f"{item.service.name}: {_refusal_message(why)}"]
        if not about_splits:
            form.form_errors.append(_refusal_message(refused.problems[0][1]))
    except LedgerError as refusal:
        show_refusal(form, refusal)
    return None


# Orders -------------------------------------------------------------------------------


def own_order(order_id: uuid.UUID) -> Order:
    """An order of the person these pages are about (the citizen's own, or the person the user
    acts for): anyone else's answers 404, so ids reveal nothing, even an order of another
    person the same broker may see; one the consent does not let them see is refused in words."""
    person = person_in_hand()
    order = queries.order_for_page(db.session, order_id, streams=True)
    if order is None or person is None or order.person_id != person.id:
        abort(404)
    if not can(current_user, "view_order", order):
        if current_user.acting_for is not None:
            refuse_outside_consent(person, "view_order")
        abort(404)
    return order


def own_delivery(order: Order, delivery_id: uuid.UUID) -> Delivery:
    """The order's delivery (404 if it is not the order's). Someone acting for the person whose
    consent does not cover confirming or querying deliveries is told so (403)."""
    delivery = queries.delivery_by_id(db.session, delivery_id)
    if delivery is None or delivery.order_id != order.id:
        abort(404)
    if current_user.acting_for is not None and not can(current_user, "confirm_delivery", order):
        refuse_outside_consent(order.person, "confirm_delivery")
    return delivery


@bp.route("/orders")
@requires("use_citizen_pages")
def orders() -> str:
    person = own_person()
    everything = queries.orders_of_person(db.session, person.id)
    with_providers(db.session, everything)
    return render_template(
        "citizens/orders/list.html",
        person=person,
        open_orders=[(o, schedule_of(o).describe()) for o in everything if o.status.is_open],
        past_orders=[(o, schedule_of(o).describe()) for o in everything if not o.status.is_open],
    )


def order_context(order: Order, today: date) -> dict[str, Any]:
    """What an order's page shows: its schedule, who pays what, and what may be done."""
    # PACKAGES (issue 18): a package's later cycles may be paid by the next period's budget.
    budgets = {b.id: b for b in (order.budget, *(c.budget for c in order.cycles)) if b}
    names = {
        str(stream.id): stream.kind.label
        + ("" if len(budgets) == 1 else f" (budget from {budget.starts_on:%-d %B %Y})")
        for budget in budgets.values()
        for stream in budget.streams
    }
    # REABLEMENT (issue 18): cycles paid straight from a funder's reablement pot.
    names.update(
        {
            f"pot:{cycle.pot_id}": f"Reablement, paid by {cycle.pot.funder.name}"
            for cycle in order.cycles
            if cycle.pot is not None
        }
    )
    paid = queries.paid_by_stream(order)
    return {
        "order": order,
        "schedule_text": schedule_of(order).describe(),
        "paid_by_stream": [(names.get(sid, "Other"), pence) for sid, pence in paid.items()],
        "can_cancel": can(current_user, "cancel_order", order)
        and order.cancelled_from is None
        and (life.allowed(order, life.Move.CANCEL) or life.allowed(order, life.Move.CANCEL_REST)),
        "cut_short": (
            life.cancellation_money(order, order.cancelled_from)
            if order.cancelled_from is not None
            else None
        ),
        "can_confirm": can(current_user, "confirm_delivery", order),
        "earliest_cancellation": life.earliest_cancellation(order, today),
        "button": ButtonForm(),
        "DeliveryStatus": DeliveryStatus,
        "today": today,
        # Recurring care paid cycle by cycle with a saved card (None for other orders).
        "card_plan": recurring.card_plan(db.session, order),
        # PACKAGES (issue 18): an ongoing package's next period and shortfall flags.
        "package": (ongoing.package_view(db.session, order, today) if is_package(order) else None),
        # OUTCOMES (issue 18): an outcome order's weeks, to confirm or query.
        "outcome_weeks": (
            outcomes.week_rows(db.session, order, today) if outcomes.is_outcome_order(order) else []
        ),
        # REABLEMENT (issue 18): free reablement, or the care it became (None for others).
        "reablement": reablement.order_note(db.session, order),
        # REVIEWS (issue 19): a completed order's service may be rated once (read only then).
        "may_review": reviews.may_review(current_user, order),
        "review": (
            reviews.review_of_order(db.session, order.id)
            if order.status is OrderStatus.COMPLETED
            else None
        ),
        # Questions asked the provider about this service, kept with the order (issue 17).
        "questions": (
            questions.threads_about_order(db.session, order)
            if can(current_user, "ask_provider_for", order.person)
            else []
        ),
    }


@bp.route("/orders/<uuid:order_id>")
@requires("use_citizen_pages")
def order_page(order_id: uuid.UUID) -> str:
    order = own_order(order_id)
    return render_template("citizens/orders/order.html", **order_context(order, london_today()))


@bp.route("/orders/<uuid:order_id>/deliveries/<uuid:delivery_id>/confirm", methods=["POST"])
@requires("use_citizen_pages")
def confirm_delivery(order_id: uuid.UUID, delivery_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    order = own_order(order_id)
    delivery = own_delivery(order, delivery_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        deliveries.confirm_delivery(db.session, delivery, by=_user())
    except LedgerError as refusal:
        return render_template(
            "citizens/orders/order.html",
            problem=refusal_message(refusal),
            **order_context(order, london_today()),
        ), 400
    flash(f"You confirmed the delivery on {delivery.delivered_on:%-d %B %Y}", "success")
    return redirect(url_for("citizens.order_page", order_id=order.id))


@bp.route("/orders/<uuid:order_id>/deliveries/<uuid:delivery_id>/query", methods=["GET", "POST"])
@requires("use_citizen_pages")
def query_delivery(order_id: uuid.UUID, delivery_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    order = own_order(order_id)
    delivery = own_delivery(order, delivery_id)
    form = QueryDeliveryForm()
    if form.validate_on_submit():
        try:
            deliveries.query_delivery(db.session, delivery, by=_user(), reason=form.reason.data)
        except LedgerError as refusal:
            show_refusal(form.reason, refusal)
        else:
            flash(
                "Your query is sent to the provider. The delivery will not be paid until it "
                "is resolved.",
                "success",
            )
            return redirect(url_for("citizens.order_page", order_id=order.id))
    return render_template(
        "citizens/orders/query.html", order=order, delivery=delivery, form=form
    ), 400 if form.errors else 200


@bp.route("/orders/<uuid:order_id>/cancel", methods=["GET", "POST"])
@requires("use_citizen_pages")
def cancel_order(order_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    order = own_order(order_id)
    if not can(current_user, "cancel_order", order):
        if current_user.acting_for is not None:
            # They may see the order but their consent does not cover cancelling: say so.
            refuse_outside_consent(order.person, "cancel_order")
        abort(404)
    today = london_today()
    form = CancelOrderForm()
    earliest = life.earliest_cancellation(order, today)
    money = life.cancellation_money(order, earliest)
    if form.validate_on_submit():
        try:
            if order.status is OrderStatus.AWAITING_PAYMENT:
                # Not paid yet: its card payment is stopped too (a late success is owed back).
                card_payments.cancel_unpaid_order(
                    db.session, order, by=_user(), today=today, reason=form.reason.data or ""
                )
                cancelled_from = None
            else:
                cancelled_from = life.cancel(
                    db.session, order, by=_user(), today=today, reason=form.reason.data or ""
                )
        except InvalidOrder as refusal:
            show_refusal(form.reason, refusal)
        except LedgerError as refusal:
            show_refusal(form, refusal)
        else:
            flash(
                f"Order {order.reference} is cancelled"
                if cancelled_from is None
                else f"Order {order.reference} is cancelled from "
                f"{cancelled_from:%-d %B %Y}. Visits before then go ahead." + _money_back(money),
                "success",
            )
            return redirect(url_for("citizens.order_page", order_id=order.id))
    return render_template(
        "citizens/orders/cancel.html",
        order=order,
        form=form,
        schedule_text=schedule_of(order).describe(),
        earliest=earliest,
        money=money,
        today=today,
    ), 400 if form.errors else 200


def _money_back(money: life.CancellationMoney) -> str:
    """When the money held for cancelled visits comes back, in words."""
    words = f" {pounds(money.now_pence)} comes back to your budget now."
    if money.later_pence and money.later_after:
        words += (
            f" {pounds(money.later_pence)} for the cancelled visits up to "
            f"{money.later_after:%-d %B %Y} comes back when the invoice for that period is "
            "settled."
        )
    return words
