"""URL configurations with throw-away /v3/ endpoints (tests/api/examples.py)."""
