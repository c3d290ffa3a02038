"""The game's tables: the verdicts chosen for it with how each picture did, each campaign's
games started and finished, and the answers already counted (by a random game id only)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from pledge.db import table, utcnow


class GameItem(SQLModel, table=True):
    """A published verdict a moderator put in its campaign's game (or took out again: the row
    stays, with its counts). Its picture is a fake to spot; the original attached to its case,
    when the two line up, is a real one."""

    __tablename__ = "game_item"
    # The game's pictures of a campaign, and the ones that fooled most players.
    __table_args__ = (sa.Index("ix_game_item_campaign_id_in_game", "campaign_id", "in_game"),)

    case_id: int = Field(foreign_key="hoax_case.id", ondelete="CASCADE", primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    in_game: bool = Field(default=False)
    # Answers to each of its pictures, and the wrong ones among them (a player fooled).
    fake_shown: int = Field(default=0)
    fake_fooled: int = Field(default=0)
    real_shown: int = Field(default=0)
    real_fooled: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow)


class GameCount(SQLModel, table=True):
    """A campaign's games: started (a first picture answered) and finished (the last one)."""

    __tablename__ = "game_count"

    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", primary_key=True)
    started: int = Field(default=0)
    finished: int = Field(default=0)


class GameAnswer(SQLModel, table=True):
    """An answer already counted: a double tap, a replayed form or the back button answering
    the same picture of the same game again finds it, and changes no count nor score. Holds
    nothing about the player: the game's id is random, drawn when the game starts, and the row
    is deleted a day later, when no game token that could name it is still valid."""

    __tablename__ = "game_answer"
    __table_args__ = (sa.UniqueConstraint("game_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    game_id: str = Field(max_length=32)
    position: int
    answer: str = Field(max_length=8)  # "real" or "fake"
    right: bool
    created_at: datetime = Field(default_factory=utcnow, index=True)


game_item_table = table(GameItem)
game_count_table = table(GameCount)
game_answer_table = table(GameAnswer)
