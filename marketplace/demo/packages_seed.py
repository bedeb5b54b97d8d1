"""The `flask seed-demo` step for ongoing care (issue 18): Dorothy Pearce's home care as it is
really bought, and packages in each state a council sees.

Dorothy's story, told by the rules from January of the year her current budget begins:

- After a fall at home she has six weeks of free reablement, started by the council's
  officer with Bluebell Homecare (help with washing and dressing, an hour on Monday, Wednesday
  and Friday mornings), paid from the council's reablement pot for that year.
- Near its end the officer records the outcome: ongoing care. A first, short budget is set up
  for the rest of that financial year, and the same order goes on with the same provider as a
  chargeable package, without a new order.
- The package is rolled cycle by cycle by the daily job: each four-week cycle is held when its
  instalment is released, delivered, confirmed, invoiced and paid. On 1 April it carries over
  into her new year's budget without being ordered again, and the officer closes the short
  budget once its last cycle is paid, the package running on.
- In the autumn Dorothy asks for two hours instead of one on each visit; Bluebell accepts,
  and the council (which pays) agrees; the cycles from the day it takes effect are held again
  at the new cost.

Every step is made by the real rules at a moment in the past, as `orders_seed` makes its
stories (`Story.at`), so her budget page, statement and forecast agree with `flask ledger
verify`. Idempotent: the story is found by its reablement episode (Dorothy has one), and is
left as it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import event, select

from marketplace import mail
from marketplace.accounts.models import User
from marketplace.budgets import funders as funding
from marketplace.budgets import isf
from marketplace.budgets.allocations import StreamSpec, create_budget, release_due_instalments
from marketplace.budgets.closing import close_period, preview_close
from marketplace.budgets.models import (
    Funder,
    FunderPot,
    IndividualServiceFund,
    PaymentFrequency,
    PersonalBudget,
    PotPurpose,
    StreamKind,
)
from marketplace.budgets.queries import current_budget
from marketplace.budgets.rules import financial_year_of
from marketplace.demo.budgets_seed import (
    CITIZEN_EMAIL,
    COUNCIL,
    OFFICER_EMAIL,
    _at,
    _ledger_clock,
    _user,
)
from marketplace.demo.orders_seed import (
    CALLS,
    DAY_CENTRE_EMAIL,
    HOME_CARE,
    HOME_CARE_EMAIL,
    HOME_CARE_VISITS,
    PROVIDER,
    PROVIDER_EMAIL,
    WASHING,
    Story,
    _listing_open_then,
)
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.orders import invoicing, life, package_periods, packages, variations
from marketplace.orders import reablement as reabling
from marketplace.orders.models import (
    CycleState,
    Order,
    OrderStatus,
    ReablementOutcome,
    ScheduleKind,
    VariationKind,
    VariationParty,
)
from marketplace.orders.package_terms import occasions
from marketplace.orders.schedule import Schedule
from marketplace.people.models import Person
from marketplace.types import utcnow
from providers import lead_providers
from providers.models import LeadProvider, Locality, Organisation, Service

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

# The council's reablement pot for each year the demo needs (the year before and this one).
REABLEMENT_POT_PENCE = 450_000_00
# Dorothy's first, short budget: from the first chargeable day to the end of that year.
FIRST_BUDGET_COUNCIL_PENCE = 800_00
# The council's budgets pot for the year before the current one (the budgets step makes this
# year's): only Dorothy's first budget is allocated from it in the demo.
LAST_YEAR_POT_PENCE = 80_000_00
DAYS = ("MO", "WE", "FR")
VISIT_NOTE = "Washed and dressed, breakfast, tablets taken."


@dataclass
class _Clock:
    """Dorothy's story: the day it begins (a Monday in January) and the real today."""

    story: Story
    officer: User
    staff: User

    def offset(self, day: date) -> int:
        return (day - self.story.today).days

    def past(self, day: date) -> bool:
        return day < self.story.today


