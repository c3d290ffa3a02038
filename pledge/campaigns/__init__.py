"""Campaigns, their pledge statements, partner organisations and referral codes."""
