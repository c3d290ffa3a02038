"""The Open Graph share card and its tags on the campaign page."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from pledge.campaigns.models import CampaignView
from pledge.embeds.images import rounded_count, share_png
from tests.support.pages import html

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, (0, False)),
        (7, (7, False)),
        (999, (999, False)),
        (1000, (1000, True)),
        (1099, (1000, True)),
        (8215, (8200, True)),
        (8299, (8200, True)),
        (12_345, (12_000, True)),
        (987_654, (980_000, True)),
    ],
)
def test_rounded_count(count: int, shown: tuple[int, bool]) -> None:
    assert rounded_count(count) == shown


def test_share_png_is_drawn_once_per_key_and_anew_for_a_new_count() -> None:
    title = "Tolak Politik Uang: " + "kata " * 40  # long: wraps and is cut at three lines
    first = share_png(title=title, headline="8.200+ pendukung", site_name="Suara Kita")
    again = share_png(title=title, headline="8.200+ pendukung", site_name="Suara Kita")
    other = share_png(title=title, headline="8.300+ pendukung", site_name="Suara Kita")

    assert again is first  # from the cache, not drawn again
    assert other != first
    image = Image.open(BytesIO(first))
    assert (image.format, image.size) == ("PNG", (1200, 630))


def share(client: TestClient, slug: str, **headers: str) -> Any:
    response = client.get(f"/c/{slug}/share.png", headers=headers)
    return response


def test_share_image_is_a_1200x630_png(
    client: TestClient, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign(title="Gunakan Hak Pilih")
    sign(view, contact="a@example.com")

    response = share(client, view.slug)

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "public, max-age=300"
    image = Image.open(BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (1200, 630))


def test_share_image_changes_only_when_the_rounded_count_does(
    client: TestClient, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    sign(view, contact="a@example.com")
    first = share(client, view.slug)
    etag = first.headers["etag"]

    same = share(client, view.slug)
    assert (same.content, same.headers["etag"]) == (first.content, etag)
    assert share(client, view.slug, **{"If-None-Match": etag}).status_code == 304

    sign(view, contact="b@example.com")  # below 1000 every count is shown exactly
    changed = share(client, view.slug, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.content != first.content
    assert changed.headers["etag"] != etag


def test_share_image_language_follows_lang(client: TestClient, make_campaign: MakeCampaign) -> None:
    view = make_campaign()
    default = client.get(f"/c/{view.slug}/share.png")
    english = client.get(f"/c/{view.slug}/share.png?lang=en")
    assert default.content != english.content
    assert default.headers["etag"] != english.headers["etag"]


def test_share_image_of_a_draft_is_404(client: TestClient, make_campaign: MakeCampaign) -> None:
    view = make_campaign(status="draft")
    assert share(client, view.slug).status_code == 404


def test_campaign_page_has_open_graph_and_twitter_card_tags(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(title="Lawan Hoaks", summary="Cek dulu sebelum berbagi.")
    page = html(client.get(f"/c/{view.slug}"))

    def meta(key: str) -> str:
        tag = page.select_one(f'meta[property="{key}"], meta[name="{key}"]')
        assert tag is not None, key
        return str(tag["content"])

    image = urlsplit(meta("og:image"))
    assert (image.scheme, image.netloc, image.path) == (
        "http",
        "testserver",
        f"/c/{view.slug}/share.png",
    )
    assert (meta("og:image:width"), meta("og:image:height")) == ("1200", "630")
    assert meta("twitter:card") == "summary_large_image"
    assert meta("twitter:title") == "Lawan Hoaks"
    assert meta("twitter:description") == "Cek dulu sebelum berbagi."
    assert meta("twitter:image") == meta("og:image")
    assert client.get(image.path + "?" + image.query).status_code == 200
