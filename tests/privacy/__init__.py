"""Tests of personal data retention and requests."""
