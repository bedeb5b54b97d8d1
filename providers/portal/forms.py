"""Provider portal and registration forms, with GOV.UK widgets and plain-English messages."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    Form,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from marketplace.forms import (
    CheckboxesField,
    GovDateField,
    PenceField,
    RadiosField,
    choices,
    email_field,
    new_password_field,
)
from providers import validation
from providers.models import (
    CapacityStatus,
    CqcRating,
    DeliveryMode,
    InvoiceCycle,
    OrganisationKind,
    PriceUnit,
)

DESCRIPTION_MAX = 3000
DAYS = [
    ("MO", "Monday"),
    ("TU", "Tuesday"),
    ("WE", "Wednesday"),
    ("TH", "Thursday"),
    ("FR", "Friday"),
    ("SA", "Saturday"),
    ("SU", "Sunday"),
]
ACCESSIBILITY_FEATURES = [
    "Step-free access",
    "Accessible toilet",
    "Hearing loop",
    "Large print information",
    "Easy read information",
    "British Sign Language",
    "Accessible parking",
    "Changing Places toilet",
    "Quiet space",
    "Wheelchair accessible vehicle",
]
_TIME = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")


def _rule(check: Any) -> Any:
    """A WTForms validator from one of `providers.validation`'s plain checks."""

    def validator(_form: Form, field: Any) -> None:
        if field.data in (None, ""):
            return
        problem = check(field.data)
        if problem:
            raise ValidationError(problem)

    return validator


def _text(label: str, max_length: int, required: str | None = None, **kwargs: Any) -> StringField:
    validators: list[Any] = [InputRequired(message=required)] if required else [Optional()]
    validators.append(
        Length(max=max_length, message=f"{label} must be {max_length} characters or fewer")
    )
    return StringField(label, widget=GovTextInput(), validators=validators, **kwargs)


class OrganisationForm(FlaskForm):
    name = _text("Organisation name", 200, "Enter your organisation's name")
    description = TextAreaField(
        "About your organisation",
        widget=GovCharacterCount(),
        description="What you do and who for, in plain words.",
        validators=[
            InputRequired(message="Enter a description of your organisation"),
            Length(
                max=DESCRIPTION_MAX,
                message=f"Description must be {DESCRIPTION_MAX} characters or fewer",
            ),
        ],
    )
    email = email_field("Contact email address", required="Enter a contact email address")
    phone = _text("Phone number", 30)
    website = URLField(
        "Website",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=300), _rule(validation.website_problem)],
    )
    address = _text("Address", 300)
    postcode = _text("Postcode", 10, filters=[lambda v: v.strip().upper() if v else v])
    companies_house_number = _text(
        "Companies House number",
        8,
        description="If you are a registered company, like 01234567",
        filters=[lambda v: v.strip().upper() if v else v],
    )
    charity_number = _text("Charity number", 12, description="If you are a registered charity")
    cqc_provider_id = _text(
        "CQC provider ID",
        20,
        description="If the Care Quality Commission regulates you, like 1-101634857",
        filters=[lambda v: v.strip() if v else v],
    )
    areas = CheckboxesField(
        "Areas you serve", validators=[InputRequired(message="Select the areas you serve")]
    )

    def validate_postcode(self, field: Any) -> None:
        _check(field, validation.postcode_problem)

    def validate_companies_house_number(self, field: Any) -> None:
        _check(field, validation.companies_house_number_problem)

    def validate_charity_number(self, field: Any) -> None:
        _check(field, validation.charity_number_problem)

    def validate_cqc_provider_id(self, field: Any) -> None:
        _check(field, validation.cqc_id_problem)


def _check(field: Any, check: Any) -> None:
    if field.data:
        problem = check(field.data)
        if problem:
            raise ValidationError(problem)


