"""A rule's refusal on a form (marketplace.forms.show_refusal): one way for every view."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField

from marketplace.forms import refusal_message, show_refusal
from marketplace.orders.errors import InvalidOrder, InvalidTransition
from providers.staff import StaffChangeRefused


class _ReasonForm(Form):
    reason = StringField("Reason")
    amount = StringField("Amount")


def test_a_refusal_begins_with_a_capital_as_govuk_errors_do() -> None:
    refused = InvalidTransition("the split adds up to 900p, not 1000p")
    assert refusal_message(refused) == "The split adds up to 900p, not 1000p"


def test_a_refusal_that_is_a_plain_error_shows_its_text() -> None:
    assert refusal_message(StaffChangeRefused("an owner cannot remove themselves")) == (
        "An owner cannot remove themselves"
    )


def test_on_a_field_it_shows_what_the_refusal_says_about_that_field() -> None:
    # A prefixed form (the council's refusal form is "refuse-reason") names fields by their
    # short name, as the rules do.
    form = _ReasonForm(MultiDict(), prefix="refuse")
    form.validate()
    refused = InvalidOrder("Check the order", fields={"reason": "enter why you refuse it"})
    show_refusal(form.reason, refused)
    show_refusal(form.amount, refused)
    assert form.reason.errors == ["Enter why you refuse it"]
    assert form.amount.errors == ["Check the order"]


def test_on_a_field_not_yet_validated_it_is_still_an_error_of_the_field() -> None:
    form = _ReasonForm(MultiDict())
    show_refusal(form.reason, InvalidTransition("this order is already cancelled"))
    assert list(form.reason.errors) == ["This order is already cancelled"]
    assert form.errors == {"reason": ["This order is already cancelled"]}


def test_on_a_form_it_goes_above_the_form() -> None:
    form = _ReasonForm(MultiDict())
    form.validate()
    show_refusal(form, InvalidTransition("this order is already cancelled"))
    assert form.form_errors == ["This order is already cancelled"]
    assert list(form.errors.values()) == [["This order is already cancelled"]]
    assert form.reason.errors == []
