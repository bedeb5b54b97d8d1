"""Provider organisations (and brokerages): registration, the council's approval, rejection and
suspension, the council's own brokerage, and finding an organisation already in the directory
by registration number or name.

Every status change is written to `organisation_status_changes` with who, when and why, in the
same transaction as the change. Functions flush and never commit.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import queue_email
from providers.models import (
    InvoiceCycle,
    Locality,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    OrganisationStatusChange,
)

# The moves the council may make, and the ones that need a reason the provider will read.
ALLOWED_MOVES: dict[OrganisationStatus, set[OrganisationStatus]] = {
    OrganisationStatus.PENDING: {OrganisationStatus.APPROVED, OrganisationStatus.REJECTED},
    OrganisationStatus.APPROVED: {OrganisationStatus.SUSPENDED},
    OrganisationStatus.SUSPENDED: {OrganisationStatus.APPROVED},
    OrganisationStatus.REJECTED: {OrganisationStatus.APPROVED},
}
NEEDS_REASON = {OrganisationStatus.REJECTED, OrganisationStatus.SUSPENDED}


# The registration numbers an organisation may be matched by, strongest first, as people say them.
REGISTRATION_NUMBERS = (
    ("cqc_provider_id", "CQC provider ID"),
    ("companies_house_number", "Companies House number"),
    ("charity_number", "charity number"),
)
# Endings that name the same company in other words.
_SAME_ENDING = {"limited": "ltd", "company": "co"}


class StatusChangeRefused(ValueError):
    """The move is not allowed from the organisation's current status, or lacks a reason."""


@dataclass(frozen=True)
class OrganisationDetails:
    """What a provider tells us about their organisation."""

    name: str
    description: str
    email: str
    phone: str | None
    website: str | None
    address: str | None
    postcode: str | None
    companies_house_number: str | None
    charity_number: str | None
    cqc_provider_id: str | None
    area_codes: list[str]


def _areas(codes: list[str]) -> list[Locality]:
    if not codes:
        return []
    found = list(db.session.scalars(select(Locality).where(Locality.code.in_(codes))))
    missing = set(codes) - {locality.code for locality in found}
    if missing:
        raise ValueError(f"unknown areas: {', '.join(sorted(missing))}")
    return found


def _apply(organisation: Organisation, details: OrganisationDetails) -> None:
    organisation.name = details.name.strip()
    organisation.description = details.description.strip()
    organisation.email = details.email.strip().lower()
    organisation.phone = details.phone or None
    organisation.website = details.website or None
    organisation.address = details.address or None
    organisation.postcode = details.postcode or None
    organisation.companies_house_number = details.companies_house_number or None
    organisation.charity_number = details.charity_number or None
    organisation.cqc_provider_id = details.cqc_provider_id or None
    organisation.areas = _areas(details.area_codes)


def check_areas(codes: list[str]) -> None:
    """Raises ValueError if any of these area codes is unknown."""
    _areas(codes)


def staff_role(organisation: Organisation) -> Role:
    """The role of the organisation's staff: a brokerage's staff are brokers (who act for
    clients with their consent), a provider's are provider staff."""
    return Role.BROKER if organisation.is_brokerage else Role.PROVIDER_STAFF


def register(
    details: OrganisationDetails,
    *,
    owner_name: str,
    owner_email: str,
    owner_password_hash: str,
    kind: OrganisationKind = OrganisationKind.PROVIDER,
) -> User:
    """A new, pending organisation of `kind` and its first staff account (its owner: a broker
    for a brokerage), made together once the owner has confirmed their address
    (`providers.registration`), with the password hash made when they registered.

    Raises ValueError if the email has an account or an area is unknown.
    """
    email = accounts.normalise_email(owner_email)
    if accounts.user_by_email(email) is not None:
        raise ValueError(f"an account already uses {email}")
    organisation = Organisation(status=OrganisationStatus.PENDING, kind=kind)
    _apply(organisation, details)
    db.session.add(organisation)
    db.session.flush()
    registered = OrganisationStatusChange(
        organisation=organisation,
        from_status=None,
        to_status=OrganisationStatus.PENDING,
        reason="Registered by the brokerage"
        if organisation.is_brokerage
        else "Registered by the provider",
    )
    db.session.add(registered)
    owner = User(
        email=email,
        full_name=owner_name.strip(),
        password_hash=owner_password_hash,
        role=staff_role(organisation),
        organisation_id=organisation.id,
        is_organisation_owner=True,
    )
    db.session.add(owner)
    registered.changed_by = owner
    db.session.flush()
    return owner


class NameTaken(ValueError):
    """Another organisation in the directory already answers to this name."""


