"""The transparency page and its downloads: exact numbers for a known set of two public
campaigns over two months, a draft campaign never shown, the campaign filter, CSV and JSON,
caching, both languages; and the monthly counts kept as reports, cases and verdicts come."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge.hoaxes.models import Escalation, EscalationOutcome, EscalationTarget, HoaxMonth
from pledge.hoaxes.service import months, transparency
from tests.support.factories import MakeCampaign, MakeCase, MakeReport
from tests.support.pages import html

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)


def at(day: int, month: int = 1, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def seeded(session: Session, make_campaign: MakeCampaign, make_case: MakeCase) -> dict[str, Any]:
    """Campaign A (two months), campaign B (January), a draft campaign (never shown)."""
    a = make_campaign(slug="kampanye-a", title="Kampanye A")
    b = make_campaign(slug="kampanye-b", title="Kampanye B", status="closed")
    draft = make_campaign(slug="kampanye-rahasia", title="Kampanye Rahasia", status="draft")
    counts = [
        (a, "reports", at(5), 10), (a, "cases", at(5), 4), (a, "reports", at(3, 2), 6),
        (a, "cases", at(3, 2), 2), (a, "verdict:SALAH", at(20), 2),
        (a, "verdict:MENYESATKAN", at(20), 1), (a, "verdict:SALAH", at(20, 2), 1),
        (b, "reports", at(7), 3), (b, "cases", at(7), 1), (b, "verdict:SATIRE", at(8), 1),
        (draft, "reports", at(7), 99), (draft, "cases", at(7), 50),
    ]  # fmt: skip
    for view, metric, moment, n in counts:
        months.count(session, campaign_id=view.id, metric=metric, moment=moment, by=n)
    session.commit()
    # Published cases: first report to verdict in hours. A in January 2, 4 and 9 (median 4),
    # in February 24; B in January 6. All of January: 2, 4, 6, 9 (median 5).
    for view, created, hours, label in (
        (a, at(10), 2, "SALAH"), (a, at(11), 4, "SALAH"), (a, at(12), 9, "MENYESATKAN"),
        (a, at(10, 2), 24, "SALAH"), (b, at(8), 6, "SATIRE"), (draft, at(8), 1, "SALAH"),
    ):  # fmt: skip
        published = make_case(
            view, status="published", created_at=created,
            published_at=created + timedelta(hours=hours), label=label,
        )  # fmt: skip
        # Counted by its hours to verdict as approving counts it (its label is counted above).
        metric = f"{months.VERDICT_HOURS_PREFIX}{months.hours_to_verdict(published)}"
        months.count(session, campaign_id=view.id, metric=metric, moment=published.published_at)
    case = make_case(a, created_at=at(2))
    secret = make_case(draft, created_at=at(2))
    # A's January reports elsewhere: removed after 2 days, labelled after 4, no action, open.
    for outcome, days in (
        (EscalationOutcome.REMOVED, 2), (EscalationOutcome.LABELLED, 4),
        (EscalationOutcome.NO_ACTION, 1), (None, None),
    ):  # fmt: skip
        escalation = Escalation(
            campaign_id=a.id, case_id=case.id or 0, target=EscalationTarget.TIKTOK,
            reported_on=date(2026, 1, 5), outcome=outcome,
            outcome_on=date(2026, 1, 5) + timedelta(days=days) if days else None,
        )  # fmt: skip
        session.add(escalation)
        months.count_escalation(session, escalation=escalation, by=1)
    escalation = Escalation(
        campaign_id=draft.id, case_id=secret.id or 0, target=EscalationTarget.X,
        reported_on=date(2026, 1, 5), outcome=EscalationOutcome.REMOVED,
        outcome_on=date(2026, 1, 6),
    )  # fmt: skip
    session.add(escalation)
    months.count_escalation(session, escalation=escalation, by=1)
    session.commit()
    return {"a": a, "b": b, "draft": draft}


def cells(page: Any, table: str, month: str) -> dict[str, str]:
    row = page.select_one(f"#{table} tbody tr[data-month='{month}']")
    assert row is not None, (table, month)
    return {td["class"][0]: td.get_text(strip=True) for td in row.select("td[class]")}


def test_the_page_shows_every_public_campaign_by_month(
    seeded: dict[str, Any], client: TestClient
) -> None:
    response = client.get("/transparansi?lang=en")
    assert response.status_code == 200
    page = html(response)
    assert page.select_one("h1").get_text(strip=True) == "Transparency"
    assert cells(page, "table-received", "2026-01") == {"reports": "13", "cases": "5"}
    assert cells(page, "table-received", "2026-02") == {"reports": "6", "cases": "2"}
    verdicts = cells(page, "table-verdicts", "2026-01")
    assert verdicts["verdicts"] == "4" and verdicts["median-verdict"] == "5"
    assert cells(page, "table-verdicts", "2026-02")["median-verdict"] == "24"
    acted = cells(page, "table-acted", "2026-01")
    assert acted == {
        "escalations": "4", "answered": "3", "acted": "2", "share": "67%", "median-action": "3",
    }  # fmt: skip
    options = [o.get_text(strip=True) for o in page.select("#campaign option")]
    assert options == ["All campaigns", "Kampanye A", "Kampanye B"]
    assert "Rahasia" not in response.text and "99" not in page.select_one("#table-received").text
    for chart in ("chart-reports", "chart-verdicts", "chart-acted"):
        svg = page.select_one(f"svg#{chart}")
        assert svg is not None and svg["role"] == "img" and svg.select_one("title")
        assert svg.get("style") is None
    bars = page.select("svg#chart-reports rect.bar")
    assert [b["data-value"] for b in bars] == ["13", "6"]
    footer = page.select_one("footer a[href='/transparansi']")
    assert footer is not None


def test_one_campaign_at_a_time(seeded: dict[str, Any], client: TestClient) -> None:
    page = html(client.get("/transparansi?lang=en&campaign=kampanye-a"))
    assert cells(page, "table-received", "2026-01") == {"reports": "10", "cases": "4"}
    verdicts = cells(page, "table-verdicts", "2026-01")
    assert verdicts["verdicts"] == "3" and verdicts["median-verdict"] == "4"
    assert page.select_one("#download-csv")["href"] == "/transparansi.csv?campaign=kampanye-a"
    b = html(client.get("/transparansi?lang=en&campaign=kampanye-b"))
    assert cells(b, "table-acted", "2026-01") == {
        "escalations": "0", "answered": "0", "acted": "0", "share": "–", "median-action": "–",
    }  # fmt: skip
    assert b.select_one("#table-received tbody tr[data-month='2026-02']") is None


def test_a_draft_or_unknown_campaign_is_not_found(
    seeded: dict[str, Any], client: TestClient
) -> None:
    for slug in ("kampanye-rahasia", "tidak-ada"):
        for path in ("/transparansi", "/transparansi.csv", "/transparansi.json"):
            response = client.get(f"{path}?campaign={slug}")
            assert response.status_code == 404, (path, slug)
            assert "Rahasia" not in response.text


def test_the_csv_has_a_row_per_campaign_and_month(
    seeded: dict[str, Any], client: TestClient
) -> None:
    response = client.get("/transparansi.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == list(transparency.COLUMNS)
    keyed = {(r["campaign"], r["month"]): r for r in rows}
    assert set(keyed) == {
        ("kampanye-a", "2026-01"), ("kampanye-a", "2026-02"), ("kampanye-b", "2026-01"),
    }  # fmt: skip
    january = keyed["kampanye-a", "2026-01"]
    assert (january["reports"], january["cases"], january["verdicts"]) == ("10", "4", "3")
    assert (january["verdict_salah"], january["verdict_menyesatkan"]) == ("2", "1")
    assert january["median_hours_to_verdict"] == "4.0"
    assert (january["escalations"], january["escalations_answered"]) == ("4", "3")
    assert january["escalations_acted_on"] == "2"
    assert (january["acted_on_share"], january["median_days_to_action"]) == ("0.667", "3.0")
    assert keyed["kampanye-b", "2026-01"]["acted_on_share"] == ""


def test_the_json_gives_the_same_rows(seeded: dict[str, Any], client: TestClient) -> None:
    response = client.get("/transparansi.json?campaign=kampanye-b")
    assert response.status_code == 200
    body = response.json()
    assert body["campaign"] == "kampanye-b" and body["columns"] == list(transparency.COLUMNS)
    [row] = body["rows"]
    assert row["campaign_title"] == "Kampanye B" and row["month"] == "2026-01"
    assert (row["reports"], row["cases"], row["verdict_satire"]) == (3, 1, 1)
    assert row["median_hours_to_verdict"] == 6.0
    assert row["acted_on_share"] is None and row["median_days_to_action"] is None


def test_answers_are_cached_for_five_minutes_with_an_etag(
    seeded: dict[str, Any], client: TestClient
) -> None:
    for path in ("/transparansi", "/transparansi.csv", "/transparansi.json"):
        response = client.get(path)
        assert response.headers["cache-control"] == "public, max-age=300"
        etag = response.headers["etag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path


def test_indonesian_by_default_english_on_request(seeded: dict[str, Any], new_client: Any) -> None:
    indonesian = new_client(lang=None)
    page = html(indonesian.get("/transparansi"))
    assert page.select_one("html")["lang"] == "id"
    english = html(indonesian.get("/transparansi?lang=en"))
    assert english.select_one("html")["lang"] == "en"
    assert cells(page, "table-received", "2026-01") == cells(english, "table-received", "2026-01")
    # When the numbers were computed, as people write it: "6 Desember 2026, 10.36 WIB".
    computed = page.select_one("#computed-at").get_text(" ", strip=True)
    assert re.search(r"\b\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}\.\d{2} WIB\b", computed), computed
    assert not re.search(r"\d{4}-\d{2}-\d{2}", computed), computed


def test_an_empty_site_says_so(client: TestClient) -> None:
    page = html(client.get("/transparansi?lang=en"))
    assert page.select_one("#no-data") is not None


# --- the monthly counts as things happen -------------------------------------------------


def counted(session: Session) -> dict[tuple[int, date, str], int]:
    session.commit()
    session.expire_all()
    return {(m.campaign_id, m.month, m.metric): m.count for m in session.exec(select(HoaxMonth))}


def test_reports_and_cases_are_counted_as_they_come(
    session: Session, make_campaign: MakeCampaign, make_report: MakeReport
) -> None:
    view = make_campaign()
    make_report(view, url="https://example.com/hoaks/1")
    make_report(view, url="https://example.com/hoaks/1")  # joins the first case
    make_report(view, url="https://example.com/hoaks/2")
    found = counted(session)
    month = months.month_of(datetime.now(UTC))
    assert found == {(view.id, month, "reports"): 3, (view.id, month, "cases"): 2}


def test_a_month_is_counted_in_jakarta_time() -> None:
    assert months.month_of(datetime(2029, 3, 31, 17, 0, tzinfo=UTC)) == date(2029, 4, 1)
    assert months.month_of(datetime(2029, 3, 31, 16, 59)) == date(2029, 3, 1)


def test_the_page_is_drawn_once_per_computation_language_and_address(
    seeded: dict[str, Any], client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pledge.hoaxes.service import transparency

    drawn: list[int] = []
    charts = transparency.charts

    def counting(found: Any) -> Any:
        drawn.append(1)
        return charts(found)

    monkeypatch.setattr(transparency, "charts", counting)
    first = client.get("/transparansi?lang=en")
    again = client.get("/transparansi?lang=en")
    assert first.text == again.text and len(drawn) == 1
    one = client.get("/transparansi?campaign=kampanye-a&lang=en")
    assert "Kampanye A" in one.text and len(drawn) == 2
    indonesian = client.get("/transparansi?lang=id")
    assert indonesian.text != first.text and len(drawn) == 3
