"""Supporters who signed before contacts were folded, whose contact was not kept: their digest
is of the address lower-cased. Signing again finds them, and gives them the folded digest."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.contacts import supporter_digest
from pledge.security import contact_digest
from pledge.supporters import service as supporters
from pledge.supporters.models import TOTAL, SignOutcome, supporter_table
from tests.support.forms import sign_form

MakeCampaign = Callable[..., CampaignView]


def test_a_supporter_with_a_digest_from_before_folding_is_recognised_and_rekeyed(
    session: Session, make_campaign: MakeCampaign, sign: Callable[..., supporters.Signing]
) -> None:
    view = make_campaign()
    first = sign(view, contact="budi.santoso@gmail.com")
    secret = get_settings().secret_key
    old = contact_digest(secret, "budi.santoso@gmail.com")
    session.execute(
        sa.update(supporter_table)
        .where(supporter_table.c.id == first.supporter.id)  # type: ignore[union-attr]
        .values(contact_digest=old)
    )
    session.commit()

    again = supporters.sign(session, view=view, form=sign_form(contact="Budi.Santoso@gmail.com"))

    assert again.outcome == SignOutcome.UNCHANGED
    assert again.supporter.token == first.supporter.token  # type: ignore[union-attr]
    session.rollback()
    digests = (
        session.execute(
            sa.select(supporter_table.c.contact_digest).where(
                supporter_table.c.campaign_id == view.id
            )
        )
        .scalars()
        .all()
    )
    assert digests == [supporter_digest(secret, "budisantoso@gmail.com")]
    assert supporters.read_counts(session, campaign_id=view.id).by_key[TOTAL] == 1
