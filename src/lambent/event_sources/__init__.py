"""Event source mappings: the API and its stored mappings (no poller runs yet)."""
