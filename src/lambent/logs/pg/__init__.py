"""Function logs in PostgreSQL (`--database`): every node writes its own batches, and any
frontend serves the Logs API for logs another node wrote. See store.py."""