def seed_packages(today: date | None = None) -> SeedReport:
    """Dorothy's home care package with its history up to `today` (London; default the real
    today). Raises SeedOrderError if the users, providers, budgets or orders are not seeded."""
    from marketplace.demo.seed import SeedOrderError, SeedReport, Tally

    today = today or datetime.now(LONDON).date()
    citizen, officer, staff = _user(CITIZEN_EMAIL), _user(OFFICER_EMAIL), _user(PROVIDER_EMAIL)
    person = citizen.person
    budget = current_budget(db.session, person, today) if person else None
    if person is None or budget is None:
        raise SeedOrderError(f"{CITIZEN_EMAIL} has no budget for today: seed budgets first")
    provider = db.session.get(Organisation, staff.organisation_id)
    service = next((s for s in provider.services if s.name == WASHING), None) if provider else None
    if provider is None or provider.name != PROVIDER or service is None:
        raise SeedOrderError(f"{PROVIDER!r} and its {WASHING!r} are missing: seed providers first")
    story = Story(today, person, citizen, {provider.id: staff}, budget, {WASHING: service})
    queued = len(db.session.info.get(mail._PENDING, []))
    home_care = _user(HOME_CARE_EMAIL)
    chiltern = db.session.get(Organisation, home_care.organisation_id)
    listings = {s.name: s for o in (provider, chiltern) if o is not None for s in o.services}
    if chiltern is None or {AFTER_HOSPITAL, HOME_CARE_VISITS, CALLS} - set(listings):
        raise SeedOrderError(f"{HOME_CARE!r} and its listings are missing: seed providers first")
    staff_of = {provider.id: staff, chiltern.id: home_care}
    with _rows_made() as made:
        if not reabling.episodes_of(db.session, person):
            _dorothys_package(_Clock(story, officer, staff), service)
        for tell in (_reablement_ended, _reablement_now, _short_of_a_budget):
            tell(today, officer, staff_of, listings)
        _dorothys_fund(story, officer)
        _lead_in_stevenage(today, officer, provider)
    del db.session.info.get(mail._PENDING, [])[queued:]
    # What the step made this time, and what it found made before, kind by kind.
    tallies = []
    for kind, model, rows in (
        ("care packages", Order, _packages_of_the_step(person)),
        ("people", Person, _people_of_the_step()),
        ("funder pots", FunderPot, _pots_of_the_step(story.budget)),
        ("personal budgets", PersonalBudget, _budgets_of_the_step(person, story.budget)),
        ("individual service funds", IndividualServiceFund, _funds_of(person)),
        ("lead providers", LeadProvider, list(db.session.scalars(select(LeadProvider)))),
    ):
        created = [row for row in made if isinstance(row, model)]
        tallies.append(
            Tally(kind, created, len({row.id for row in rows} - {r.id for r in created}))
        )
    return SeedReport(tallies)


NAMES = ("Arthur Bennett", "Margaret Hughes", "Peter Lawson")


def _funds_of(person: Person) -> list[IndividualServiceFund]:
    return list(
        db.session.scalars(
            select(IndividualServiceFund).where(IndividualServiceFund.person_id == person.id)
        )
    )


def _dorothys_fund(story: Story, officer: User) -> None:
    """Dorothy asked the day centre to hold £300 of her budget as an Individual Service Fund
    for outings and activities with its group, agreed six weeks ago; two outings since."""
    if _funds_of(story.person):
        return
    day_centre = _user(DAY_CENTRE_EMAIL)
    organisation = db.session.get(Organisation, day_centre.organisation_id)
    assert organisation is not None  # the orders step checked it
    with story.at(-45, 11) as day:
        fund = isf.request_isf(
            db.session,
            person=story.person,
            organisation=organisation,
            amount_pence=300_00,
            agreement=(
                "For outings with the Thursday group (the garden centre, the panto at the "
                "Gordon Craig), and the singing teacher's sessions. Lea Valley books and pays, "
                "and tells Dorothy what each one cost."
            ),
            by=story.citizen,
            budget=story.budget,
            today=day,
        )
    with story.at(-43, 10) as day:
        isf.decide(db.session, fund, by=day_centre, agree=True, reason="Happy to.")
    for offset, pence, what in (
        (-30, 42_50, "Minibus outing to the garden centre, with lunch"),
        (-9, 18_00, "Singing session with the visiting teacher"),
    ):
        with story.at(offset, 16) as day:
            isf.record_spend(
                db.session,
                fund,
                spent_on=day,
                amount_pence=pence,
                description=what,
                by=day_centre,
                key=f"demo:isf:{fund.id}:{offset}",
                today=day,
            )


