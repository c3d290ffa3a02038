"""The same report form sent twice (a double tap, a retry on a slow connection) is one report:
the form carries a random key, and a post with the key of a stored report of the same campaign
is answered with that report's status page, storing nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge.campaigns.models import CampaignView
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxCase, HoaxReport, Media
from pledge.hoaxes.service import reports
from tests.support.db import count, fresh
from tests.support.forms import code_of, report_fields
from tests.support.images import screenshot
from tests.support.pages import html

MakeCampaign = Callable[..., CampaignView]
KEY = re.compile(r"[0-9a-f]{32}")


def open_form(client: TestClient, view: CampaignView) -> dict[str, str]:
    """The report form's hidden fields, as a browser holds them once the page is open."""
    response = client.get(f"/c/{view.slug}/report")
    assert response.status_code == 200
    form = html(response).select_one("form[enctype='multipart/form-data']")
    assert form is not None
    return {str(i["name"]): str(i["value"]) for i in form.select("input[type=hidden]")}


def send(
    client: TestClient,
    view: CampaignView,
    hidden: dict[str, str],
    image: bytes | None = None,
    **fields: Any,
) -> Any:
    files = {
        "screenshot": (
            "layar.png",
            image or b"",
            "image/png" if image else "application/octet-stream",
        )
    }
    return client.post(
        f"/c/{view.slug}/report", data={**hidden, **report_fields(**fields)}, files=files
    )


def stored(session: Session) -> tuple[int, int, int]:
    session.rollback()
    session.expire_all()
    return count(session, HoaxReport), count(session, HoaxCase), count(session, Media)


def test_the_form_carries_a_new_random_key_each_time_it_is_drawn(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    first, second = open_form(client, view), open_form(client, view)
    assert KEY.fullmatch(first["form_key"]) and KEY.fullmatch(second["form_key"])
    assert first["form_key"] != second["form_key"]


def test_the_same_form_sent_twice_is_one_report(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    hidden = open_form(client, view)
    first = send(client, view, hidden, image=screenshot(3))
    code = code_of(first)
    assert stored(session) == (1, 1, 1)

    again = send(client, view, hidden, image=screenshot(3))
    assert again.status_code == 303
    assert again.headers["location"] == f"/reports/{code}"
    # Even if what was sent the second time differs (the form was changed in between), the
    # form was sent once: nothing more is stored, and the case is not counted twice.
    changed = send(client, view, hidden, image=screenshot(4), description="lain")
    assert code_of(changed) == code
    assert stored(session) == (1, 1, 1)
    report = fresh(session).exec(select(HoaxReport)).one()
    assert report.form_key == hidden["form_key"]
    case = session.get(HoaxCase, report.case_id)
    assert case is not None and case.report_count == 1


def test_a_refused_form_keeps_its_key_and_is_then_one_report(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    hidden = open_form(client, view)
    refused = send(client, view, hidden, consent="")
    assert refused.status_code == 422
    kept = html(refused).select_one("input[name=form_key]")
    assert kept is not None and kept["value"] == hidden["form_key"]
    code = code_of(send(client, view, hidden))
    assert code_of(send(client, view, hidden)) == code
    assert stored(session)[0] == 1


def test_posts_without_a_key_are_each_a_report(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    """Outside clients post the fields of the public contract, which has no form_key."""
    view = make_campaign()
    hidden = open_form(client, view)
    del hidden["form_key"]
    codes = {code_of(send(client, view, hidden)) for _ in range(2)}
    assert len(codes) == 2
    assert stored(session)[0] == 2
    assert {r.form_key for r in fresh(session).exec(select(HoaxReport))} == {None}


@pytest.mark.parametrize(
    "key",
    ["nope", "A" * 32, "g" * 32, "0" * 31, "0" * 33, "../" + "0" * 29, "0" * 31 + "\n", " " * 32],
)
def test_a_malformed_key_is_ignored(
    client: TestClient, make_campaign: MakeCampaign, session: Session, key: str
) -> None:
    """A key that the form never draws is not a key: the report is taken as if it had none."""
    view = make_campaign()
    hidden = {**open_form(client, view), "form_key": key}
    codes = {code_of(send(client, view, hidden)) for _ in range(2)}
    assert len(codes) == 2
    assert {r.form_key for r in fresh(session).exec(select(HoaxReport))} == {None}


def test_another_campaigns_key_leads_to_no_other_report(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    """A key only redirects to a report of the campaign it is posted to: a post to another
    campaign is a report of its own there, stored without the key (which stays the first's)."""
    one, other = make_campaign(), make_campaign()
    hidden = open_form(client, one)
    first = code_of(send(client, one, hidden))
    elsewhere = code_of(
        send(client, other, {**open_form(client, other), "form_key": hidden["form_key"]})
    )
    assert elsewhere != first
    rows = {r.tracking_code: r for r in fresh(session).exec(select(HoaxReport))}
    assert rows[elsewhere].campaign_id == other.id and rows[elsewhere].form_key is None
    assert rows[first].form_key == hidden["form_key"]
    # And the first form sent again still finds its own report.
    assert code_of(send(client, one, hidden)) == first


# --- two posts of one form at once -------------------------------------------------------


def form(key: str, **fields: object) -> hoaxes.ReportForm:
    values: dict[str, object] = {**report_fields(), "form_key": key}
    values.update(fields)
    return hoaxes.ReportForm(**values)  # type: ignore[arg-type]


def test_two_posts_at_once_make_one_report_and_keep_no_picture_of_the_second(
    make_campaign: MakeCampaign, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both posts look for the key before either has stored its report; the second one's
    insert then meets the unique key, is rolled back with its picture, and finds the first."""
    view = make_campaign()
    key = "0123456789abcdef" * 2
    winner = hoaxes.send(session, view=view, form=form(key, screenshot=screenshot(5)))
    assert winner.report is not None and not winner.again
    before = stored(session)

    looked = reports.sent_with_key
    misses = {"left": 2}  # before the picture is decoded, and in the write transaction

    def not_yet(session: Session, *, key: str) -> HoaxReport | None:
        if misses["left"]:
            misses["left"] -= 1
            return None
        return looked(session, key=key)

    monkeypatch.setattr(reports, "sent_with_key", not_yet)
    loser = hoaxes.send(session, view=view, form=form(key, screenshot=screenshot(6)))

    assert misses["left"] == 0  # the race did happen
    assert loser.again and loser.report is not None
    assert loser.report.tracking_code == winner.report.tracking_code
    # The second picture (another image) was rolled back with its report: not left behind.
    assert stored(session) == before == (1, 1, 1)
    case = session.get(HoaxCase, winner.report.case_id)
    assert case is not None and case.report_count == 1


def test_the_form_shows_its_progress_with_a_script_it_does_not_need(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    """The upload's progress is an extra of report.js: the form is a plain post without it."""
    view = make_campaign()
    page = html(client.get(f"/c/{view.slug}/report"))
    form = page.select_one("form[data-report]")
    assert form is not None and form["method"] == "post"
    assert "{percent}" in form["data-sending"] and "%" in form["data-sending"]
    assert form.select_one("[data-report-status][role=status][aria-live=polite]") is not None
    scripts = [s["src"] for s in page.select("script[src]")]
    assert any(src.startswith("/static/js/report.js?v=") for src in scripts)
    assert page.select("script:not([src]):not([type='application/ld+json'])") == []

    closed = make_campaign(status="closed")
    assert html(client.get(f"/c/{closed.slug}/report")).select("script[src*=report]") == []
