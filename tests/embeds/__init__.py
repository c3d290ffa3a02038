"""Tests of the embeds domain."""
