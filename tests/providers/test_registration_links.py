"""A provider finds where to register: from the footer of every page, the home page and the
sign-in page (nothing linked to it before)."""

from __future__ import annotations

from flask.testing import FlaskClient

REGISTER = 'href="/provider/register"'


def test_the_public_pages_link_to_provider_registration(
    client: FlaskClient, reference_data: None
) -> None:
    for path in ("/", "/sign-in", "/search", "/accessibility"):
        page = client.get(path).get_data(as_text=True)
        footer = page.split('<footer class="govuk-template__footer">', 1)[1]
        assert f"{REGISTER}>Register as a care provider</a>" in footer, path

    home = client.get("/").get_data(as_text=True)
    for_providers = home.split('id="for-providers"', 1)[1].split("</p>", 1)[0]
    assert f"{REGISTER}>register as a provider</a>" in for_providers
    sign_in = client.get("/sign-in").get_data(as_text=True).split("<footer", 1)[0]
    assert f"{REGISTER}>Register your organisation as a provider</a>" in sign_in
    assert client.get("/provider/register").status_code == 200
