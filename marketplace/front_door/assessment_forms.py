"""The self-assessment's forms (issue 20, JOURNEY): one question page's form, made for the
question's kind; "check your answers" with its send button; the email address for "save and
come back later".

The forms collect what was typed; whether an answer is one the question takes is the rules'
to say (`referrals.answer_checks`), so every message about an answer is written once, there.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Regexp

from marketplace.forms import GovDateField, choices, email_field
from marketplace.referrals import questions as q

_REVISION = [InputRequired(), Regexp(r"^[0-9]{1,9}$")]


def _tidy(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class QuestionForm(FlaskForm):
    """One question page: the answer (`answer`, or `email` and `phone` for contact details),
    the revision the page was drawn from, and its two buttons."""

    revision = HiddenField(validators=_REVISION)
    submit = SubmitField("Continue", widget=GovSubmitInput())
    save_later = SubmitField("Save and come back later", widget=GovSubmitInput())

    question: q.Question

    def answer_value(self) -> Any:
        """What was given, in the shape `assessments.save_answer` takes."""
        if self.question.kind == "contact":
            return {"email": self.email.data or "", "phone": self.phone.data or ""}
        data = self.answer.data
        if self.question.kind == "checkboxes":
            return list(data or [])
        if self.question.kind == "date":
            return data
        return data if data is not None else ""

    def nothing_given(self) -> bool:
        """Whether the page was sent with nothing chosen or typed."""
        value = self.answer_value()
        if isinstance(value, dict):
            return not any(part.strip() for part in value.values())
        if isinstance(value, str):
            return not value.strip()
        return not value

    def field_for(self, part: str | None) -> Field:
        """The field an answer's refusal belongs beside."""
        if self.question.kind == "contact":
            return self.phone if part == "phone" else self.email
        return self.answer


def question_form(
    question: q.Question, *, heading: str, saved: Any, revision: int, **kwargs: Any
) -> QuestionForm:
    """The form for `question`, headed `heading`, showing the saved answer (on a GET) and the
    revision the page is drawn from."""
    fields: dict[str, Any] = {"question": question}
    hint = question.hint or None
    if question.kind == "radios":
        fields["answer"] = RadioField(
            heading,
            choices=choices(question.options),
            widget=GovRadioInput(),
            validate_choice=False,
            description=hint,
        )
    elif question.kind == "checkboxes":
        fields["answer"] = SelectMultipleField(
            heading,
            choices=choices(question.options),
            widget=GovCheckboxesInput(),
            validate_choice=False,
            description=hint,
        )
    elif question.kind == "textarea":
        fields["answer"] = TextAreaField(
            heading, widget=GovCharacterCount(), description=hint, filters=[_tidy]
        )
    elif question.kind == "date":
        fields["answer"] = GovDateField(heading, description=hint)
    elif question.kind == "contact":
        fields["email"] = StringField("Email address", widget=GovTextInput(), filters=[_tidy])
        fields["phone"] = StringField("Phone number", widget=GovTextInput(), filters=[_tidy])
    else:  # text and postcode
        fields["answer"] = StringField(
            heading, widget=GovTextInput(), description=hint, filters=[_tidy]
        )
    form_class = type(f"{question.key.title()}Form", (QuestionForm,), fields)
    data: dict[str, Any] = {"revision": str(revision)}
    if question.kind == "contact" and isinstance(saved, dict):
        data.update(email=saved.get("email", ""), phone=saved.get("phone", ""))
    elif saved is not None and question.kind != "date":
        data["answer"] = saved
    form: QuestionForm = form_class(data=data, **kwargs)
    return form


class SendForm(FlaskForm):
    """ "Check your answers": the revision the page was drawn from, and the send button."""

    revision = HiddenField(validators=_REVISION)
    send = SubmitField("Accept and send", widget=GovSubmitInput())


class ResumeEmailForm(FlaskForm):
    """Where to send the link to carry on later."""

    email = email_field(
        "Email address",
        required="Enter an email address to send the link to",
        description=(
            "We will send a link to this address. Anyone with the link can see and change "
            "the answers."
        ),
    )
    submit = SubmitField("Send the link", widget=GovSubmitInput())
