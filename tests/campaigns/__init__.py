"""Tests of the campaigns domain."""
