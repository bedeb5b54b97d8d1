"""What a sign-up that waits for its emailed link keeps of the link.

Apart from the accounts package so that the records it is mixed into in other packages (a
person's record claim, a provider's registration) can import it without importing the accounts
package's views first.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.types import UTCDateTime, utcnow


class EmailedLink:
    """What a sign-up that waits for its emailed link keeps of the link: the token's hash (the
    token itself is only in the email), when it was made, when it expires and when it was used.
    A citizen's sign-up (`SignUpRequest`) and a provider's registration
    (`providers.registration.ProviderRegistration`) both are one; `accounts.service` starts
    and finishes both the same way (`begin_sign_up`, `follow_sign_up_link`)."""

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The column that holds the address the link was sent to (each kind names its own).
    email_column: ClassVar[str]

    def email_address(self) -> str:
        """The address the link was sent to, which the account will have."""
        return str(getattr(self, self.email_column))
