"""Configuration from environment variables, with safe defaults.

Every piece of local state (the SQLite database, the search index, the development mail
outbox, uploads, the development secret key) lives under one instance folder, so two copies
of the app can run side by side and tests never touch a developer's data.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from marketplace import encryption

ENVIRONMENTS = ("development", "testing", "production")


class ConfigurationError(RuntimeError):
    """The environment asks for something the app refuses to run with."""


def instance_path_from_env() -> Path:
    """The instance folder: `INSTANCE_PATH`, or `instance/` beside the code."""
    configured = os.environ.get("INSTANCE_PATH")
    if configured:
        return Path(configured).resolve()
    return (Path(__file__).resolve().parent.parent / "instance").resolve()


def _development_secret_key(instance_path: Path) -> str:
    """A random key kept in the instance folder, so sessions survive a restart."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


# A production key must be long and varied: "k" * 40 or "abab..." is long but guessable.
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_DISTINCT_CHARACTERS = 10


def _weak_secret_key(key: str | None) -> bool:
    """True for a missing, short, placeholder or repetitive key (too few distinct characters;
    `secrets.token_hex(32)` has 16, `token_urlsafe` dozens)."""
    return (
        not key
        or len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < MIN_SECRET_KEY_DISTINCT_CHARACTERS
        or key.lower() in {"changeme", "secret"}
    )


def _data_encryption_keys(
    setting: str | list[str] | None, instance_path: Path, *, production: bool
) -> list[str]:
    """The configured Fernet keys; in development and tests, a random one kept in the
    instance folder when none is configured. Production refuses to start without them."""
    if isinstance(setting, list):
        setting = ",".join(setting)
    if not setting:
        if production:
            raise ConfigurationError(
                "DATA_ENCRYPTION_KEYS must be set in production: one or more Fernet keys, "
                "comma-separated, the newest first (python -c 'from cryptography.fernet "
                "import Fernet; print(Fernet.generate_key().decode())')"
            )
        return encryption.development_keys(instance_path)
    try:
        return encryption.keys_from_setting(setting)
    except encryption.EncryptionKeyError as error:
        raise ConfigurationError(f"DATA_ENCRYPTION_KEYS: {error}") from error


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _one_of(name: str, allowed: tuple[str, ...]) -> str:
    """The variable's value if it is one of `allowed` (the first is the default)."""
    value = os.environ.get(name, allowed[0]).strip().lower()
    if value not in allowed:
        raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _positive(name: str, default: int) -> int:
    """The variable as a whole number of at least 1 (a retention period of 0 would delete
    everything of its kind at once)."""
    value = os.environ.get(name, str(default)).strip()
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


# PAYRUNS (issue 19): the payers a council may name a fallback cost centre for.
COST_CENTRE_PAYERS = ("council", "nhs", "reablement", "own", "card")


