"""The `flask seed-demo` step for orders: what Dorothy Pearce's budget has bought since it
began, as orders with the history each would have by today.

- Every four weeks, half-day sessions at Lea Valley Day Centre (provider2@demo.example.org),
  and, until she moved to the agency in her own town, home care visits from Chiltern Home
  Care (provider@demo.example.org): ordered the day after the budget's instalment, accepted,
  delivered, confirmed, invoiced and paid. In the third four weeks two visits were missed
  (paid in part, the rest released); in the fifth the day centre was closed for repairs and
  declined the order (all of it released).
- Then her orders from Bluebell Homecare Stevenage (provider3@demo.example.org), one or more
  in every state an order can be in.

So every payment on Dorothy's statement is an invoice in a provider's portal, and what each
provider's portal says it was paid is what her statement says she paid it.

Every order is made by the real rules (checkout.place_order, life.*, deliveries.*,
invoicing.*), as the pages would make it, so the ledger, the budget page, the statement and
`flask ledger verify` agree with it. Each step of a story happens "at" a moment in the past:

- its ledger transfers are stamped then, with the budgets seed's `_ledger_clock`;
- the rows the rules stamp with the real clock (the order's `placed_at`, its events'
  `happened_at`, deliveries' `recorded_at`, invoices' `raised_at`/`settled_at`, and the
  notifications' `created_at`) are set to that moment once the step is done; notifications
  older than two days are marked read, as their reader would have;
- the listing is taken as it was then, open to new clients at once (its capacity and earliest
  start today are for orders placed today), without changing the stored listing;
- the emails the rules queue are dropped: history is not news.

Idempotent: each order is found by its placement key (the budget and the story's name, with
the four weeks' number for the regular orders), and one already there is left as it is. A
story that does not fit the budget period (early in a financial year there is no past to
tell; late in it no future) or that the budget cannot pay for is left out, and the next run
after it fits makes it. The story "waiting for council
approval" needs the council to send purchases outside the plan for approval
(OUT_OF_PLAN_PURCHASES=approval, the default).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm.attributes import set_committed_value

from marketplace import mail
from marketplace.accounts.models import User
from marketplace.budgets.models import PaymentFrequency, PersonalBudget
from marketplace.budgets.queries import current_budget
from marketplace.budgets.schedule import instalment_dates
from marketplace.demo.budgets_seed import CITIZEN_EMAIL, _at, _ledger_clock, _user
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.ledger import InsufficientFunds
from marketplace.notifications.models import Notification
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import Delivery, Invoice, Order, OrderEvent, ScheduleKind
from marketplace.orders.schedule import WEEKDAYS, Schedule
from marketplace.people.models import Person
from marketplace.types import utcnow
from providers.models import CapacityStatus, Organisation, Service

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

PROVIDER = "Bluebell Homecare Stevenage"
PROVIDER_EMAIL = "provider3@demo.example.org"
WASHING = "Help with washing and dressing"  # personal care, by the hour: in Dorothy's plan
CALLS = "Morning and bedtime calls"  # personal care, by the visit: in her plan
HOUSEWORK = "Help around the house"  # domestic help: outside her plan
HOME_CARE = "Chiltern Home Care"
HOME_CARE_EMAIL = "provider@demo.example.org"
HOME_CARE_VISITS = "Personal care at home"  # by the hour: in her plan
DAY_CENTRE = "Lea Valley Day Centre"
DAY_CENTRE_EMAIL = "provider2@demo.example.org"
DAY_CENTRE_SESSIONS = "Half-day sessions at the day centre"  # by the session: in her plan
# The listings the stories order, and whose they are.
LISTINGS = {
    WASHING: PROVIDER,
    CALLS: PROVIDER,
    HOUSEWORK: PROVIDER,
    HOME_CARE_VISITS: HOME_CARE,
    DAY_CENTRE_SESSIONS: DAY_CENTRE,
}
STAFF_EMAILS = {PROVIDER: PROVIDER_EMAIL, HOME_CARE: HOME_CARE_EMAIL, DAY_CENTRE: DAY_CENTRE_EMAIL}
READ_AFTER = timedelta(days=2)
# The columns the rules stamp with the real clock, by the rows they are on.
STAMPED: dict[type, tuple[str, ...]] = {
    OrderEvent: ("happened_at",),
    Delivery: ("recorded_at",),
    Invoice: ("raised_at", "settled_at"),
    Notification: ("created_at",),
}
# In the third four weeks two home care visits were missed (by their place in the four
# weeks); in the fifth the day centre was closed for repairs.
MISSED: dict[int, dict[int, str]] = {
    3: {
        4: "Visit missed: Mrs Pearce was kept in the Lister overnight after a fall.",
        5: "Visit missed: Mrs Pearce was still in the Lister. Home on Saturday.",
    }
}
CLOSED_FOR_REPAIRS = 5
HOME_CARE_DAYS = ("MO", "TH")


@dataclass
class Story:
    """One demo order's life, told by the rules at moments counted from `today`."""

    today: date
    person: Person
    citizen: User
    staff: dict[uuid.UUID, User]  # the demo sign-in of each provider, by organisation id
    budget: PersonalBudget
    services: dict[str, Service]

    def staff_of(self, order: Order) -> User:
        return self.staff[order.organisation_id]

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def schedule(
        self, starts_in: int, units: int, weeks: int | None = None, days: tuple[int, ...] = (0,)
    ) -> Schedule:
        """A schedule from `starts_in` days from today: once, or for `weeks` on the weekdays
        `days` after the first day's."""
        starts_on = self.day(starts_in)
        if weeks is None:
            return Schedule(ScheduleKind.ONE_OFF, starts_on, units)
        codes = tuple(WEEKDAYS[(starts_on.weekday() + n) % 7] for n in days)
        return Schedule(ScheduleKind.RECURRING, starts_on, units, weeks, codes)

    @contextmanager
    def at(self, offset: int, hour: int) -> Iterator[date]:
        """Do what the block does as if at `hour` o'clock (London) `offset` days from today;
        yields that day."""
        now = utcnow()
        moment = min(_at(self.day(offset), hour), now)
        session = db.session()
        made: list[object] = []

        def keep(_session: object, row: object) -> None:
            made.append(row)

        # The rows the block writes, as it writes them: restamping just those is far cheaper
        # than an UPDATE of every table, which SQLAlchemy then checks against every row loaded.
        event.listen(session, "pending_to_persistent", keep)
        try:
            with _ledger_clock(moment):
                yield self.day(offset)
            session.flush()
        finally:
            event.remove(session, "pending_to_persistent", keep)
        read = moment < now - READ_AFTER
        settled = [row for row in session.identity_map.values() if isinstance(row, Invoice)]
        for row in [*made, *settled]:
            for name in STAMPED.get(type(row), ()):
                stamped = row.__dict__.get(name)
                if stamped is not None and stamped >= now:
                    setattr(row, name, moment)
            if read and isinstance(row, Notification) and row.read_at is None:
                row.read_at = moment + timedelta(hours=3)

    def place(
        self,
        key: str,
        service: str,
        schedule: Schedule,
        *,
        offset: int,
        hour: int,
        by_card_pence: int = 0,
    ) -> Order:
        """Dorothy orders; with `by_card_pence`, that much of it is hers to pay by card (her
        budget's share the rest, in its draw order)."""
        listing = self.services[service]
        with self.at(offset, hour) as today, _listing_open_then(listing):
            split = None
            if by_card_pence:
                quoted = checkout.quote(db.session, self.person, listing, schedule, today=today)
                split = {share.stream.id: share.pence for share in quoted.shares}
                last = quoted.shares[-1].stream.id
                split[last] -= min(by_card_pence, split[last])
            order = checkout.place_order(
                db.session,
                self.person,
                listing,
                schedule,
                by=self.citizen,
                today=today,
                placement_key=key,
                split=split,
                plan_rule=current_app.config["OUT_OF_PLAN_PURCHASES"],
                pay_by_card=bool(by_card_pence),
                card_top_ups_allowed=current_app.config["CARD_TOP_UPS_ALLOWED"],
            )
        order.placed_at = min(_at(today, hour), utcnow())
        return order

    def deliver(
        self, order: Order, offset: int, units: int, note: str = "", *, confirm: bool = True
    ) -> Delivery:
        """The carer's record of a visit, made that evening; confirmed by Dorothy the next
        morning if `confirm` (and that morning has come)."""
        with self.at(offset, 18) as today:
            delivery = deliveries.record_delivery(
                db.session,
                order,
                by=self.staff_of(order),
                delivered_on=today,
                units=units,
                note=note,
                today=today,
            )
        if confirm and offset + 1 < 0:
            with self.at(offset + 1, 10):
                deliveries.confirm_delivery(db.session, delivery, by=self.citizen)
        return delivery


