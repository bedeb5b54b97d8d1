"""scripts/localstripe_server.py: localstripe on loopback, its state in the file it is given."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.payments.conftest import SECRET_KEY, LocalStripe, start_localstripe


def make_intent(server: LocalStripe) -> str:
    response = requests.post(
        f"{server.url}/v1/payment_intents",
        auth=(SECRET_KEY, ""),
        data={"amount": "1000", "currency": "gbp"},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def found(server: LocalStripe, intent_id: str) -> bool:
    response = requests.get(
        f"{server.url}/v1/payment_intents/{intent_id}", auth=(SECRET_KEY, ""), timeout=10
    )
    return response.status_code == 200


def test_it_listens_on_loopback_only(localstripe: LocalStripe) -> None:
    assert localstripe.url.startswith("http://127.0.0.1:")


def test_each_server_keeps_its_own_state(tmp_path: Path, localstripe: LocalStripe) -> None:
    other = start_localstripe(tmp_path / "other")
    try:
        intent_id = make_intent(other)
        assert found(other, intent_id)
        assert not found(localstripe, intent_id)
        state = (tmp_path / "other" / "localstripe.pickle").read_bytes()
        assert intent_id.encode() in state
        # Not in localstripe's own fixed file, which every copy would share.
        shared = Path("/tmp/localstripe.pickle")  # noqa: S108 - the file we keep away from
        assert not shared.exists() or intent_id.encode() not in shared.read_bytes()
    finally:
        other.stop()


def test_emptying_forgets_everything(localstripe: LocalStripe) -> None:
    intent_id = make_intent(localstripe)
    localstripe.empty()
    assert not found(localstripe, intent_id)


@pytest.mark.parametrize("from_scratch", [False, True])
def test_a_restart_keeps_the_state_unless_asked_not_to(tmp_path: Path, from_scratch: bool) -> None:
    first = start_localstripe(tmp_path / "state", from_scratch=True)
    intent_id = make_intent(first)
    first.stop()
    second = start_localstripe(tmp_path / "state", from_scratch=from_scratch)
    try:
        assert found(second, intent_id) is not from_scratch
    finally:
        second.stop()
