"""Every table the app knows, imported in one place for Alembic and the tests."""

from marketplace.accounts.models import PasswordResetToken, SignUpRequest, User
from marketplace.people.models import Person
from providers.models import (
    Location,
    Locality,
    Organisation,
    OrganisationStatusChange,
    Service,
    ServiceAtLocation,
    StaffInvitation,
    TaxonomyTerm,
)

__all__ = [
    "Locality",
    "Location",
    "Organisation",
    "OrganisationStatusChange",
    "PasswordResetToken",
    "Person",
    "Service",
    "ServiceAtLocation",
    "SignUpRequest",
    "StaffInvitation",
    "TaxonomyTerm",
    "User",
]
