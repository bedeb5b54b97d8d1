"""Stripe, as the rules see it: PaymentIntents and refunds in pence, in our own words.

A thin layer over the official SDK's `stripe.StripeClient`, built from plain values (never
from Flask: `marketplace/payments_setup.py` reads the app's configuration and builds it).
Every call has a connect and a read timeout and is retried with the SDK's exponential backoff
(connection errors, timeouts, 409s and 5xx); a create or refund carries our idempotency key,
so a retry, or a second attempt after a crash, never charges or refunds twice. Answers are
small frozen records, never SDK objects; errors are `StripeUnavailable` or `CardDeclined`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import stripe
from stripe.params import (
    CustomerCreateParams,
    PaymentIntentCreateParams,
    RefundCreateParams,
    SetupIntentCreateParams,
)

from marketplace.payments.errors import CardDeclined, StripeUnavailable

CURRENCY = "gbp"
UNAVAILABLE_MESSAGE = (
    "Card payments are not working at the moment. Nothing has been charged: "
    "your order is kept, and you can pay for it later."
)
DECLINED_MESSAGE = "Your card was declined. Try another card, or contact your bank."

log = logging.getLogger(__name__)

Answer = TypeVar("Answer")


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent as Stripe last told us. `status` is Stripe's word (`succeeded`,
    `requires_action`, `requires_payment_method`, `processing`, `canceled`...)."""

    id: str
    status: str
    amount_pence: int
    currency: str
    client_secret: str | None
    metadata: Mapping[str, str]
    latest_charge_id: str | None


@dataclass(frozen=True)
class RefundResult:
    """A refund Stripe accepted: `status` is `succeeded`, `pending`, `failed`..."""

    id: str
    status: str
    amount_pence: int
    intent_id: str | None


@dataclass(frozen=True)
class Charge:
    """A charge as Stripe lists it, for reconciliation: `refunded_pence` is what Stripe has
    refunded of it so far; `intent_id` is None for a charge made outside any PaymentIntent."""

    id: str
    status: str
    amount_pence: int
    currency: str
    refunded_pence: int
    intent_id: str | None
    balance_transaction_id: str | None
    created: datetime
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class ListedIntent:
    """A PaymentIntent as Stripe lists it, with its latest charge, for reconciliation."""

    id: str
    status: str
    amount_pence: int
    currency: str
    metadata: Mapping[str, str]
    created: datetime
    charge: Charge | None


@dataclass(frozen=True)
class Refund:
    """A refund as Stripe lists it."""

    id: str
    status: str
    amount_pence: int
    currency: str
    charge_id: str | None
    intent_id: str | None
    created: datetime


@dataclass(frozen=True)
class BalanceTransaction:
    """A movement of our Stripe balance: `type` is `charge` or `refund` (among others),
    `source_id` the charge or refund that made it; a refund's `amount_pence` is negative."""

    id: str
    type: str
    amount_pence: int
    currency: str
    source_id: str | None
    created: datetime


@dataclass(frozen=True)
class CardSetup:
    """A SetupIntent as Stripe last told us: saving a card for later charges. `status` is
    Stripe's word (`succeeded`, `requires_payment_method`, `requires_action`, `canceled`...);
    `payment_method` the saved card, once there is one."""

    id: str
    status: str
    customer_id: str | None
    payment_method: str | None
    client_secret: str | None
    metadata: Mapping[str, str]


# A page of a Stripe list: the most Stripe gives at once.
PAGE_SIZE = 100


