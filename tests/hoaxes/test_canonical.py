"""Links to the same post, however they were shared, have one canonical spelling."""

from __future__ import annotations

import pytest

from pledge.hoaxes.service import canonical_url, clean_url

FACEBOOK = "https://facebook.com/x"


@pytest.mark.parametrize(
    "shared",
    [
        "https://www.Facebook.com/x?utm_source=wa&fbclid=1#c",
        "http://m.facebook.com/x/",
        "HTTPS://FACEBOOK.COM/x",
        "https://web.facebook.com/x?mibextid=abc",
        "https://mobile.facebook.com:443/x",
        "http://www.facebook.com:80/x/#comments",
        "https://facebook.com/x?utm_medium=social&utm_campaign=pemilu&gclid=9",
        "https://fb.com/x",
        "https://mbasic.facebook.com/x",
        "https://touch.facebook.com/x?ref=share",
    ],
)
def test_facebook_variants_are_one_link(shared: str) -> None:
    assert canonical_url(shared) == FACEBOOK


@pytest.mark.parametrize(
    ("shared", "canonical"),
    [
        (
            "https://www.instagram.com/p/Cabc123/?igshid=MzRlODBiNWFlZA==",
            "https://instagram.com/p/Cabc123",
        ),
        (
            "https://www.instagram.com/reel/Cxyz/?igsh=abc&utm_source=ig_web",
            "https://instagram.com/p/Cxyz",
        ),
        ("https://twitter.com/akun/status/1234?s=20&t=abcDEF", "https://x.com/i/status/1234"),
        ("https://mobile.twitter.com/akun/status/1234", "https://x.com/i/status/1234"),
        ("https://x.com/akun/status/1234?ref_src=twsrc%5Etfw", "https://x.com/i/status/1234"),
        ("https://youtu.be/dQw4w9WgXcQ?si=abc", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s&feature=share",
            "https://youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        ("https://m.youtube.com/shorts/dQw4w9WgXcQ", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
        (
            "https://www.tiktok.com/@akun/video/7300000000000000000?is_from_webapp=1&sender_device=pc",
            "https://tiktok.com/@/video/7300000000000000000",
        ),
        ("https://berita.example.id/a?b=2&a=1", "https://berita.example.id/a?a=1&b=2"),
        ("https://berita.example.id/", "https://berita.example.id"),
        ("https://example.id:8443/a", "https://example.id:8443/a"),
        ("https://user:secret@example.id/a", "https://example.id/a"),
        ("https://example.id/%7eakun/%2f", "https://example.id/~akun/%2F"),
        ("https://t.me/kanal/42?single", "https://t.me/kanal/42?single="),
    ],
)
def test_canonical_forms(shared: str, canonical: str) -> None:
    assert canonical_url(shared) == canonical


def test_different_pages_stay_different() -> None:
    assert canonical_url("https://facebook.com/x") != canonical_url("https://facebook.com/y")
    assert canonical_url("https://example.id/a?id=1") != canonical_url("https://example.id/a?id=2")
    # A path's case matters on most sites.
    assert canonical_url("https://example.id/Abc") != canonical_url("https://example.id/abc")
    # "s" is tracking only on X; ref, feature, app, si and t only where they are known to be.
    assert canonical_url("https://example.id/cari?s=pemilu") == "https://example.id/cari?s=pemilu"
    for name in ("ref", "feature", "app", "si", "t", "source"):
        assert canonical_url(f"https://example.id/a?{name}=2") == f"https://example.id/a?{name}=2"
        assert canonical_url(f"https://example.id/a?{name}=2") != canonical_url(
            f"https://example.id/a?{name}=3"
        )
    # Fragments that are routes are kept; a place on a page is not.
    assert canonical_url("https://example.id/app/#/kasus/1") == "https://example.id/app/#/kasus/1"
    assert canonical_url("https://example.id/a#bagian-2") == "https://example.id/a"
    # A subdomain that is not an alias of the bare domain is kept.
    assert canonical_url("https://news.example.id/a") == "https://news.example.id/a"
    assert canonical_url("https://m.id/a") == "https://m.id/a"
    # Facebook's own front ends are Facebook only.
    assert canonical_url("https://lite.example.id/a") == "https://lite.example.id/a"
    assert canonical_url("http://[::1]:8080/a") == "https://[::1]:8080/a"


def test_clean_url_accepts_links_with_or_without_scheme() -> None:
    assert clean_url("  https://example.id/a  ") == "https://example.id/a"
    assert clean_url("facebook.com/x") == "https://facebook.com/x"
    assert clean_url("") == ""


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "ftp://example.id/file",
        "data:text/html,hi",
        "https://",
        "not a link",
        "https://exa mple.id/a",
        "https://example.id:99999/a",
        "https://example.id/" + "a" * 2048,
    ],
)
def test_clean_url_refuses_what_is_not_a_web_link(bad: str) -> None:
    with pytest.raises(ValueError):
        clean_url(bad)
