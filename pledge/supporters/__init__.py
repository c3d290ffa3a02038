"""Signing, supporters, signatures, tallies and withdrawal."""
