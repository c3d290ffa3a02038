"""Organisations: the partner civil-society organisations that run campaigns."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from pledge.db import utcnow


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=160)
    website: str | None = Field(default=None, max_length=300)
    verified: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
