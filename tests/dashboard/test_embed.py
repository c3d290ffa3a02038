"""The dashboard's "Embed this campaign" page: copy-ready snippets for partner websites."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role
from pledge.app import create_app
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from tests.support.dashboard import World
from tests.support.factories import MakeUser
from tests.support.pages import html
from tests.support.people import sign_in

AsUser = Callable[..., TestClient]
MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]

BASE = "http://testserver"
SNIPPETS = ("code-iframe", "code-badge", "code-markdown", "code-json", "code-events")


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def embed_path(org: Organization, view: CampaignView, query: str = "") -> str:
    return f"/dashboard/{org.slug}/campaigns/{view.slug}/embed" + (f"?{query}" if query else "")


def open_page(browser: TestClient, path: str) -> BeautifulSoup:
    response = browser.get(path)
    assert response.status_code == 200, response.text[:500]
    return html(response)


def code(page: BeautifulSoup, snippet_id: str) -> str:
    """What a partner copies: the text inside the snippet's textarea."""
    return one(page, f"textarea#{snippet_id}").get_text()


def snippet_tag(page: BeautifulSoup, snippet_id: str, selector: str) -> Tag:
    """The element a partner's website gets when it pastes the HTML snippet."""
    return one(BeautifulSoup(code(page, snippet_id), "html.parser"), selector)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def lead_code(world: World) -> str:
    """The lead organisation's referral code, which its snippets for everyone's count carry."""
    lead = world.view.partner_by_slug(world.lead.slug)
    assert lead is not None
    return lead.referral_code


@pytest.fixture
def lead_admin(world: World, as_user: AsUser) -> TestClient:
    return as_user(world.lead, Role.ADMIN)


# --- the snippets ----------------------------------------------------------------------


def test_the_snippets_carry_absolute_urls_and_ready_markup(
    world: World, lead_admin: TestClient
) -> None:
    page = open_page(lead_admin, embed_path(world.lead, world.view))
    slug, title = world.view.slug, world.view.campaign.title
    lead = world.view.partner_by_slug(world.lead.slug)
    assert lead is not None
    widget_url = f"{BASE}/embed/{slug}?lang=id&ref={lead.referral_code}"
    badge_url = f"{BASE}/embed/{slug}.svg?lang=id"
    campaign_url = f"{BASE}/c/{slug}?ref={lead.referral_code}"

    assert one(page, "h1").get_text(strip=True) == "Embed this campaign"
    assert one(page, ".breadcrumb a")["href"] == f"/dashboard/{world.lead.slug}"

    iframe = snippet_tag(page, "code-iframe", "iframe")
    assert iframe["src"] == widget_url
    assert iframe["title"] == title
    assert (iframe["width"], iframe["height"], iframe["loading"]) == ("320", "230", "lazy")

    link = snippet_tag(page, "code-badge", "a")
    assert link["href"] == campaign_url
    image = one(link, "img")
    assert (image["src"], image["alt"]) == (badge_url, title)

    assert code(page, "code-markdown") == f"[![{title}]({badge_url})]({campaign_url})"
    assert code(page, "code-json") == f"{BASE}/api/v1/campaigns/{slug}"
    assert code(page, "code-events") == f"{BASE}/c/{slug}/events"

    # The previews show what the snippets show.
    assert one(page, "iframe.preview")["src"] == widget_url
    assert one(page, "p.preview img")["src"] == badge_url
    assert page.select_one(".alert") is None

    # The defaults are the checked choices of the form that rebuilds the snippets.
    form = one(page, "form.embed-choice")
    assert form["method"] == "get"
    assert form["action"] == embed_path(world.lead, world.view)
    checked = {str(i["name"]): str(i["value"]) for i in form.select("input[checked]")}
    assert checked == {"scope": "all", "theme": "light", "language": "id"}


