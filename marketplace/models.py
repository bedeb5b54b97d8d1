"""Every table the app knows, imported in one place for Alembic and the tests."""

from marketplace.accounts.models import PasswordResetToken, SignUpRequest, User
from marketplace.api.idempotency import IdempotencyRecord
from marketplace.api.tokens import ApiToken
from marketplace.budgets.models import (
    Funder,
    FunderPot,
    FundingStream,
    Instalment,
    PersonalBudget,
    StreamRevision,
)
from marketplace.ledger.models import LedgerAccount, Transfer
from marketplace.people.models import Person, SupportPlan, SupportPlanItem
from providers.models import (
    Locality,
    Location,
    Organisation,
    OrganisationStatusChange,
    Service,
    ServiceAtLocation,
    StaffInvitation,
    TaxonomyTerm,
)
from providers.search_index import SearchOutboxEntry
from providers.search_log import SearchLogEntry

__all__ = [
    "ApiToken",
    "Funder",
    "FunderPot",
    "FundingStream",
    "IdempotencyRecord",
    "Instalment",
    "LedgerAccount",
    "Locality",
    "Location",
    "Organisation",
    "OrganisationStatusChange",
    "PasswordResetToken",
    "Person",
    "PersonalBudget",
    "SearchLogEntry",
    "SearchOutboxEntry",
    "Service",
    "ServiceAtLocation",
    "SignUpRequest",
    "StaffInvitation",
    "StreamRevision",
    "SupportPlan",
    "SupportPlanItem",
    "TaxonomyTerm",
    "Transfer",
    "User",
]