def _lead_in_stevenage(today: date, officer: User, provider: Organisation) -> None:
    """The council named Bluebell its lead provider for personal care in Stevenage."""
    if db.session.scalar(select(LeadProvider.id)):
        return
    stevenage = db.session.scalar(select(Locality).where(Locality.code == "stevenage"))
    if stevenage is None:
        return
    lead_providers.name_lead(
        db.session,
        locality=stevenage,
        category_code="personal-care",
        organisation=provider,
        starts_on=today,
        reason="Chosen in the home care tender: one lead provider for each area.",
        by=officer,
        today=today,
    )


def _people_of_the_step() -> list[Person]:
    return list(db.session.scalars(select(Person).where(Person.full_name.in_(NAMES))))


def _packages_of_the_step(dorothy: Person) -> list[Order]:
    """The step's orders: every reablement episode's, and the packages of its people."""
    people = [dorothy.id, *(p.id for p in _people_of_the_step())]
    return list(
        db.session.scalars(
            select(Order).where(Order.person_id.in_(people), Order.ends_on.is_(None))
        )
    )


def _pots_of_the_step(current: PersonalBudget) -> list[FunderPot]:
    """The council's reablement pots, and its budgets pot for the year before the current."""
    council = db.session.scalar(select(Funder.id).where(Funder.name == COUNCIL))
    return [
        pot
        for pot in db.session.scalars(select(FunderPot).where(FunderPot.funder_id == council))
        if pot.purpose is PotPurpose.REABLEMENT
        or pot.financial_year == financial_year_of(current.starts_on) - 1
    ]


def _budgets_of_the_step(dorothy: Person, current: PersonalBudget) -> list[PersonalBudget]:
    people = [dorothy.id, *(p.id for p in _people_of_the_step())]
    return [
        budget
        for budget in db.session.scalars(
            select(PersonalBudget).where(PersonalBudget.person_id.in_(people))
        )
        if budget.id != current.id
    ]


@contextmanager
def _rows_made() -> Iterator[list[object]]:
    """Every row the block writes, as it is written."""
    made: list[object] = []

    def keep(_session: object, row: object) -> None:
        made.append(row)

    session = db.session()
    event.listen(session, "pending_to_persistent", keep)
    try:
        yield made
    finally:
        event.remove(session, "pending_to_persistent", keep)


# Packages for people with no sign-in, each in a state a council sees. An officer confirms
# their visits for them (as the council does for someone with no account).
AFTER_HOSPITAL = "Home care after a hospital stay"  # Chiltern, by the hour: reablement


def _someone(full_name: str, postcode: str, born: date) -> Person:
    person = db.session.scalar(select(Person).where(Person.full_name == full_name))
    if person is None:
        person = Person(full_name=full_name, postcode=postcode, date_of_birth=born)
        db.session.add(person)
        db.session.flush()
    return person


def _story_for(
    person: Person,
    today: date,
    officer: User,
    staff_of: dict[uuid.UUID, User],
    listings: dict[str, Service],
    budget: PersonalBudget | None = None,
) -> _Clock:
    organisation_id = next(iter(staff_of))
    story = Story(today, person, officer, staff_of, budget, listings)  # type: ignore[arg-type]
    return _Clock(story, officer, staff_of[organisation_id])


def _tell_days(
    clock: _Clock, order: Order, starts_on: date, *, last_unconfirmed: bool = False
) -> None:
    """Each day from `starts_on` to yesterday: the job rolls the package on Mondays; each
    visit is recorded and confirmed; each cycle invoiced after its last visit."""
    day = starts_on
    yesterday = clock.story.today - timedelta(days=1)
    while clock.past(day):
        if day.weekday() == 0:
            with clock.story.at(clock.offset(day), 5) as on:
                packages.roll_package(db.session, order, on)
        confirm = not (last_unconfirmed and day >= yesterday - timedelta(days=2))
        _deliver_and_invoice(clock, order, day, note="Visit done, all well.", confirm=confirm)
        day += timedelta(days=1)


