"""Personal data duties: retention, and the requests people make about their own data."""