def test_behind_a_proxy_the_snippets_use_the_public_address(
    world: World, engine: sa.Engine, make_user: MakeUser
) -> None:
    settings = get_settings().model_copy(update={"public_url": "https://janji.example.org/"})
    app = create_app(settings, engine=engine)
    with TestClient(app, base_url="http://app-1.internal:8000", follow_redirects=False) as internal:
        internal.cookies.set("lang", "en")
        page = open_page(
            sign_in(internal, make_user(org=world.lead, role=Role.ADMIN)),
            embed_path(world.lead, world.view),
        )
    public = "https://janji.example.org"
    slug = world.view.slug
    assert snippet_tag(page, "code-iframe", "iframe")["src"] == (
        f"{public}/embed/{slug}?lang=id&ref={lead_code(world)}"
    )
    assert snippet_tag(page, "code-badge", "img")["src"] == f"{public}/embed/{slug}.svg?lang=id"
    assert str(snippet_tag(page, "code-badge", "a")["href"]).startswith(f"{public}/c/{slug}?ref=")
    assert code(page, "code-json") == f"{public}/api/v1/campaigns/{slug}"
    assert code(page, "code-events") == f"{public}/c/{slug}/events"


def test_the_addresses_in_the_snippets_answer(
    world: World, lead_admin: TestClient, sign: Sign
) -> None:
    sign(world.view, contact="a@example.com")
    sign(world.view, contact="b@example.com")
    page = open_page(lead_admin, embed_path(world.lead, world.view, "language=en"))

    widget = lead_admin.get(urlsplit(str(snippet_tag(page, "code-iframe", "iframe")["src"])).path)
    assert widget.status_code == 200
    assert one(html(widget), "strong.count").get_text(strip=True) == "2"
    badge = lead_admin.get(str(snippet_tag(page, "code-badge", "img")["src"]))
    assert badge.status_code == 200
    assert badge.headers["content-type"].startswith("image/svg+xml")
    api = lead_admin.get(code(page, "code-json"))
    assert api.status_code == 200
    assert api.json()["supporters"] == 2


def test_a_partner_can_count_only_the_supporters_it_brought_in(
    world: World, as_user: AsUser, sign: Sign
) -> None:
    partner = world.view.partner_by_slug(world.partner.slug)
    assert partner is not None
    sign(world.view, contact="a@example.com", ref=partner.referral_code)
    sign(world.view, contact="b@example.com")
    browser = as_user(world.partner, Role.ADMIN)
    slug = world.view.slug

    everyone = open_page(browser, embed_path(world.partner, world.view))
    ours = open_page(browser, embed_path(world.partner, world.view, "scope=ours"))

    assert one(everyone, "input[name=scope][checked]")["value"] == "all"
    assert one(ours, "input[name=scope][checked]")["value"] == "ours"
    scope_labels = [label.get_text(" ", strip=True) for label in ours.select("fieldset label")]
    assert f"Only the supporters {world.partner.name} brought in" in scope_labels

    iframe = snippet_tag(everyone, "code-iframe", "iframe")
    assert query_of(str(iframe["src"])) == {"lang": ["id"], "ref": [partner.referral_code]}
    widget_url = str(snippet_tag(ours, "code-iframe", "iframe")["src"])
    badge_url = str(snippet_tag(ours, "code-badge", "img")["src"])
    assert widget_url == f"{BASE}/embed/{slug}?lang=id&partner={world.partner.slug}"
    assert badge_url == f"{BASE}/embed/{slug}.svg?lang=id&partner={world.partner.slug}"
    assert one(ours, "iframe.preview")["src"] == widget_url
    assert one(ours, "p.preview img")["src"] == badge_url

    # Whoever follows the badge from the partner's site is counted for that partner.
    campaign_url = f"{BASE}/c/{slug}?ref={partner.referral_code}"
    for page in (everyone, ours):
        assert snippet_tag(page, "code-badge", "a")["href"] == campaign_url
        assert code(page, "code-markdown").endswith(f"({campaign_url})")

    narrowed = html(browser.get(urlsplit(widget_url).path + "?" + urlsplit(widget_url).query))
    assert one(narrowed, "strong.count").get_text(strip=True) == "1"
    assert one(narrowed, "strong.count")["data-partner"] == world.partner.slug


