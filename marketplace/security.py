"""Sign-in sessions, CSRF, rate limits and the security headers on every response."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from flask import Flask, current_app, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace.extensions import csrf, limiter, login_manager, talisman

# Every script is a file served from our own origin: no inline script, no CDN.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


STRIPE_HOOKS_ORIGIN = "https://hooks.stripe.com"  # Stripe.js's 3-D Secure frames
STRIPE_API_ORIGIN = "https://api.stripe.com"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class PaymentPagePolicy(Mapping[str, str]):
    """The site's policy, plus Stripe's origins for the payment page only: Stripe.js (the
    configured STRIPE_JS_URL's origin) may run, frame the card element and 3-D Secure, and
    talk to Stripe's API (STRIPE_API_BASE, or Stripe's). Read from the app's settings at each
    request, since the origins are configuration (localstripe's in development)."""

    def _policy(self) -> dict[str, str]:
        config = current_app.config
        js = _origin(config["STRIPE_JS_URL"])
        api = _origin(config["STRIPE_API_BASE"]) if config["STRIPE_API_BASE"] else STRIPE_API_ORIGIN
        frames = js if config["STRIPE_API_BASE"] else f"{js} {STRIPE_HOOKS_ORIGIN}"
        return {
            **CONTENT_SECURITY_POLICY,
            "script-src": f"'self' {js}",
            "frame-src": frames,
            "connect-src": f"'self' {api}",
        }

    def __getitem__(self, key: str) -> str:
        return self._policy()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._policy())

    def __len__(self) -> int:
        return len(self._policy())


PAYMENT_PAGE_POLICY = PaymentPagePolicy()


def payment_page_scripts() -> list[str]:
    """The payment page's scripts, all of them (PCI DSS SAQ A: no script but ours and
    Stripe's on the page that takes a card): GOV.UK Frontend's starter on every page, Stripe.js
    from the configured address, and the page's own. A test holds the rendered page to it."""
    return [
        url_for("static", filename="js/app.mjs"),
        current_app.config["STRIPE_JS_URL"],
        url_for("static", filename="js/card-payment.js"),
    ]


def rate_limit_wait() -> int | None:
    """Whole seconds until this request's limits let it through again: the longest wait of
    those it broke or has used up, each at most its own window (so "3 per hour" never asks
    for more than an hour). None when no limit holds it back."""
    # A used-up limit counts though it was not broken: the limiter stops at the first broken
    # limit, and the hour's limit still holds when the minute's is over.
    broken = [limit for limit in limiter.current_limits if limit.breached or limit.remaining == 0]
    if not broken:
        return None
    now = time.time()
    return max(
        min(max(1, math.ceil(limit.reset_at - now)), limit.limit.get_expiry()) for limit in broken
    )


def init_app(app: Flask) -> None:
    from marketplace.accounts import browser_sessions
    from marketplace.accounts.passwords import configure_hashing

    configure_hashing(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_kib=app.config["ARGON2_MEMORY_KIB"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )

    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    browser_sessions.init_app(app)

    csrf.init_app(app)
    _trust_proxies(app, app.config["TRUSTED_PROXY_HOPS"])
    limiter.init_app(app)

    production = app.config["ENVIRONMENT"] == "production"
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=production,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        x_content_type_options=True,
    )


def _trust_proxies(app: Flask, hops: int) -> None:
    """Take the client's address and scheme from the `hops` proxies nearest the app.

    Each trusted proxy appends the address it saw to X-Forwarded-For, so the client's is the
    `hops`-th from the right; anything further left was written by the client and is ignored.
    X-Forwarded-Host is never trusted: a proxy that does not set it passes the client's on,
    which would let a client choose the site's address in the links we email.
    """
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
