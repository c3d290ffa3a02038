"""The verdict pages and their gallery are drawn once per version of the published verdicts:
the next visitors get the same page without a query, until a verdict is published, corrected,
reported again or its campaign changes; a signed-in browser is told to keep no copy."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.db import utcnow
from pledge.hoaxes.models import hoax_case_table
from tests.support.factories import MakeReport, Publish
from tests.support.pages import html
from tests.support.people import login, make_user

MakeCampaign = Callable[..., CampaignView]


def _explanation(client: TestClient, case_id: int) -> str:
    return (
        html(client.get(f"/hoaxes/{case_id}")).select_one(".explanation").get_text(" ", strip=True)
    )


def _quietly(session: Session, case_id: int, **values: object) -> None:
    """Change a stored verdict without touching what marks a change (as no real write does)."""
    case_t = hoax_case_table
    session.execute(sa.update(case_t).where(case_t.c.id == case_id).values(**values))
    session.commit()


def test_a_verdict_page_is_drawn_once_per_change(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    from pledge.hoaxes import routes

    view = make_campaign()
    report = make_report(view)
    case = publish(report.case_id, explanation="Versi pertama.")
    assert _explanation(client, case.id) == "Versi pertama."

    _quietly(session, case.id, public_explanation="Diam-diam diubah.")
    routes._verdicts.forget()  # the version is read again, and has not changed
    assert _explanation(client, case.id) == "Versi pertama."  # the page as drawn

    _quietly(session, case.id, public_explanation="Versi kedua.", updated_at=utcnow())
    routes._verdicts.forget()  # as a second later
    assert _explanation(client, case.id) == "Versi kedua."


def test_a_verdict_no_longer_published_is_gone_once_the_version_changes(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    from pledge.hoaxes import routes

    view = make_campaign()
    report = make_report(view)
    case = publish(report.case_id)
    assert client.get(f"/hoaxes/{case.id}").status_code == 200
    assert f"hoax-{case.id}" in client.get("/hoaxes").text
    _quietly(session, case.id, status="not_hoax", updated_at=utcnow())
    routes._verdicts.forget()
    assert client.get(f"/hoaxes/{case.id}").status_code == 404
    assert f"hoax-{case.id}" not in client.get("/hoaxes").text


def test_pages_are_drawn_per_language_and_address(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    report = make_report(view)
    case = publish(report.case_id)
    english = client.get(f"/hoaxes/{case.id}?lang=en")
    indonesian = client.get(f"/hoaxes/{case.id}?lang=id")
    assert html(english).html["lang"] == "en" and html(indonesian).html["lang"] == "id"
    assert "What we found" in english.text and "What we found" not in indonesian.text
    filtered = client.get("/hoaxes?label=SATIRE&lang=en")
    assert f"hoax-{case.id}" not in filtered.text
    assert f"hoax-{case.id}" in client.get("/hoaxes?lang=en").text


def test_visitors_may_keep_a_copy_a_minute_and_signed_in_browsers_none(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign()
    report = make_report(view)
    case = publish(report.case_id)
    for path in (f"/hoaxes/{case.id}", "/hoaxes"):
        first, again = client.get(path), client.get(path)
        assert first.headers["cache-control"] == "public, max-age=60"
        assert again.headers["cache-control"] == "public, max-age=60"
        assert first.text == again.text
    make_user(session, email="rina@example.com")
    login(client, "rina@example.com")
    for path in (f"/hoaxes/{case.id}", "/hoaxes"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
    # A refused filter is never kept: it is answered 422 each time.
    assert client.get("/hoaxes?label=BOHONG").status_code == 422
    assert client.get("/hoaxes?label=BOHONG").status_code == 422
