"""Confirmations by the emailed link's button, written in group commits as signatures are:
many in one transaction, each counted exactly once, and each refusal its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.db import GroupCommit, utcnow, writing
from pledge.errors import Gone, NotFound
from pledge.security import hash_token
from pledge.supporters import service as supporters
from pledge.supporters.models import (
    PENDING,
    TOTAL,
    SignOutcome,
    confirmation_table,
    supporter_table,
)
from tests.support.aio import run_async
from tests.support.forms import sign_form
from tests.support.pages import csrf_token, html
from tests.support.signing import last_email_to, post_sign

MakeCampaign = Callable[..., CampaignView]
P1, P2, P3 = "tolak-politik-uang", "gunakan-hak-pilih", "lawan-hoaks"


def signed(session: Session, view: CampaignView, n: int, **fields: Any) -> list[str]:
    """n people sign through the service: each one's link secret, as their email carries it."""
    secrets = []
    for i in range(n):
        form = sign_form(contact=f"orang{i}.{view.slug}@example.com", **fields)
        pending = supporters.prepare(view, form)
        assert pending is not None
        (written,) = supporters.commit_signings(session, [pending])
        assert not isinstance(written, Exception)
        secrets.append(pending.secret)
    return secrets


def press_together(
    queue: GroupCommit[Any, Any], confirming: Sequence[tuple[int, str]]
) -> list[Any]:
    """Press the buttons of these (campaign, secret) links at once on one event loop, as
    concurrent requests do: each result is a Confirmed or the refusal its presser got."""

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(
                supporters.confirm_link_soon(queue, campaign_id=campaign_id, secret=secret)
                for campaign_id, secret in confirming
            ),
            return_exceptions=True,
        )

    return run_async(main)


def counts(session: Session, view: CampaignView) -> dict[str, int]:
    session.rollback()
    return supporters.read_counts(session, campaign_id=view.id).by_key


def places(session: Session, view: CampaignView) -> list[int]:
    session.rollback()
    return sorted(
        session.execute(
            sa.select(supporter_table.c.number).where(
                supporter_table.c.campaign_id == view.id, supporter_table.c.number > 0
            )
        ).scalars()
    )


