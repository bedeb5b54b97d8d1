"""An accessibility walk of the pages issue 17 added or changed that no other browser test
reaches (brokers, families and consent), at desktop and at 320 px, axe on every page, and what
WCAG 2.2 AA asks that axe cannot see (`walk`):

- every button, link and field is reached by Tab, each showing its focus;
- a page with an error summary gives the summary the focus, its links reaching their fields;
- the headings go down one level at a time from a single h1;
- nothing scrolls sideways at 320 px;
- buttons and links are at least 24 by 24 CSS px, or spaced as 2.5.8 allows (a link in a
  sentence is exempt);
- while acting, the banner's "Stop acting for them" is reached by Tab.

The pages: the shortlist (a visitor's, the person's, a broker's acting, approving with an
error), questions (the person's list and thread, asking from the service page, the provider's
inbox and answering), the notes and record log, the council's audit search, a person's
consents and the lasting power of attorney form with errors, the council adding its brokerage,
the registration form's kind question, a brokerage's public page, the page refusing what a
consent does not cover, and the acting banner above an error summary.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from werkzeug.exceptions import HTTPException

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people import audit, caseload, questions, shortlists
from marketplace.people.models import Authority, ClientNote, Consent, ConsentScope
from marketplace.types import utcnow
from providers import listings, search_index
from providers.models import (
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    PriceUnit,
    Service,
    ServiceStatus,
)
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible, assert_focus_visible, tab_to
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, sign_in
from tests.conftest import PASSWORD

PERSON_EMAIL = "dorothy@example.org"
PERSON = "Dorothy Pearce"
BROKER_EMAIL = "sam@hertsbrokerage.example.org"
BROKER = "Sam Patel"
BROKERAGE = "Herts Independent Brokerage"
STAFF_EMAIL = "grace@verulam.example.org"
OFFICER_EMAIL = "olive@council.example.org"
SERVICE = "Gardening help"
OWN_SERVICE = "Support brokerage"
NO_MESSAGE_CLIENT = "Edna Clarke"
QUESTION = "Could you come on a Tuesday morning?"
NOTE = "Two hours a fortnight keeps the path clear."
MIN_TARGET = 24


@dataclass
class Seeded:
    service_id: str
    brokerage_id: str
    person_id: str
    thread_id: str


@pytest.fixture
def seeded(live_server: LiveServer) -> Seeded:
    """A provider listing a service (with one member of staff), an approved brokerage listing
    its own, Sam its broker; Dorothy, who gave it consent to everything, with a shortlist Sam
    sent her, a question to the provider, a note and two entries in her record log; Edna,
    whose consent lets the brokerage only see her record; and a council officer."""
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        provider = Organisation(name="Verulam Garden Care", status=OrganisationStatus.APPROVED)
        brokerage = Organisation(
            name=BROKERAGE, status=OrganisationStatus.APPROVED, kind=OrganisationKind.BROKERAGE
        )
        db.session.add_all([provider, brokerage])
        db.session.flush()
        made: dict[str, Service] = {}
        for organisation, name in ((provider, SERVICE), (brokerage, OWN_SERVICE)):
            listing = listings.create_listing(
                organisation,
                listings.ListingDetails(
                    name=name,
                    description=f"{name}, in Stevenage.",
                    category_codes=["personal-care"],
                    price_pence=2250,
                    price_unit=PriceUnit.PER_HOUR,
                    area_codes=["stevenage"],
                    delivery_modes=["at_home"],
                ),
            )
            listing.status = ServiceStatus.PUBLISHED
            made[name] = listing
        db.session.flush()
        accounts.create_user(
            email=STAFF_EMAIL,
            full_name="Grace Hopper",
            password=PASSWORD,
            role=Role.PROVIDER_STAFF,
            organisation_id=provider.id,
        )
        broker = accounts.create_user(
            email=BROKER_EMAIL,
            full_name=BROKER,
            password=PASSWORD,
            role=Role.BROKER,
            organisation_id=brokerage.id,
        )
        accounts.create_user(
            email=OFFICER_EMAIL,
            full_name="Olive Officer",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        citizen = accounts.create_user(
            email=PERSON_EMAIL, full_name=PERSON, password=PASSWORD, role=Role.CITIZEN
        )
        person = citizen.person
        assert person is not None
        now = utcnow()
        db.session.add(
            Consent(
                person_id=person.id,
                brokerage_id=brokerage.id,
                scopes=[scope.value for scope in ConsentScope],
                authority=Authority.PERSON,
                given_by_name=PERSON,
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=200),
            )
        )
        db.session.flush()
        caseload.add_client(
            db.session,
            brokerage=brokerage,
            by=broker,
            full_name=NO_MESSAGE_CLIENT,
            date_of_birth=None,
            postcode=None,
            email=None,
            scopes=["see"],
            authority=Authority.PERSON,
            given_by_name=NO_MESSAGE_CLIENT,
            starts_at=now,
            ends_at=now + timedelta(days=200),
        )
        broker.act_for(person)
        item = shortlists.add(db.session, person, made[SERVICE].id, by=broker, note=NOTE)
        shortlists.share(db.session, item.shortlist, broker)
        thread = questions.ask(
            db.session, person=person, service=made[SERVICE], by=citizen, text=QUESTION
        )
        db.session.add(
            ClientNote(
                person_id=person.id,
                brokerage_id=brokerage.id,
                written_by_id=broker.id,
                text="Prefers visits in the morning.",
            )
        )
        for action, what in (("viewed", "Their shortlist"), ("changed", "Their shortlist")):
            audit.record(
                db.session,
                actor_id=broker.id,
                person_id=person.id,
                action=action,
                what=what,
                ip="192.0.2.10",
                path="/my/shortlist",
            )
        db.session.commit()
        search_index.sync(live_server.app)
        found = Seeded(
            service_id=str(made[SERVICE].id),
            brokerage_id=str(brokerage.id),
            person_id=str(person.id),
            thread_id=str(thread.id),
        )
        db.session.remove()
    return found


# What axe cannot see ----------------------------------------------------------------------

_HEADINGS = """
() => [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")]
  .filter((h) => !h.matches(".govuk-notification-banner__title, .govuk-error-summary__title"))
  .filter((h) => h.getClientRects().length > 0 || h.closest(".govuk-visually-hidden"))
  .map((h) => [Number(h.tagName[1]), h.innerText.replace(/\\s+/g, " ").trim()])
"""

# Buttons and links smaller than 24x24 CSS px that neither 2.5.8's spacing nor its inline
# exception lets off: a 24px circle on the target's centre may not touch another target, nor
# another undersized target's circle; a link inside a sentence is inline.
_SMALL_TARGETS = """
(min) => {
  const shown = (e) =>
    e.getClientRects().length > 0 && getComputedStyle(e).visibility === "visible";
  const targets = [...document.querySelectorAll(
    "a[href], button, input[type=submit], input[type=button], [role=button], summary, select"
  )].filter(shown).filter((e) => !e.closest(".govuk-visually-hidden, [hidden]"));
  const words = (t) => (t || "").replace(/\\s+/g, " ").trim();
  const inline = (e) => {
    if (e.tagName !== "A" || e.classList.contains("govuk-button")) return false;
    if (getComputedStyle(e).display !== "inline") return false;
    const block = e.parentElement.closest("p, li, dd, td, th, div, span, legend, label");
    return block && words(block.innerText).length > words(e.innerText).length + 1;
  };
  const boxes = targets.map((e) => ({ e, r: e.getBoundingClientRect() }));
  const small = (b) => b.r.width < min - 0.5 || b.r.height < min - 0.5;
  const centre = (r) => [r.left + r.width / 2, r.top + r.height / 2];
  const toRect = ([x, y], r) => Math.hypot(
    Math.max(r.left - x, 0, x - r.right), Math.max(r.top - y, 0, y - r.bottom));
  const found = [];
  for (const b of boxes) {
    if (!small(b) || inline(b.e)) continue;
    const c = centre(b.r);
    const clash = boxes.find((o) => o !== b && !o.e.contains(b.e) && !b.e.contains(o.e) && (
      toRect(c, o.r) < min / 2 - 0.5
      || (small(o) && Math.hypot(c[0] - centre(o.r)[0], c[1] - centre(o.r)[1]) < min - 0.5)));
    if (clash) {
      found.push(`${b.e.tagName.toLowerCase()} "${words(b.e.innerText).slice(0, 40)}" `
        + `${Math.round(b.r.width)}x${Math.round(b.r.height)} too close to `
        + `${o_name(clash.e)}`);
    }
  }
  function o_name(e) { return `${e.tagName.toLowerCase()} "${words(e.innerText).slice(0, 40)}"`; }
  return found;
}
"""

# Every control Tab should stop at, marked so the stops can be counted. Radios of one name
# are one stop.
_MARK_CONTROLS = """
() => {
  const shown = (e) =>
    e.getClientRects().length > 0 && getComputedStyle(e).visibility === "visible";
  const controls = [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]"
  )].filter((e) => e.tabIndex >= 0 && !e.disabled && (shown(e) || e.matches("input")))
    .filter((e) => !e.closest("[hidden], [inert]"))
    .filter((e) => shown(e) || e.matches("[type=radio], [type=checkbox]"));
  const names = [];
  controls.forEach((e) => {
    const key = e.matches("[type=radio]") ? `radio:${e.name}` : `c${names.length}`;
    if (!names.includes(key)) names.push(key);
    e.dataset.tabStop = key;
  });
  return names.map((key) => {
    const e = document.querySelector(`[data-tab-stop="${key}"]`);
    return [key, (e.getAttribute("aria-label") || e.innerText || e.value || e.id || e.name || "")
      .replace(/\\s+/g, " ").trim().slice(0, 50)];
  });
}
"""


# 2.5.3 Label in Name: a control whose name is given by aria-label must include the words it
# shows, so that someone speaking what they see reaches it.
_NAMES_WITHOUT_LABEL = """
() => {
  const words = (t) => (t || "").replace(/\\s+/g, " ").trim().toLowerCase();
  const named = "a[aria-label], button[aria-label], [role=button][aria-label]";
  return [...document.querySelectorAll(named)]
    .filter((e) => e.getClientRects().length > 0)
    .filter((e) => !words(e.getAttribute("aria-label")).includes(words(e.innerText)))
    .map((e) => `${e.tagName.toLowerCase()} shows "${words(e.innerText)}" `
      + `but is named "${e.getAttribute("aria-label")}"`);
}
"""

# 1.4.12 Text Spacing: with WCAG's spacing applied, no text is cut off by a box that hides
# what overflows it, and nothing scrolls sideways.
_TEXT_SPACING = """
() => {
  // A constructed sheet: the service's CSP (style-src 'self') refuses a <style> element.
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }`);
  const before = document.adoptedStyleSheets;
  document.adoptedStyleSheets = [...before, sheet];
  const found = [];
  for (const e of document.querySelectorAll("body *")) {
    // Hidden on purpose: the skip link until it has focus, text for screen readers.
    if (e.closest(".govuk-visually-hidden, .govuk-skip-link, [hidden], script, style")) continue;
    const css = getComputedStyle(e);
    const hides = (v) => v === "hidden" || v === "clip";
    if (!(hides(css.overflowX) || hides(css.overflowY))) continue;
    if (e.getClientRects().length === 0) continue;
    if (!(e.innerText || "").trim()) continue;
    if ((hides(css.overflowX) && e.scrollWidth > e.clientWidth + 1)
        || (hides(css.overflowY) && e.scrollHeight > e.clientHeight + 1)) {
      found.push(`${e.tagName.toLowerCase()}.${[...e.classList].join(".")} `
        + `"${e.innerText.replace(/\\s+/g, " ").trim().slice(0, 40)}"`);
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth) {
    found.push(`the page is ${document.documentElement.scrollWidth}px wide`);
  }
  document.adoptedStyleSheets = before;
  return found;
}
"""


def assert_labels_in_names(page: Page) -> None:
    found: list[str] = page.evaluate(_NAMES_WITHOUT_LABEL)
    assert not found, f"{page.url}: names that leave out what the control shows: {found}"


def assert_text_spacing_keeps_text(page: Page) -> None:
    found: list[str] = page.evaluate(_TEXT_SPACING)
    assert not found, f"{page.url}: with WCAG's text spacing, text is cut off: {found}"


def assert_headings_in_order(page: Page) -> None:
    """One h1, first; no level skipped on the way down. The titles of a notification banner and
    of an error summary (h2s GOV.UK puts above the h1, to be read first) are left out."""
    found: list[list[Any]] = page.evaluate(_HEADINGS)
    levels = [level for level, _ in found]
    assert levels.count(1) == 1, f"{page.url}: not one h1: {found}"
    assert levels[0] == 1, f"{page.url}: a heading comes before the h1: {found}"
    for (before, _), (level, text) in itertools.pairwise(found):
        assert level <= before + 1, f"{page.url}: h{level} {text!r} follows an h{before}: {found}"


def assert_targets_big_enough(page: Page) -> None:
    small: list[str] = page.evaluate(_SMALL_TARGETS, MIN_TARGET)
    assert not small, f"{page.url}: targets under 24x24 px without room around them: {small}"


def assert_tab_reaches_every_control(page: Page) -> set[str]:
    """Tab from the top reaches every control on the page, each showing its focus. Returns
    the stops reached (the `data-tab-stop` each control is marked with)."""
    stops: list[list[str]] = page.evaluate(_MARK_CONTROLS)
    wanted = {key: name for key, name in stops}
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate("window.scrollTo(0, 0)")
    reached: set[str] = set()
    for _ in range(len(stops) * 2 + 10):
        page.keyboard.press("Tab")
        key = page.evaluate("document.activeElement && document.activeElement.dataset.tabStop")
        if key is None:
            continue
        assert_focus_visible(page)
        reached.add(key)
        if reached >= set(wanted):
            return reached
    missing = [name for key, name in wanted.items() if key not in reached]
    raise AssertionError(f"{page.url}: Tab never reached {missing}")


def assert_error_summary_focused(page: Page) -> None:
    """The summary has the focus and links to the fields (page_checks.js follows each link),
    and the title starts "Error: ", which a screen reader reads first (GOV.UK's pattern)."""
    assert page.title().startswith("Error: "), f"{page.url}: the title {page.title()!r}"
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    links = summary.locator("a[href^='#']")
    assert links.count() > 0, f"{page.url}: the error summary links to no field"


def walk(page: Page, viewport: str, *, errors: bool = False) -> None:
    """axe and the page checks, then what they cannot see (see the module's docstring)."""
    assert_accessible(page)
    if errors:
        assert_error_summary_focused(page)
    assert_headings_in_order(page)
    if viewport == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{page.url} is {width}px wide at 320px"
    assert_targets_big_enough(page)
    assert_labels_in_names(page)
    assert_text_spacing_keeps_text(page)
    reached = assert_tab_reaches_every_control(page)
    if page.locator(".app-acting-banner").count():
        stop = page.locator(".app-acting-banner").get_by_role("button", name="Stop acting")
        expect(stop).to_be_visible()
        assert stop.evaluate("(e) => e.dataset.tabStop") in reached


def signed_in(page: Page, viewport: str, email: str) -> None:
    page.goto("/sign-in")
    assert_accessible(page)
    sign_in(page, email, PASSWORD)
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    assert_accessible(page)


def served(live_server: LiveServer, path: str) -> bool:
    adapter = live_server.app.url_map.bind("localhost")
    try:
        adapter.match(path)
    except HTTPException:
        return False
    return True


# The walks --------------------------------------------------------------------------------


def test_a_visitor_shortlists_a_service(page: Page, viewport: str, seeded: Seeded) -> None:
    page.goto(f"/services/{seeded.service_id}")
    expect(heading(page)).to_have_text(SERVICE)
    walk(page, viewport)
    page.get_by_role("button", name="Add to shortlist").click()
    walk(page, viewport)
    page.goto("/shortlist")
    expect(page.get_by_role("main")).to_contain_text(SERVICE)
    walk(page, viewport)


def test_the_person_reads_their_shortlist_questions_notes_and_record_log(
    page: Page, viewport: str, seeded: Seeded, live_server: LiveServer
) -> None:
    signed_in(page, viewport, PERSON_EMAIL)
    page.goto("/my/shortlist")
    expect(heading(page)).to_have_text("Your shortlist")
    expect(page.get_by_role("main")).to_contain_text(NOTE)
    walk(page, viewport)
    page.get_by_role("button", name="Approve the services I chose").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    walk(page, viewport, errors=True)

    page.goto("/my/questions")
    walk(page, viewport)
    page.goto(f"/my/questions/{seeded.thread_id}")
    expect(page.get_by_role("main")).to_contain_text(QUESTION)
    walk(page, viewport)

    page.get_by_role("button", name="Send").first.click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    walk(page, viewport, errors=True)

    page.goto("/my/notes")
    expect(heading(page)).to_have_text("Notes about you")
    walk(page, viewport)

    if not served(live_server, "/my/record-log"):
        pytest.xfail("/my/record-log is not served yet")
    page.goto("/my/record-log")
    expect(page.get_by_role("main")).to_contain_text(BROKER)
    walk(page, viewport)


def test_a_broker_acting_shortlists_asks_and_is_refused_outside_consent(
    page: Page, viewport: str, seeded: Seeded
) -> None:
    signed_in(page, viewport, BROKER_EMAIL)
    page.get_by_role("button", name=f"Act for {PERSON}").click()
    expect(page.locator(".app-acting-banner")).to_contain_text(f"You are acting for {PERSON}")
    walk(page, viewport)

    page.goto("/my/shortlist")
    expect(heading(page)).to_have_text(f"{PERSON}'s shortlist")
    walk(page, viewport)
    page.goto("/my/questions")
    walk(page, viewport)

    page.goto(f"/services/{seeded.service_id}")
    walk(page, viewport)
    page.get_by_role("link", name="Ask the provider a question").click()
    walk(page, viewport)
    page.get_by_role("button", name="Send").first.click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page.locator(".app-acting-banner")).to_contain_text(f"You are acting for {PERSON}")
    walk(page, viewport, errors=True)

    # Stop acting by keyboard, from the top of the page (its first stop, the skip link).
    page.locator(".govuk-skip-link").focus()
    tab_to(page, "Stop acting for them")
    page.keyboard.press("Enter")
    expect(page.locator(".app-acting-banner")).to_have_count(0)
    walk(page, viewport)
    page.goto("/broker/")
    walk(page, viewport)
    page.get_by_role("button", name=f"Act for {NO_MESSAGE_CLIENT}").click()
    walk(page, viewport)
    response = page.goto("/my/questions")
    assert response is not None
    assert response.status == 403
    expect(heading(page)).to_have_text(f"Your consent from {NO_MESSAGE_CLIENT} does not cover this")
    walk(page, viewport)


def test_the_provider_answers_a_question(page: Page, viewport: str, seeded: Seeded) -> None:
    signed_in(page, viewport, STAFF_EMAIL)
    page.goto("/provider/questions")
    expect(page.get_by_role("main")).to_contain_text(SERVICE)
    walk(page, viewport)
    page.goto(f"/provider/questions/{seeded.thread_id}")
    expect(page.get_by_role("main")).to_contain_text(QUESTION)
    walk(page, viewport)
    page.get_by_role("main").get_by_role("button").last.click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    walk(page, viewport, errors=True)
    page.get_by_role("textbox").first.fill("Yes, Tuesday mornings suit us.")
    page.get_by_role("main").get_by_role("button").last.click()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    walk(page, viewport)


def test_the_council_pages(page: Page, viewport: str, seeded: Seeded) -> None:
    signed_in(page, viewport, OFFICER_EMAIL)
    page.goto(f"/council/people/{seeded.person_id}/consents")
    expect(heading(page)).to_have_text("Who can act for them")
    walk(page, viewport)
    page.goto(f"/council/people/{seeded.person_id}/consents/attorney")
    walk(page, viewport)
    page.get_by_role("button", name="Record the authority").click()
    walk(page, viewport, errors=True)

    page.goto("/council/brokerages/new")
    walk(page, viewport)
    page.get_by_role("main").get_by_role("button").last.click()
    walk(page, viewport, errors=True)


def test_the_council_searches_the_audit_log(
    page: Page, viewport: str, seeded: Seeded, live_server: LiveServer
) -> None:
    if not served(live_server, "/council/audit"):
        pytest.xfail("/council/audit is not served yet")
    signed_in(page, viewport, OFFICER_EMAIL)
    page.goto(f"/council/people/{seeded.person_id}/consents")  # an officer's read, on the log
    walk(page, viewport)
    page.goto("/council/audit")
    walk(page, viewport)
    search = page.get_by_label("Person (name, email or case reference)")
    search.fill(PERSON)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("main").locator("table")).to_contain_text(PERSON)
    expect(page).to_have_title(
        re.compile(f"^Audit log: [0-9]+ matching entr(y|ies) for “{PERSON}”")
    )
    walk(page, viewport)
    search.fill("Nobody Known")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("main").locator("table")).to_have_count(0)
    expect(page).to_have_title(re.compile("^Audit log: 0 matching entries for “Nobody Known”"))
    walk(page, viewport)


def test_registering_a_brokerage_and_its_public_page(
    page: Page, viewport: str, seeded: Seeded
) -> None:
    page.goto("/provider/register?kind=brokerage")
    expect(heading(page)).to_have_text("Register your organisation")
    walk(page, viewport)
    page.get_by_role("button", name="Register").click()
    walk(page, viewport, errors=True)

    page.goto(f"/providers/{seeded.brokerage_id}")
    expect(heading(page)).to_have_text(BROKERAGE)
    walk(page, viewport)
