"""Imports every domain's tables, so that the metadata is complete for migrations and tests."""

from pledge.accounts.models import Membership, Organization, User, UserToken
from pledge.audit import AuditEvent
from pledge.campaigns.models import Campaign, CampaignPartner, Pledge
from pledge.game.models import GameAnswer, GameCount, GameItem
from pledge.hoaxes.models import (
    CaseMatch,
    HoaxCase,
    HoaxReport,
    HoaxTextBand,
    Media,
    MediaBand,
    MediaPrintBand,
)
from pledge.mail import OutboxMessage
from pledge.supporters.models import Signature, Supporter, Tally
from pledge.whatsapp import ReceivedMessage

__all__ = [
    "AuditEvent",
    "Campaign",
    "CampaignPartner",
    "CaseMatch",
    "GameAnswer",
    "GameCount",
    "GameItem",
    "HoaxCase",
    "HoaxReport",
    "HoaxTextBand",
    "Media",
    "MediaBand",
    "MediaPrintBand",
    "Membership",
    "Organization",
    "OutboxMessage",
    "Pledge",
    "ReceivedMessage",
    "Signature",
    "Supporter",
    "Tally",
    "User",
    "UserToken",
]
