"""The tracking-code box: a typed code goes to its status page, a code that cannot be one is
shown back with a message, an unknown code answers like any code not found, and lookups are
rate-limited against guessing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from pledge.campaigns.models import CampaignView
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxReport
from tests.support.factories import MakeCampaign, MakeReport
from tests.support.pages import html


@pytest.fixture
def client_lang() -> str:
    return "en"


def box(page: object) -> object:
    found = html(page).select_one("form.tracking-box")
    assert found is not None
    return found


def test_the_lookup_page_shows_the_box(client: TestClient) -> None:
    response = client.get("/reports")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    form = box(response)
    assert form["method"] == "get" and form["action"] == "/reports"
    field = form.select_one("input[name=code]")
    label = form.select_one(f"label[for={field['id']}]")
    assert label.get_text() == "Tracking code"
    assert form.select_one("input[name=csrf_token]") is None  # a GET changes nothing
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "typed", ["{code}", "  {upper}  ", "{dashed}", "{spaced}", "{upper_dashed}"]
)
def test_a_typed_code_goes_to_its_status_page(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, typed: str
) -> None:
    report = make_report(make_campaign())
    code = report.tracking_code
    spelled = typed.format(
        code=code,
        upper=code.upper(),
        dashed=f"{code[:5]}-{code[5:]}",
        spaced=f"{code[:3]} {code[3:6]} {code[6:]}",
        upper_dashed=f"{code[:5].upper()} - {code[5:].upper()}",
    )
    response = client.get("/reports", params={"code": spelled})
    assert response.status_code == 303
    assert response.headers["location"] == f"/reports/{code}"
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert html(page).select_one(".tracking-code").get_text() == code


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the tracking code you were given when you reported."),
        ("   ", "Enter the tracking code you were given when you reported."),
        ("abc", "A tracking code is 10 letters and numbers"),
        ("abcdefghj0", "A tracking code is 10 letters and numbers"),  # 0 is never in a code
        ("x" * 500, "A tracking code is 10 letters and numbers"),
        ("<script>a</script>", "A tracking code is 10 letters and numbers"),
    ],
)
def test_a_code_that_cannot_be_one_is_shown_back_with_a_message(
    client: TestClient, typed: str, message: str
) -> None:
    response = client.get("/reports", params={"code": typed})
    assert response.status_code == 422
    form = box(response)
    field = form.select_one("input[name=code]")
    assert field["aria-invalid"] == "true"
    assert field["value"] == typed[:200]
    error = form.select_one(f"#{field['aria-describedby'].split()[-1]}")
    assert error.get_text().startswith(message)


def test_a_well_formed_unknown_code_goes_to_a_page_that_finds_nothing(
    client: TestClient,
) -> None:
    response = client.get("/reports", params={"code": "abcde-fghjk"})
    assert response.status_code == 303
    assert client.get(response.headers["location"]).status_code == 404


def test_an_unknown_code_answers_like_a_malformed_one(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport
) -> None:
    make_report(make_campaign())  # a report exists, with another code
    unknown = client.get("/reports/abcdefghjk")
    malformed = client.get("/reports/zz")
    assert unknown.status_code == malformed.status_code == 404
    # The same page, apart from the code in the page's own links (the language switch).
    assert unknown.text.replace("abcdefghjk", "CODE") == malformed.text.replace("zz", "CODE")
    # The same headers, apart from each request's own id and the body's length.
    differ = {"x-request-id", "content-length"}
    assert {k: v for k, v in unknown.headers.items() if k not in differ} == {
        k: v for k, v in malformed.headers.items() if k not in differ
    }
    assert "We could not find a report with this tracking code." in unknown.text


def test_the_box_is_on_the_verdicts_report_and_status_pages(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport
) -> None:
    view: CampaignView = make_campaign()
    report: HoaxReport = make_report(view)
    for path in ("/hoaxes", f"/c/{view.slug}/report", f"/reports/{report.tracking_code}"):
        response = client.get(path)
        assert response.status_code == 200, path
        form = box(response)
        assert form["action"] == "/reports", path
        assert form.select_one("h2").get_text() == "Follow your report", path
        assert len(html(response).select("form.tracking-box")) == 1, path


def _limit() -> int:
    return int(hoaxes.lookup_limit().split("/")[0])


def test_lookups_and_status_pages_are_rate_limited_per_address(
    new_client: Callable[..., TestClient],
) -> None:
    client = new_client(lang="en")
    statuses = [
        client.get(f"/reports/{'abcdefghjk' if n % 2 else 'zz'}").status_code
        for n in range(_limit() // 2)
    ]
    statuses += [
        client.get("/reports", params={"code": "abcdefghjk"}).status_code
        for _ in range(_limit() - len(statuses))
    ]
    assert set(statuses) == {404, 303}
    refused = client.get("/reports", params={"code": "abcdefghjk"})
    assert refused.status_code == 429
    page = html(refused)
    assert "Too many requests. Please wait a moment and try again." in page.get_text()
    assert client.get("/reports/abcdefghjk").status_code == 429  # counted together
    # Another address is not held back.
    other = new_client(lang="en", client=("198.51.100.7", 50000))
    assert other.get("/reports/abcdefghjk").status_code == 404
    # In the visitor's language.
    indonesian = new_client(lang="id", client=("198.51.100.8", 50000))
    for _ in range(_limit()):
        indonesian.get("/reports")
    refused = indonesian.get("/reports")
    assert refused.status_code == 429
    assert "Terlalu banyak permintaan." in html(refused).get_text()


def test_the_service_reads_typed_codes_the_same_way() -> None:
    assert hoaxes.clean_tracking_code(" AB-CDE fghjk ") == "abcdefghjk"