def add_council_brokerage(details: OrganisationDetails, *, by: User) -> Organisation:
    """The council's own brokerage (its service finders), added by a council officer and
    approved at once: the council does not ask itself for approval. The change is on the
    record as the officer's. It has no staff yet: the officer invites its first broker, who
    becomes its owner (`providers.staff.accept`).

    Raises NameTaken if an organisation of the same name (as names are matched) exists, and
    ValueError for an unknown area."""
    wanted = normalised_name(details.name)
    for name in db.session.scalars(select(Organisation.name)):
        if normalised_name(name) == wanted:
            raise NameTaken(f"An organisation called {name} is already registered")
    organisation = Organisation(status=OrganisationStatus.APPROVED, kind=OrganisationKind.BROKERAGE)
    _apply(organisation, details)
    db.session.add(organisation)
    db.session.add(
        OrganisationStatusChange(
            organisation=organisation,
            from_status=None,
            to_status=OrganisationStatus.APPROVED,
            reason="Added by the council as its own brokerage",
            changed_by=by,
        )
    )
    db.session.flush()
    return organisation


def update_details(organisation: Organisation, details: OrganisationDetails) -> None:
    """Change what the organisation says about itself (its status is the council's to change)."""
    _apply(organisation, details)
    db.session.flush()


def set_order_terms(
    organisation: Organisation, *, invoice_cycle: InvoiceCycle, notice_days: int
) -> None:
    """How often the organisation invoices, and the notice it needs to cancel the rest of an
    order: the terms new orders are placed on (orders keep the terms they were placed on).

    Raises ValueError for a negative notice period."""
    if notice_days < 0:
        raise ValueError("a notice period cannot be negative")
    organisation.invoice_cycle = invoice_cycle
    organisation.notice_days = notice_days
    db.session.flush()


def change_status(
    organisation: Organisation,
    to_status: OrganisationStatus,
    *,
    by: User,
    reason: str = "",
) -> OrganisationStatusChange:
    """Move an organisation to `to_status`, recording who, when and why, and tell its staff.

    Raises StatusChangeRefused for a move the table does not allow, or a rejection or
    suspension without a reason.
    """
    reason = reason.strip()
    if to_status not in ALLOWED_MOVES[organisation.status]:
        raise StatusChangeRefused(
            f"An organisation that is {organisation.status.value} cannot be made {to_status.value}"
        )
    if to_status in NEEDS_REASON and not reason:
        raise StatusChangeRefused("Enter the reason: the provider will see it")
    change = OrganisationStatusChange(
        organisation=organisation,
        from_status=organisation.status,
        to_status=to_status,
        reason=reason,
        changed_by=by,
    )
    organisation.status = to_status
    organisation.status_reason = reason if to_status in NEEDS_REASON else None
    db.session.add(change)
    db.session.flush()
    for staff in organisation.staff:
        queue_email(staff.email, *_status_email(organisation, to_status, reason))
    return change


def _status_email(
    organisation: Organisation, status: OrganisationStatus, reason: str
) -> tuple[str, str]:
    if status is OrganisationStatus.APPROVED and organisation.is_brokerage:
        return (
            "Your brokerage has been approved",
            f"{organisation.name} has been approved by the council. People can now give your "
            "brokers their consent to act for them, and any services you publish are visible "
            "to the public.",
        )
    if status is OrganisationStatus.APPROVED:
        return (
            "Your organisation has been approved",
            f"{organisation.name} has been approved by the council. Your published services "
            "are now visible to the public.",
        )
    if status is OrganisationStatus.REJECTED:
        return (
            "Your registration was not approved",
            f"The council did not approve {organisation.name}.\n\nReason: {reason}\n\n"
            "Sign in to see the details and contact the council if you have questions.",
        )
    return (
        "Your organisation has been suspended",
        f"The council has suspended {organisation.name}: its services are no longer shown to "
        f"the public. Existing orders stay visible to you and your clients.\n\nReason: {reason}",
    )


def organisation(organisation_id: uuid.UUID) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def organisations(status: OrganisationStatus | None = None) -> list[Organisation]:
    """Organisations, by name, optionally of one status."""
    query = select(Organisation).order_by(Organisation.name)
    if status is not None:
        query = query.where(Organisation.status == status)
    return list(db.session.scalars(query))