class StripeGateway:
    """PaymentIntents and refunds at one Stripe account (or localstripe, given `api_base`)."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str | None = None,
        connect_timeout_seconds: float = 5.0,
        read_timeout_seconds: float = 20.0,
        max_network_retries: int = 2,
        allowed_payment_method_types: Sequence[str] | None = ("card",),
    ) -> None:
        """`allowed_payment_method_types`: what a PaymentIntent may be paid with (cards),
        sent as Stripe's current API names it; None for localstripe, which speaks an older
        API and refuses the parameter (the card element pays with a card either way)."""
        self._allowed_payment_method_types = allowed_payment_method_types
        # Stripe itself lists objects created since a time (`created[gte]`); localstripe
        # refuses the parameter on most lists, so there the lists are filtered here only.
        self._lists_filter_by_created = api_base is None
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(
                timeout=(connect_timeout_seconds, read_timeout_seconds)
            ),
        )

    def create_payment_intent(
        self,
        *,
        amount_pence: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
        payment_method: str | None = None,
        customer: str | None = None,
        confirm: bool = False,
        off_session: bool = False,
    ) -> Intent:
        """Create a PaymentIntent for `amount_pence` in GBP, carrying `metadata`.

        With `confirm` (and a `payment_method`) it is charged at once; `off_session` says the
        person is not there (a saved card for a recurring cycle). The same `idempotency_key`
        gives the same PaymentIntent for 24 hours at Stripe. Raises CardDeclined when a
        confirmed charge is refused, StripeUnavailable otherwise.
        """
        if amount_pence <= 0:
            raise ValueError(f"a payment is of at least 1p, not {amount_pence}")
        params: PaymentIntentCreateParams = {
            "amount": amount_pence,
            "currency": CURRENCY,
            "metadata": dict(metadata),
        }
        if self._allowed_payment_method_types is not None:
            params["allowed_payment_method_types"] = list(  # type: ignore[typeddict-item]
                self._allowed_payment_method_types
            )
        if payment_method is not None:
            params["payment_method"] = payment_method
        if customer is not None:
            params["customer"] = customer
        if confirm:
            params["confirm"] = True
            if off_session:
                params["off_session"] = True
        intent = self._call(
            lambda: self._client.v1.payment_intents.create(
                params=params,
                options={"idempotency_key": idempotency_key},
            )
        )
        return _intent(intent)

    def create_customer(
        self, *, idempotency_key: str, metadata: Mapping[str, str], email: str | None = None
    ) -> str:
        """Make a Stripe Customer (whose saved cards can be charged later) and return its id.
        The same `idempotency_key` gives the same customer. Raises StripeUnavailable."""
        params: CustomerCreateParams = {"metadata": dict(metadata)}
        if email:
            params["email"] = email
        customer = self._call(
            lambda: self._client.v1.customers.create(
                params=params,
                options={"idempotency_key": idempotency_key},
            )
        )
        return str(customer.to_dict()["id"])

    def create_setup_intent(
        self, *, customer_id: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> CardSetup:
        """A SetupIntent to save a card to the customer for charges made while the person is
        away (`usage=off_session`): the card element confirms it in the browser
        (`confirmCardSetup`, 3-D Secure included). Raises StripeUnavailable."""
        params: SetupIntentCreateParams = {
            "customer": customer_id,
            "usage": "off_session",
            "metadata": dict(metadata),
        }
        if self._allowed_payment_method_types is not None:
            # Cards only, as for PaymentIntents (localstripe takes cards without being told).
            params["allowed_payment_method_types"] = list(self._allowed_payment_method_types)
        answer = self._call(
            lambda: self._client.v1.setup_intents.create(
                params=params,
                options={"idempotency_key": idempotency_key},
            )
        )
        return _card_setup(answer)

    def retrieve_setup_intent(self, setup_id: str) -> CardSetup:
        """The SetupIntent as Stripe has it now. Raises StripeUnavailable."""
        return _card_setup(self._call(lambda: self._client.v1.setup_intents.retrieve(setup_id)))

    def confirm_setup_intent(self, setup_id: str, *, payment_method: str) -> CardSetup:
        """Confirm a SetupIntent with a card already tokenised (localstripe's fake Stripe.js,
        and tests): what `confirmCardSetup` does in a real browser. Raises CardDeclined,
        StripeUnavailable."""
        return _card_setup(
            self._call(
                lambda: self._client.v1.setup_intents.confirm(
                    setup_id, params={"payment_method": payment_method}
                )
            )
        )

    def retrieve_payment_intent(self, intent_id: str) -> Intent:
        """The PaymentIntent as Stripe has it now. Raises StripeUnavailable."""
        return _intent(self._call(lambda: self._client.v1.payment_intents.retrieve(intent_id)))

    def attach_and_confirm(self, intent_id: str, *, payment_method: str) -> Intent:
        """Pay a PaymentIntent with `payment_method` (a card localstripe's fake Stripe.js
        tokenised in the browser): set it on the intent, then confirm. The answer may ask for
        3-D Secure (`requires_action`). Two steps, because localstripe refuses a confirm that
        names the payment method. Raises CardDeclined, StripeUnavailable."""
        self._call(
            lambda: self._client.v1.payment_intents.update(
                intent_id, params={"payment_method": payment_method}
            )
        )
        return _intent(self._call(lambda: self._client.v1.payment_intents.confirm(intent_id)))

    def cancel_payment_intent(self, intent_id: str) -> Intent:
        """Cancel a PaymentIntent not yet paid (nothing can be charged on it after). Raises
        StripeUnavailable, also when Stripe refuses because it has succeeded meanwhile."""
        return _intent(self._call(lambda: self._client.v1.payment_intents.cancel(intent_id)))

    def refund(
        self,
        *,
        intent_id: str,
        amount_pence: int,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> RefundResult:
        """Refund `amount_pence` of a succeeded PaymentIntent to its card (part or all).

        The same `idempotency_key` gives the same refund, never a second one. Raises
        StripeUnavailable.
        """
        if amount_pence <= 0:
            raise ValueError(f"a refund is of at least 1p, not {amount_pence}")
        params: RefundCreateParams = {"payment_intent": intent_id, "amount": amount_pence}
        if metadata:
            params["metadata"] = dict(metadata)
        answer = self._call(
            lambda: self._client.v1.refunds.create(
                params=params,
                options={"idempotency_key": idempotency_key},
            )
        )
        refund = answer.to_dict()
        return RefundResult(
            id=refund["id"],
            status=refund["status"],
            amount_pence=refund["amount"],
            intent_id=_id_of(refund.get("payment_intent")),
        )

    def list_payment_intents(self, *, created_from: datetime | None = None) -> list[ListedIntent]:
        """Every PaymentIntent created at or after `created_from` (all, given None), each with
        its latest charge. Raises StripeUnavailable."""
        return [
            _listed_intent(item)
            for item in self._list_all(
                self._client.v1.payment_intents.list,
                created_from,
                expand=["data.latest_charge"],
            )
        ]

    def find_payment_intent(self, intent_id: str) -> ListedIntent | None:
        """The PaymentIntent with its latest charge, or None when Stripe has none of that id.
        Raises StripeUnavailable."""

        def fetch() -> Any:
            try:
                return self._client.v1.payment_intents.retrieve(
                    intent_id, params={"expand": ["latest_charge"]}
                )
            except stripe.InvalidRequestError as error:
                if error.http_status == 404:
                    return None
                raise

        answer = self._call(fetch)
        return None if answer is None else _listed_intent(answer.to_dict())

    def list_charges(self, *, created_from: datetime | None = None) -> list[Charge]:
        """Every charge created at or after `created_from`. Raises StripeUnavailable."""
        return [
            _charge(item) for item in self._list_all(self._client.v1.charges.list, created_from)
        ]

    def list_refunds(self, *, created_from: datetime | None = None) -> list[Refund]:
        """Every refund created at or after `created_from`. Raises StripeUnavailable."""
        return [
            Refund(
                id=item["id"],
                status=item["status"],
                amount_pence=item["amount"],
                currency=item["currency"],
                charge_id=_id_of(item.get("charge")),
                intent_id=_id_of(item.get("payment_intent")),
                created=_moment(item["created"]),
            )
            for item in self._list_all(self._client.v1.refunds.list, created_from)
        ]

    def list_balance_transactions(
        self, *, created_from: datetime | None = None
    ) -> list[BalanceTransaction]:
        """Every balance transaction created at or after `created_from`. Raises
        StripeUnavailable."""
        return [
            BalanceTransaction(
                id=item["id"],
                type=item["type"],
                amount_pence=item["amount"],
                currency=item["currency"],
                source_id=_id_of(item.get("source")),
                created=_moment(item["created"]),
            )
            for item in self._list_all(self._client.v1.balance_transactions.list, created_from)
        ]

    def _list_all(
        self, lister: Callable[..., Any], created_from: datetime | None, **extra: Any
    ) -> list[dict[str, Any]]:
        """Every object of a Stripe list, page by page, as plain dicts, oldest first."""
        params: dict[str, Any] = {"limit": PAGE_SIZE, **extra}
        since = None if created_from is None else int(created_from.timestamp())
        if since is not None and self._lists_filter_by_created:
            params["created"] = {"gte": since}
        items: list[dict[str, Any]] = []
        while True:
            page = self._call(partial(lister, params=params))
            batch = [item.to_dict() for item in page.data]
            items += batch
            if not page.has_more or not batch:
                break
            params = {**params, "starting_after": batch[-1]["id"]}
        if since is not None:
            items = [item for item in items if item["created"] >= since]
        return sorted(items, key=lambda item: (item["created"], item["id"]))

    def _call(self, request: Callable[[], Answer]) -> Answer:
        """Make one request (the SDK retries it), turning the SDK's errors into ours."""
        try:
            return request()
        except stripe.CardError as error:
            log.info("Stripe declined a card: %s (%s)", error.user_message, error.code)
            raise CardDeclined(
                error.user_message or DECLINED_MESSAGE,
                decline_code=(error.error.decline_code if error.error else None) or error.code,
                detail=str(error),
            ) from error
        except stripe.StripeError as error:
            # Timeouts and refused connections (after the SDK's retries), 5xx, 429, and the
            # requests Stripe refuses (a bad key, an invalid request): for the person paying
            # all are "try later"; the log says which.
            log.warning("Stripe did not do what we asked: %r", error)
            raise StripeUnavailable(UNAVAILABLE_MESSAGE, detail=str(error)) from error


