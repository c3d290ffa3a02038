"""Tests of the supporters domain."""