@contextmanager
def _listing_open_then(listing: Service) -> Iterator[None]:
    """The listing as it was when a demo order was placed: taking clients, from at once.

    Set as the loaded values, never marked changed, so nothing is written to the listing."""
    kept = {
        name: getattr(listing, name)
        for name in ("capacity_status", "capacity_free", "earliest_start")
    }
    set_committed_value(listing, "capacity_status", CapacityStatus.ACCEPTING)
    set_committed_value(listing, "capacity_free", None)
    set_committed_value(listing, "earliest_start", None)
    try:
        yield
    finally:
        for name, value in kept.items():
            set_committed_value(listing, name, value)


def _occasions_before_today(order: Order, story: Story) -> list[int]:
    """The order's occasions up to yesterday, as offsets from today."""
    return [
        (day - story.today).days
        for day in Schedule(
            order.schedule_kind,
            order.starts_on,
            order.units_per_occasion,
            order.weeks,
            tuple(order.days),
        ).occasions()
        if day < story.today
    ]


# The regular orders: every four weeks of the budget, ordered the day after its instalment.


def _four_weeks(
    story: Story,
    key: str,
    listing: str,
    due_on: date,
    schedule: Schedule,
    *,
    missed: Mapping[int, str],
    visit_note: str,
    declined: str = "",
) -> Order:
    """One four weeks' order as far as it has happened: placed the day after the instalment,
    accepted (or `declined`) the day after that, each visit delivered (none on the visits
    `missed`, by their place) and confirmed, and invoiced two days after the last visit,
    which, every line confirmed, pays it at once."""
    placed_on = (due_on - story.today).days + 1
    order = story.place(key, listing, schedule, offset=placed_on, hour=10)
    if placed_on + 1 >= 0:
        return order
    with story.at(placed_on + 1, 9):
        if declined:
            life.decline(db.session, order, by=story.staff_of(order), reason=declined)
            return order
        life.accept(db.session, order, by=story.staff_of(order))
    past = _occasions_before_today(order, story)
    for number, offset in enumerate(past):
        if number in missed:
            story.deliver(order, offset, 0, missed[number])
        else:
            story.deliver(order, offset, order.units_per_occasion, visit_note)
    assert order.ends_on is not None  # these demo orders are for a fixed number of weeks
    invoiced_on = (order.ends_on - story.today).days + 2
    if invoiced_on < 0:
        with story.at(invoiced_on, 9) as today:
            invoicing.raise_invoice(
                db.session, order, order.cycles[0], by=story.staff_of(order), today=today
            )
    return order


