"""The gallery's filters: by label, platform, category, campaign and month, kept across
pages, and a filter that is none of its choices answered with a message, not an error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.hoaxes.models import HoaxMonth, Verdict
from tests.support.factories import MakeReport, Publish, fresh
from tests.support.pages import html

MakeCampaign = Callable[..., CampaignView]


def _shown(client: TestClient, query: str) -> list[str]:
    response = client.get(f"/hoaxes?{query}&lang=en")
    assert response.status_code == 200, response.text
    return [card["id"] for card in html(response).select("li.card")]


def test_each_filter_narrows_the_gallery(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
) -> None:
    pemilu = make_campaign(slug="pemilu-damai")
    muda = make_campaign(slug="suara-muda")
    ai = make_report(
        pemilu, url="https://example.id/ai", platform="tiktok", category="ai_generated"
    )
    publish(ai.case_id, label=Verdict.BUATAN_AI, published_at=datetime(2024, 1, 31, 18, tzinfo=UTC))
    money = make_report(
        muda, url="https://example.id/uang", platform="whatsapp", category="money_politics"
    )
    publish(money.case_id, label=Verdict.SALAH, published_at=datetime(2024, 2, 10, tzinfo=UTC))

    assert _shown(client, "label=BUATAN+AI") == [f"hoax-{ai.case_id}"]
    assert _shown(client, "label=SALAH") == [f"hoax-{money.case_id}"]
    assert _shown(client, "platform=whatsapp") == [f"hoax-{money.case_id}"]
    assert _shown(client, "category=ai_generated") == [f"hoax-{ai.case_id}"]
    assert _shown(client, "campaign=pemilu-damai") == [f"hoax-{ai.case_id}"]
    # 31 January 18:00 UTC is 1 February 01:00 in Jakarta: a February verdict there.
    assert _shown(client, "month=2024-02") == [f"hoax-{money.case_id}", f"hoax-{ai.case_id}"]
    assert _shown(client, "month=2024-01") == []
    assert _shown(client, "label=SALAH&platform=tiktok") == []
    page = html(client.get("/hoaxes?label=SALAH&platform=tiktok&lang=en"))
    assert "No published verdict matches these filters." in page.select_one(".empty").get_text()
    assert page.select_one("#clear-filters")["href"] == "/hoaxes"


def test_the_filters_offer_the_months_and_campaigns_with_verdicts(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign(title="Pemilu Damai")
    quiet = make_campaign(title="Belum Ada Putusan")
    report = make_report(view)
    publish(report.case_id, published_at=datetime(2024, 2, 10, tzinfo=UTC))
    for month, campaign_id in ((datetime(2024, 2, 1), view.id), (datetime(2023, 11, 1), view.id)):
        session.merge(
            HoaxMonth(campaign_id=campaign_id, month=month.date(), metric="verdict:SALAH", count=1)
        )
    session.merge(
        HoaxMonth(
            campaign_id=quiet.id, month=datetime(2024, 3, 1).date(), metric="reports", count=4
        )
    )
    session.commit()

    page = html(client.get("/hoaxes?lang=en"))
    months = [(o["value"], o.get_text()) for o in page.select("select[name=month] option")]
    assert months == [("", "Any month"), ("2024-02", "February 2024"), ("2023-11", "November 2023")]
    campaigns = [o.get_text() for o in page.select("select[name=campaign] option")]
    assert campaigns == ["Every campaign", "Pemilu Damai"]
    indonesian = html(client.get("/hoaxes?lang=id"))
    assert "Februari 2024" in [o.get_text() for o in indonesian.select("select[name=month] option")]
    labels = [o["value"] for o in page.select("select[name=label] option")]
    assert labels == ["", *[str(label) for label in Verdict]]


def test_pages_keep_the_filters(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
) -> None:
    view = make_campaign()
    for i in range(21):
        report = make_report(view, url=f"https://example.id/salah/{i}")
        publish(report.case_id, label=Verdict.SALAH)
    other = make_report(view, url="https://example.id/satire")
    publish(other.case_id, label=Verdict.SATIRE)

    first = html(client.get("/hoaxes?label=SALAH"))
    assert len(first.select("li.card")) == 20
    assert first.select_one("a[rel=next]")["href"] == "/hoaxes?label=SALAH&page=2"
    second = html(client.get("/hoaxes?label=SALAH&page=2"))
    assert len(second.select("li.card")) == 1
    assert second.select_one("a[rel=prev]")["href"] == "/hoaxes?label=SALAH"
    assert second.select_one("select[name=label] option[selected]")["value"] == "SALAH"


def test_a_filter_that_is_no_choice_is_named(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign(slug="pemilu-damai")
    report = make_report(view)
    publish(report.case_id)
    cases = {
        "label=BOHONG": ("label", "Choose a label from the list."),
        "platform=myspace": ("platform", "Choose a platform from the list."),
        "category=gossip": ("category", "Choose a category from the list."),
        "campaign=tidak-ada": ("campaign", "Choose a campaign from the list."),
        "month=2024-13": ("month", "Choose a month from the list."),
        "month=februari": ("month", "Choose a month from the list."),
        "page=0": ("page", "This page link is broken. Start again from the first page."),
        "page=abc": ("page", "This page link is broken. Start again from the first page."),
    }
    for query, (field, message) in cases.items():
        response = client.get(f"/hoaxes?{query}&lang=en")
        assert response.status_code == 422, query
        page = html(response)
        assert page.select("li.card") == [], query
        assert message in page.select_one(f"#{field}-error").get_text(), query
    indonesian = client.get("/hoaxes?label=BOHONG&lang=id")
    assert indonesian.status_code == 422
    assert "Choose a label from the list." not in indonesian.text


def test_a_draft_campaign_is_no_filter_choice(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    from pledge.campaigns.models import Campaign, CampaignStatus

    view = make_campaign(slug="rahasia")
    report = make_report(view)
    publish(report.case_id)
    campaign = fresh(session).get(Campaign, view.id)
    assert campaign is not None
    campaign.status = CampaignStatus.DRAFT
    session.add(campaign)
    session.commit()
    assert client.get("/hoaxes?campaign=rahasia").status_code == 422
