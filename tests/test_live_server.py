"""The browser tests' server wrapper closes each response before the server writes it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from tests.live_server import closing_each_response, serving


class Body:
    """A response body that records when it is closed, as send_file's file wrapper would."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def __iter__(self) -> Iterator[bytes]:
        self.events.append("read")
        yield b"hello, "
        yield b"world"

    def close(self) -> None:
        self.events.append("closed")


def test_the_response_is_read_whole_and_closed_before_it_is_returned() -> None:
    events: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body(events)

    body = closing_each_response(app)({}, lambda status, headers: None)  # type: ignore[arg-type]

    assert events == ["read", "closed"]
    assert list(body) == [b"hello, world"]


def test_a_served_app_answers_and_its_responses_are_closed() -> None:
    events: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body(events)

    with serving(app) as url:  # type: ignore[arg-type]
        answer = requests.get(url, timeout=10)

    assert answer.text == "hello, world"
    assert events == ["read", "closed"]
