"""Fixtures for card payments: a real localstripe server, a gateway to it, signed webhooks.

localstripe runs as its own process (scripts/localstripe_server.py) on a free loopback port,
once per test run, or once per worker under pytest-xdist, each worker with its own port and
its own state file; it is emptied before each test that uses it.
"""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from marketplace.payments.gateway import StripeGateway

LAUNCHER = Path(__file__).resolve().parents[2] / "scripts" / "localstripe_server.py"
SECRET_KEY = "sk_test_localstripe"
PUBLISHABLE_KEY = "pk_test_localstripe"
WEBHOOK_SECRET = "whsec_test_marketplace"
STARTUP_SECONDS = 30


@dataclass
class LocalStripe:
    """A running localstripe: its address, and its process to stop it with."""

    url: str
    process: subprocess.Popen[str]

    def empty(self) -> None:
        """Forget every object (its registered webhooks stay)."""
        requests.delete(f"{self.url}/_config/data", timeout=10).raise_for_status()

    def register_webhook(self, name: str, url: str, secret: str) -> None:
        """Have localstripe send its events to `url`, signed with `secret`."""
        requests.post(
            f"{self.url}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=10
        ).raise_for_status()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_localstripe(folder: Path, *, from_scratch: bool = True) -> LocalStripe:
    """Start localstripe on a free loopback port, keeping its state in `folder` (starting
    from what is there unless `from_scratch`), and wait until it answers."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "localstripe.log").open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(LAUNCHER),
                "--port",
                "0",
                "--state-file",
                str(folder / "localstripe.pickle"),
                *(["--from-scratch"] if from_scratch else []),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        process.wait()
        log_text = (folder / "localstripe.log").read_text()
        raise RuntimeError(f"localstripe did not start: {line!r}\n{log_text}")
    server = LocalStripe(url=line.removeprefix("listening on ").strip(), process=process)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            requests.get(f"{server.url}/js.stripe.com/v3/", timeout=5).raise_for_status()
            return server
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.05)


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """localstripe for the whole run (per xdist worker: tmp_path_factory is the worker's)."""
    server = start_localstripe(tmp_path_factory.mktemp("localstripe"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _empty_localstripe(request: pytest.FixtureRequest) -> None:
    """Each test that uses localstripe starts with it empty."""
    if "localstripe" in request.fixturenames:
        request.getfixturevalue("localstripe").empty()


@pytest.fixture
def gateway(localstripe: LocalStripe) -> StripeGateway:
    """A gateway to localstripe, quick to give up (one retry, short timeouts)."""
    return StripeGateway(
        SECRET_KEY,
        api_base=localstripe.url,
        connect_timeout_seconds=2,
        read_timeout_seconds=10,
        max_network_retries=1,
        allowed_payment_method_types=None,
    )


def signature_header(payload: str | bytes, secret: str, *, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe makes it: `t=…,v1=HMAC-SHA256(secret, "t.payload")`."""
    body = payload.encode() if isinstance(payload, str) else payload
    signed_at = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{signed_at}.".encode() + body, hashlib.sha256)
    return f"t={signed_at},v1={digest.hexdigest()}"


@pytest.fixture
def sign_webhook() -> Callable[..., str]:
    """`sign_webhook(payload, secret, timestamp=None)`: the `Stripe-Signature` header."""
    return signature_header
