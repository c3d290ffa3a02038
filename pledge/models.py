"""Imports every domain's tables, so that the metadata is complete for migrations and tests."""

from pledge.accounts.models import Organization
from pledge.campaigns.models import Campaign, CampaignPartner, Pledge
from pledge.supporters.models import Signature, Supporter, Tally

__all__ = [
    "Campaign",
    "CampaignPartner",
    "Organization",
    "Pledge",
    "Signature",
    "Supporter",
    "Tally",
]
