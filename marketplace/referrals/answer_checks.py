"""Whether an answer to a self-assessment question is one it takes (issue 20, JOURNEY): every
answer is checked here against `referrals.questions` before it is saved, and again, all of
them, before the assessment is sent. Plain Python: no database, no request."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from marketplace.postcodes import POSTCODE
from marketplace.referrals import questions as q

TEXT_MAX_LENGTH = 200
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A UK phone number as people type it: digits, spaces, brackets, dashes, a leading +.
PHONE = re.compile(r"^\+?[0-9 ()\-]{10,20}$")

# What to say when a text question is left empty (the others say "Enter <short name>").
_ENTER = {
    "who_name": "Enter your name and how you know the person",
    "full_name": "Enter the person's full name",
    "postcode": "Enter a postcode",
}
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"


class AnswerRefused(Exception):
    """An answer that is not one the question takes: `message` for the person, `key` the
    question, `part` the part of a contact answer at fault ("email" or "phone")."""

    def __init__(self, message: str, *, key: str, part: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.part = part


def clean_answer(question: q.Question, value: Any) -> Any:
    """`value` as `question` stores it (trimmed; checkboxes in the question's order; a
    postcode in capitals with its space; a date as ISO text; contact as {"email", "phone"}),
    or raises AnswerRefused saying what to fix."""
    return _CLEANERS[question.kind](question, value)


def problems(answers: dict[str, Any]) -> dict[str, str]:
    """Each question asked (given these answers) that is unanswered or whose answer is not
    valid, with what to do: {key: message}. Empty when the answers can be sent."""
    found: dict[str, str] = {}
    for question in q.questions_asked(answers):
        if question.key not in answers:
            found[question.key] = "Not answered yet"
            continue
        try:
            clean_answer(question, answers[question.key])
        except AnswerRefused as refused:
            found[question.key] = refused.message
    return found


def _select_message(question: q.Question) -> str:
    if question.key == "who":
        return "Select who is filling in this form"
    if question.key in q.OUTCOME_KEYS:
        return f"Select how much help is needed with {question.short.lower()}"
    return f"Select an answer about {question.short.lower()}"


def _radios(question: q.Question, value: Any) -> str:
    if value not in {option for option, _label in question.options}:
        raise AnswerRefused(_select_message(question), key=question.key)
    return str(value)


def _checkboxes(question: q.Question, value: Any) -> list[str]:
    allowed = {option for option, _label in question.options}
    if not isinstance(value, list | tuple) or any(v not in allowed for v in value):
        raise AnswerRefused("Choose only from the options given", key=question.key)
    if question.required and not value:
        raise AnswerRefused(_select_message(question), key=question.key)
    return [option for option, _label in question.options if option in value]


def _text(question: q.Question, value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    limit = int(question.extra.get("max_length", TEXT_MAX_LENGTH))
    if question.required and not text:
        raise AnswerRefused(
            _ENTER.get(question.key, f"Enter {question.short.lower()}"), key=question.key
        )
    if len(text) > limit:
        raise AnswerRefused(
            f"{question.short} must be {limit} characters or fewer", key=question.key
        )
    return text


def _postcode(question: q.Question, value: Any) -> str:
    tidy = value.strip().upper().replace(" ", "") if isinstance(value, str) else ""
    if not tidy:
        raise AnswerRefused(_ENTER["postcode"], key=question.key)
    if not POSTCODE.match(tidy):
        raise AnswerRefused("Enter a real postcode, like SG1 1AA", key=question.key)
    return f"{tidy[:-3]} {tidy[-3:]}"


def _date(question: q.Question, value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise AnswerRefused(f"{question.short} must be a real date", key=question.key) from None


def _contact(question: q.Question, value: Any) -> dict[str, str]:
    given = value if isinstance(value, dict) else {}
    email = str(given.get("email") or "").strip()
    phone = str(given.get("phone") or "").strip()
    if not email and not phone:
        raise AnswerRefused(
            "Enter an email address or a phone number", key=question.key, part="email"
        )
    if email and (len(email) > 254 or not EMAIL.match(email)):
        raise AnswerRefused(EMAIL_FORMAT, key=question.key, part="email")
    if phone and not PHONE.match(phone):
        raise AnswerRefused(
            "Enter a phone number, like 01632 960 001 or 07700 900 982",
            key=question.key,
            part="phone",
        )
    return {"email": email, "phone": phone}


_CLEANERS: dict[str, Callable[[q.Question, Any], Any]] = {
    "radios": _radios,
    "checkboxes": _checkboxes,
    "text": _text,
    "textarea": _text,
    "postcode": _postcode,
    "date": _date,
    "contact": _contact,
}
