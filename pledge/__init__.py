"""Civic campaign platform: pledges, live supporter counts, hoax reporting and moderation."""
