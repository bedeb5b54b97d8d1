"""Every table the app knows, imported in one place for Alembic and the tests."""

from marketplace.accounts.models import PasswordResetToken, SignUpRequest, User
from marketplace.people.models import Person
from providers.models import Locality, Organisation, Service, TaxonomyTerm

__all__ = [
    "Locality",
    "Organisation",
    "PasswordResetToken",
    "Person",
    "Service",
    "SignUpRequest",
    "TaxonomyTerm",
    "User",
]