def _reablement_ended(
    today: date, officer: User, staff_of: dict[uuid.UUID, User], listings: dict[str, Service]
) -> Order | None:
    """Arthur Bennett: four weeks of morning calls after a hip operation, ended with no
    ongoing need (he manages on his own again), every visit paid from the reablement pot."""
    person = _someone(NAMES[0], "SG1 4AB", date(1941, 9, 2))
    if reabling.episodes_of(db.session, person):
        return None
    starts_on = _monday_on_or_after(today - timedelta(days=70))
    pot = _council_pot(financial_year_of(starts_on), PotPurpose.REABLEMENT)
    clock = _story_for(person, today, officer, staff_of, listings)
    with clock.story.at(clock.offset(starts_on) - 2, 10) as day:
        episode = reabling.start_episode(
            db.session,
            person=person,
            service=listings[CALLS],
            pot=pot,
            starts_on=starts_on,
            weeks=4,
            units_per_occasion=1,
            days=("MO", "TU", "WE", "TH", "FR"),
            by=officer,
            today=day,
        )
        episode.order.placed_at = min(_at(day, 11), utcnow())
    order = episode.order
    ended_on = episode.ends_on
    _tell_days(clock, order, starts_on)
    if clock.past(ended_on + timedelta(days=1)):
        with clock.story.at(clock.offset(ended_on) + 1, 11) as day:
            reabling.end_episode(
                db.session,
                episode,
                outcome=ReablementOutcome.NO_ONGOING_NEED,
                by=officer,
                note="Walking to the shops again and managing his own breakfast: no care needed.",
                today=day,
            )
    return order


def _reablement_now(
    today: date, officer: User, staff_of: dict[uuid.UUID, User], listings: dict[str, Service]
) -> Order | None:
    """Margaret Hughes: home from Watford General ten days ago, six weeks of reablement with
    Chiltern Home Care under way; her latest visits still to confirm."""
    person = _someone(NAMES[1], "WD17 2QB", date(1946, 2, 14))
    if reabling.episodes_of(db.session, person):
        return None
    starts_on = today - timedelta(days=10)
    pot = _council_pot(financial_year_of(starts_on), PotPurpose.REABLEMENT)
    clock = _story_for(person, today, officer, staff_of, listings)
    with clock.story.at(clock.offset(starts_on) - 1, 16) as day:
        episode = reabling.start_episode(
            db.session,
            person=person,
            service=listings[AFTER_HOSPITAL],
            pot=pot,
            starts_on=starts_on,
            weeks=6,
            units_per_occasion=1,
            days=("MO", "TH"),
            by=officer,
            today=day,
        )
        episode.order.placed_at = min(_at(day, 11), utcnow())
    _tell_days(clock, episode.order, starts_on, last_unconfirmed=True)
    return episode.order


def _short_of_a_budget(
    today: date, officer: User, staff_of: dict[uuid.UUID, User], listings: dict[str, Service]
) -> Order | None:
    """Peter Lawson: a package of Monday and Thursday help since his budget began; the
    budget's period ends in three days and no next budget is set up, so the cycle after it
    is flagged a week ahead to him, the council and Chiltern. Chiltern has also asked for a
    new price from next month, waiting for his answer."""
    person = _someone(NAMES[2], "SG5 1AA", date(1950, 6, 30))
    starts_on = today - timedelta(days=90)
    existing = db.session.scalar(
        select(PersonalBudget).where(
            PersonalBudget.person_id == person.id, PersonalBudget.starts_on == starts_on
        )
    )
    if existing is not None:
        return None
    year = financial_year_of(starts_on)
    with _ledger_clock(_at(starts_on, 6)):
        budget = create_budget(
            db.session,
            person=person,
            starts_on=starts_on,
            ends_on=today + timedelta(days=3),
            frequency=PaymentFrequency.FOUR_WEEKLY,
            streams=[
                StreamSpec(StreamKind.COUNCIL, 1_000_00, _council_pot(year, PotPurpose.BUDGETS))
            ],
            today=starts_on,
        )
    clock = _story_for(person, today, officer, staff_of, listings, budget)
    for due in (i.due_on for s in budget.streams for i in s.instalments):
        if clock.past(due):
            with _ledger_clock(_at(due, 6)):
                release_due_instalments(db.session, due, budget=budget)
    package_starts = today - timedelta(days=77)
    schedule = Schedule(ScheduleKind.RECURRING, package_starts, 1, None, ("MO", "TH"))
    listing = listings[HOME_CARE_VISITS]
    with clock.story.at(clock.offset(package_starts) - 3, 10) as day, _listing_open_then(listing):
        order = packages.place_package(
            db.session,
            person,
            listing,
            schedule,
            by=officer,
            today=day,
            placement_key=f"demo:package:{person.id}",
        )
    with clock.story.at(clock.offset(package_starts) - 2, 9):
        if order.status is OrderStatus.AWAITING_APPROVAL:
            # He has no support plan yet: the officer approves the care outside one.
            life.approve(db.session, order, by=officer, reason="Interim care until his plan")
        life.accept(db.session, order, by=clock.story.staff_of(order))
    _tell_days(clock, order, package_starts)
    with clock.story.at(0, 5) as on:
        packages.roll_package(db.session, order, on)
    with clock.story.at(-1, 15) as on:
        variations.propose(
            db.session,
            order,
            by=clock.story.staff_of(order),
            party=VariationParty.PROVIDER,
            kind=VariationKind.PRICE,
            effective_from=on + timedelta(days=35),
            unit_price_pence=order.unit_price_pence + 1_20,
            reason="Our carers' pay rises with the new Real Living Wage from next month.",
            today=on,
        )
    return order


