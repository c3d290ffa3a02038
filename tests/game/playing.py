"""What the game's tests share: verdicts with pictures put in a campaign's game, an original
that lines up with one, and a game played through HTTP as a browser plays it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.db import utcnow
from pledge.game import service as game
from pledge.game.models import GameItem
from pledge.hoaxes import media
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.service.duplicates import store_media
from tests.support.factories import make_report, publish_case
from tests.support.images import screenshot
from tests.support.pages import html

# Two regions of a fake that differ from its original.
REGIONS = [[40, 40, 120, 80, 0.04], [300, 200, 90, 60, 0.02]]


def published_verdict(
    session: Session, view: CampaignView, seed: int, *, image: bytes | None = None, **verdict: Any
) -> int:
    """A published verdict of the campaign with its own picture; its case id."""
    report = make_report(
        session, view, image=image or screenshot(seed), url=f"https://example.com/hoaks/{seed}",
        description=f"Gambar hoaks nomor {seed}",
    )  # fmt: skip
    publish_case(session, report.case_id, title=f"Klaim palsu nomor {seed}", **verdict)
    return report.case_id


def attach_original(session: Session, case_id: int, seed: int, *, outcome: str = "aligned") -> int:
    """An original of the case's picture, as a moderator attaches it (its comparison given)."""
    image = media.process_upload(screenshot(seed))
    media_id = store_media(session, image)
    hoaxes.save_original(
        session, case_id=case_id, media_id=media_id, outcome=outcome,
        regions=json.dumps(REGIONS), matches=120, changed_share=0.06,
    )  # fmt: skip
    session.commit()
    return media_id


def put_in_game(session: Session, view: CampaignView, *case_ids: int) -> None:
    """Cases chosen for the game, as the moderators' form leaves them."""
    for case_id in case_ids:
        session.merge(
            GameItem(case_id=case_id, campaign_id=view.id, in_game=True, updated_at=utcnow())
        )
    session.commit()


def verdicts_in_game(
    session: Session, view: CampaignView, count: int, *, originals: int = 0, first: int = 1
) -> list[int]:
    """`count` published verdicts in the campaign's game, the first `originals` of them with an
    original that lines up (a real picture each)."""
    cases = [published_verdict(session, view, first + n) for n in range(count)]
    for n, case_id in enumerate(cases[:originals]):
        attach_original(session, case_id, 500 + first + n)
    put_in_game(session, view, *cases)
    return cases


def kinds(view: CampaignView, case_ids: list[int]) -> dict[str, tuple[int, str]]:
    """Each possible picture's key, with its case and whether it is real or fake."""
    return {
        game.item_key(view.id, case_id, kind): (case_id, kind.value)
        for case_id in case_ids
        for kind in game.Kind
    }


# --- playing through HTTP -------------------------------------------------------------------


@dataclass
class Step:
    """A picture as the question page shows it."""

    token: str
    key: str
    response: Any


def token_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["t"][0]


def start(client: TestClient, view: CampaignView, invite: str = "") -> str:
    """Open the start page, press Start: the first question's address."""
    path = f"/c/{view.slug}/game" + (f"?invite={invite}" if invite else "")
    page = html(client.get(path))
    form = page.select_one("#form-start")
    assert form is not None, "no Start button"
    data = {field["name"]: field.get("value", "") for field in form.select("input[name]")}
    response = client.post(str(form["action"]), data=data)
    assert response.status_code == 303, response.text[:300]
    return str(response.headers["location"])


def question(client: TestClient, url: str) -> Step:
    response = client.get(url)
    assert response.status_code == 200, response.text[:300]
    page = html(response)
    picture = page.select_one("#picture")
    assert picture is not None
    key = re.search(r"/pictures/([^/.]+)\.jpg", str(picture["src"]))
    assert key is not None
    token = page.select_one("#form-answer input[name=t]")
    assert token is not None
    return Step(token=str(token["value"]), key=key[1], response=response)


def answer(
    client: TestClient, view: CampaignView, step: Step, said: str, *, token: str | None = None
) -> Any:
    """Press Real or Fake on the question page, as the browser posts it (with another token
    in its form, when given)."""
    page = html(step.response)
    data = {
        field["name"]: field.get("value", "") for field in page.select("#form-answer input[name]")
    }
    if token is not None:
        data["t"] = token
    return client.post(f"/c/{view.slug}/game/play", data={**data, "answer": said})
