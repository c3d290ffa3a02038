"""Dependency aliases shared by the routes of several domains."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView
from pledge.db import SessionDep


def public_campaign(slug: str, session: SessionDep) -> CampaignView:
    return campaigns.get_view(session, slug=slug, public=True)


CampaignDep = Annotated[CampaignView, Depends(public_campaign)]