def test_dark_colours_are_for_the_widget_only(world: World, lead_admin: TestClient) -> None:
    page = open_page(lead_admin, embed_path(world.lead, world.view, "theme=dark"))

    widget_url = str(snippet_tag(page, "code-iframe", "iframe")["src"])
    badge_url = str(snippet_tag(page, "code-badge", "img")["src"])
    assert query_of(widget_url) == {"lang": ["id"], "theme": ["dark"], "ref": [lead_code(world)]}
    assert query_of(badge_url) == {"lang": ["id"]}
    assert "theme" not in code(page, "code-markdown")
    assert one(page, "iframe.preview")["src"] == widget_url
    assert one(page, "input[name=theme][checked]")["value"] == "dark"

    widget = html(lead_admin.get(f"{urlsplit(widget_url).path}?{urlsplit(widget_url).query}"))
    assert "theme-dark" in one(widget, "html")["class"]


def test_the_counter_language_is_its_own_choice(world: World, lead_admin: TestClient) -> None:
    english_counter = open_page(lead_admin, embed_path(world.lead, world.view, "language=en"))
    assert query_of(str(snippet_tag(english_counter, "code-iframe", "iframe")["src"])) == {
        "lang": ["en"],
        "ref": [lead_code(world)],
    }
    assert query_of(str(snippet_tag(english_counter, "code-badge", "img")["src"])) == {
        "lang": ["en"]
    }
    assert one(english_counter, "input[name=language][checked]")["value"] == "en"
    assert one(english_counter, "html")["lang"] == "en"

    # ?lang= switches the dashboard's own language and leaves the counter's alone.
    indonesian_page = open_page(lead_admin, embed_path(world.lead, world.view, "lang=id"))
    assert one(indonesian_page, "html")["lang"] == "id"
    assert one(indonesian_page, "h1").get_text(strip=True) == "Pasang kampanye ini"
    assert query_of(str(snippet_tag(indonesian_page, "code-iframe", "iframe")["src"])) == {
        "lang": ["id"],
        "ref": [lead_code(world)],
    }
    both = open_page(lead_admin, embed_path(world.lead, world.view, "lang=id&language=en"))
    assert one(both, "html")["lang"] == "id"
    assert query_of(str(snippet_tag(both, "code-iframe", "iframe")["src"])) == {
        "lang": ["en"],
        "ref": [lead_code(world)],
    }


@pytest.mark.parametrize(
    "query",
    [
        "scope=evil",
        "theme=%3Cscript%3Ealert(1)%3C/script%3E",
        "language=xx",
        "language=en%0A",
        "scope=&theme=&language=",
        "scope=" + "a" * 5000,
    ],
)
def test_bad_choices_fall_back_to_the_defaults(
    query: str, world: World, lead_admin: TestClient
) -> None:
    response = lead_admin.get(embed_path(world.lead, world.view, query))
    assert response.status_code == 200
    page = html(response)
    widget_url = str(snippet_tag(page, "code-iframe", "iframe")["src"])
    assert widget_url.startswith(f"{BASE}/embed/{world.view.slug}?")
    assert "partner" not in query_of(widget_url)
    assert "theme" not in query_of(widget_url)
    assert [str(s["src"]).split("?")[0] for s in page.select("script")] == ["/static/js/share.js"]
    assert "alert(1)" not in response.text
    assert len(page.select("input[checked]")) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("scope=evil", {"lang": ["id"]}),
        ("theme=%3Cscript%3E", {"lang": ["id"]}),
        ("language=xx", {"lang": ["id"]}),
        ("scope=evil&theme=dark&language=en", {"lang": ["en"], "theme": ["dark"]}),
    ],
)
def test_one_bad_choice_keeps_the_good_ones(
    query: str, expected: dict[str, list[str]], world: World, lead_admin: TestClient
) -> None:
    page = open_page(lead_admin, embed_path(world.lead, world.view, query))
    expected = {**expected, "ref": [lead_code(world)]}
    assert query_of(str(snippet_tag(page, "code-iframe", "iframe")["src"])) == expected


