"""What can go wrong talking to Stripe, in our words: the gateway raises nothing else."""

from __future__ import annotations


class PaymentGatewayError(Exception):
    """Stripe did not do what we asked. `message` can be shown to the person paying."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        # Stripe's own words (or the network's), for the log: never shown to the person.
        self.detail = detail


class StripeUnavailable(PaymentGatewayError):
    """Stripe could not be reached or did not answer in time (after our retries), answered
    with a server error or a rate limit, or refused the request itself (a key it does not
    know, a request it calls invalid). Nothing was charged by this call; the order is kept
    and can be paid later."""


class CardDeclined(PaymentGatewayError):
    """The card was refused (by its bank, or failing 3-D Secure): `message` is Stripe's
    explanation for the card holder, `decline_code` its code when it gives one."""

    def __init__(self, message: str, *, decline_code: str | None = None, detail: str = "") -> None:
        super().__init__(message, detail=detail)
        self.decline_code = decline_code
