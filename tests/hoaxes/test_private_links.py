"""Private group invitations and click-to-chat links are never published with a verdict."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from pledge.hoaxes.service import canonical_url, clean_url
from pledge.hoaxes.service.published import is_private_link
from tests.support.factories import MakeCampaign, MakeReport, Publish
from tests.support.pages import html

PRIVATE = [
    "https://chat.whatsapp.com/ABCDEFG",
    "https://wa.me/6281234567890",
    "https://api.whatsapp.com/send?phone=6281234567890",
    "https://web.whatsapp.com/send?phone=6281234567890",
    "https://wa.link/abc123",
    "https://discord.gg/AbCdEf",
    "https://discord.com/invite/AbCdEf",
    "https://line.me/R/ti/g/AbCdEf",
    "https://line.me/ti/g/AbCdEf",
    "https://line.me/ti/g2/AbCdEf",
    "https://m.me/j/AbCdEf",
    "https://t.me/+AbCdEf",
    "https://t.me/joinchat/AbCdEf",
    "https://t.me/%2BAbCdEf",
    "https://t.me/%252BAbCdEf",
    "https://telegram.me/+AbCdEf",
    "https://telegram.me/joinchat/AbCdEf",
    "https://telegram.dog/+AbCdEf",
    "https://telegram.dog/joinchat/AbCdEf",
]


def _spellings(url: str) -> list[str]:
    """The link as given, in capitals, without its scheme, with www., over http."""
    bare = url.removeprefix("https://")
    host, _, rest = bare.partition("/")
    return [
        url,
        url.upper(),
        bare,
        "//" + bare,
        "www." + bare,
        "http://www." + host.upper() + "/" + rest,
        "HTTPS://" + host.upper() + ".:443/" + rest.swapcase(),
    ]


@pytest.mark.parametrize("url", PRIVATE)
def test_every_spelling_of_a_private_link_is_withheld(url: str) -> None:
    for spelling in _spellings(url):
        assert is_private_link(spelling), spelling
        if not spelling.startswith("//"):
            # As it is stored: the reporter's link checked, in its canonical spelling.
            stored = canonical_url(clean_url(spelling))
            assert is_private_link(stored), stored


@pytest.mark.parametrize(
    "url",
    [
        "https://facebook.com/hoaks/posts/9",
        "https://t.me/beritahoaks/123",
        "https://telegram.me/s/beritahoaks",
        "https://whatsapp.com/channel/0029Va",
        "https://line.me/en/",
        "https://discord.com/channels/1/2",
        "https://m.me/halaman",
        "https://example.com/wa.me/6281234567890",
        "https://example.com/?next=https://t.me/+AbCdEf",
        "https://chat.whatsapp.com.example.com/ABCDEFG",
        "https://[::1/",
        "",
    ],
)
def test_public_links_are_still_published(url: str) -> None:
    assert not is_private_link(url)


@pytest.mark.parametrize(
    "url",
    [
        "api.whatsapp.com/send?phone=6281299887766",
        "WWW.WA.LINK/Gr0upInv1te",
        "https://t.me/%2BGr0upInv1te",
        "line.me/R/ti/g/Gr0upInv1te",
        "https://www.discord.gg/Gr0upInv1te",
    ],
)
def test_a_verdict_never_shows_a_private_link(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    url: str,
) -> None:
    report = make_report(make_campaign(), url=url)
    publish(report.case_id)
    page = client.get(f"/hoaxes/{report.case_id}")
    assert page.status_code == 200
    raw = html(page).select_one("script[type='application/ld+json']")
    assert raw is not None
    assert "appearance" not in json.loads(raw.string or "{}")["itemReviewed"]
    secret = url.rsplit("/", 1)[-1].removeprefix("send?phone=").removeprefix("%2B").lower()
    assert secret not in page.text.lower()
    assert secret not in client.get("/api/v1/hoaxes").text.lower()
    assert secret not in client.get("/hoaxes").text.lower()
