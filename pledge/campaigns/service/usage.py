"""What rows outside a campaign's own tables say about its pledges and partners.

A campaign's organisers see how many people signed each pledge and how many supporters each
partner brought or keeps informed; a pledge people signed and a partner supporters point at
may not be removed. Those rows are the supporters domain's, and that domain builds on this
one (signing needs the campaign): campaigns never imports it. Instead the supporters domain
registers, when it is imported, how to answer these questions from its own tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlmodel import Session


class Usage(Protocol):
    """The questions campaigns ask about the rows that point at its pledges and partners."""

    def signatures_by_pledge(
        self, session: Session, *, pledge_ids: Sequence[int]
    ) -> dict[int, int]:
        """How many signatures each of these pledges has (pledges nobody signed are left out)."""
        ...

    def referrals_by_partner(self, session: Session, *, campaign_id: int) -> dict[int, int]:
        """How many of the campaign's supporters came through each partner's link."""
        ...

    def updates_by_partner(self, session: Session, *, campaign_id: int) -> dict[int, int]:
        """How many of the campaign's supporters asked each partner for news."""
        ...

    def pledge_signed(self, session: Session, *, pledge_id: int) -> bool:
        """Whether anyone signed the pledge."""
        ...

    def partner_used(self, session: Session, *, partner_id: int) -> bool:
        """Whether any supporter came through the partner or asked it for news."""
        ...


_registered: list[Usage] = []


def register_usage(usage: Usage) -> None:
    """Answer the questions above with usage from now on (the supporters domain, on import)."""
    _registered[:] = [usage]


def registered_usage() -> Usage:
    """Who answers the questions; refused loudly rather than answered "nobody" by default."""
    if not _registered:
        raise RuntimeError(
            "import pledge.supporters.service before managing campaigns: it tells campaigns "
            "who signed their pledges and came through their partners"
        )
    return _registered[0]