def _regular_schedule(story: Story, due_on: date, units: int, days: tuple[str, ...]) -> Schedule:
    """Four weeks from two days after the instalment (fewer at the end of the budget year)."""
    starts_on = due_on + timedelta(days=2)
    weeks = min(4, ((story.budget.ends_on - starts_on).days + 1) // 7)
    return Schedule(ScheduleKind.RECURRING, starts_on, units, weeks, days)


def day_centre(story: Story, key: str, number: int, due_on: date) -> Order:
    """Thursday afternoons at the day centre: lunch, the singing, a lift home."""
    return _four_weeks(
        story,
        key,
        DAY_CENTRE_SESSIONS,
        due_on,
        _regular_schedule(story, due_on, 1, ("TH",)),
        missed={},
        visit_note="Came on the minibus; lunch and the singing.",
        declined=(
            "We are closed for repairs to the roof for the next four weeks. Sorry: we will "
            "be open again after that."
            if number == CLOSED_FOR_REPAIRS
            else ""
        ),
    )


def home_care(story: Story, key: str, number: int, due_on: date) -> Order:
    """Two hours' help on Monday and Thursday mornings: a bath, dressing, breakfast."""
    return _four_weeks(
        story,
        key,
        HOME_CARE_VISITS,
        due_on,
        _regular_schedule(story, due_on, 2, HOME_CARE_DAYS),
        missed=MISSED.get(number, {}),
        visit_note="Washed and dressed, breakfast, tablets taken.",
    )


RegularOrder = Callable[[Story, str, int, date], Order]


def _regular_orders(story: Story) -> Iterator[tuple[str, RegularOrder, int, date]]:
    """The regular orders placed by today, oldest first: each one's placement key, what tells
    it, and the number and first day of its four weeks. Chiltern's home care stops once
    Bluebell's begins: its last four weeks are paid before Dorothy's first Bluebell order."""
    budget = story.budget
    moved_on = story.day(min(first for _, (first, _), _ in STORIES))
    dates = instalment_dates(budget.starts_on, budget.ends_on, PaymentFrequency.FOUR_WEEKLY)
    for number, due_on in enumerate(dates, start=1):
        if due_on + timedelta(days=1) >= story.today:
            return
        yield f"demo:{budget.id}:day-centre:{number}", day_centre, number, due_on
        paid_on = _regular_schedule(story, due_on, 2, HOME_CARE_DAYS).ends_on + timedelta(days=2)
        if paid_on < moved_on:
            yield f"demo:{budget.id}:home-care:{number}", home_care, number, due_on


# The stories, oldest first: each places its order and tells its life up to today, with
# Dorothy placing, confirming, querying and cancelling, and Nadia (Bluebell) the rest.


def completed(story: Story, key: str) -> Order:
    """Two weeks of morning help, one visit missed, confirmed, billed and paid."""
    order = story.place(
        key, WASHING, story.schedule(-56, 1, weeks=2, days=(0, 3)), offset=-63, hour=10
    )
    with story.at(-62, 9):
        life.accept(db.session, order, by=story.staff_of(order))
    for number, offset in enumerate(_occasions_before_today(order, story)):
        if number == 2:
            story.deliver(
                order, offset, 0, "Visit missed: Mrs Pearce was at a hospital appointment"
            )
        else:
            story.deliver(order, offset, 1, "Wash, dressed, breakfast and tablets.")
    assert order.ends_on is not None  # these demo orders are for a fixed number of weeks
    with story.at((order.ends_on - story.today).days + 2, 9) as today:
        # Every line confirmed: the invoice is paid at once and the order completed.
        invoicing.raise_invoice(
            db.session, order, order.cycles[0], by=story.staff_of(order), today=today
        )
    return order


def cut_short(story: Story, key: str) -> Order:
    """Ten weekly visits; after six, Dorothy cancels the rest under a week's notice."""
    order = story.place(key, WASHING, story.schedule(-42, 1, weeks=10), offset=-49, hour=11)
    with story.at(-48, 14):
        life.accept(db.session, order, by=story.staff_of(order))
    for offset in _occasions_before_today(order, story):
        story.deliver(order, offset, 1, "Help with a bath and getting dressed.")
        if offset == -21:
            with story.at(-14, 9) as today:
                invoicing.raise_invoice(
                    db.session, order, order.cycles[0], by=story.staff_of(order), today=today
                )
    with story.at(-5, 16) as today:
        life.cancel(
            db.session,
            order,
            by=story.citizen,
            today=today,
            reason="My daughter has moved in with me and helps me in the mornings now.",
        )
    return order


def cancelled(story: Story, key: str) -> Order:
    """Accepted, then cancelled before it started."""
    order = story.place(
        key, WASHING, story.schedule(-16, 1, weeks=3, days=(0, 2)), offset=-30, hour=14
    )
    with story.at(-29, 9):
        life.accept(db.session, order, by=story.staff_of(order))
    with story.at(-25, 16) as today:
        life.cancel(
            db.session,
            order,
            by=story.citizen,
            today=today,
            reason="My daughter is staying for a fortnight and will help me instead.",
        )
    return order


def in_progress(story: Story, key: str) -> Order:
    """Six weeks of morning and bedtime calls, under way: visits confirmed, one queried, the
    latest still to confirm."""
    order = story.place(
        key, CALLS, story.schedule(-21, 2, weeks=6, days=(0, 3)), offset=-28, hour=12
    )
    with story.at(-27, 10):
        life.accept(db.session, order, by=story.staff_of(order))
    past = _occasions_before_today(order, story)
    for offset in past:
        if offset == past[2]:
            delivery = story.deliver(order, offset, 1, "Morning call.", confirm=False)
            with story.at(offset + 1, 11):
                deliveries.query_delivery(
                    db.session,
                    delivery,
                    by=story.citizen,
                    reason="Only the morning call came. Nobody came at bedtime.",
                )
        else:
            story.deliver(order, offset, 2, "Both calls.", confirm=offset != past[-1])
    return order


def declined(story: Story, key: str) -> Order:
    """Weekend visits the provider could not staff."""
    order = story.place(key, WASHING, story.schedule(-13, 2, weeks=4), offset=-20, hour=19)
    with story.at(-19, 11):
        life.decline(
            db.session,
            order,
            by=story.staff_of(order),
            reason="We have no carers free at weekends in Stevenage until the new year. Sorry.",
        )
    return order


def accepted(story: Story, key: str) -> Order:
    """A longer visit before a family party, accepted, not yet due."""
    order = story.place(key, WASHING, story.schedule(10, 2), offset=-3, hour=11)
    with story.at(-2, 15):
        life.accept(db.session, order, by=story.staff_of(order))
    return order


def placed(story: Story, key: str) -> Order:
    """Weekend calls, placed last night: waiting for the provider."""
    return story.place(key, CALLS, story.schedule(14, 1, weeks=4, days=(0, 1)), offset=-1, hour=20)


def awaiting_approval(story: Story, key: str) -> Order:
    """Housework, which her plan does not cover: waiting for a council officer."""
    return story.place(key, HOUSEWORK, story.schedule(9, 2, weeks=6), offset=0, hour=9)


def awaiting_payment(story: Story, key: str) -> Order:
    """A longer visit before a hospital appointment, £20 of it from her own pocket by card
    (where the council takes top-ups by card): waiting for the card payment."""
    return story.place(key, WASHING, story.schedule(12, 2), offset=0, hour=10, by_card_pence=20_00)


# name: (first day of the story, last day of its schedule, as offsets from today), the story.
STORIES: tuple[tuple[str, tuple[int, int], Callable[[Story, str], Order]], ...] = (
    ("completed", (-63, -44), completed),
    ("cut-short", (-49, 21), cut_short),
    ("cancelled", (-30, 0), cancelled),
    ("in-progress", (-28, 17), in_progress),
    ("declined", (-20, 8), declined),
    ("accepted", (-3, 10), accepted),
    ("placed", (-1, 36), placed),
    ("awaiting-approval", (0, 44), awaiting_approval),
    ("awaiting-payment", (0, 12), awaiting_payment),
)


def seed_orders(today: date | None = None) -> SeedReport:
    """Dorothy's orders with their history up to `today` (in London; default the real today).
    Raises SeedOrderError if the users, providers or budgets are not seeded."""
    from marketplace.demo.seed import SeedOrderError, SeedReport, Tally

    today = today or datetime.now(LONDON).date()
    citizen = _user(CITIZEN_EMAIL)
    person = citizen.person
    budget = current_budget(db.session, person, today) if person else None
    if budget is None or not budget.starts_on <= today <= budget.ends_on:
        raise SeedOrderError(f"{CITIZEN_EMAIL} has no budget for today: seed budgets first")
    staff: dict[uuid.UUID, User] = {}
    services: dict[str, Service] = {}
    for provider, email in STAFF_EMAILS.items():
        user = _user(email)
        organisation = db.session.get(Organisation, user.organisation_id)
        wanted = {name for name, whose in LISTINGS.items() if whose == provider}
        found = {s.name: s for s in (organisation.services if organisation else [])}
        if organisation is None or organisation.name != provider or wanted - set(found):
            raise SeedOrderError(
                f"{provider!r} and its listings the demo orders are missing: seed providers first"
            )
        staff[organisation.id] = user
        services.update({name: found[name] for name in wanted})
    story = Story(today, person, citizen, staff, budget, services)
    queued = len(db.session.info.get(mail._PENDING, []))
    tally = Tally("orders")
    for key, regular, number, due_on in _regular_orders(story):
        if db.session.scalar(select(Order.id).where(Order.placement_key == key)):
            tally.existing += 1
            continue
        try:
            tally.created.append(regular(story, key, number, due_on))
        except InsufficientFunds:
            continue
    for name, (first, last), tell in STORIES:
        key = f"demo:{budget.id}:{name}"
        if db.session.scalar(select(Order.id).where(Order.placement_key == key)):
            tally.existing += 1
            continue
        fits = budget.starts_on <= story.day(first) and story.day(last) <= budget.ends_on
        if (
            not fits
            or (
                name == "awaiting-approval"
                and current_app.config["OUT_OF_PLAN_PURCHASES"] != "approval"
            )
            or (name == "awaiting-payment" and not current_app.config["CARD_TOP_UPS_ALLOWED"])
        ):
            continue
        try:
            tally.created.append(tell(story, key))
        except InsufficientFunds:
            continue
    del db.session.info.get(mail._PENDING, [])[queued:]
    return SeedReport([tally])