def _id_of(value: Any) -> str | None:
    """An id Stripe gave as an id, or inside an expanded object (localstripe expands)."""
    if value is None or isinstance(value, str):
        return value
    return str(value["id"])


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _charge(charge: Mapping[str, Any]) -> Charge:
    return Charge(
        id=charge["id"],
        status=charge["status"],
        amount_pence=charge["amount"],
        currency=charge["currency"],
        refunded_pence=charge.get("amount_refunded") or 0,
        intent_id=_id_of(charge.get("payment_intent")),
        balance_transaction_id=_id_of(charge.get("balance_transaction")),
        created=_moment(charge["created"]),
        metadata={str(key): str(value) for key, value in (charge.get("metadata") or {}).items()},
    )


def _listed_intent(intent: Mapping[str, Any]) -> ListedIntent:
    latest = intent.get("latest_charge")
    return ListedIntent(
        id=intent["id"],
        status=intent["status"],
        amount_pence=intent["amount"],
        currency=intent["currency"],
        metadata={str(key): str(value) for key, value in (intent["metadata"] or {}).items()},
        created=_moment(intent["created"]),
        # Expanded at our asking (localstripe always expands it); an id alone says too little.
        charge=_charge(latest) if isinstance(latest, Mapping) else None,
    )


def _card_setup(answer: Any) -> CardSetup:
    setup = answer.to_dict()
    return CardSetup(
        id=setup["id"],
        status=setup["status"],
        customer_id=_id_of(setup.get("customer")),
        payment_method=_id_of(setup.get("payment_method")),
        client_secret=setup.get("client_secret"),
        metadata={str(key): str(value) for key, value in (setup.get("metadata") or {}).items()},
    )


def _intent(answer: Any) -> Intent:
    intent = answer.to_dict()
    return Intent(
        id=intent["id"],
        status=intent["status"],
        amount_pence=intent["amount"],
        currency=intent["currency"],
        client_secret=intent["client_secret"],
        metadata={str(key): str(value) for key, value in intent["metadata"].items()},
        latest_charge_id=_id_of(intent.get("latest_charge")),
    )
