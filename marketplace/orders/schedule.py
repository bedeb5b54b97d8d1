"""When an order's care happens: one occasion on a date, or chosen weekdays for some weeks;
and how those occasions fall into the provider's invoicing cycles. Plain arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from marketplace.orders.models import BasketItem, Order, ScheduleKind

# iCal BYDAY codes, Monday first, as `date.weekday()` numbers them.
WEEKDAYS: tuple[str, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES: dict[str, str] = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
# Sixteen hours (or visits, or items) on one occasion, a year of weeks: more is a slip.
MAX_UNITS_PER_OCCASION = 16
MAX_WEEKS = 52
# An open-ended schedule ("until further notice", issue 18) has no last occasion; the checks
# that need a list of occasions (the support plan's weekly amounts) read its first year.
OPEN_ENDED_CHECKED_WEEKS = 52


@dataclass(frozen=True)
class Schedule:
    kind: ScheduleKind
    starts_on: date
    units_per_occasion: int
    weeks: int | None = None
    days: tuple[str, ...] = ()

    @property
    def open_ended(self) -> bool:
        """Recurring with no number of weeks: until further notice (a package)."""
        return self.kind is ScheduleKind.RECURRING and self.weeks is None

    def occasions(self) -> list[date]:
        """Every date care is due on, in order (an open-ended schedule's first
        OPEN_ENDED_CHECKED_WEEKS weeks)."""
        if self.kind is ScheduleKind.ONE_OFF:
            return [self.starts_on]
        wanted = {WEEKDAYS.index(code) for code in self.days}
        weeks = OPEN_ENDED_CHECKED_WEEKS if self.weeks is None else self.weeks
        span = 7 * weeks if isinstance(weeks, int) and not isinstance(weeks, bool) else 0
        return [
            day
            for day in (self.starts_on + timedelta(days=n) for n in range(span))
            if day.weekday() in wanted
        ]

    @property
    def ends_on(self) -> date:
        occasions = self.occasions()
        return occasions[-1] if occasions else self.starts_on

    @property
    def units_per_week(self) -> int:
        if self.kind is ScheduleKind.ONE_OFF:
            return self.units_per_occasion
        return self.units_per_occasion * len(self.days)

    @property
    def total_units(self) -> int:
        return self.units_per_occasion * len(self.occasions())

    def describe(self) -> str:
        if self.kind is ScheduleKind.ONE_OFF:
            return f"Once, on {self.starts_on:%-d %B %Y}"
        names = [WEEKDAY_NAMES[code] for code in WEEKDAYS if code in self.days]
        if self.open_ended:
            return f"Every {_join(names)} from {self.starts_on:%-d %B %Y}, until further notice"
        weeks = f"{self.weeks} week" + ("" if self.weeks == 1 else "s")
        return f"Every {_join(names)} for {weeks}, from {self.starts_on:%-d %B %Y}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def validation_problems(schedule: Schedule, *, today: date) -> dict[str, str]:
    """What is wrong with a schedule, by field; empty when it is fine. The period and the
    service's own limits are checked at checkout, where they are known."""
    problems: dict[str, str] = {}
    units = schedule.units_per_occasion
    if isinstance(units, bool) or not isinstance(units, int):
        problems["units_per_occasion"] = "Enter a whole number, like 2"
    elif units < 1:
        problems["units_per_occasion"] = "Enter a number of at least 1"
    elif units > MAX_UNITS_PER_OCCASION:
        problems["units_per_occasion"] = (
            f"Enter a number no more than {MAX_UNITS_PER_OCCASION} for one occasion"
        )
    if schedule.starts_on < today:
        problems["starts_on"] = "The start date must be today or in the future"
    if schedule.kind is ScheduleKind.RECURRING:
        weeks = schedule.weeks
        if weeks is None:
            pass  # until further notice: a package, held cycle by cycle
        elif isinstance(weeks, bool) or not isinstance(weeks, int):
            problems["weeks"] = "Enter how many weeks, as a whole number"
        elif not 1 <= weeks <= MAX_WEEKS:
            problems["weeks"] = f"Enter a number of weeks between 1 and {MAX_WEEKS}"
        if not schedule.days:
            problems["days"] = "Select at least one day of the week"
        elif any(code not in WEEKDAYS for code in schedule.days) or len(set(schedule.days)) != len(
            schedule.days
        ):
            problems["days"] = "Select days of the week from the list"
        elif "weeks" not in problems and not schedule.occasions():
            problems["days"] = "The days chosen do not fall within the weeks given"
    return problems


@dataclass(frozen=True)
class CyclePlan:
    number: int
    starts_on: date
    ends_on: date
    occasions: tuple[date, ...]
    units: int


def cycles(schedule: Schedule, cycle_days: int) -> list[CyclePlan]:
    """The occasions grouped into invoicing cycles of `cycle_days` from the first day; cycles
    with no occasion are left out."""
    groups: dict[int, list[date]] = {}
    for day in schedule.occasions():
        groups.setdefault((day - schedule.starts_on).days // cycle_days, []).append(day)
    plans = []
    for number, (index, days) in enumerate(sorted(groups.items()), start=1):
        start = schedule.starts_on + timedelta(days=index * cycle_days)
        end = min(start + timedelta(days=cycle_days - 1), schedule.ends_on)
        plans.append(
            CyclePlan(number, start, end, tuple(days), schedule.units_per_occasion * len(days))
        )
    return plans


def schedule_of(item: BasketItem | Order) -> Schedule:
    """The schedule a basket item or an order was made with."""
    return Schedule(
        kind=item.schedule_kind,
        starts_on=item.starts_on,
        units_per_occasion=item.units_per_occasion,
        weeks=item.weeks,
        days=tuple(item.days or ()),
    )
