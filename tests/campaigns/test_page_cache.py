"""The plain campaign page is drawn once per change and given each visitor's own CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pledge.campaigns.models import CampaignView
from pledge.supporters import routes
from tests.support.forms import form_data
from tests.support.pages import digits, html
from tests.support.signing import confirm_landing

MakeCampaign = Callable[..., CampaignView]


def token_of(response: Any) -> str:
    field = html(response).select_one("input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


def test_two_visitors_get_one_drawing_with_their_own_tokens(
    app: FastAPI, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    with TestClient(app) as first, TestClient(app) as second:
        one, two = first.get(f"/c/{view.slug}"), second.get(f"/c/{view.slug}")
        assert one.status_code == two.status_code == 200
        assert routes.CSRF_HOLE not in one.text + two.text
        assert token_of(one) != token_of(two)
        # The pages differ in the token only.
        assert one.text.replace(token_of(one), "T") == two.text.replace(token_of(two), "T")
        assert len(routes._pages) == 1

        # Each token works for its own visitor, and only for them.
        crossed = second.post(f"/c/{view.slug}/sign", data=form_data(csrf_token=token_of(one)))
        assert crossed.status_code == 403
        for client, page in ((first, one), (second, two)):
            answer = client.post(
                f"/c/{view.slug}/sign",
                data=form_data(csrf_token=token_of(page), contact=f"{id(client)}@contoh.id"),
                follow_redirects=False,
            )
            assert answer.status_code == 303


def test_a_new_signature_gives_a_new_drawing(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    before = client.get(f"/c/{view.slug}")
    assert digits(html(before).select_one(".tally strong.count").get_text()) == 0

    client.post(
        f"/c/{view.slug}/sign", data=form_data(csrf_token=token_of(before)), follow_redirects=False
    )
    pending = client.get(f"/c/{view.slug}")
    assert digits(html(pending).select_one(".tally strong.count").get_text()) == 0
    confirm_landing(client, view, form_data()["contact"])

    after = client.get(f"/c/{view.slug}")
    assert digits(html(after).select_one(".tally strong.count").get_text()) == 1
    assert token_of(after) == token_of(before)  # the same visitor keeps their token


def test_pages_with_a_query_or_errors_are_drawn_for_the_request(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    partner = view.partners[1]
    referred = client.get(f"/c/{view.slug}?ref={partner.referral_code}")
    assert html(referred).select_one("input[name=ref]")["value"] == partner.referral_code
    plain = client.get(f"/c/{view.slug}")
    assert html(plain).select_one("input[name=ref]")["value"] == ""
    refused = client.post(
        f"/c/{view.slug}/sign", data=form_data(csrf_token=token_of(plain), name="")
    )
    assert refused.status_code == 422
    assert html(refused).select_one("#name-error") is not None
    assert routes.CSRF_HOLE not in referred.text + plain.text + refused.text


def test_a_shared_links_page_is_drawn_once_for_everyone_who_opens_it(
    app: FastAPI, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    partner = view.partners[1]
    link = f"/c/{view.slug}?ref={partner.referral_code}"
    with TestClient(app) as first, TestClient(app) as second:
        one, two = first.get(link), second.get(link)
        plain = first.get(f"/c/{view.slug}")

    assert token_of(one) != token_of(two)
    assert one.text.replace(token_of(one), "T") == two.text.replace(token_of(two), "T")
    assert html(one).select_one("input[name=ref]")["value"] == partner.referral_code
    assert html(plain).select_one("input[name=ref]")["value"] == ""
    assert len(routes._pages) == 2  # the link's drawing and the plain page's
    # The language switch keeps the partner's code.
    switch = html(one).select_one('a[hreflang="en"]')
    assert switch is not None and switch["href"] == f"{link}&lang=en"


def test_a_friends_invitation_and_a_language_are_drawn_once_too(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    for _ in range(3):
        invited = client.get(f"/c/{view.slug}?invite=Abcd1234&lang=en")
    assert html(invited).select_one("input[name=invite]")["value"] == "Abcd1234"
    assert html(invited).select_one("html")["lang"] == "en"
    assert len(routes._pages) == 1


def test_other_addresses_are_drawn_for_their_visitor_alone(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    partner = view.partners[1]
    for query in (
        "utm_source=whatsapp",
        f"ref={partner.referral_code}&ref=other",
        f"ref={partner.referral_code}&fbclid=x",
        "ref=" + "x" * 300,
    ):
        response = client.get(f"/c/{view.slug}?{query}")
        assert response.status_code == 200
        assert routes.CSRF_HOLE not in response.text
        assert html(response).select_one("form input[name=csrf_token]") is not None
    assert len(routes._pages) == 0
