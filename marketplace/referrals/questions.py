"""The self-assessment's questions (issue 20), one thing per page, in order: what each asks,
the answer's key in `SelfAssessment.answers` and the values it may take. Data only: the pages
(`marketplace.front_door`), the resource allocation system (`referrals.ras`), the help offered
at once (`referrals.help_now`), the referral (`referrals.queue`) and the figures all read the
answers through these names, so a question's key or values change in one place.

Answer shapes: a radios question stores its chosen value (str); a checkboxes question a list
of values; a text question a str; `contact` a dict {"email", "phone"}; a date question an ISO
date string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

QuestionKind = Literal["radios", "checkboxes", "text", "textarea", "date", "contact", "postcode"]


@dataclass(frozen=True)
class Question:
    key: str
    # The page's heading, as a question ("How much help do you need with washing?"); where
    # someone answers for the person, pages say "they" (`heading_for_someone`).
    heading: str
    kind: QuestionKind
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    heading_for_someone: str = ""
    # The question is asked only when this other answer has one of these values.
    asked_if: tuple[str, tuple[str, ...]] | None = None
    required: bool = True
    # Section on "check your answers".
    section: str = "About the person"
    # Short name on "check your answers" and in the figures ("abandoned at: Washing").
    short: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# How much help with one eligibility outcome: the Care Act's "unable to achieve", "achieves
# only with help / with pain or distress / endangering safety / taking much longer".
NEED_LEVELS: tuple[tuple[str, str], ...] = (
    ("none", "I manage this on my own"),
    ("some", "I manage, but it takes me a long time, hurts or worries me"),
    ("lot", "I need someone to help me every time"),
    ("unable", "I cannot do this, even with help, or it puts me at risk"),
)

# The Care Act 2014 eligibility outcomes (Care and Support (Eligibility Criteria) Regulations
# 2015, reg. 2(2)), as keys, the words pages use, and what the page's heading names.
OUTCOMES: tuple[tuple[str, str, str], ...] = (
    ("nutrition", "Managing and maintaining nutrition", "eating and drinking, and making meals"),
    ("hygiene", "Maintaining personal hygiene", "washing, bathing and looking after yourself"),
    ("toileting", "Managing toilet needs", "using the toilet"),
    ("clothing", "Being appropriately clothed", "getting dressed and undressed"),
    ("moving_home", "Moving about safely at home", "moving around your home safely"),
    ("home_safe", "Keeping the home habitable and safe", "keeping your home clean, warm and safe"),
    (
        "relationships",
        "Developing and maintaining relationships",
        "seeing family and friends, and not feeling lonely",
    ),
    (
        "work_learning",
        "Work, training, learning or volunteering",
        "work, training, learning or volunteering",
    ),
    (
        "community",
        "Using services in the community",
        "getting out: shops, transport, the doctor's, activities",
    ),
    ("caring_child", "Caring for a child", "caring for a child you look after"),
)
OUTCOME_KEYS: tuple[str, ...] = tuple(key for key, _title, _words in OUTCOMES)

WHO_OPTIONS: tuple[tuple[str, str], ...] = (
    ("person", "I am filling this in for myself"),
    ("family", "I am a family member, friend or carer filling it in for them"),
    ("broker", "I am a support broker filling it in for them"),
    ("professional", "I am a health or care professional filling it in for them"),
)

CARER_SUPPORT: tuple[tuple[str, str], ...] = (
    ("none", "No one helps me"),
    ("some", "Someone helps a few times a week"),
    ("daily", "Someone helps every day"),
    ("most", "Someone gives me most of the help I need"),
)
CARER_COPING: tuple[tuple[str, str], ...] = (
    ("yes", "Yes, they can carry on as they are"),
    ("struggling", "They are finding it hard"),
    ("no", "No, they cannot carry on, or will stop soon"),
)

CONDITIONS: tuple[tuple[str, str], ...] = (
    ("dementia", "Dementia or memory problems"),
    ("sensory", "Sight or hearing loss"),
    ("mental_health", "A mental health condition"),
    ("learning_disability", "A learning disability or autism"),
    ("physical", "A physical disability or frailty"),
    ("long_term_illness", "A long-term illness (for example heart, lung or stroke)"),
    ("end_of_life", "A terminal illness"),
)

URGENCY: tuple[tuple[str, str], ...] = (
    ("leaving_hospital", "I am leaving hospital within the next 24 hours"),
    ("urgent", "Now: I am not safe, or my care or my carer has broken down"),
    ("soon", "In the next few weeks"),
    ("routine", "There is no rush, I am planning ahead"),
)

# Savings and property (not the home lived in), by the thresholds of the charging rules in
# force in England (lower £14,250, upper £23,250).
SAVINGS_BANDS: tuple[tuple[str, str], ...] = (
    ("under_lower", "Less than £14,250"),
    ("between", "Between £14,250 and £23,250"),
    ("over_upper", "More than £23,250"),
    ("prefer_not", "I would rather not say"),
)
INCOME_BANDS: tuple[tuple[str, str], ...] = (
    ("under_200", "Less than £200 a week"),
    ("200_400", "£200 to £400 a week"),
    ("over_400", "More than £400 a week"),
    ("prefer_not", "I would rather not say"),
)

_YOU = "About the person"
_NEEDS = "Day-to-day needs"
_HELP = "Help you already have"
_MONEY = "Urgency and money"

QUESTIONS: tuple[Question, ...] = (
    Question(
        "who",
        "Who is filling in this form?",
        "radios",
        WHO_OPTIONS,
        section="About you",
        short="Who is filling this in",
    ),
    Question(
        "who_name",
        "What is your name and how do you know the person?",
        "text",
        hint="For example, Sam Jones, daughter",
        asked_if=("who", ("family", "broker", "professional")),
        section="About you",
        short="Your name and relationship",
    ),
    Question(
        "full_name",
        "What is your full name?",
        "text",
        heading_for_someone="What is their full name?",
        section=_YOU,
        short="Name",
    ),
    Question(
        "postcode",
        "What is your postcode?",
        "postcode",
        heading_for_someone="What is their postcode?",
        hint="We use this to find services and people near you",
        section=_YOU,
        short="Postcode",
    ),
    Question(
        "contact",
        "How can the council contact you?",
        "contact",
        heading_for_someone="How can the council contact you about them?",
        hint="Give an email address, a phone number or both",
        section=_YOU,
        short="Contact details",
    ),
    *(
        Question(
            key,
            f"How much help do you need with {words}?",
            "radios",
            (
                (("none", "This does not apply to me, or I manage on my own"), *NEED_LEVELS[1:])
                if key == "caring_child"
                else NEED_LEVELS
            ),
            heading_for_someone=(
                f"How much help do they need with "
                f"{words.replace('your ', 'their ').replace('you ', 'they ')}?"
            ),
            section=_NEEDS,
            short=title,
        )
        for key, title, words in OUTCOMES
    ),
    Question(
        "carer_support",
        "Does a family member, friend or neighbour help you now?",
        "radios",
        CARER_SUPPORT,
        heading_for_someone="Does a family member, friend or neighbour help them now?",
        hint="Unpaid help only: not care you pay for",
        section=_HELP,
        short="Help from family and friends",
    ),
    Question(
        "carer_coping",
        "Can the person who helps you carry on?",
        "radios",
        CARER_COPING,
        heading_for_someone="Can the person who helps them carry on?",
        asked_if=("carer_support", ("some", "daily", "most")),
        section=_HELP,
        short="Can they carry on",
    ),
    Question(
        "conditions",
        "Do any of these apply to you?",
        "checkboxes",
        CONDITIONS,
        heading_for_someone="Do any of these apply to them?",
        hint="Select all that apply, or none",
        required=False,
        section=_HELP,
        short="Health and conditions",
    ),
    Question(
        "in_your_words",
        "What would help you most?",
        "textarea",
        heading_for_someone="What would help them most?",
        hint="In your own words. For example, getting out of the house, or help in the morning",
        required=False,
        section=_HELP,
        short="What would help most",
        extra={"max_length": 1200},
    ),
    Question(
        "urgency",
        "How soon do you need help?",
        "radios",
        URGENCY,
        heading_for_someone="How soon do they need help?",
        section=_MONEY,
        short="How soon",
    ),
    Question(
        "savings",
        "How much do you have in savings and property, not counting the home you live in?",
        "radios",
        SAVINGS_BANDS,
        heading_for_someone=(
            "How much do they have in savings and property, not counting the home they live in?"
        ),
        hint="A broad band is enough. The council will ask for details later if it needs them",
        section=_MONEY,
        short="Savings and property",
    ),
    Question(
        "income",
        "What is your income each week, including pensions and benefits?",
        "radios",
        INCOME_BANDS,
        heading_for_someone="What is their income each week, including pensions and benefits?",
        section=_MONEY,
        short="Weekly income",
    ),
)

BY_KEY: dict[str, Question] = {question.key: question for question in QUESTIONS}


def asked(question: Question, answers: dict[str, Any]) -> bool:
    """Whether `question` is asked, given the answers so far."""
    if question.asked_if is None:
        return True
    other, values = question.asked_if
    return answers.get(other) in values


def questions_asked(answers: dict[str, Any]) -> list[Question]:
    """The questions asked, in order, given the answers so far (an answer that stops a
    question being asked drops it from the list and from "check your answers")."""
    return [question for question in QUESTIONS if asked(question, answers)]


def next_unanswered(answers: dict[str, Any]) -> Question | None:
    """The first question asked and not answered (a question that may be left empty counts
    as answered once its key is present), or None when every one is."""
    for question in questions_asked(answers):
        if question.key not in answers:
            return question
    return None


def for_someone_else(answers: dict[str, Any]) -> bool:
    """Whether someone is answering for the person (pages then say "they")."""
    return answers.get("who", "person") != "person"
