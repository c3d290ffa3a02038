"""The site administrators' pages: approving organisations, managing users and memberships."""