def _council_pot(year: int, purpose: PotPurpose) -> FunderPot:
    """The council's pot for `year` and `purpose`; one this step opens is funded on 1 April
    (this year's budgets pot is the budgets step's, funded there)."""
    funder = db.session.scalar(select(Funder).where(Funder.name == COUNCIL))
    assert funder is not None  # the budgets step made it
    existing = db.session.scalar(
        select(FunderPot).where(
            FunderPot.funder_id == funder.id,
            FunderPot.financial_year == year,
            FunderPot.purpose == purpose,
        )
    )
    if existing is not None:
        return existing
    pot = funding.open_pot(db.session, funder, year, purpose)
    with _ledger_clock(_at(date(year, 4, 1), 5)):
        funding.fund_pot(
            db.session,
            pot,
            amount_pence=(
                REABLEMENT_POT_PENCE if purpose is PotPurpose.REABLEMENT else LAST_YEAR_POT_PENCE
            ),
            key=f"demo:funding:{funder.id}:{year}:{purpose.value}",
            description=f"{funder.name}: {pot.label}",
        )
    return pot


def _dorothys_package(clock: _Clock, service: Service) -> Order:
    story = clock.story
    year = story.budget.starts_on.year  # her current budget begins on 1 April of this year
    starts_on = _monday_on_or_after(date(year, 1, 5))
    with story.at(clock.offset(starts_on) - 3, 11) as day:
        episode = reabling.start_episode(
            db.session,
            person=story.person,
            service=service,
            pot=_council_pot(year - 1, PotPurpose.REABLEMENT),
            starts_on=starts_on,
            weeks=6,
            units_per_occasion=1,
            days=DAYS,
            by=clock.officer,
            today=day,
        )
        episode.order.placed_at = min(_at(day, 11), utcnow())
    order = episode.order
    ends_on = starts_on + timedelta(days=39)  # the Friday of the sixth week
    first_budget: PersonalBudget | None = None
    closed_first = False
    varied = False
    day = starts_on
    while clock.past(day):
        if day == ends_on:
            first_budget = _first_budget(clock, order, day)
            with story.at(clock.offset(day), 15) as on:
                reabling.end_episode(
                    db.session,
                    episode,
                    outcome=ReablementOutcome.ONGOING_CARE,
                    by=clock.officer,
                    note=(
                        "Walking with a frame again and managing the kitchen. Needs help to "
                        "wash and dress: carry on with Bluebell, an hour three mornings a week."
                    ),
                    today=on,
                    budget=first_budget,
                )
        if first_budget is not None and day >= first_budget.starts_on:
            with story.at(clock.offset(day), 6) as on:
                release_due_instalments(db.session, on, budget=first_budget)
        if day.weekday() == 0 or day == ends_on:
            with story.at(clock.offset(day), 5) as on:
                packages.roll_package(db.session, order, on)
        _deliver_and_invoice(clock, order, day)
        if (
            first_budget is not None
            and not closed_first
            and day > first_budget.ends_on
            and _all_paid(order, first_budget)
        ):
            _close_first_budget(clock, first_budget, day)
            closed_first = True
        if not varied and day == _variation_day(clock):
            _more_hours(clock, order, day)
            varied = True
        day += timedelta(days=1)
    return order


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _first_budget(clock: _Clock, order: Order, day: date) -> PersonalBudget:
    """The short budget an officer sets up when reablement ends in ongoing care: from the
    first day the care is chargeable to the end of that financial year, council money."""
    free = [cycle for cycle in order.cycles if cycle.pot_id is not None]
    first_chargeable = max(cycle.ends_on for cycle in free) + timedelta(days=1)
    year = financial_year_of(first_chargeable)
    with clock.story.at(clock.offset(day), 11), _ledger_clock(_at(day, 11)):
        return create_budget(
            db.session,
            person=clock.story.person,
            starts_on=first_chargeable,
            ends_on=date(year + 1, 3, 31),
            frequency=PaymentFrequency.FOUR_WEEKLY,
            streams=[
                StreamSpec(
                    StreamKind.COUNCIL,
                    FIRST_BUDGET_COUNCIL_PENCE,
                    _council_pot(year, PotPurpose.BUDGETS),
                )
            ],
            today=day,
        )


