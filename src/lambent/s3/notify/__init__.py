"""S3 event notifications: configurations (config.py), the outbox written in the object
write's transaction (outbox.py), AWS's event record (records.py), delivery (delivery.py)."""