def test_a_hostile_title_stays_text_in_every_snippet(
    session: Session, make_campaign: MakeCampaign, as_user: AsUser
) -> None:
    title = 'Tolak [uang] <script>alert("x")</script> & "suap"'
    view = make_campaign(title=title)
    lead = accounts.get_org_by_slug(session, view.partners[0].slug)
    response = as_user(lead, Role.MODERATOR).get(embed_path(lead, view))
    assert response.status_code == 200
    page = html(response)

    # The page itself runs nothing of the title.
    assert [str(s["src"]).split("?")[0] for s in page.select("script")] == ["/static/js/share.js"]
    assert one(page, "p.lead").get_text(" ", strip=True).startswith(title)
    assert one(page, "p.preview img")["alt"] == title

    # The pasted snippet is safe HTML: the title is escaped inside the attribute.
    iframe_code = code(page, "code-iframe")
    assert "<script" not in iframe_code
    assert 'title="Tolak [uang] &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;' in iframe_code
    pasted = BeautifulSoup(iframe_code, "html.parser")
    assert pasted.select("script") == []
    assert len(pasted.find_all(True)) == 1
    assert one(pasted, "iframe")["title"] == title

    badge_code = code(page, "code-badge")
    assert "<script" not in badge_code
    pasted = BeautifulSoup(badge_code, "html.parser")
    assert [tag.name for tag in pasted.find_all(True)] == ["a", "img"]
    assert one(pasted, "img")["alt"] == title

    # Markdown alt text loses the brackets that would end it early.
    markdown = code(page, "code-markdown")
    alt = markdown.removeprefix("[![").split("](", 1)[0]
    assert alt == 'Tolak uang <script>alert("x")</script> & "suap"'
    assert markdown.count("[") == 2 and markdown.count("]") == 2


def test_an_organisation_name_in_the_choices_is_text(
    session: Session, world: World, as_user: AsUser
) -> None:
    world.partner.name = 'Lembaga <b>Jujur</b> & "Bersih"'
    session.add(world.partner)
    session.commit()
    page = open_page(as_user(world.partner, Role.ADMIN), embed_path(world.partner, world.view))
    scope = one(page, "input[name=scope][value=ours]").find_parent("label")
    assert scope is not None
    assert scope.select("b") == []
    assert scope.get_text(" ", strip=True) == (
        'Only the supporters Lembaga <b>Jujur</b> & "Bersih" brought in'
    )


def test_a_draft_has_snippets_but_no_preview(
    session: Session, make_campaign: MakeCampaign, as_user: AsUser
) -> None:
    draft = make_campaign(status="draft")
    lead = accounts.get_org_by_slug(session, draft.partners[0].slug)
    page = open_page(as_user(lead, Role.ADMIN), embed_path(lead, draft))

    notice = one(page, ".alert").get_text(" ", strip=True)
    assert "This campaign is not public yet" in notice
    assert one(page, ".status")["data-status"] == "draft"
    assert page.select("iframe.preview, .preview img, iframe") == []
    assert snippet_tag(page, "code-iframe", "iframe")["src"] == (
        f"{BASE}/embed/{draft.slug}?lang=id&ref={draft.partners[0].referral_code}"
    )
    assert code(page, "code-json") == f"{BASE}/api/v1/campaigns/{draft.slug}"


def test_a_closed_campaign_still_has_its_preview(
    session: Session, make_campaign: MakeCampaign, as_user: AsUser
) -> None:
    closed = make_campaign(status="closed")
    lead = accounts.get_org_by_slug(session, closed.partners[0].slug)
    page = open_page(as_user(lead, Role.ADMIN), embed_path(lead, closed))
    assert page.select_one(".alert") is None
    assert one(page, "iframe.preview")["src"] == (
        f"{BASE}/embed/{closed.slug}?lang=id&ref={closed.partners[0].referral_code}"
    )