def _deliver_and_invoice(
    clock: _Clock, order: Order, day: date, *, note: str = VISIT_NOTE, confirm: bool = True
) -> None:
    """The day's visit, recorded that evening and confirmed by the person the next morning
    (or by nobody: `confirm`); and each cycle invoiced two days after its last visit (paid at
    once when every line was confirmed)."""
    story = clock.story
    held = [c for c in order.cycles if c.starts_on <= day <= c.ends_on]
    for visit in occasions(order, day, day):
        if held and held[0].state is CycleState.HELD:
            story.deliver(order, clock.offset(day), visit.units, note, confirm=confirm)
    for cycle in order.cycles:
        if cycle.state is not CycleState.HELD:
            continue
        last = invoicing.last_visit(order, cycle)
        if last is not None and last + timedelta(days=2) == day:
            with story.at(clock.offset(day), 9) as on:
                invoicing.raise_invoice(
                    db.session, order, cycle, by=story.staff_of(order), today=on
                )


def _all_paid(order: Order, budget: PersonalBudget) -> bool:
    return all(
        cycle.state is CycleState.SETTLED for cycle in order.cycles if cycle.budget_id == budget.id
    )


def _close_first_budget(clock: _Clock, budget: PersonalBudget, day: date) -> None:
    """The officer closes the short budget once its cycles are paid: what is left goes back
    to the council; the package carries on in the new year's budget."""
    with clock.story.at(clock.offset(day), 10):
        carrying = package_periods.carrying_on(db.session, budget)
        following = clock.story.budget
        preview = preview_close(db.session, budget, next_budget=following, carrying_on=carrying)
        close_period(
            db.session,
            budget,
            next_budget=following,
            expected_unspent_pence=preview.unspent_pence,
            carrying_on=carrying,
        )


def _variation_day(clock: _Clock) -> date:
    """When Dorothy asks for more help: about five weeks ago (a Monday), and never before her
    new year's budget has begun."""
    story = clock.story
    return _monday_on_or_after(max(story.today - timedelta(days=35), story.budget.starts_on))


def _more_hours(clock: _Clock, order: Order, day: date) -> None:
    """Two hours instead of one on each visit, from the Monday two weeks on: Dorothy asks,
    Bluebell accepts the next day, the council (which pays) agrees the day after."""
    story = clock.story
    effective = day + timedelta(days=14)
    with story.at(clock.offset(day), 10) as on:
        variation = variations.propose(
            db.session,
            order,
            by=story.citizen,
            party=VariationParty.PERSON,
            kind=VariationKind.SCHEDULE,
            effective_from=effective,
            units_per_occasion=2,
            reason=(
                "Since the fall it takes me longer to get washed and dressed, and I don't want "
                "to be rushed. Could the carer stay two hours?"
            ),
            today=on,
        )
    if not clock.past(day + timedelta(days=1)):
        return
    with story.at(clock.offset(day) + 1, 9) as on:
        variations.accept(db.session, variation, by=clock.staff, today=on)
    if variation.state.value == "awaiting_council" and clock.past(day + timedelta(days=2)):
        with story.at(clock.offset(day) + 2, 14) as on:
            variations.council_decide(
                db.session,
                variation,
                by=clock.officer,
                agree=True,
                reason="Agreed at the review: more time each morning is in her support plan.",
                today=on,
            )
