"""The form for a person's details, the same for the person and for an officer acting for
them: date of birth (GOV.UK date input), address (GOV.UK address pattern), how to reach them,
how to get in, and what helps them communicate. Every box is optional; every text has a
limit; the checks are `people.details`'s, so the page and the API refuse the same things."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from marketplace.forms import GovDateField, RadiosField, choices, email_field
from marketplace.people import details
from marketplace.people.models import ContactMethod, Person

# The fields the form sets on the person (the key safe code is handled apart: see below).
SAVED_FIELDS = (
    "date_of_birth",
    "address_line_1",
    "address_line_2",
    "town",
    "county",
    "postcode",
    "phone",
    "email",
    "preferred_contact",
    "communication_needs",
    "access_notes",
)


_TEXTS = (
    "address_line_1",
    "address_line_2",
    "town",
    "county",
    "postcode",
    "phone",
    "communication_needs",
    "key_safe_code",
    "access_notes",
)


def _length(limit: int, label: str) -> Length:
    return Length(max=limit, message=f"{label} must be {limit} characters or fewer")


def _text(label: str, limit: int, **kwargs: Any) -> StringField:
    return StringField(label, widget=GovTextInput(), validators=[_length(limit, label)], **kwargs)


class PersonDetailsForm(FlaskForm):
    """Fill it from a person with `for_person`; read the changes with `changes`."""

    date_of_birth = GovDateField("Date of birth", description="For example, 27 3 1944")
    address_line_1 = _text("Address line 1", details.ADDRESS_LINE_MAX)
    address_line_2 = _text("Address line 2 (optional)", details.ADDRESS_LINE_MAX)
    town = _text("Town or city", details.TOWN_MAX)
    county = _text("County (optional)", details.COUNTY_MAX)
    postcode = _text("Postcode", 10)
    phone = _text(
        "Phone number",
        details.PHONE_MAX,
        description="For example, 01632 960 001 or 07700 900 982",
    )
    email = email_field("Email address", required=None)
    preferred_contact = RadiosField(
        "How would you like to be contacted?",
        choices=choices(
            [(method.value, method.label) for method in ContactMethod] + [("", "No preference")]
        ),
        default="",
    )
    communication_needs = TextAreaField(
        "Communication needs (optional)",
        widget=GovCharacterCount(),
        description="Anything that helps people talk with you, for example: uses British "
        "Sign Language, needs large print, hard of hearing, or prefers someone to speak "
        "to a family member.",
        validators=[_length(details.COMMUNICATION_NEEDS_MAX, "Communication needs")],
    )
    key_safe_code = StringField(
        "Key safe code (optional)",
        widget=GovTextInput(),
        description="It is kept encrypted, is never shown on this site again, and only a "
        "care provider whose order you have accepted sees it, while they deliver it. Leave "
        "it empty to keep the code you gave before.",
        validators=[_length(details.KEY_SAFE_CODE_MAX, "Key safe code")],
    )
    remove_key_safe_code = BooleanField(
        "Remove the key safe code I gave before", widget=GovCheckboxInput()
    )
    access_notes = TextAreaField(
        "How to get in (optional)",
        widget=GovCharacterCount(),
        description="For example: use the side door, ring twice and wait. Kept encrypted; "
        "only a care provider delivering an order for you sees it.",
        validators=[_length(details.ACCESS_NOTES_MAX, "How to get in")],
    )
    submit = SubmitField("Save these details", widget=GovSubmitInput())

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    @classmethod
    def for_person(cls, person: Person, *, today: date) -> PersonDetailsForm:
        """The form, filled from the person when nothing was posted (never with the key
        safe code: it is written, never shown back)."""
        form = cls(today=today)
        if not form.is_submitted():
            for name in SAVED_FIELDS:
                value = getattr(person, name)
                if name == "preferred_contact":
                    value = value.value if value else ""
                form[name].data = value
        return form

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        # Blank is "not given": kept as None, not as an empty string.
        for name in _TEXTS:
            self[name].data = (self[name].data or "").strip() or None
        if self.date_of_birth.data is not None and not self.date_of_birth.errors:
            problem = details.date_of_birth_problem(self.date_of_birth.data, self.today)
            if problem:
                self.date_of_birth.errors.append(problem)
                valid = False
        if self.postcode.data and not self.postcode.errors:
            postcode = details.normalise_postcode(self.postcode.data)
            if postcode is None:
                self.postcode.errors.append("Enter a full UK postcode, like SG1 4QT")
                valid = False
            self.postcode.data = postcode or self.postcode.data
        if self.phone.data and not self.phone.errors:
            phone = details.normalise_phone(self.phone.data)
            if phone is None:
                self.phone.errors.append(
                    "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
                )
                valid = False
            self.phone.data = phone or self.phone.data
        valid = self._address_complete() and valid
        if self.preferred_contact.data and not self.preferred_contact.errors:
            needed = {"phone": self.phone, "text": self.phone, "email": self.email}
            wanted = needed.get(self.preferred_contact.data)
            if wanted is not None and not wanted.data and not wanted.errors:
                wanted.errors.append(
                    f"Enter your {wanted.label.text.lower()}, or choose another way to be contacted"
                )
                valid = False
            if self.preferred_contact.data == "letter" and not self.address_line_1.data:
                self.address_line_1.errors.append(
                    "Enter your address, or choose another way to be contacted"
                )
                valid = False
        if self.key_safe_code.data and self.remove_key_safe_code.data:
            self.key_safe_code.errors.append(
                "Either enter a new key safe code or remove the old one, not both"
            )
            valid = False
        return valid

    def _address_complete(self) -> bool:
        """An address has at least its first line, a town and a postcode (a postcode alone is
        allowed: it was all that could be given before)."""
        if not (self.address_line_1.data or self.address_line_2.data or self.town.data):
            return True
        complete = True
        for name, message in (
            ("address_line_1", "Enter address line 1, typically the building and street"),
            ("town", "Enter town or city"),
            ("postcode", "Enter postcode"),
        ):
            field = self[name]
            if not field.data and not field.errors:
                field.errors.append(message)
                complete = False
        return complete

    def changes(self, person: Person) -> dict[str, Any]:
        """The fields to set on the person (validated first): every saved field, and the
        key safe code only when a new one was typed or the old one removed."""
        changes: dict[str, Any] = {name: self[name].data for name in SAVED_FIELDS}
        changes["email"] = (self.email.data or "").strip() or None
        contact = self.preferred_contact.data
        changes["preferred_contact"] = ContactMethod(contact) if contact else None
        if self.key_safe_code.data:
            changes["key_safe_code"] = self.key_safe_code.data
        elif self.remove_key_safe_code.data and person.key_safe_code is not None:
            changes["key_safe_code"] = None
        return changes