def test_every_snippet_has_a_label_a_hint_and_a_copy_button(
    world: World, lead_admin: TestClient
) -> None:
    page = open_page(lead_admin, embed_path(world.lead, world.view))
    for snippet_id in SNIPPETS:
        area = one(page, f"textarea#{snippet_id}")
        assert area.has_attr("readonly")
        assert one(page, f"label[for={snippet_id}]").get_text(strip=True)
        assert area["aria-describedby"] == f"{snippet_id}-hint"
        assert one(page, f"#{snippet_id}-hint").get_text(strip=True)
        button = one(page, f"button[data-copy={snippet_id}]")
        assert button.has_attr("hidden")  # share.js shows it where copying works
        assert button["type"] == "button"
        assert button.get_text(strip=True) == "Copy"
        assert one(page, f"#{button['data-copied']}")["role"] == "status"
    assert len(page.select("button[data-copy]")) == len(SNIPPETS)
    assert [str(s["src"]).split("?")[0] for s in page.select("script")] == ["/static/js/share.js"]
    assert one(page, "meta[name=robots]")["content"] == "noindex"


def test_the_organisation_page_links_to_it(world: World, as_user: AsUser) -> None:
    lead_page = open_page(as_user(world.lead, Role.MODERATOR), f"/dashboard/{world.lead.slug}")
    link = one(lead_page, f"#led-{world.view.slug} a.embed")
    assert link["href"] == embed_path(world.lead, world.view)
    assert open_page(as_user(world.lead, Role.MODERATOR), str(link["href"])).select_one(
        "textarea#code-iframe"
    )

    partner_page = open_page(as_user(world.partner, Role.ADMIN), f"/dashboard/{world.partner.slug}")
    link = one(partner_page, f"#partner-{world.view.slug} a.embed")
    assert link["href"] == embed_path(world.partner, world.view)


# --- who may open it -------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["lead_admin", "lead_moderator", "partner_moderator", "site_admin"]
)
def test_members_and_site_admins_get_the_page(persona: str, world: World, as_user: AsUser) -> None:
    org = world.partner if persona == "partner_moderator" else world.lead
    if persona == "site_admin":
        browser = as_user(None, site_admin=True)
    else:
        browser = as_user(org, Role.ADMIN if persona == "lead_admin" else Role.MODERATOR)
    page = open_page(browser, embed_path(org, world.view))
    assert one(page, "h1").get_text(strip=True) == "Embed this campaign"
    assert code(page, "code-json") == f"{BASE}/api/v1/campaigns/{world.view.slug}"


def test_anonymous_visitors_are_sent_to_sign_in(world: World, client: TestClient) -> None:
    path = embed_path(world.lead, world.view)
    response = client.get(path)
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [path]


def test_an_admin_of_another_organisation_is_refused(world: World, as_user: AsUser) -> None:
    response = as_user(world.stranger, Role.ADMIN).get(embed_path(world.lead, world.view))
    assert response.status_code == 403
    page = html(response)
    assert one(page, ".detail").get_text(strip=True)
    assert page.select("textarea") == []


def test_a_campaign_the_organisation_has_no_part_in_is_not_found(
    world: World, as_user: AsUser
) -> None:
    lead_admin = as_user(world.lead, Role.ADMIN)
    response = lead_admin.get(embed_path(world.lead, world.elsewhere))
    assert response.status_code == 404
    assert html(response).select("textarea") == []
    missing = embed_path(world.lead, world.view).replace(world.view.slug, "no-such-campaign")
    assert lead_admin.get(missing).status_code == 404

    stranger = as_user(world.stranger, Role.ADMIN)
    assert stranger.get(embed_path(world.stranger, world.view)).status_code == 404
    assert stranger.get(embed_path(world.stranger, world.elsewhere)).status_code == 200

    site_admin = as_user(None, site_admin=True)
    assert site_admin.get(embed_path(world.lead, world.elsewhere)).status_code == 404
