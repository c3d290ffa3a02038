"""Users, organisations and memberships."""
