"""Many people signing at once through a real server, then confirming at once, are each
counted exactly once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from sqlmodel import Session

from pledge.supporters import service as supporters
from pledge.supporters.models import Supporter
from tests.support.appserver import LiveServer
from tests.support.settings import UseSettings
from tests.support.signing import confirm_in_browser

PLEDGES = ("tolak-politik-uang", "gunakan-hak-pilih", "lawan-hoaks")


def _people(unique: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """(person, contact as typed, pledges): a third of the signatures repeat an earlier
    person with the contact written another way and a different choice of pledges."""
    signings = []
    for i in range(unique):
        if i % 2:
            local = f"812{i:08d}"
            contact, again = f"0{local}", f"+62 {local[:3]}-{local[3:7]}-{local[7:]}"
        else:
            contact, again = f"Orang{i}@Contoh.ID ", f"orang{i}@contoh.id"
        signings.append((f"p{i}", contact, (PLEDGES[i % 3],)))
        if i % 2 == 0 or i % 4 == 1:
            signings.append((f"p{i}", again, (PLEDGES[(i + 1) % 3], PLEDGES[i % 3])))
    return signings


@pytest.mark.server
def test_concurrent_signers_are_counted_exactly_once(
    live_server: LiveServer, make_campaign, session: Session, use_settings: UseSettings
) -> None:
    # Every signer of this test types codes from one address, as behind a carrier's shared
    # address: the per-address limit on typed codes is not what this test is about.
    use_settings(ratelimit_confirm_code="1000/hour")
    view = make_campaign(pledges=PLEDGES)
    engine = session.get_bind()
    assert isinstance(engine, sa.Engine)
    signings = _people(30)
    duplicates = len(signings) - 30
    assert duplicates * 3 >= len(signings) - 3  # about a third repeat someone

    barrier = threading.Barrier(len(signings), timeout=30)
    signed = threading.Barrier(len(signings), timeout=60)

    def sign(signing: tuple[str, str, tuple[str, ...]]) -> tuple[int, int, str]:
        _person, contact, pledges = signing
        with httpx2.Client(base_url=live_server.url, timeout=60) as client:
            page = client.get(f"/c/{view.slug}")
            token = BeautifulSoup(page.text, "html.parser").select_one("[name=csrf_token]")
            assert token is not None
            barrier.wait()
            response = client.post(
                f"/c/{view.slug}/sign",
                data={
                    "csrf_token": token["value"],
                    "name": "Budi Santoso",
                    "contact": contact,
                    "province": "ID-JB",
                    "age_ok": "on",
                    "consent": "on",
                    "pledges": list(pledges),
                },
            )
            # Everyone has signed (each email is in the outbox); now everyone confirms at once.
            signed.wait()
            with Session(engine) as own:
                landed = confirm_in_browser(client, own, view, contact)  # type: ignore[arg-type]
            return response.status_code, landed.status_code, landed.headers.get("location", "")

    with ThreadPoolExecutor(max_workers=len(signings)) as pool:
        results = list(pool.map(sign, signings))
    assert [status for status, _landed, _page in results] == [303] * len(signings)
    assert [landed for _status, landed, _page in results] == [303] * len(signings), results
    # Each person's signings land on their one own page.
    pages: dict[str, set[str]] = {}
    for (person, _contact, _pledges), (_status, _landed, page) in zip(
        signings, results, strict=True
    ):
        assert page.startswith(f"/c/{view.slug}/thanks/"), page
        pages.setdefault(person, set()).add(page.split("?")[0])
    assert all(len(own) == 1 for own in pages.values()), pages
    assert len({page for own in pages.values() for page in own}) == 30

    expected_pledges: dict[str, set[str]] = {slug: set() for slug in PLEDGES}
    for person, _contact, pledges in signings:
        for slug in pledges:
            expected_pledges[slug].add(person)

    session.rollback()  # read what the server committed, not an older snapshot
    stored = session.execute(
        sa.select(sa.func.count()).select_from(Supporter).where(Supporter.campaign_id == view.id)  # type: ignore[arg-type]
    ).scalar_one()
    counts = supporters.read_counts(session, campaign_id=view.id)
    assert stored == 30
    assert counts.total == 30
    assert counts.pending == 0
    for pledge in view.pledges:
        assert counts.pledge(pledge.id) == len(expected_pledges[pledge.slug]), pledge.slug
    assert supporters.true_counts(session, campaign_id=view.id) == {
        key: value for key, value in counts.by_key.items() if value
    }
    assert supporters.reconcile(session) == []