def test_confirmations_that_arrive_together_share_a_transaction_and_each_count_once(
    engine: sa.Engine, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    secrets = signed(session, view, 60, pledges=(P1, P3))
    queue = supporters.confirmation_queue(engine)

    results = press_together(queue, [(view.id, secret) for secret in secrets])

    assert [r.outcome for r in results] == [SignOutcome.NEW] * 60
    assert queue.batches < 10  # not one transaction each
    assert len({r.token for r in results}) == 60
    assert places(session, view) == list(range(1, 61))  # one place each, none skipped
    p1, p3 = (view.pledge_by_slug(slug).id for slug in (P1, P3))  # type: ignore[union-attr]
    expected = {TOTAL: 60, f"pledge:{p1}": 60, f"pledge:{p3}": 60}
    assert counts(session, view) == {**expected, PENDING: 0}
    assert supporters.true_counts(session, campaign_id=view.id) == expected


def test_each_confirmation_in_a_batch_gets_its_own_answer(
    engine: sa.Engine, session: Session, make_campaign: MakeCampaign
) -> None:
    view, other = make_campaign(), make_campaign()
    fresh, twice, expired = signed(session, view, 3)
    with writing(session):
        session.execute(
            sa.update(confirmation_table)
            .where(confirmation_table.c.link_digest == hash_token(expired))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    queue = supporters.confirmation_queue(engine)

    results = press_together(
        queue,
        [
            (view.id, fresh),
            (view.id, twice),
            (view.id, twice),
            (other.id, fresh),  # a link of this campaign's signing, on another campaign
            (view.id, expired),
            (view.id, "n" * 24),  # no signing's link
        ],
    )

    assert queue.batches == 1
    new, first, second, elsewhere, late, unknown = results
    assert (new.outcome, first.outcome, second.outcome) == (
        SignOutcome.NEW,
        SignOutcome.NEW,
        SignOutcome.UNCHANGED,
    )
    assert first.token == second.token
    assert isinstance(elsewhere, NotFound) and isinstance(unknown, NotFound)
    assert isinstance(late, Gone)
    assert counts(session, view) == {TOTAL: 2, PENDING: 1, f"pledge:{view.pledges[0].id}": 2}
    assert places(session, view) == [1, 2]


def test_a_batch_of_confirmations_of_two_campaigns_counts_each_in_its_own(
    engine: sa.Engine, session: Session, make_campaign: MakeCampaign
) -> None:
    one, two = make_campaign(), make_campaign()
    links = [(one.id, s) for s in signed(session, one, 5)]
    links += [(two.id, s) for s in signed(session, two, 3)]
    queue = supporters.confirmation_queue(engine)

    results = press_together(queue, links[::2] + links[1::2])

    assert all(r.outcome == SignOutcome.NEW for r in results)
    assert counts(session, one)[TOTAL] == 5 and counts(session, two)[TOTAL] == 3
    assert places(session, one) == [1, 2, 3, 4, 5] and places(session, two) == [1, 2, 3]


# --- the button, as a browser presses it -------------------------------------------------------


def emailed_link(client: TestClient, session: Session, view: CampaignView, email: str) -> str:
    post_sign(client, view, contact=email)
    return last_email_to(session, email).confirm_path


def press(client: TestClient, path: str, page: str | None = None, **query: str) -> Any:
    """Press a confirmation button, its CSRF token read from a page (the link's own)."""
    token = csrf_token(client, page or path)
    return client.post(path, data={"csrf_token": token}, params=query)


def test_the_button_confirms_once_and_a_second_press_opens_the_same_page(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    path = emailed_link(client, session, view, "rina@example.com")

    first, second = press(client, path), press(client, path)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"].endswith("?outcome=new&added=tolak-politik-uang")
    assert second.headers["location"].endswith("?outcome=unchanged")
    assert first.headers["location"].split("?")[0] == second.headers["location"].split("?")[0]
    assert counts(session, view) == {TOTAL: 1, PENDING: 0, f"pledge:{view.pledges[0].id}": 1}


@pytest.mark.parametrize(
    ("lang", "said"),
    [("id", "Link konfirmasi ini tidak berlaku"), ("en", "This confirmation link is not valid")],
)
@pytest.mark.parametrize("secret", ["not-a-secret-at-all-0123", "x", "a" * 300])
def test_pressing_a_link_that_is_not_one_is_not_found_in_the_readers_language(
    client: TestClient, make_campaign: MakeCampaign, secret: str, lang: str, said: str
) -> None:
    view = make_campaign()

    response = press(client, f"/c/{view.slug}/confirm/{secret}", f"/c/{view.slug}", lang=lang)

    assert response.status_code == 404
    assert said in " ".join(html(response).get_text(" ").split())


def test_pressing_a_link_of_another_campaign_confirms_nothing(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view, other = make_campaign(), make_campaign()
    path = emailed_link(client, session, view, "rina@example.com")

    response = press(client, path.replace(view.slug, other.slug), f"/c/{other.slug}")

    assert response.status_code == 404
    assert counts(session, view) == {PENDING: 1}
    assert counts(session, other) == {}


def test_pressing_an_expired_link_is_gone_with_a_message(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    path = emailed_link(client, session, view, "rina@example.com")
    page = csrf_token(client, path)  # the page opened before it expired
    with writing(session):
        session.execute(sa.update(confirmation_table).values(expires_at=utcnow()))

    response = client.post(path, data={"csrf_token": page}, params={"lang": "en"})

    assert response.status_code == 410
    assert "This confirmation has expired. Sign again" in html(response).get_text(" ")
    assert counts(session, view) == {PENDING: 1}


def test_pressing_the_link_of_a_withdrawn_signing_is_not_found(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    path = emailed_link(client, session, view, "rina@example.com")
    page = csrf_token(client, path)
    with writing(session):
        session.execute(sa.delete(confirmation_table))
        session.execute(sa.delete(supporter_table))

    response = client.post(path, data={"csrf_token": page})

    assert response.status_code == 404
    assert "Link konfirmasi ini tidak berlaku" in html(response).get_text(" ")


def test_pressing_the_button_without_its_csrf_token_is_refused(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    path = emailed_link(client, session, view, "rina@example.com")

    response = client.post(path, data={})

    assert response.status_code == 403
    assert counts(session, view) == {PENDING: 1}
