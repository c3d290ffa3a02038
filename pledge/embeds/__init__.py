"""Counters for partner websites: the JSON API, the widget, the badge and the live stream."""