def organisations_page(
    status: OrganisationStatus | None, *, page: int, per_page: int
) -> list[Organisation]:
    """One page of `organisations(status)`, by name (then id, so that pages never overlap).
    The page's (name, id) pairs are sorted, skipped and cut in a subquery and only its rows
    read whole: a page costs the same at any depth and any size of directory in statements,
    and never sorts every organisation's whole row (issue 22)."""
    narrow = select(Organisation.name, Organisation.id)
    if status is not None:
        narrow = narrow.where(Organisation.status == status)
    chosen = (
        narrow.order_by(Organisation.name, Organisation.id)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
        .subquery("chosen")
    )
    return list(
        db.session.scalars(
            select(Organisation)
            .join(chosen, Organisation.id == chosen.c.id)
            .order_by(chosen.c.name, chosen.c.id)
        )
    )


def district_choices() -> list[tuple[str, str]]:
    """(code, name) of every area a provider can say it serves: districts, then towns."""
    rows = db.session.scalars(select(Locality).order_by(Locality.kind, Locality.name))
    return [(locality.code, locality.name) for locality in rows if locality.kind == "district"]


def normalised_name(name: str) -> str:
    """The name as organisations are matched by: letters and digits in lower case, '&' as
    'and', 'Limited' as 'Ltd', and a final 'Ltd' dropped, so "Smith & Jones Care Ltd" and
    "SMITH AND JONES CARE" are one name."""
    words = re.sub(r"[^\w]+", " ", name.casefold().replace("&", " and ")).split()
    words = [_SAME_ENDING.get(word, word) for word in words]
    if len(words) > 1 and words[-1] == "ltd":
        words.pop()
    return " ".join(words)


def _number(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


class AmbiguousMatch(ValueError):
    """More than one existing organisation answers to the same name or number."""


@dataclass(frozen=True)
class OrganisationMatch:
    """An existing organisation, and what it was recognised by ("name", "its CQC provider ID
    1-101234567")."""

    organisation: Organisation
    by: str


class OrganisationIndex:
    """The directory's organisations by registration number and by normalised name, for an
    import to recognise one that is already there under another id (or none).

    Built once per import; `add` every organisation the import creates or changes. Entries of
    organisations since rolled back or renamed are checked against the row and skipped."""

    def __init__(self) -> None:
        self._ids: dict[str, set[uuid.UUID]] = defaultdict(set)
        for organisation in db.session.scalars(select(Organisation)):
            self.add(organisation)

    def add(self, organisation: Organisation) -> None:
        """Index the organisation under its name and numbers as they are now."""
        for key in _keys(organisation):
            self._ids[key].add(organisation.id)

    def _found(self, key: str) -> list[Organisation]:
        found = [db.session.get(Organisation, known) for known in self._ids.get(key, ())]
        return sorted(
            (organisation for organisation in found if organisation and key in _keys(organisation)),
            key=lambda organisation: (organisation.name, str(organisation.id)),
        )

    def match(self, name: str, numbers: dict[str, str | None]) -> OrganisationMatch | None:
        """The one organisation these registration numbers name (strongest first) or, failing
        them, the one of this normalised name whose own numbers do not say it is another.
        None when there is none; `numbers` maps REGISTRATION_NUMBERS' fields to values.

        Raises AmbiguousMatch when several answer, rather than guess."""
        for field, label in REGISTRATION_NUMBERS:
            value = numbers.get(field)
            if not value:
                continue
            found = self._found(f"{field}:{_number(value)}")
            if len(found) == 1:
                return OrganisationMatch(found[0], f"its {label} {value}")
            if found:
                raise AmbiguousMatch(
                    f"matches {len(found)} existing organisations by its {label} {value} "
                    f"({_names(found)})"
                )
        found = [
            organisation
            for organisation in self._found("name:" + normalised_name(name))
            if not other_registration(organisation, numbers)
        ]
        if len(found) > 1:
            raise AmbiguousMatch(
                f"matches {len(found)} existing organisations by name ({_names(found)})"
            )
        return OrganisationMatch(found[0], "name") if found else None

    def namesakes(self, name: str) -> list[Organisation]:
        """The existing organisations of this normalised name."""
        return self._found("name:" + normalised_name(name))


def other_registration(organisation: Organisation, numbers: dict[str, str | None]) -> str | None:
    """The label of a registration number both have and that differs, so they are two
    organisations whatever their names; None if none does."""
    for field, label in REGISTRATION_NUMBERS:
        theirs, ours = getattr(organisation, field), numbers.get(field)
        if theirs and ours and _number(theirs) != _number(ours):
            return label
    return None


def _keys(organisation: Organisation) -> list[str]:
    keys = ["name:" + normalised_name(organisation.name)]
    for field, _label in REGISTRATION_NUMBERS:
        value = getattr(organisation, field)
        if value:
            keys.append(f"{field}:{_number(value)}")
    return keys


def _names(organisations: list[Organisation]) -> str:
    return ", ".join(repr(organisation.name) for organisation in organisations)