def _cost_centres(name: str) -> dict[str, str]:
    """ "council=AC100,nhs=HC200,own=CC300,card=CC310" as a mapping; payers not named have
    none ("")."""
    found = dict.fromkeys(COST_CENTRE_PAYERS, "")
    for part in os.environ.get(name, "").split(","):
        if not part.strip():
            continue
        payer, _, centre = part.partition("=")
        payer, centre = payer.strip().lower(), centre.strip()
        if payer not in found or not centre or len(centre) > 40:
            raise ConfigurationError(
                f"{name} takes payer=cost centre pairs (payers: {', '.join(COST_CENTRE_PAYERS)}; "
                f"a cost centre of 1 to 40 characters), not {part.strip()!r}"
            )
        found[payer] = centre
    return found


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the app's configuration from the environment and `overrides`.

    Raises ConfigurationError when production is asked for with a weak SECRET_KEY (missing,
    short or repetitive), without a mail server (the development outbox would keep
    password-reset links where an admin can read them) or without DATA_ENCRYPTION_KEYS (a
    key kept beside the database would protect nothing); and whenever a data encryption key
    given is not a Fernet key.
    """
    overrides = dict(overrides or {})
    environment = overrides.get("ENVIRONMENT") or os.environ.get("MARKETPLACE_ENV", "development")
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(
            f"MARKETPLACE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}"
        )
    production = environment == "production"

    secret_key = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if production:
        if _weak_secret_key(secret_key):
            raise ConfigurationError(
                f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} "
                f"characters, with at least {MIN_SECRET_KEY_DISTINCT_CHARACTERS} different ones, "
                "in production (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        mail_server = overrides.get("MAIL_SERVER", os.environ.get("MAIL_SERVER", ""))
        if not str(mail_server).strip():
            raise ConfigurationError(
                "MAIL_SERVER must be set in production: without it emails, password-reset "
                "links among them, are written to the development outbox that admins can read"
            )
    elif not secret_key:
        secret_key = _development_secret_key(instance_path)

    encryption_keys = _data_encryption_keys(
        # Taken out of the overrides: they are checked here, and kept as the list of keys.
        overrides.pop("DATA_ENCRYPTION_KEYS", None) or os.environ.get("DATA_ENCRYPTION_KEYS"),
        instance_path,
        production=production,
    )

    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'marketplace.db'}"
    # Heroku-style URLs name the old driver; psycopg 3 is what we install.
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    config: dict[str, Any] = {
        "ENVIRONMENT": environment,
        "SECRET_KEY": secret_key,
        # Fernet keys for the values encrypted at rest (a person's key safe code and access
        # notes): the first encrypts, all decrypt, so a new key goes first and an old one
        # stays until `flask people reencrypt` has run.
        "DATA_ENCRYPTION_KEYS": encryption_keys,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SERVICE_NAME": os.environ.get("SERVICE_NAME", "Care and support marketplace"),
        "COUNCIL_NAME": os.environ.get("COUNCIL_NAME", "Hertfordshire County Council"),
        # Shown where people may need a person to talk to, such as a search that found nothing.
        "COUNCIL_PHONE": os.environ.get("COUNCIL_PHONE", "0300 123 4042"),
        # A purchase from a personal budget outside the person's support plan: "refuse" it, or
        # send it to a council officer for "approval".
        "OUT_OF_PLAN_PURCHASES": _one_of("OUT_OF_PLAN_PURCHASES", ("approval", "refuse")),
        # Whether a budget holder may pay by card what their budget cannot cover (councils
        # differ), and how long an order waits for its card payment before it is cancelled.
        "CARD_TOP_UPS_ALLOWED": _flag("CARD_TOP_UPS_ALLOWED", False),
        "PAYMENT_EXPIRY_MINUTES": _positive("PAYMENT_EXPIRY_MINUTES", 60),
        # Recurring care by card: how many days before a cycle starts its card share is charged.
        "CARD_CHARGE_DAYS_BEFORE": _positive("CARD_CHARGE_DAYS_BEFORE", 3),
        # PACKAGES (issue 18): how many days before a package's cycle starts a cycle its
        # budget cannot cover is flagged to the person, the council and the provider.
        "PACKAGE_SHORTFALL_NOTICE_DAYS": _positive("PACKAGE_SHORTFALL_NOTICE_DAYS", 7),
        # How many invoicing cycles ahead a new package holds its money (1 to 4): more is
        # safer against a late instalment, and holds more of the budget earlier.
        "PACKAGE_CYCLES_AHEAD": min(_positive("PACKAGE_CYCLES_AHEAD", 1), 4),
        # REABLEMENT (issue 18): the longest reablement episode an officer may start, in weeks.
        "REABLEMENT_MAX_WEEKS": _positive("REABLEMENT_MAX_WEEKS", 6),
        # FIGURES (issue 20): a self-assessment still in progress and untouched for this many
        # days counts as abandoned in the council's figures.
        "FRONT_DOOR_ABANDONED_DAYS": _positive("FRONT_DOOR_ABANDONED_DAYS", 28),
        # QUEUES (issue 19): a support plan's review is due this many months after it is
        # approved; once that day has passed the plan is in the council's work queues.
        "PLAN_REVIEW_MONTHS": min(_positive("PLAN_REVIEW_MONTHS", 12), 60),
        # VISITS (issue 20): a review sooner than PLAN_REVIEW_MONTHS for a person's first plan,
        # the first plan after leaving hospital, and (every plan) at the end of life, in weeks;
        # review visits are booked this many days before the due date.
        "FIRST_PLAN_REVIEW_WEEKS": _positive("FIRST_PLAN_REVIEW_WEEKS", 8),
        "HOSPITAL_REVIEW_WEEKS": _positive("HOSPITAL_REVIEW_WEEKS", 6),
        "END_OF_LIFE_REVIEW_WEEKS": _positive("END_OF_LIFE_REVIEW_WEEKS", 4),
        "REVIEW_BOOKING_DAYS_AHEAD": _positive("REVIEW_BOOKING_DAYS_AHEAD", 28),
        # VISITS (issue 20): reminders go this many hours before a visit; a freed slot is
        # offered to the next referral that fits for this many hours.
        "VISIT_REMINDER_HOURS": _positive("VISIT_REMINDER_HOURS", 48),
        "VISIT_OFFER_HOURS": _positive("VISIT_OFFER_HOURS", 24),
        # CLOSE (issue 19): what a period end does with a budget's unspent money unless the
        # officer chooses otherwise for a run: "return" it to each funder (and the person's own
        # to them), or "carry_forward" into the person's next budget where there is one.
        "PERIOD_END_UNSPENT_RULE": _one_of("PERIOD_END_UNSPENT_RULE", ("return", "carry_forward")),
        # RECON (issue 19): how far (in percent of a budget's whole amount) its spending may be
        # from the point reached in its period before the reconciliation flags it over or under.
        "RECONCILIATION_TOLERANCE_PERCENT": min(
            _positive("RECONCILIATION_TOLERANCE_PERCENT", 10), 100
        ),
        # PAYRUNS (issue 19): the cost centre a payment run books a payer's money to when the
        # funder's pot line and the funder name none: per funder kind, reablement, the
        # person's own money and card money ("council=AC100,nhs=HC200,own=CC300,card=CC310").
        "PAYMENT_COST_CENTRES": _cost_centres("PAYMENT_COST_CENTRES"),
        # JOURNEY (issue 20): how many days a self-assessment's "save and come back later"
        # link works for (a new link replaces the old one).
        "FRONT_DOOR_RESUME_DAYS": _positive("FRONT_DOOR_RESUME_DAYS", 28),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "587")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", True),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "marketplace@example.org"),
        # The site's address, for links in emails sent outside a request (scheduled jobs).
        "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1:5000"),
        "MAIL_OUTBOX_PATH": str(instance_path / "mail-outbox"),
        # argon2-cffi's defaults: RFC 9106's second recommended (low-memory) profile.
        "ARGON2_TIME_COST": int(os.environ.get("ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_KIB": int(os.environ.get("ARGON2_MEMORY_KIB", "65536")),
        "ARGON2_PARALLELISM": int(os.environ.get("ARGON2_PARALLELISM", "4")),
        "PASSWORD_RESET_MAX_AGE_SECONDS": int(os.environ.get("PASSWORD_RESET_MAX_AGE", "3600")),
        # The largest request body accepted, in bytes; a larger one is answered 413 before it is
        # read. Forms and API JSON are a few kilobytes; directory imports are read from disk by
        # `flask directory import`, never uploaded.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Every limit of a route is counted and checked on each attempt, not only those up to
        # the first one broken: the "Too many attempts" page and Retry-After then know when
        # the hour's limit is used up too, and say the whole wait (security.rate_limit_wait).
        "RATELIMIT_FAIL_ON_FIRST_BREACH": False,
        "SIGN_IN_RATE_LIMIT": os.environ.get("SIGN_IN_RATE_LIMIT", "10 per minute; 50 per hour"),
        # Failed sign-ins per account (the email tried), from whatever address: a guesser with
        # many addresses is held back too.
        "SIGN_IN_ACCOUNT_RATE_LIMIT": os.environ.get(
            "SIGN_IN_ACCOUNT_RATE_LIMIT", "5 per minute; 20 per hour"
        ),
        # How many proxies in front of the app append to X-Forwarded-For and set
        # X-Forwarded-Proto (0: none, and those headers are ignored, since any client can send
        # them). The client's address, which rate limits count by, is then the one the nearest
        # of those proxies saw.
        "TRUSTED_PROXY_HOPS": int(os.environ.get("TRUSTED_PROXY_HOPS", "0")),
        "SIGN_UP_RATE_LIMIT": os.environ.get("SIGN_UP_RATE_LIMIT", "5 per minute; 30 per hour"),
        "RESET_RATE_LIMIT": os.environ.get("RESET_RATE_LIMIT", "5 per minute; 20 per hour"),
        # Questions to a provider, and messages in a thread: each emails the provider's staff.
        "QUESTION_RATE_LIMIT": os.environ.get("QUESTION_RATE_LIMIT", "10 per minute; 60 per hour"),
        # Suggestions as you type: a request for each pause in typing, so far more than a
        # form's; per address, and an office behind one address has several people typing.
        "SUGGESTION_RATE_LIMIT": os.environ.get(
            "SUGGESTION_RATE_LIMIT", "300 per minute; 5000 per hour"
        ),
        # QUEUES (issue 19): reports of a listing by the public, per address (each tells the
        # council's officers).
        "LISTING_REPORT_RATE_LIMIT": os.environ.get(
            "LISTING_REPORT_RATE_LIMIT", "5 per minute; 20 per hour"
        ),
        # A signed-in session ends after this long without a request, and this long after
        # sign-in whatever happens (docs/decisions.md says why these defaults).
        "SESSION_IDLE_TIMEOUT": timedelta(
            minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
        ),
        "SESSION_ABSOLUTE_TIMEOUT": timedelta(
            hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))
        ),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WTF_CSRF_TIME_LIMIT": None,
        "FORCE_HTTPS": production and _flag("FORCE_HTTPS", True),
        # Retention (marketplace/retention.py, `flask retention run`; docs/decisions.md says
        # why these defaults): a person's details are anonymised this many years after their
        # last budget closed (money records are never deleted); search log entries and
        # notifications are deleted after these many days; links (password resets, sign-ups,
        # registrations, invitations) this many days after they were used or expired.
        "RETENTION_CLOSED_BUDGET_YEARS": _positive("RETENTION_CLOSED_BUDGET_YEARS", 6),
        "RETENTION_SEARCH_LOG_DAYS": _positive("RETENTION_SEARCH_LOG_DAYS", 730),
        "RETENTION_NOTIFICATION_DAYS": _positive("RETENTION_NOTIFICATION_DAYS", 365),
        "RETENTION_EXPIRED_LINK_DAYS": _positive("RETENTION_EXPIRED_LINK_DAYS", 7),
        "SEARCH_ENGINE": os.environ.get("SEARCH_ENGINE", "whoosh"),
        # How stale a worker's search index may be before a search first catches up with the
        # other machines' listing changes (one indexed query of the shared outbox): the longest
        # a change made on another machine takes to show here, plus the catching up.
        "SEARCH_SYNC_SECONDS": float(os.environ.get("SEARCH_SYNC_SECONDS", "0.5")),
        "SEARCH_INDEX_PATH": os.environ.get("SEARCH_INDEX_PATH")
        or str(instance_path / "search-index"),
        "SEARCH_WRITER_TIMEOUT": float(os.environ.get("SEARCH_WRITER_TIMEOUT", "10")),
        # Card payments (docs/payments.md). Production needs the three keys and no API base;
        # `make run` without a key starts localstripe and sets STRIPE_API_BASE to it.
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", ""),
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL", ""),
        # Each request to Stripe: seconds to connect, seconds to wait for the answer, and how
        # many times a failed one is tried again (with exponential backoff from half a second).
        "STRIPE_CONNECT_TIMEOUT_SECONDS": float(
            os.environ.get("STRIPE_CONNECT_TIMEOUT_SECONDS", "5")
        ),
        "STRIPE_TIMEOUT_SECONDS": float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "20")),
        "STRIPE_MAX_NETWORK_RETRIES": int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "2")),
        # Stripe's deliveries come from a few addresses; a flood from one is not Stripe.
        "STRIPE_WEBHOOK_RATE_LIMIT": os.environ.get("STRIPE_WEBHOOK_RATE_LIMIT", "600 per minute"),
        "TESTING": environment == "testing",
    }
    config.update(overrides)
    if config["TRUSTED_PROXY_HOPS"] < 0:
        raise ConfigurationError(
            f"TRUSTED_PROXY_HOPS cannot be negative, not {config['TRUSTED_PROXY_HOPS']}"
        )
    return config
