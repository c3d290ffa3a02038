"""Schemas of the public JSON API: field names are part of the public contract."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class PledgeCount(BaseModel):
    slug: str
    text: str
    supporters: int


class PartnerCount(BaseModel):
    slug: str
    name: str
    supporters: int


class CampaignCounts(BaseModel):
    slug: str
    title: str
    status: str
    supporters: int  # confirmed supporters
    pending: int  # signatures waiting for their confirmation, in no other count
    goal: int
    pledges: list[PledgeCount]
    partners: list[PartnerCount]
    url: str
    updated_at: datetime


class ApiError(BaseModel):
    error: str
    detail: str