class RegisterProviderForm(OrganisationForm):
    # Most who register provide care; a brokerage comes from its own link (?kind=brokerage).
    kind = RadiosField(
        "What kind of organisation is it?",
        choices=choices(
            [
                (OrganisationKind.PROVIDER.value, "A care provider"),
                (OrganisationKind.BROKERAGE.value, "A brokerage"),
            ]
        ),
        default=OrganisationKind.PROVIDER.value,
        # A form sent without the question (a page from before it was asked) registers a
        # provider, as every registration did then.
        validators=[DataRequired(message="Select what kind of organisation it is")],
    )
    owner_name = _text("Your full name", 200, "Enter your full name")
    owner_email = email_field("Your email address", description="You will use this to sign in")
    password = new_password_field()
    submit = SubmitField("Register", widget=GovSubmitInput())


MAX_NOTICE_DAYS = 90


class EditOrganisationForm(OrganisationForm):
    # The terms new orders are placed on; orders already placed keep the terms they had.
    invoice_cycle = RadiosField(
        "How often do you invoice?",
        choices=choices((cycle.value, cycle.label) for cycle in InvoiceCycle),
        description="Money is held in the person's budget for each period, and you invoice "
        "each period once it ends. This applies to new orders.",
        validators=[InputRequired(message="Select how often you invoice")],
    )
    notice_days = IntegerField(
        "Notice period for cancelling, in days",
        widget=GovTextInput(),
        description="How much notice you need before the remaining visits of an order can be "
        "cancelled. This applies to new orders.",
        validators=[
            InputRequired(message="Enter a notice period from 0 to 90 days"),
            NumberRange(
                min=0, max=MAX_NOTICE_DAYS, message="Enter a notice period from 0 to 90 days"
            ),
        ],
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class ListingForm(FlaskForm):
    name = _text("Service name", 200, "Enter the service's name")
    description = TextAreaField(
        "Description",
        widget=GovCharacterCount(),
        description="What the service is, who it is for and what a visit or session involves. "
        "Plain text: formatting is not shown.",
        validators=[
            InputRequired(message="Enter a description"),
            Length(
                max=DESCRIPTION_MAX,
                message=f"Description must be {DESCRIPTION_MAX} characters or fewer",
            ),
        ],
    )
    categories = CheckboxesField(
        "Categories", validators=[InputRequired(message="Select at least one category")]
    )
    price_unit = RadiosField(
        "How you charge",
        choices=choices((unit.value, unit.label.capitalize()) for unit in PriceUnit),
        validators=[InputRequired(message="Select how you charge")],
    )
    price = PenceField("Price in pounds", description="For example 24.50. Leave empty if free.")
    minimum_order = IntegerField(
        "Minimum order",
        widget=GovTextInput(),
        default=1,
        description="The fewest hours, visits, sessions or items someone can order",
        validators=[
            InputRequired(message="Enter the minimum order, like 1"),
            NumberRange(min=1, max=1000, message="Minimum order must be between 1 and 1000"),
        ],
    )
    areas = CheckboxesField("Areas served")
    delivery_modes = CheckboxesField(
        "How it is delivered",
        choices=choices((mode.value, mode.label) for mode in DeliveryMode),
        validators=[InputRequired(message="Select how the service is delivered")],
    )
    venues = CheckboxesField("Venues", description="Where people come to, if anywhere")
    open_days = CheckboxesField("Days open", choices=choices(DAYS))
    opens_at = _text("Opens at", 5, description="24-hour clock, like 09:00")
    closes_at = _text("Closes at", 5, description="24-hour clock, like 17:30")
    languages = _text(
        "Languages spoken besides English",
        300,
        description="Separate them with commas, like Polish, Urdu",
    )
    accessibility = CheckboxesField(
        "Accessibility", choices=choices((feature, feature) for feature in ACCESSIBILITY_FEATURES)
    )
    min_age = IntegerField(
        "Youngest age",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=120, message="Enter an age from 0 to 120")],
    )
    max_age = IntegerField(
        "Oldest age",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=120, message="Enter an age from 0 to 120")],
    )
    conditions = _text(
        "Conditions supported", 300, description="Separate them with commas, like dementia, stroke"
    )
    accepts_personal_budgets = RadiosField(
        "Do you accept personal budgets?",
        choices=choices([("yes", "Yes"), ("no", "No")]),
        default="yes",
        validators=[InputRequired(message="Say whether you accept personal budgets")],
    )
    cqc_location_id = _text(
        "CQC location ID",
        20,
        description="If this service is regulated. People see the rating the CQC publishes for "
        "this location, with its date, from the CQC's care directory",
    )
    cqc_rating = SelectField(
        "CQC rating",
        description="The council checks this against the CQC's care directory",
        widget=GovSelect(),
        choices=choices([("", "Not regulated")] + [(r.value, r.label) for r in CqcRating]),
        validators=[Optional()],
    )
    email = email_field("Email address for this service", required=None)
    phone = _text("Phone number for this service", 30)
    submit = SubmitField("Save", widget=GovSubmitInput())
    preview = SubmitField("Preview", widget=GovSubmitInput())

    def validate_price(self, field: Any) -> None:
        unit = self.price_unit.data
        if unit == PriceUnit.FREE.value:
            if field.data not in (None, 0):
                raise ValidationError("A free service has no price: leave the price empty")
        elif not field.data:
            raise ValidationError("Enter the price in pounds, like 24.50")

    def validate_cqc_location_id(self, field: Any) -> None:
        _check(field, validation.cqc_id_problem)

    def validate_opens_at(self, field: Any) -> None:
        if field.data and not _TIME.match(field.data):
            raise ValidationError("Opens at must be a time like 09:00")
        if self.open_days.data and not field.data:
            raise ValidationError("Enter the time it opens")

    def validate_closes_at(self, field: Any) -> None:
        if field.data and not _TIME.match(field.data):
            raise ValidationError("Closes at must be a time like 17:30")
        if self.open_days.data and not field.data:
            raise ValidationError("Enter the time it closes")
        opens = self.opens_at.data
        if field.data and opens and _TIME.match(opens) and _minutes(field.data) <= _minutes(opens):
            raise ValidationError("Closes at must be later than opens at")

    def validate_max_age(self, field: Any) -> None:
        if (
            field.data is not None
            and self.min_age.data is not None
            and (field.data < self.min_age.data)
        ):
            raise ValidationError("Oldest age must be the same as or more than youngest age")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class CapacityForm(FlaskForm):
    capacity_status = RadiosField(
        "Can you take new clients?",
        choices=choices((status.value, status.label) for status in CapacityStatus),
        validators=[InputRequired(message="Select whether you can take new clients")],
    )
    capacity_free = IntegerField(
        "Hours or places free",
        widget=GovTextInput(),
        validators=[
            Optional(),
            NumberRange(min=0, max=100_000, message="Enter a number from 0 to 100,000"),
        ],
    )
    earliest_start = GovDateField("Earliest start date", description="For example, 27 3 2027")
    submit = SubmitField("Save capacity", widget=GovSubmitInput())


class VenueForm(FlaskForm):
    name = _text("Venue name", 200, "Enter the venue's name")
    address = _text("Address", 300, "Enter the venue's address")
    town = _text("Town", 100, "Enter the town")
    postcode = _text(
        "Postcode", 10, "Enter the postcode", filters=[lambda v: v.strip().upper() if v else v]
    )
    accessibility = CheckboxesField(
        "Accessibility", choices=choices((feature, feature) for feature in ACCESSIBILITY_FEATURES)
    )
    submit = SubmitField("Add venue", widget=GovSubmitInput())

    def validate_postcode(self, field: Any) -> None:
        _check(field, validation.postcode_problem)


class InviteForm(FlaskForm):
    email = email_field("Their email address", required="Enter their email address")
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class AcceptInvitationForm(FlaskForm):
    full_name = _text("Your full name", 200, "Enter your full name")
    password = new_password_field()
    submit = SubmitField("Create account", widget=GovSubmitInput())
