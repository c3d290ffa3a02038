"""The plain campaign page is drawn once per change and given each visitor's own CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pledge.campaigns import routes
from pledge.campaigns.models import CampaignView
from tests.conftest import digits, form_data, html

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
