"""Who the citizens' pages are talking about: "you" for the person reading their own pages, the
person's name (or "their") for a broker or family member acting for them (issue 17;
docs/brokers.md, "Acting for someone"). Pages say it one way: `subject` in every template.

    <h1>{{ subject.Your }} care and support</h1>       Your / Rajesh Mehta's
    {{ subject.You }} {{ subject.verb("pay", "pays") }} by card  You pay / Rajesh Mehta pays
    held in {{ subject.your }} personal budget          your / Rajesh Mehta's
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_login import current_user

# The typographic apostrophe the pages use ("Rajesh Mehta\u2019s").
APOSTROPHE = "\u2019"


@dataclass(frozen=True)
class Subject:
    """How to name the person a page is about, to whoever reads it."""

    name: str | None = None

    @property
    def acting(self) -> bool:
        """The reader is acting for someone else."""
        return self.name is not None

    @property
    def you(self) -> str:
        return self.name or "you"

    @property
    def You(self) -> str:
        return self.name or "You"

    @property
    def your(self) -> str:
        return f"{self.name}{APOSTROPHE}s" if self.name else "your"

    @property
    def Your(self) -> str:
        return f"{self.name}{APOSTROPHE}s" if self.name else "Your"

    @property
    def their(self) -> str:
        """ "their" while acting (a second mention), else "your"."""
        return "their" if self.name else "your"

    @property
    def them(self) -> str:
        """ "them" while acting (a second mention), else "you"."""
        return "them" if self.name else "you"

    def verb(self, you_form: str, their_form: str) -> str:
        """The verb agreeing with `you` ("pay") or with the person's name ("pays")."""
        return their_form if self.name else you_form


def subject_for_reader() -> Subject:
    """The subject of this request's citizens' pages, as its reader should read it."""
    person = getattr(current_user, "acting_for", None)
    return Subject(person.full_name if person is not None else None)


def init_app(app: Flask) -> None:
    """Give every template `subject`."""

    def _context() -> dict[str, Any]:
        return {"subject": subject_for_reader()}

    app.context_processor(_context)
