"""The moderation queue: claims, decisions, two-person publishing."""
