"""Browser journeys in a real headless Chromium."""
